import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pollUntil, type RedisHandle, startRedis } from '@tidewatch/test-utils';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { brokerTracing, deliveries, instrumentRedisPubSub, stamp } from '../../src/broker.js';
import { createRealtimeMetrics, metricsHandler } from '../../src/index.js';
import { type Family, histogram, parseExposition, scrape, value } from '../helpers.js';

// Plain Redis pub/sub fan-out to ws clients, in one process, against a real redis-server:
// the app subscribes to a channel and writes every message to every ws client.

const CHANNEL = 'chat';
const WAIT_MS = 15_000;

interface App {
  url: string;
  metricsUrl: string;
  pub: Redis;
  sub: Redis;
  exporter: InMemorySpanExporter;
  registry: Registry;
  scrape(): Promise<Family[]>;
  close(): Promise<void>;
}

let redis: RedisHandle | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await redis?.stop();
  redis = undefined;
});

async function startApp(redisUrl: string, tracing: boolean): Promise<App> {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tr = tracing ? brokerTracing({ tracerProvider: provider }) : undefined;
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry });
  const handler = metricsHandler(metrics);
  const server = http.createServer((req, res) => handler(req, res));
  const wss = new WebSocketServer({ server });
  // Fail fast while Redis is down (no offline queue, no command retries): publishes reject.
  const redisOpts = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
    lazyConnect: true,
  };
  const sub = new Redis(redisUrl, redisOpts);
  const pub = new Redis(redisUrl, redisOpts);
  const logged: unknown[] = [];
  sub.on('error', (e) => logged.push(e));
  pub.on('error', (e) => logged.push(e));
  const detach = instrumentRedisPubSub(sub, metrics, { publisher: pub });
  const out = deliveries(metrics, { transport: 'websocket', broker: 'redis', tracing: tr });
  sub.on('message', (_channel: string, raw: string) => {
    out.fanOut(JSON.parse(raw), wss.clients, (ws) => ws.send(raw));
  });
  await Promise.all([sub.connect(), pub.connect()]);
  await sub.subscribe(CHANNEL);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const app: App = {
    url: `ws://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    pub,
    sub,
    exporter,
    registry,
    scrape: async () => parseExposition(await registry.metrics()),
    close: async () => {
      detach();
      for (const ws of wss.clients) ws.terminate();
      sub.disconnect();
      pub.disconnect();
      await new Promise((r) => wss.close(r));
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await provider.shutdown();
    },
  };
  cleanups.push(app.close);
  return app;
}

interface Client {
  ws: WebSocket;
  got: string[];
}

async function clients(url: string, n: number): Promise<Client[]> {
  const out: Client[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(url);
    const c = { ws, got: [] as string[] };
    ws.on('message', (d) => c.got.push(String(d)));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    cleanups.push(() => ws.terminate());
    out.push(c);
  }
  return out;
}

const allGot = (cs: Client[], n: number, what: string) =>
  pollUntil(
    async () => cs.map((c) => c.got.length),
    (counts) => counts.every((k) => k >= n),
    { timeoutMs: WAIT_MS, intervalMs: 20, description: what },
  );

describe('Redis pub/sub fan-out to ws clients', () => {
  it('observes delivery lag once per recipient of each stamped message, and broker traffic', async () => {
    redis = await startRedis();
    const app = await startApp(redis.url, false);
    const N = 4;
    const M = 3;
    const cs = await clients(app.url, N);
    for (let i = 0; i < M; i++) {
      await app.pub.publish(CHANNEL, JSON.stringify(stamp({ i })));
    }
    await app.pub.publish(CHANNEL, JSON.stringify({ plain: true }));
    await allGot(cs, M + 1, 'every message at every client');

    const fams = await scrape(app.metricsUrl);
    const lag = histogram(fams, 'realtime_delivery_lag_seconds', { transport: 'websocket' });
    expect(lag.count).toBe(N * M); // the unstamped message is not observed
    expect(lag.buckets['+Inf']).toBe(N * M);
    expect(histogram(fams, 'realtime_broadcast_fanout', { transport: 'websocket' })).toMatchObject({
      count: M + 1,
      sum: N * (M + 1),
    });
    expect(
      value(fams, 'realtime_broker_messages_total', { broker: 'redis', direction: 'in' }),
    ).toBe(M + 1);
    expect(
      value(fams, 'realtime_broker_messages_total', { broker: 'redis', direction: 'out' }),
    ).toBe(M + 1);
    expect(value(fams, 'realtime_broker_errors_total')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
    // Tracing is off: stamps carry no traceparent and nothing is recorded.
    expect(JSON.parse(cs[0]!.got[0]!)._tw.tp).toBeUndefined();
    expect(app.exporter.getFinishedSpans()).toEqual([]);
  });

  it('traces a sampled publish and its delivery, joined by a span link', async () => {
    redis = await startRedis();
    const app = await startApp(redis.url, true);
    const cs = await clients(app.url, 2);
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const traced = brokerTracing({ tracerProvider: provider, sampleRatio: 1 });
    const never = brokerTracing({ tracerProvider: provider, sampleRatio: 0 });
    await app.pub.publish(
      CHANNEL,
      JSON.stringify(stamp({ i: 1 }, { tracing: traced, broker: 'redis' })),
    );
    await app.pub.publish(CHANNEL, JSON.stringify(stamp({ i: 2 }, { tracing: never })));
    await allGot(cs, 2, 'both messages at both clients');

    const [publish, ...others] = exporter.getFinishedSpans();
    expect(others).toEqual([]);
    expect(publish!.name).toBe('publish');
    expect(publish!.attributes['messaging.system']).toBe('redis');
    const deliver = app.exporter.getFinishedSpans();
    expect(deliver).toHaveLength(1); // the unsampled message has no traceparent
    expect(deliver[0]!.name).toBe('deliver');
    expect(deliver[0]!.attributes['realtime.recipients']).toBe(2);
    expect(deliver[0]!.attributes['realtime.transport']).toBe('websocket');
    expect(deliver[0]!.links.map((l) => l.context.spanId)).toEqual([publish!.spanContext().spanId]);
    expect(deliver[0]!.links[0]!.context.traceId).toBe(publish!.spanContext().traceId);
    expect(deliver[0]!.spanContext().traceId).not.toBe(publish!.spanContext().traceId);
    await provider.shutdown();
  });

  it('counts broker errors while Redis is down, keeps serving ws clients, and resumes after', async () => {
    redis = await startRedis();
    const app = await startApp(redis.url, false);
    const cs = await clients(app.url, 2);
    await app.pub.publish(CHANNEL, JSON.stringify(stamp({ i: 1 })));
    await allGot(cs, 1, 'the first message');

    await redis.kill();
    const down = await pollUntil(
      () => app.scrape(),
      (f) => value(f, 'realtime_broker_errors_total', { broker: 'redis', type: 'connection' }) >= 2,
      { timeoutMs: WAIT_MS, intervalMs: 50, description: 'connection errors counted' },
    );
    expect(value(down, 'realtime_instrumentation_errors_total')).toBe(0);
    // A publish while down rejects to the caller as before, and is counted.
    const publishErrorsBefore = value(down, 'realtime_broker_errors_total', { type: 'publish' });
    await expect(app.pub.publish(CHANNEL, '{}')).rejects.toThrow();
    const afterFail = await app.scrape();
    expect(value(afterFail, 'realtime_broker_errors_total', { type: 'publish' })).toBe(
      publishErrorsBefore + 1,
    );
    // The server still serves its ws clients: a new one connects.
    const [late] = await clients(app.url, 1);
    expect(late!.ws.readyState).toBe(WebSocket.OPEN);

    await redis.restart();
    await pollUntil(
      async () => app.sub.status === 'ready' && app.pub.status === 'ready',
      (ok) => ok,
      { timeoutMs: WAIT_MS, intervalMs: 50, description: 'clients reconnected' },
    );
    // ioredis re-subscribes on reconnect; publish until the subscription is back.
    const inBefore = value(await app.scrape(), 'realtime_broker_messages_total', {
      direction: 'in',
    });
    await pollUntil(
      async () => (await app.pub.publish(CHANNEL, JSON.stringify(stamp({ i: 2 })))) as number,
      (receivers) => receivers === 1,
      { timeoutMs: WAIT_MS, intervalMs: 50, description: 'the subscription restored' },
    );
    await allGot([...cs, late!], 1, 'a message after the restart');
    const after = await app.scrape();
    expect(value(after, 'realtime_broker_messages_total', { direction: 'in' })).toBe(inBefore + 1);
    expect(
      histogram(after, 'realtime_delivery_lag_seconds', { transport: 'websocket' }).count,
    ).toBe(2 + 3);
  });
});
