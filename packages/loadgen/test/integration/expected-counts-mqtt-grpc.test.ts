/**
 * `expectedServerCounts` for mqtt and grpc against the /metrics of a real instrumented
 * server (`instrumentAedes`, `instrumentGrpc` from @tidewatch/middleware), as ws-exact
 * does for ws: every exact counter equals the server's, and the server's own counts agree.
 * The adapters are imported dynamically, so the rest of the suite loads without them.
 */
import { createRealtimeMetrics, metricsHandler, type RealtimeMetrics } from '@tidewatch/middleware';
import { pollUntil, startHttpServer, sumSamples } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  expectedServerCounts,
  type LoadOptions,
  type LoadReport,
  readServerCounts,
} from '../../src/index.js';
import { startGrpcServer, startMqttServer } from './mqtt-grpc-servers.js';
import { guaranteedFirstMessages, runLoad } from './servers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A registry's /metrics on 127.0.0.1:0, closed after the test. */
async function serveMetrics(metrics: RealtimeMetrics): Promise<() => Promise<string>> {
  const http = await startHttpServer(metricsHandler(metrics));
  cleanups.push(
    () => http.close(),
    () => metrics.close(),
  );
  return async () => (await fetch(`${http.url}/metrics`)).text();
}

/** The /metrics body once the server shows no open connection of `transport`. */
async function settledMetrics(scrape: () => Promise<string>, transport: string, opened: number) {
  return pollUntil(
    scrape,
    (text) =>
      sumSamples(text, 'realtime_connections', { transport }) === 0 &&
      readServerCounts(text, [`realtime_connections_opened_total{transport="${transport}"}`])[
        `realtime_connections_opened_total{transport="${transport}"}`
      ] === opened,
    { timeoutMs: 10_000, intervalMs: 20, description: `every ${transport} connection closed` },
  );
}

/**
 * Runs are bounded by count, not by time: after `limits.maxConnections` attempts the run ends
 * by itself once every session has (the duration is only an upper bound), so the counts do
 * not depend on the machine's speed.
 */
const BOUNDED = { durationSeconds: 60 } as const;

function compare(report: LoadReport, text: string, keys: number): void {
  const expected = expectedServerCounts(report);
  expect(Object.keys(expected)).toHaveLength(keys);
  expect(readServerCounts(text, Object.keys(expected))).toEqual(expected);
}

describe('expectedServerCounts vs an instrumented server', () => {
  it('mqtt (aedes + instrumentAedes): every exact counter equals /metrics', async () => {
    const { instrumentAedes } = await import('@tidewatch/middleware/mqtt');
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const scrape = await serveMetrics(metrics);
    const s = await startMqttServer({
      instrument: (b) => instrumentAedes(b, metrics),
    });
    cleanups.push(() => s.close());
    const options: LoadOptions = {
      url: s.url,
      transport: 'mqtt',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 150, qos: 1 },
      limits: { ...BOUNDED, maxConnections: 12 },
      seed: 11,
    };
    const r = await runLoad(options);
    expect(r.connections).toMatchObject({ attempted: 12, opened: 12, closedByClient: 12 });
    expect(r.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 12));
    expect(r.failuresByReason).toEqual({});
    const text = await settledMetrics(scrape, 'mqtt', r.connections.opened);
    compare(r, text, 8);
    expect(s.counts.in).toBe(r.messages.sent);
    expect(s.counts.out).toBe(r.messages.received);
  });

  it('mqtt over WebSocket with drops: opened, closes and messages in equal /metrics', async () => {
    const { instrumentAedes } = await import('@tidewatch/middleware/mqtt');
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const scrape = await serveMetrics(metrics);
    const s = await startMqttServer({
      instrument: (b) => instrumentAedes(b, metrics),
    });
    cleanups.push(() => s.close());
    const r = await runLoad({
      url: s.wsUrl,
      transport: 'mqtt',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.4, messagesPerSecond: 8 },
      dropRatio: 0.5,
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 4,
    });
    // Which sessions drop is drawn from the seed: both kinds of close, every time.
    const c = r.connections;
    expect(c).toMatchObject({ attempted: 10, opened: 10, open: 0 });
    expect(c.dropped).toBeGreaterThan(0);
    expect(c.closedByClient).toBeGreaterThan(0);
    expect(c.dropped + c.closedByClient).toBe(10);
    const text = await settledMetrics(scrape, 'mqtt', r.connections.opened);
    // opened, handshakes, 2 closes, messages and bytes in (out is not exact after drops).
    compare(r, text, 6);
  });

  it('grpc (grpc-js + instrumentGrpc): every exact counter equals /metrics', async () => {
    const { instrumentGrpc } = await import('@tidewatch/middleware/grpc');
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const scrape = await serveMetrics(metrics);
    const s = await startGrpcServer({ instrument: (server) => instrumentGrpc(server, metrics) });
    cleanups.push(() => s.close());
    const options: LoadOptions = {
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 20 },
      session: { meanSeconds: 0.6, messagesPerSecond: 10, messageBytes: 120 },
      limits: { ...BOUNDED, maxConnections: 12 },
      seed: 13,
    };
    const r = await runLoad(options);
    expect(r.connections).toMatchObject({ attempted: 12, opened: 12, closedByClient: 12 });
    expect(r.messages.sent).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 12));
    expect(r.failuresByReason).toEqual({});
    const text = await settledMetrics(scrape, 'grpc', r.connections.opened);
    compare(r, text, 8);
    expect(s.counts.in).toBe(r.messages.sent);
    expect(s.counts.out).toBe(r.messages.received);
  });

  it('grpc with drops: opened, handshakes and the total of closes equal /metrics', async () => {
    const { instrumentGrpc } = await import('@tidewatch/middleware/grpc');
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const scrape = await serveMetrics(metrics);
    const s = await startGrpcServer({ instrument: (server) => instrumentGrpc(server, metrics) });
    cleanups.push(() => s.close());
    const r = await runLoad({
      url: s.url,
      transport: 'grpc',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.3, messagesPerSecond: 5 },
      dropRatio: 0.5,
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 6,
    });
    const c = r.connections;
    expect(c).toMatchObject({ attempted: 10, opened: 10, open: 0 });
    expect(c.dropped).toBeGreaterThan(0);
    expect(c.dropped + c.closedByClient).toBe(10);
    const text = await settledMetrics(scrape, 'grpc', r.connections.opened);
    compare(r, text, 3);
  });
});
