import { describe, expect, it } from 'vitest';
import {
  createLoadGenerator,
  isLoopbackHost,
  LoadgenConfigError,
  type LoadOptions,
} from '../../src/index.js';

const base: LoadOptions = { url: 'ws://127.0.0.1:9/ws', arrivals: { rate: 1 } };

/** The error createLoadGenerator throws for `options`. */
function errorOf(options: unknown): LoadgenConfigError {
  try {
    createLoadGenerator(options as LoadOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(LoadgenConfigError);
    return e as LoadgenConfigError;
  }
  throw new Error('expected createLoadGenerator to throw');
}

describe('config validation: each bad field throws LoadgenConfigError naming it', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    [
      'limits.maxConcurrent',
      { limits: { maxConcurrent: 0 } },
      'limits.maxConcurrent must be a positive integer',
    ],
    [
      'limits.maxConcurrent',
      { limits: { maxConcurrent: 1.5 } },
      'limits.maxConcurrent must be a positive integer',
    ],
    [
      'limits.maxConnections',
      { limits: { maxConnections: -1 } },
      'limits.maxConnections must be a positive integer',
    ],
    [
      'limits.durationSeconds',
      { limits: { durationSeconds: 0 } },
      'limits.durationSeconds must be a number > 0',
    ],
    [
      'limits.durationSeconds',
      { limits: { durationSeconds: Number.POSITIVE_INFINITY } },
      'limits.durationSeconds must be',
    ],
    [
      'limits.handshakeTimeoutMs',
      { limits: { handshakeTimeoutMs: 0 } },
      'limits.handshakeTimeoutMs must be',
    ],
    ['limits.nope', { limits: { nope: 1 } }, 'limits.nope is not a known option'],
    ['url', { url: 'http://127.0.0.1/ws' }, 'url must start with ws:// or wss://'],
    ['url', { url: 'not a url' }, 'url is not a valid URL'],
    ['url', { url: 'ws://192.0.2.1/ws' }, 'url host "192.0.2.1" is not loopback'],
    ['url', { url: 'ws://localhost.example.com/ws' }, 'is not loopback'],
    ['transport', { transport: 'tcp' }, 'transport must be one of ws, socket.io, sse, mqtt, grpc'],
    [
      'url',
      { transport: 'mqtt', url: 'http://127.0.0.1:1883' },
      'url must start with mqtt:// or mqtts:// or ws:// or wss://',
    ],
    [
      'url',
      { transport: 'grpc', url: 'http://127.0.0.1:50051' },
      'url must start with grpc:// or grpcs://',
    ],
    ['url', { transport: 'grpc', url: 'grpc://192.0.2.1:50051' }, 'is not loopback'],
    ['session.qos', { session: { qos: 1 } }, 'session.qos applies to transport "mqtt" only'],
    [
      'session.qos',
      { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', session: { qos: 3 } },
      'session.qos must be 0, 1 or 2',
    ],
    [
      'session.topicPrefix',
      { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', session: { topicPrefix: 'a/+/' } },
      'session.topicPrefix must not contain the wildcards + and # or NUL',
    ],
    [
      'session.rooms[1]',
      { transport: 'mqtt', url: 'mqtt://127.0.0.1:1883', session: { rooms: ['a', 'b/#'] } },
      'session.rooms[1] must not contain + # or NUL',
    ],
    [
      'url',
      { transport: 'sse', url: 'ws://127.0.0.1/x' },
      'url must start with http:// or https://',
    ],
    ['arrivals', { arrivals: undefined }, 'arrivals is required'],
    [
      'arrivals',
      { arrivals: { rate: 1, trace: { values: [1], stepSeconds: 1 } } },
      'exactly one of rate or trace',
    ],
    ['arrivals.rate', { arrivals: { rate: 0 } }, 'arrivals.rate must be a number > 0'],
    [
      'arrivals.compression',
      { arrivals: { rate: 1, compression: 2 } },
      'applies to trace arrivals only',
    ],
    [
      'arrivals.trace.values',
      { arrivals: { trace: { values: [], stepSeconds: 60 } } },
      'must be a non-empty array',
    ],
    [
      'arrivals.trace.values[1]',
      { arrivals: { trace: { values: [1, -2], stepSeconds: 60 } } },
      'must be a finite number >= 0',
    ],
    [
      'arrivals.trace.values',
      { arrivals: { trace: { values: [0, 0], stepSeconds: 60 } } },
      'at least one value > 0',
    ],
    [
      'arrivals.trace.stepSeconds',
      { arrivals: { trace: { values: [1] } } },
      'arrivals.trace.stepSeconds is required',
    ],
    [
      'arrivals.compression',
      { arrivals: { trace: { values: [1], stepSeconds: 60 }, compression: 0 } },
      'must be a number > 0',
    ],
    [
      'arrivals.startAt',
      { arrivals: { trace: { values: [1, 2], stepSeconds: 60 }, startAt: 2 } },
      'must be an integer from 0 to 1',
    ],
    [
      'session.meanSeconds',
      { session: { meanSeconds: 0 } },
      'session.meanSeconds must be a number > 0',
    ],
    [
      'session.messagesPerSecond',
      { session: { messagesPerSecond: -1 } },
      'session.messagesPerSecond must be a number >= 0',
    ],
    [
      'session.messageBytes',
      { session: { messageBytes: 10.5 } },
      'session.messageBytes must be an integer',
    ],
    [
      'session.rooms[1]',
      { session: { rooms: ['a', ''] } },
      'session.rooms[1] must be a non-empty string',
    ],
    ['session.rooms', { session: { rooms: ['a', 'a'] } }, 'must not repeat a room'],
    [
      'session.joinRooms',
      { session: { rooms: ['a'], joinRooms: 2 } },
      'session.joinRooms must be an integer from 0 to 1',
    ],
    [
      'session.heartbeatSeconds',
      { session: { heartbeatSeconds: -1 } },
      'session.heartbeatSeconds must be',
    ],
    ['session.compressSessions', { session: { compressSessions: true } }, 'needs trace arrivals'],
    [
      'session.ssePostUrl',
      { session: { ssePostUrl: 'http://127.0.0.1/p' } },
      'applies to transport "sse" only',
    ],
    [
      'reconnect.maxMs',
      { reconnect: { baseMs: 1000, maxMs: 10 } },
      'reconnect.maxMs must be >= reconnect.baseMs',
    ],
    [
      'reconnect.maxAttempts',
      { reconnect: { maxAttempts: -1 } },
      'reconnect.maxAttempts must be an integer',
    ],
    ['dropRatio', { dropRatio: 1.5 }, 'dropRatio must be a number >= 0 and <= 1'],
    ['seed', { seed: -3 }, 'seed must be an integer'],
    ['token', { token: 'a b' }, 'token must be a non-empty string without whitespace'],
    ['headers.bad name', { headers: { 'bad name': 'x' } }, 'is not a valid header name'],
    ['headers.x', { headers: { x: 'a\nb' } }, 'must be a string without line breaks'],
    ['messageRate', { messageRate: 3 }, 'messageRate is not a known option'],
  ];
  for (const [field, patch, message] of cases) {
    it(`${field}: ${message}`, () => {
      const e = errorOf({ ...base, ...patch });
      expect(e.field).toBe(field);
      expect(e.message).toContain(message);
      expect(e.message.startsWith(field)).toBe(true);
    });
  }

  it('valid options construct without connecting; loopback hosts pass, remote ones with allowRemote', () => {
    expect(() => createLoadGenerator(base)).not.toThrow();
    expect(() =>
      createLoadGenerator({ ...base, url: 'ws://192.0.2.1/ws', allowRemote: true }),
    ).not.toThrow();
    expect(() =>
      createLoadGenerator({ ...base, transport: 'socket.io', url: 'http://[::1]:3000/chat' }),
    ).not.toThrow();
    for (const url of ['mqtt://127.0.0.1:1883', 'ws://localhost:8080/mqtt']) {
      const mqtt = {
        ...base,
        transport: 'mqtt',
        url,
        session: { qos: 2, rooms: ['a/b'] },
      } as const;
      expect(() => createLoadGenerator(mqtt)).not.toThrow();
    }
    expect(() =>
      createLoadGenerator({ ...base, transport: 'grpc', url: 'grpc://[::1]:50051' }).stop(),
    ).not.toThrow();
    for (const h of ['127.0.0.1', '127.4.5.6', 'localhost', '[::1]', 'a.localhost']) {
      expect(isLoopbackHost(h)).toBe(true);
    }
    for (const h of ['128.0.0.1', '10.0.0.1', 'example.com', '[::2]', 'localhost.evil.com']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });

  it('a generator stopped before start() resolves its report and refuses to start', async () => {
    const gen = createLoadGenerator(base);
    const report = await gen.stop();
    expect(report.connections.attempted).toBe(0);
    expect(report.startedAt).toBeNull();
    await expect(gen.start()).rejects.toThrow('stopped before start()');
    expect(await gen.done).toBe(report);
  });
});
