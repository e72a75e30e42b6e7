/**
 * The mqtt and grpc transports against a real aedes broker and a real grpc-js server: the
 * report, and the counts `expectedServerCounts` claims for them, equal what the servers
 * counted themselves (connections accepted, clean and abnormal closes, messages and payload
 * bytes in and out). The same claims against the tidewatch adapters' /metrics are in
 * expected-counts-mqtt-grpc.test.ts.
 */
import net, { type AddressInfo } from 'node:net';
import { pollUntil } from '@tidewatch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import type { LoadOptions, LoadReport } from '../../src/index.js';
import {
  type GrpcTestServer,
  type MqttTestServer,
  type ServerSideCounts,
  startGrpcServer,
  startMqttServer,
} from './mqtt-grpc-servers.js';
import { guaranteedFirstMessages, runLoad, runUntil } from './servers.js';

let current: MqttTestServer | GrpcTestServer | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});
function track<S extends MqttTestServer | GrpcTestServer>(s: S): S {
  current = s;
  return s;
}

/** Waits until the server has seen every connection close, and returns its counts. */
async function settled(counts: ServerSideCounts, opened: number): Promise<ServerSideCounts> {
  return pollUntil(
    async () => ({ ...counts }),
    (c) => c.open === 0 && c.opened === opened && c.closedNormal + c.closedAbnormal === opened,
    { timeoutMs: 10_000, intervalMs: 20, description: 'every connection closed on the server' },
  );
}

/** The server-side counts a clean run (no drops, no server closes) must have produced. */
function cleanRunCounts(r: LoadReport): ServerSideCounts {
  return {
    opened: r.connections.opened,
    closedNormal: r.connections.closedByClient,
    closedAbnormal: 0,
    in: r.messages.sent,
    bytesIn: r.bytes.sent,
    out: r.messages.received,
    bytesOut: r.bytes.received,
    open: 0,
  };
}

/**
 * Runs are bounded by count, not by time: `limits.maxConnections` attempts, after which the
 * run ends by itself once every session has (the duration is only an upper bound). So a
 * clean run opens exactly that many connections, however busy the machine.
 */
const BOUNDED = { durationSeconds: 60 } as const;

function expectCleanRun(r: LoadReport, opened: number): void {
  const c = r.connections;
  expect(c).toMatchObject({
    attempted: opened,
    opened,
    closedByClient: opened,
    open: 0,
    failed: 0,
  });
  expect(r.failuresByReason).toEqual({});
}

/** Exactly one arrival, in the first 50 ms (the next would come 10 s later). */
const ONE_CLIENT: LoadOptions['arrivals'] = {
  trace: { values: [1, ...new Array<number>(199).fill(0)], stepSeconds: 1 },
  compression: 20,
};

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('mqtt', () => {
  it('TCP, QoS 0, own topics: every publish comes back once; counts equal the broker', async () => {
    const s = track(await startMqttServer());
    const options: LoadOptions = {
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 150 },
      limits: { ...BOUNDED, maxConnections: 12 },
      seed: 11,
    };
    const r = await runLoad(options);
    expectCleanRun(r, 12);
    expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
    // Own topics: out = in, every message is ours, padded to exactly 150 bytes.
    expect(r.messages.received).toBe(r.messages.sent);
    expect(r.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 12));
    expect(r.rtt.count).toBe(r.messages.sent);
    expect(r.bytes.sent).toBe(150 * r.messages.sent);
    expect(s.qosIn).toEqual([r.messages.sent, 0, 0]);
    // A client id per connection.
    expect(new Set(s.clientIds).size).toBe(r.connections.attempted);
  });

  for (const qos of [1, 2] as const) {
    it(`WebSocket, QoS ${qos}: counts equal the broker`, async () => {
      const s = track(await startMqttServer());
      const options: LoadOptions = {
        url: s.wsUrl,
        transport: 'mqtt',
        arrivals: { rate: 15 },
        session: { meanSeconds: 0.5, messagesPerSecond: 8, messageBytes: 100, qos },
        limits: { ...BOUNDED, maxConnections: 10 },
        seed: 5 + qos,
      };
      const r = await runLoad(options);
      expectCleanRun(r, 10);
      expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
      expect(r.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 10));
      expect(r.rtt.count).toBe(r.messages.sent);
      const byQos = [0, 0, 0];
      byQos[qos] = r.messages.sent;
      expect(s.qosIn).toEqual(byQos);
    });
  }

  it('rooms are shared topics: messages fan out to every subscriber, ours come back', async () => {
    const s = track(await startMqttServer());
    // Eight subscribers open at once, then the run goes on until one's message has reached
    // another (a condition, not a moment), and stops: every client closes cleanly.
    const r = await runUntil(
      {
        url: s.url,
        transport: 'mqtt',
        arrivals: { rate: 15 },
        session: {
          meanSeconds: 1000,
          messagesPerSecond: 5,
          rooms: ['lobby'],
          topicPrefix: 'chat/',
        },
        limits: { ...BOUNDED, maxConnections: 8 },
        seed: 8,
      },
      ({ connections: c, messages: m, rtt }) => c.opened === 8 && m.received > rtt.count,
      '8 clients open and a message fanned out',
    );
    expectCleanRun(r, 8);
    const counts = await settled(s.counts, r.connections.opened);
    expect(counts.in).toBe(r.messages.sent);
    expect(counts.bytesIn).toBe(r.bytes.sent);
    expect(r.rtt.count).toBe(r.messages.sent);
    expect(r.messages.received).toBeGreaterThan(r.messages.sent);
    expect(counts.out).toBeGreaterThanOrEqual(r.messages.received);
  });

  it('drops end without DISCONNECT: abnormal on the broker, and nothing sent is lost', async () => {
    const s = track(await startMqttServer());
    const r = await runLoad({
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.4, messagesPerSecond: 8 },
      dropRatio: 1,
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 4,
    });
    expect(r.connections).toMatchObject({ attempted: 10, opened: 10, dropped: 10, open: 0 });
    const counts = await settled(s.counts, r.connections.opened);
    expect(counts).toMatchObject({
      closedNormal: 0,
      closedAbnormal: r.connections.dropped,
      in: r.messages.sent,
      bytesIn: r.bytes.sent,
    });
  });

  it('CONNACK "not authorized" is rejected and not retried; the token is the password', async () => {
    const s = track(await startMqttServer({ password: 'tok' }));
    const base: LoadOptions = {
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 10 },
      session: { meanSeconds: 0.2, messagesPerSecond: 0 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 5 },
      limits: { ...BOUNDED, maxConnections: 6 },
      seed: 2,
    };
    // Six attempts, and the run ends by itself: no retry means six clients, one attempt each.
    const denied = await runLoad(base);
    const n = 6;
    expect(denied.connections).toMatchObject({
      attempted: n,
      rejected: n,
      failed: n,
      opened: 0,
      reconnects: 0,
    });
    expect(denied.failuresByReason).toEqual({ 'connack-5': n });
    expect(s.clientIds).toHaveLength(n);
    // Client ids are <client>.<connection>: six different clients.
    expect(new Set(s.clientIds.map((id) => id.slice(0, id.lastIndexOf('.')))).size).toBe(n);
    const allowed = await runLoad({ ...base, token: 'tok' });
    expectCleanRun(allowed, n);
  });
});

