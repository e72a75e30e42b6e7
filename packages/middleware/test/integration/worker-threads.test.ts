import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  type AggregatedMetricsHandler,
  isTidewatchMessage,
  workerThreadsAggregator,
  workerThreadsMetrics,
} from '../../src/cluster.js';
import {
  closed,
  connect,
  echoAll,
  type Family,
  histogram,
  parseExposition,
  until,
  value,
} from '../helpers.js';

// Threads run test/fixtures/ws-thread.mjs against the BUILT package; the aggregating side
// is this process, from the sources.
const FIXTURE = fileURLToPath(new URL('../fixtures/ws-thread.mjs', import.meta.url));
const TIMEOUT_MS = 500;
const TOKEN = 'threads-test-token';
const PER_THREAD = 20;
const M = 10;
const CLOSED = 10;
const LAGS = [0.1, 0.3];

interface ThreadStats {
  threadId: number;
  opened: number;
  closed: number;
  messagesIn: number;
  bytesIn: number;
}
interface Thread {
  worker: Worker;
  port: number;
}

const threads: Thread[] = [];
const clients: WebSocket[] = [];
const errors: Array<{ site: string; message: string }> = [];
let handler: AggregatedMetricsHandler | undefined;
let server: http.Server | undefined;
let metricsUrl = '';
let seq = 0;

function startThread(lag: number): Promise<Thread> {
  const worker = new Worker(FIXTURE, { workerData: { lag } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('thread did not start')), 15_000);
    worker.on('message', function onReady(msg: { type?: string; port?: number }) {
      if (msg?.type !== 'ready') return;
      clearTimeout(timer);
      worker.off('message', onReady);
      resolve({ worker, port: msg.port! });
    });
    worker.once('error', reject);
  });
}

function command<T>(thread: Thread, cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
  const s = ++seq;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      thread.worker.off('message', onMessage);
      reject(new Error(`thread did not answer ${cmd}`));
    }, 10_000);
    const onMessage = (msg: { type?: string; seq?: number; data?: unknown }) => {
      // The aggregator's answers arrive on this channel too.
      if (isTidewatchMessage(msg) || msg?.type !== 'reply' || msg.seq !== s) return;
      clearTimeout(timer);
      thread.worker.off('message', onMessage);
      resolve(msg.data as T);
    };
    thread.worker.on('message', onMessage);
    thread.worker.postMessage({ cmd, seq: s, ...extra });
  });
}

