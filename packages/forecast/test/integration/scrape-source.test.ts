/**
 * The scrape source against real `ws` servers instrumented with @tidewatch/middleware, with
 * real clients connecting and sending. A fake clock makes the rates exact.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { instrumentWs } from '@tidewatch/middleware/ws';
import { pollUntil, startHttpServer, sumSamples } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { createHistoryStore, type HistoryStore } from '../../src/history/store.js';
import type { SourceError } from '../../src/sources/errors.js';
import { type CounterResetEvent, createScraper, type Scraper } from '../../src/sources/scrape.js';

interface Replica {
  port: number;
  metricsUrl: string;
  wss: WebSocketServer;
  close(): Promise<void>;
}

/** A real ws echo server with `/metrics` on the same port (port 0 = any free port). */
async function startReplica(port = 0, token?: string): Promise<Replica> {
  const registry = new Registry();
  const metrics = createRealtimeMetrics({ registry });
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws' });
  const detach = instrumentWs(wss, metrics);
  const handler = metricsHandler(metrics, token ? { auth: { bearer: token } } : {});
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/metrics')) handler(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    port: bound,
    metricsUrl: `http://127.0.0.1:${bound}/metrics`,
    wss,
    async close() {
      detach();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const clients: WebSocket[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function replica(port = 0, token?: string): Promise<Replica> {
  const r = await startReplica(port, token);
  cleanups.push(() => r.close());
  return r;
}

async function connect(r: Replica, count: number): Promise<WebSocket[]> {
  const opened = await Promise.all(
    Array.from({ length: count }, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${r.port}/ws`);
      clients.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
      return ws;
    }),
  );
  return opened;
}

/** Sends `count` messages and waits for every echo, so the server has counted them. */
async function send(ws: WebSocket, count: number): Promise<void> {
  let echoed = 0;
  const done = new Promise<void>((resolve) => {
    const onMessage = () => {
      if (++echoed === count) {
        ws.off('message', onMessage);
        resolve();
      }
    };
    ws.on('message', onMessage);
  });
  for (let i = 0; i < count; i++) ws.send(`m${i}`);
  await done;
}

const STEP = 1000;
const T0 = 1_700_000_040_000;

/** A store and a fake clock that advances one step per `tick()`. */
function setup(maxInterpolateSteps = 0): {
  store: HistoryStore;
  clock: { now: () => number; tick: (steps?: number) => void };
} {
  let t = T0;
  return {
    store: createHistoryStore({ stepMs: STEP, capacity: 100, maxInterpolateSteps }),
    clock: {
      now: () => t,
      tick: (steps = 1) => {
        t += steps * STEP;
      },
    },
  };
}

const vals = (s: { values: ArrayLike<number> }): number[] => Array.from(s.values);

type ScraperOptions = Parameters<typeof createScraper>[0];

function scraper(opts: Partial<ScraperOptions> & Pick<ScraperOptions, 'urls' | 'store'>): Scraper {
  const s = createScraper({
    metric: 'realtime_connections',
    kind: 'gauge',
    intervalMs: STEP,
    seriesName: 'connections',
    ...opts,
  });
  cleanups.push(() => s.stop());
  return s;
}

/** A scraper of received messages (`metric{direction="in"}`, default the messages counter) as a per-second rate. */
function inboundRate(
  opts: Partial<ScraperOptions> & Pick<ScraperOptions, 'urls' | 'store' | 'seriesName'>,
): Scraper {
  return scraper({
    metric: 'realtime_messages_total',
    labels: { direction: 'in' },
    kind: 'counter',
    ...opts,
  });
}

describe('scrape source: live instrumented ws servers', () => {
  it('gauge: the connections of two replicas are summed, exactly', async () => {
    const [a, b] = [await replica(), await replica()];
    const { store, clock } = setup();
    const s = scraper({ urls: [a.metricsUrl, b.metricsUrl], store, now: clock.now });
    expect(s.name).toBe(`scrape:${a.metricsUrl},${b.metricsUrl}`);
    await connect(a, 3);
    await connect(b, 2);
    expect(await s.scrapeOnce()).toBe(5);
    clock.tick();
    const [extra] = await connect(b, 1);
    expect(await s.scrapeOnce()).toBe(6);
    clock.tick();
    extra?.close();
    // The server sees the close a moment after the client: wait until b's own /metrics shows
    // it (the scrape below appends a step, so it cannot be the thing polled).
    await pollUntil(
      async () => sumSamples(await (await fetch(b.metricsUrl)).text(), 'realtime_connections'),
      (n) => n === 2,
      { timeoutMs: 5_000, intervalMs: 20, description: "b's /metrics to count 2 connections" },
    );
    expect(await s.scrapeOnce()).toBe(5);
    expect(store.series('connections')).toEqual({
      startMs: T0,
      stepMs: STEP,
      values: Float64Array.of(5, 6, 5),
    });
    expect(s.errors.size).toBe(0);
    expect(await s.read({ startMs: T0 + STEP })).toEqual({
      startMs: T0 + STEP,
      stepMs: STEP,
      values: Float64Array.of(6, 5),
    });
  });

  it('label matchers select series: only active connections', async () => {
    const a = await replica();
    const { store, clock } = setup();
    const s = scraper({ urls: [a.metricsUrl], store, now: clock.now, labels: { state: 'idle' } });
    await connect(a, 2);
    expect(await s.scrapeOnce()).toBe(0); // fresh connections are active, not idle
  });

  it('counter: messages received become a per-second rate, summed over replicas', async () => {
    const [a, b] = [await replica(), await replica()];
    const { store, clock } = setup();
    const urls = [a.metricsUrl, b.metricsUrl];
    const s = inboundRate({ urls, store, now: clock.now, seriesName: 'messages_per_second' });
    // The histogram of message sizes counts the same messages: its _count as a counter.
    const sizes = inboundRate({
      urls,
      store,
      now: clock.now,
      metric: 'realtime_message_size_bytes',
      seriesName: 'sizes_count_rate',
    });
    const [wa] = await connect(a, 1);
    const [wb] = await connect(b, 1);
    await send(wa as WebSocket, 3);
    expect(await s.scrapeOnce()).toBeNaN(); // first sample: no rate yet, nothing appended
    expect(await sizes.scrapeOnce()).toBeNaN();
    expect(store.has('messages_per_second')).toBe(false);

    clock.tick();
    await send(wa as WebSocket, 30);
    await send(wb as WebSocket, 10); // b's series appears now: it counts from 0
    expect(await s.scrapeOnce()).toBe(40);
    expect(await sizes.scrapeOnce()).toBe(40);

    clock.tick(2);
    await send(wb as WebSocket, 5);
    expect(await s.scrapeOnce()).toBe(2.5);
    expect(await sizes.scrapeOnce()).toBe(2.5);
    expect(vals(store.series('messages_per_second'))).toEqual([40, Number.NaN, 2.5]);
    expect(vals(store.series('sizes_count_rate'))).toEqual([40, Number.NaN, 2.5]);
    expect(s.errors.size).toBe(0);
  });

  it('counter reset: a replica restarted on the same port without a start time skips one step', async () => {
    const a = await replica();
    let b = await replica();
    const { store, clock } = setup();
    const resets: CounterResetEvent[] = [];
    const s = inboundRate({
      urls: [a.metricsUrl, b.metricsUrl],
      store,
      now: clock.now,
      seriesName: 'mps',
      onCounterReset: (e) => resets.push(e),
    });
    const [wa] = await connect(a, 1);
    const [wb] = await connect(b, 1);
    await send(wa as WebSocket, 2);
    await send(wb as WebSocket, 20);
    await s.scrapeOnce();
    clock.tick();
    await send(wb as WebSocket, 6);
    expect(await s.scrapeOnce()).toBe(6);

    await b.close();
    b = await replica(b.port); // same URL, fresh process state: its counter restarts at 0
    const [wb2] = await connect(b, 1);
    await send(wb2 as WebSocket, 4);
    await send(wa as WebSocket, 1);
    clock.tick();
    // b went from 26 to 4 and exposes no process_start_time_seconds: a restart cannot be told
    // from a glitch, so the step is skipped (nothing appended) and b is re-based on 4.
    expect(await s.scrapeOnce()).toBeNaN();
    expect(resets).toEqual([
      {
        source: `scrape:${b.metricsUrl}`,
        restart: 'unknown',
        previous: 26,
        current: 4,
        atMs: T0 + 2 * STEP,
        labels: {
          transport: 'websocket',
          direction: 'in',
          endpoint: '/ws',
          client_type: 'unknown',
        },
      },
    ]);
    await send(wb2 as WebSocket, 3);
    await send(wa as WebSocket, 1);
    clock.tick();
    expect(await s.scrapeOnce()).toBe(4); // b's 3 since the re-base, plus a's 1
    expect(vals(store.series('mps'))).toEqual([6, NaN, 4]);
    expect(s.errors.size).toBe(0);
  });

  it('one replica down: the step is skipped (NaN), never a partial sum', async () => {
    const a = await replica();
    const b = await replica();
    const { store, clock } = setup();
    const s = scraper({ urls: [a.metricsUrl, b.metricsUrl], store, now: clock.now });
    await connect(a, 2);
    await connect(b, 1);
    expect(await s.scrapeOnce()).toBe(3);
    await b.close();
    clock.tick();
    expect(await s.scrapeOnce()).toBeNaN();
    expect(store.series('connections').values.length).toBe(1); // nothing appended
    expect(s.errors.get(`scrape:${b.metricsUrl}`)).toBe(1);
    expect(s.errors.get(`scrape:${a.metricsUrl}`)).toBeUndefined();
    // Refused, or (when fetch reused a kept-alive socket) closed under it.
    expect(s.lastErrors.get(`scrape:${b.metricsUrl}`)?.message).toMatch(
      new RegExp(
        `^scrape:${b.metricsUrl}: request failed: fetch failed \\((ECONNREFUSED|UND_ERR_SOCKET)\\)$`,
      ),
    );
    const b2 = await replica(b.port);
    await connect(b2, 4);
    clock.tick();
    expect(await s.scrapeOnce()).toBe(6);
    expect(vals(store.series('connections'))).toEqual([3, Number.NaN, 6]);
  });

  it('garbage /metrics: error counted, history untouched', async () => {
    const a = await replica();
    const garbage = await startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway</body></html>');
    });
    cleanups.push(garbage.close);
    const garbageUrl = `${garbage.url}/metrics`;
    const { store, clock } = setup();
    const errors: SourceError[] = [];
    const good = scraper({ urls: [a.metricsUrl], store, now: clock.now });
    const s = scraper({
      urls: [a.metricsUrl, garbageUrl],
      store,
      now: clock.now,
      seriesName: 'mixed',
      onError: (e) => errors.push(e),
    });
    await connect(a, 2);
    expect(await good.scrapeOnce()).toBe(2);
    const before = store.series('connections');
    expect(await s.scrapeOnce()).toBeNaN();
    expect(await s.scrapeOnce()).toBeNaN();
    expect(s.errors.get(`scrape:${garbageUrl}`)).toBe(2);
    expect(errors.map((e) => e.message)).toEqual(
      Array(2).fill(
        `scrape:${garbageUrl}: not the Prometheus text format: line 1: "<html><body>502 Bad Gateway</body></html>"`,
      ),
    );
    expect(errors[0]?.source).toBe(`scrape:${garbageUrl}`);
    expect(store.has('mixed')).toBe(false);
    expect(store.series('connections')).toEqual(before);
    await expect(s.read()).rejects.toThrow(
      `scrape:${a.metricsUrl},${garbageUrl}: no samples of realtime_connections scraped yet into "mixed"`,
    );
  });

  it('a metric that is missing, or of the wrong kind, is an error naming the URL', async () => {
    const a = await replica();
    const { store, clock } = setup();
    const missing = scraper({
      urls: [a.metricsUrl],
      store,
      now: clock.now,
      metric: 'nope_total',
      kind: 'counter',
    });
    expect(await missing.scrapeOnce()).toBeNaN();
    expect(missing.lastErrors.get(`scrape:${a.metricsUrl}`)?.message).toBe(
      `scrape:${a.metricsUrl}: metric nope_total not found`,
    );
    const wrong = scraper({ urls: [a.metricsUrl], store, now: clock.now, kind: 'counter' });
    expect(await wrong.scrapeOnce()).toBeNaN();
    expect(wrong.lastErrors.get(`scrape:${a.metricsUrl}`)?.message).toBe(
      `scrape:${a.metricsUrl}: metric realtime_connections is a gauge; use kind "gauge"`,
    );
  });

  it('a protected /metrics: 401 without the token, values with it', async () => {
    const a = await replica(0, 's3cret');
    const { store, clock } = setup();
    const anonymous = scraper({ urls: [a.metricsUrl], store, now: clock.now });
    expect(await anonymous.scrapeOnce()).toBeNaN();
    expect(anonymous.lastErrors.get(`scrape:${a.metricsUrl}`)?.status).toBe(401);
    await connect(a, 1);
    const authed = scraper({ urls: [a.metricsUrl], store, now: clock.now, bearerToken: 's3cret' });
    expect(await authed.scrapeOnce()).toBe(1);
  });

  it('start()/stop(): scrapes on the interval with the real clock, and stops', async () => {
    const a = await replica();
    const store = createHistoryStore({ stepMs: 100, capacity: 1000 });
    const s = scraper({ urls: [a.metricsUrl], store, intervalMs: 100 });
    await connect(a, 3);
    s.start();
    s.start(); // idempotent
    await pollUntil(
      async () => (store.has('connections') ? store.series('connections').values.length : 0),
      (n) => n >= 4,
      { timeoutMs: 10_000 },
    );
    await s.stop();
    const stopped = store.series('connections');
    expect(
      vals(stopped)
        .filter((v) => !Number.isNaN(v))
        .every((v) => v === 3),
    ).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(store.series('connections')).toEqual(stopped);
    expect(s.errors.size).toBe(0);
  });
});
