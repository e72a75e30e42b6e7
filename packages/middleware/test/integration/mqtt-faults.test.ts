import { pollUntil } from '@tidewatch/test-utils';
import type { AuthenticateError } from 'aedes';
import { afterEach, describe, expect, it } from 'vitest';
import { type MqttBroker, raw, rawClient, startMqttBroker } from '../fixtures/mqtt-broker.js';
import { type Family, histogram, value } from '../helpers.js';

let s: MqttBroker | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const mq = { transport: 'mqtt' };
const scrapeUntil = (b: MqttBroker, description: string, pred: (f: Family[]) => boolean) =>
  pollUntil(() => b.scrape(), pred, { timeoutMs: 15_000, intervalMs: 25, description });
const bytes = (received: Buffer[]) => Buffer.concat(received);
const outcomes = (fams: Family[], outcome: string) =>
  histogram(fams, 'realtime_handshake_duration_seconds', { ...mq, outcome }).count;
const closedBy = (fams: Family[], reason: string, initiator: string) =>
  value(fams, 'realtime_connections_closed_total', { ...mq, reason, initiator });

describe('aedes: keep-alive, protocol errors and refusals', () => {
  it('counts each PINGREQ answered, then the keep-alive timeout that closes a silent client', async () => {
    s = await startMqttBroker();
    const c = await rawClient(s.tcpPort);
    c.socket.write(raw.connect('silent', 1));
    await pollUntil(
      async () => bytes(c.received),
      (b) => b.length >= 4,
      { timeoutMs: 5000, intervalMs: 10, description: 'the CONNACK' },
    );
    expect([...bytes(c.received).subarray(0, 4)]).toEqual([0x20, 0x02, 0x00, 0x00]);
    for (let i = 0; i < 3; i++) c.socket.write(raw.pingreq);
    await pollUntil(
      async () => bytes(c.received).length,
      (n) => n === 4 + 3 * 2,
      { timeoutMs: 5000, intervalMs: 10, description: 'three PINGRESPs' },
    );
    // Now silent: aedes closes it 1.5 x keep-alive after the last packet.
    await c.closed;
    const fams = await scrapeUntil(
      s,
      'the close',
      (f) => value(f, 'realtime_connections_closed_total', mq) === 1,
    );
    expect(value(fams, 'realtime_heartbeats_total', { ...mq, outcome: 'pong' })).toBe(3);
    expect(value(fams, 'realtime_heartbeats_total', { ...mq, outcome: 'timeout' })).toBe(1);
    expect(closedBy(fams, 'ping_timeout', 'server')).toBe(1);
    expect(value(fams, 'realtime_errors_total', mq)).toBe(0);
    expect(value(fams, 'realtime_connections', mq)).toBe(0);
  });

  it('a malformed packet after CONNECT closes as protocol_error', async () => {
    s = await startMqttBroker();
    const c = await rawClient(s.tcpPort);
    c.socket.write(raw.connect('broken', 60));
    await pollUntil(
      async () => bytes(c.received).length,
      (n) => n >= 4,
      { timeoutMs: 5000, intervalMs: 10, description: 'the CONNACK' },
    );
    c.socket.write(raw.garbage);
    await c.closed;
    const fams = await scrapeUntil(
      s,
      'the close',
      (f) => value(f, 'realtime_connections_closed_total', mq) === 1,
    );
    expect(closedBy(fams, 'protocol_error', 'server')).toBe(1);
    expect(value(fams, 'realtime_errors_total', { ...mq, type: 'protocol_error' })).toBe(1);
    expect(value(fams, 'realtime_errors_total', mq)).toBe(1);
  });

  it('refusals: each CONNACK code, a preConnect refusal, and a client gone mid-handshake', async () => {
    let held: ((err: AuthenticateError | null, ok: boolean | null) => void) | undefined;
    s = await startMqttBroker({
      aedes: {
        preConnect: (_client, packet, cb) => {
          if (packet.clientId === 'banned') cb(new Error('banned'), false);
          else cb(null, true);
        },
        authenticate: (_client, username, _password, cb) => {
          if (username === 'hold') {
            held = cb;
            return;
          }
          if (username === 'unavailable' || username === 'nope') {
            const err = new Error(username) as AuthenticateError;
            err.returnCode = username === 'unavailable' ? 3 : 5;
            cb(err, false);
            return;
          }
          cb(null, username !== 'denied');
        },
      },
    });
    const b = s;
    for (const username of ['unavailable', 'nope', 'denied']) {
      await expect(b.connect(b.tcpUrl, { username, password: 'x' })).rejects.toThrow();
    }
    const banned = await rawClient(b.tcpPort);
    banned.socket.write(raw.connect('banned', 60));
    await banned.closed;

    // Held in authenticate while the client leaves: aborted, and never opened afterwards.
    const leaver = await rawClient(b.tcpPort);
    leaver.socket.write(raw.connect('leaver', 60, { username: 'hold', password: 'x' }));
    let fams = await scrapeUntil(
      b,
      'the held handshake',
      (f) => value(f, 'realtime_handshakes_in_flight', mq) === 1,
    );
    leaver.socket.destroy();
    fams = await scrapeUntil(b, 'the aborted handshake', (f) => outcomes(f, 'aborted') === 1);
    held?.(null, true);
    expect(held).toBeDefined();

    fams = await b.scrape();
    expect(outcomes(fams, 'error')).toBe(1);
    expect(outcomes(fams, 'rejected')).toBe(3);
    expect(outcomes(fams, 'aborted')).toBe(1);
    expect(outcomes(fams, 'success')).toBe(0);
    const err = (type: string) => value(fams, 'realtime_errors_total', { ...mq, type });
    expect(err('connack_server_unavailable')).toBe(1);
    expect(err('connack_not_authorized')).toBe(2);
    expect(err('preconnect_rejected')).toBe(1);
    expect(value(fams, 'realtime_errors_total', mq)).toBe(4);
    expect(value(fams, 'realtime_handshakes_in_flight', mq)).toBe(0);
    expect(value(fams, 'realtime_connections_opened_total', mq)).toBe(0);
    expect(value(fams, 'realtime_connections', mq)).toBe(0);
  });

  it('a client the application closes is a server close', async () => {
    s = await startMqttBroker();
    const c = await s.connect(s.tcpUrl, { clientId: 'kicked' });
    const gone = new Promise<void>((r) => c.once('close', () => r()));
    const clients = (s.broker as unknown as { clients: Record<string, { close(): void }> }).clients;
    clients.kicked!.close();
    await gone;
    const fams = await scrapeUntil(
      s,
      'the close',
      (f) => value(f, 'realtime_connections_closed_total', mq) === 1,
    );
    expect(closedBy(fams, 'normal', 'server')).toBe(1);
  });

  it('throwing classifiers cost a label and an error count; the broker keeps serving', async () => {
    s = await startMqttBroker({
      instrument: {
        endpoint: () => {
          throw new Error('endpoint classifier bug');
        },
        topic: (filter) => {
          if (filter.startsWith('bad/')) throw new Error('topic classifier bug');
          return 'fine';
        },
      },
    });
    const sub = await s.connect(s.tcpUrl);
    const pub = await s.connect(s.tcpUrl);
    await sub.subscribeAsync(['bad/one', 'bad/two', 'good'], { qos: 1 });
    let received = 0;
    sub.on('message', () => received++);
    let fams = await s.scrape();
    // Scraped twice: each filter is classified once.
    fams = await s.scrape();
    expect(value(fams, 'realtime_subscriptions', { ...mq, topic: 'unknown' })).toBe(2);
    expect(value(fams, 'realtime_subscriptions', { ...mq, topic: 'fine' })).toBe(1);
    for (const t of ['bad/one', 'bad/two', 'good']) await pub.publishAsync(t, 'x', { qos: 1 });
    await pollUntil(
      async () => received,
      (n) => n === 3,
      { timeoutMs: 5000, intervalMs: 10, description: 'three deliveries' },
    );
    fams = await scrapeUntil(
      s,
      'the deliveries counted',
      (f) => value(f, 'realtime_messages_total', { ...mq, direction: 'out' }) === 3,
    );
    expect(value(fams, 'realtime_messages_total', { ...mq, endpoint: 'unknown' })).toBe(6);
    const site = (name: string) =>
      value(fams, 'realtime_instrumentation_errors_total', { site: name });
    expect(site('classifier.topic')).toBe(2);
    expect(site('classifier.endpoint')).toBe(2);
  });
});