async function scrapeMetrics(): Promise<{ fams: Family[] }> {
  const res = await fetch(metricsUrl, { headers: { authorization: `Bearer ${TOKEN}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`scrape: HTTP ${res.status}: ${text}`);
  return { fams: parseExposition(text) };
}

function workerStates(fams: Family[]) {
  return {
    responding: value(fams, 'realtime_cluster_workers', { state: 'responding' }),
    stale: value(fams, 'realtime_cluster_workers', { state: 'stale' }),
    missing: value(fams, 'realtime_cluster_workers', { state: 'missing' }),
  };
}

function totals(fams: Family[]) {
  return {
    opened: value(fams, 'realtime_connections_opened_total'),
    closed: value(fams, 'realtime_connections_closed_total'),
    messagesIn: value(fams, 'realtime_messages_total', { direction: 'in' }),
    messagesOut: value(fams, 'realtime_messages_total', { direction: 'out' }),
    bytesIn: value(fams, 'realtime_message_bytes_total', { direction: 'in' }),
    connections: value(fams, 'realtime_connections'),
    handshakes: histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' })
      .count,
  };
}

function payload(i: number, j: number): string {
  return `thread client ${i} message ${j} `.padEnd(30 + ((i * 11 + j * 17) % 300), '-');
}

beforeAll(async () => {
  for (const lag of LAGS) threads.push(await startThread(lag));
  handler = workerThreadsMetrics({
    workers: () => threads.map((t) => t.worker),
    timeoutMs: TIMEOUT_MS,
    auth: { bearer: TOKEN },
    onError: (err, site) => errors.push({ site, message: String((err as Error)?.message) }),
  });
  const h = handler;
  server = http.createServer((req, res) => h(req, res));
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  metricsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
});

afterAll(async () => {
  for (const c of clients) c.terminate();
  handler?.close();
  server?.closeAllConnections();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  await Promise.all(threads.map((t) => t.worker.terminate()));
});

describe('workerThreadsMetrics over real ws servers in 2 threads', () => {
  let expected: ReturnType<typeof totals>;
  let perThread: ThreadStats[];

  it('aggregates both threads exactly, each metric with its own aggregator', async () => {
    let bytes = 0;
    for (const [t, thread] of threads.entries()) {
      for (let i = 0; i < PER_THREAD; i++) {
        const ws = await connect(`ws://127.0.0.1:${thread.port}/ws?t=${t}`);
        ws.on('error', () => {});
        clients.push(ws);
      }
    }
    await echoAll(clients, M, payload);
    for (let i = 0; i < clients.length; i++)
      for (let j = 0; j < M; j++) bytes += Buffer.byteLength(payload(i, j));
    // Close 5 clients of each thread.
    const closing = [
      ...clients.slice(0, CLOSED / 2),
      ...clients.slice(PER_THREAD, PER_THREAD + CLOSED / 2),
    ];
    await Promise.all(
      closing.map((ws) => {
        const done = closed(ws);
        ws.close(1000);
        return done;
      }),
    );

    const n = clients.length;
    let fams: Family[] = [];
    await until(`${CLOSED} closes in the aggregate`, async () => {
      fams = (await scrapeMetrics()).fams;
      return value(fams, 'realtime_connections_closed_total') === CLOSED;
    });
    expected = {
      opened: n,
      closed: CLOSED,
      messagesIn: n * M,
      messagesOut: n * M,
      bytesIn: bytes,
      connections: n - CLOSED,
      handshakes: n,
    };
    expect(totals(fams)).toEqual(expected);
    expect(workerStates(fams)).toEqual({ responding: 2, stale: 0, missing: 0 });
    expect(value(fams, 'fixture_thread_lag_seconds')).toBe(Math.max(...LAGS));

    perThread = await Promise.all(threads.map((t) => command<ThreadStats>(t, 'stats')));
    for (const s of perThread) {
      expect(s.opened).toBe(PER_THREAD);
      expect(s.messagesIn).toBe(PER_THREAD * M);
    }

    // The same aggregate for users who serve metrics themselves.
    const aggregator = workerThreadsAggregator({ workers: () => threads.map((t) => t.worker) });
    try {
      const registry = await aggregator.aggregate();
      const direct = parseExposition(await registry.metrics());
      expect(totals(direct)).toEqual(expected);
      expect(workerStates(direct)).toEqual({ responding: 2, stale: 0, missing: 0 });
    } finally {
      aggregator.close();
    }
  });

  it('asks no thread before the credentials are checked', async () => {
    let answers = 0;
    const count = (msg: unknown) => {
      if (isTidewatchMessage(msg)) answers++;
    };
    for (const t of threads) t.worker.on('message', count);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(metricsUrl, { headers: { authorization: 'Bearer wrong' } });
        expect(res.status).toBe(401);
      }
      expect((await fetch(metricsUrl, { method: 'DELETE' })).status).toBe(405);
      // Each channel is FIFO: answers to any request sent before this scrape's would have
      // arrived before this scrape's own two answers.
      const { fams } = await scrapeMetrics();
      expect(workerStates(fams).responding).toBe(2);
      expect(answers).toBe(threads.length);
    } finally {
      for (const t of threads) t.worker.off('message', count);
    }
  });

  it('a hung thread: answered from its last snapshot while it hangs, exact again after', async () => {
    const thread = threads[0]!;
    const gate = new Int32Array(new SharedArrayBuffer(4));
    expect(await command(thread, 'hang', { sab: gate.buffer })).toBe('hanging');
    try {
      for (let i = 0; i < 2; i++) {
        // Answered while the thread is still hung (it cannot answer before the gate opens
        // below): the scrape gave up on it after the timeout instead of waiting.
        const { fams } = await scrapeMetrics();
        expect(workerStates(fams)).toEqual({ responding: 1, stale: 1, missing: 0 });
        expect(totals(fams)).toEqual(expected);
      }
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
    }
    let fams: Family[] = [];
    await until('the thread answers in time again', async () => {
      fams = (await scrapeMetrics()).fams;
      return workerStates(fams).responding === 2;
    });
    expect(totals(fams)).toEqual(expected);
  });

  it('throwing and never-finishing collectors: the thread answers in time with the rest', async () => {
    const thread = threads[1]!;
    await command(thread, 'break');
    let fams: Family[] = [];
    await until('both failed collectors are counted', async () => {
      // The stalled collector never finishes: each answer shows the thread left it behind.
      fams = (await scrapeMetrics()).fams;
      return (
        value(fams, 'realtime_scrape_errors_total', { metric: 'fixture_broken' }) > 0 &&
        value(fams, 'realtime_scrape_errors_total', { metric: 'fixture_stalled' }) > 0
      );
    });
    // The thread itself answered (within its budget), so it is not stale.
    expect(workerStates(fams)).toEqual({ responding: 2, stale: 0, missing: 0 });
    expect(fams.some((f) => f.name === 'fixture_broken' || f.name === 'fixture_stalled')).toBe(
      false,
    );
    expect(totals(fams)).toEqual(expected);
    expect((await command<ThreadStats>(thread, 'stats')).opened).toBe(PER_THREAD);
  });

  it('a terminated thread: dropped from the workers, its counters stay in the totals', async () => {
    const [gone, survivor] = threads as [Thread, Thread];
    const survivorStats = perThread[1]!;
    await gone.worker.terminate();
    const { fams } = await scrapeMetrics();
    expect(workerStates(fams)).toEqual({ responding: 1, stale: 0, missing: 0 });
    expect(totals(fams)).toEqual({
      ...expected,
      connections: survivorStats.opened - survivorStats.closed,
    });
    expect(value(fams, 'fixture_thread_lag_seconds')).toBe(LAGS[1]);
    expect((await command<ThreadStats>(survivor, 'stats')).opened).toBe(PER_THREAD);
    expect(errors).toEqual([]);
  });
});
