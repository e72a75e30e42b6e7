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
import { runLoad } from './servers.js';

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

function expectCleanRun(r: LoadReport, minOpened: number): void {
  const c = r.connections;
  expect(c.opened).toBeGreaterThanOrEqual(minOpened);
  expect(c).toMatchObject({ attempted: c.opened, closedByClient: c.opened, open: 0, failed: 0 });
  expect(r.failuresByReason).toEqual({});
}

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
    const r = await runLoad({
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 150 },
      limits: { durationSeconds: 2 },
      seed: 11,
    });
    expectCleanRun(r, 12);
    expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
    // Own topics: out = in, every message is ours, padded to exactly 150 bytes.
    expect(r.messages.received).toBe(r.messages.sent);
    expect(r.messages.sent).toBeGreaterThan(20);
    expect(r.rtt.count).toBe(r.messages.sent);
    expect(r.bytes.sent).toBe(150 * r.messages.sent);
    expect(s.qosIn).toEqual([r.messages.sent, 0, 0]);
    // A client id per connection.
    expect(new Set(s.clientIds).size).toBe(r.connections.attempted);
  });

  for (const qos of [1, 2] as const) {
    it(`WebSocket, QoS ${qos}: counts equal the broker`, async () => {
      const s = track(await startMqttServer());
      const r = await runLoad({
        url: s.wsUrl,
        transport: 'mqtt',
        arrivals: { rate: 15 },
        session: { meanSeconds: 0.5, messagesPerSecond: 8, messageBytes: 100, qos },
        limits: { durationSeconds: 1.5 },
        seed: 5 + qos,
      });
      expectCleanRun(r, 8);
      expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
      expect(r.messages.sent).toBeGreaterThan(10);
      expect(r.rtt.count).toBe(r.messages.sent);
      const byQos = [0, 0, 0];
      byQos[qos] = r.messages.sent;
      expect(s.qosIn).toEqual(byQos);
    });
  }

  it('rooms are shared topics: messages fan out to every subscriber, ours come back', async () => {
    const s = track(await startMqttServer());
    const r = await runLoad({
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 15 },
      session: { meanSeconds: 1.5, messagesPerSecond: 5, rooms: ['lobby'], topicPrefix: 'chat/' },
      limits: { durationSeconds: 1.5 },
      seed: 8,
    });
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
      limits: { durationSeconds: 1.5 },
      seed: 4,
    });
    expect(r.connections.dropped).toBe(r.connections.opened);
    expect(r.connections.opened).toBeGreaterThan(8);
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
      session: { messagesPerSecond: 0 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 5 },
      limits: { durationSeconds: 1 },
      seed: 2,
    };
    const denied = await runLoad(base);
    const n = denied.connections.attempted;
    expect(n).toBeGreaterThan(3);
    expect(denied.connections).toMatchObject({ rejected: n, failed: n, opened: 0, reconnects: 0 });
    expect(denied.failuresByReason).toEqual({ 'connack-5': n });
    expect(s.clientIds).toHaveLength(n);
    const allowed = await runLoad({ ...base, token: 'tok' });
    expectCleanRun(allowed, 4);
  });
});

describe('grpc', () => {
  it('echo streams: every message echoed; counts equal the server', async () => {
    const s = track(await startGrpcServer());
    const r = await runLoad({
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 120, rooms: ['a', 'b'] },
      limits: { durationSeconds: 2 },
      seed: 13,
    });
    expectCleanRun(r, 12);
    expect(await settled(s.counts, r.connections.opened)).toEqual(cleanRunCounts(r));
    expect(r.messages.received).toBe(r.messages.sent);
    expect(r.messages.sent).toBeGreaterThan(20);
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
      limits: { durationSeconds: 1.5 },
      seed: 6,
    });
    expect(r.connections.dropped).toBe(r.connections.opened);
    expect(r.connections.opened).toBeGreaterThan(8);
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
      limits: { durationSeconds: 1 },
      seed: 3,
    };
    const r = await runLoad(base);
    const n = r.connections.attempted;
    expect(n).toBeGreaterThan(3);
    expect(r.connections).toMatchObject({ rejected: n, failed: n, opened: 0 });
    expect(r.failuresByReason).toEqual({ 'grpc-unimplemented': n });

    const dead = { ...base, url: `grpc://127.0.0.1:${await closedPort()}` };
    const refused = await runLoad(dead);
    const c = refused.connections;
    expect(c).toMatchObject({ opened: 0, rejected: 0, failed: c.attempted });
    expect(Object.keys(refused.failuresByReason)).toEqual(['ECONNREFUSED']);
    // Retried: the same seeded arrivals without reconnects make far fewer attempts.
    const once = await runLoad({ ...dead, reconnect: false });
    expect(once.connections.attempted).toBeGreaterThan(3);
    expect(c.attempted).toBeGreaterThan(once.connections.attempted + 3);
  });
});