describe('grpc', () => {
  it('echo streams: every message echoed; counts equal the server', async () => {
    const s = track(await startGrpcServer());
    const options: LoadOptions = {
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 120, rooms: ['a', 'b'] },
      limits: { ...BOUNDED, maxConnections: 12 },
      seed: 13,
    };
    const r = await runLoad(options);
    expectCleanRun(r, 12);
    expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
    expect(r.messages.received).toBe(r.messages.sent);
    expect(r.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 12));
    expect(r.rtt.count).toBe(r.messages.sent);
    expect(r.bytes.sent).toBe(120 * r.messages.sent);
  });

  it('drops cancel the stream: every stream ends once on the server', async () => {
    const s = track(await startGrpcServer());
    const r = await runLoad({
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.3, messagesPerSecond: 5 },
      dropRatio: 1,
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 6,
    });
    expect(r.connections).toMatchObject({ attempted: 10, opened: 10, dropped: 10, open: 0 });
    // settled() waits for opened = normal + abnormal closes on the server; which of the two a
    // cancel shows as depends on timing in grpc-js (see expectedServerCounts), so only the sum.
    const counts = await settled(s.counts, r.connections.opened);
    expect(counts.closedNormal + counts.closedAbnormal).toBe(r.connections.dropped);
    expect(counts.in).toBe(r.messages.sent);
  });

  it('UNIMPLEMENTED is rejected and not retried; a refused port is retried', async () => {
    const s = track(await startGrpcServer({ noService: true }));
    const base: LoadOptions = {
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 10 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 2 },
      limits: { ...BOUNDED, maxConnections: 6 },
      seed: 3,
    };
    const r = await runLoad(base);
    const n = 6;
    expect(r.connections).toMatchObject({ attempted: n, rejected: n, failed: n, opened: 0 });
    expect(r.failuresByReason).toEqual({ 'grpc-unimplemented': n });

    // One arrival: retried maxAttempts (2) times, so the run reaches its 3 attempts and ends
    // by itself; without retries a run of one arrival and one attempt ends after it.
    const dead = { ...base, url: `grpc://127.0.0.1:${await closedPort()}`, arrivals: ONE_CLIENT };
    const refused = await runLoad({ ...dead, limits: { ...BOUNDED, maxConnections: 3 } });
    expect(refused.connections).toMatchObject({ attempted: 3, failed: 3, opened: 0, rejected: 0 });
    expect(refused.failuresByReason).toEqual({ ECONNREFUSED: 3 });
    const once = await runLoad({
      ...dead,
      reconnect: false,
      limits: { ...BOUNDED, maxConnections: 1 },
    });
    expect(once.connections).toMatchObject({ attempted: 1, failed: 1, opened: 0 });
    expect(once.failuresByReason).toEqual({ ECONNREFUSED: 1 });
  });
});
