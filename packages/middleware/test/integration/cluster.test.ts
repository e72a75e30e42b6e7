import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
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

// Runs test/fixtures/cluster-ws.mjs against the BUILT package (`npm test` builds first).
const FIXTURE = fileURLToPath(new URL('../fixtures/cluster-ws.mjs', import.meta.url));
const TIMEOUT_MS = 500;
const TOKEN = 'cluster-test-token';
const N = 40;
const M = 10;
const CLOSED = 15;

interface WorkerInfo {
  id: number;
  pid: number;
}
interface WorkerStats extends WorkerInfo {
  opened: number;
  closed: number;
  messagesIn: number;
  bytesIn: number;
}
interface FixtureMessage {
  type: string;
  seq?: number;
  data?: unknown;
  error?: string;
  id?: number;
  [k: string]: unknown;
}

let primary: ChildProcess | undefined;
/** Every process the fixture started: killed in afterAll whatever happened. */
const pids = new Set<number>();
const exits: FixtureMessage[] = [];
const aggregatorErrors: FixtureMessage[] = [];
const clients: WebSocket[] = [];
let ready: { wsPort: number; metricsPort: number; workers: WorkerInfo[] };
let seq = 0;

function payload(i: number, j: number): string {
  return `client ${i} message ${j} `.padEnd(20 + ((i * 13 + j * 7) % 200), '.');
}

function command<T>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
  const p = primary!;
  const s = ++seq;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      p.off('message', onMessage);
      reject(new Error(`fixture did not answer ${cmd}`));
    }, 10_000);
    const onMessage = (msg: FixtureMessage) => {
      if (msg.type !== 'reply' || msg.seq !== s) return;
      clearTimeout(timer);
      p.off('message', onMessage);
      if (msg.error) reject(new Error(msg.error));
      else resolve(msg.data as T);
    };
    p.on('message', onMessage);
    p.send({ cmd, seq: s, ...extra });
  });
}

async function scrapeMetrics(path = '/metrics'): Promise<{ fams: Family[]; text: string }> {
  const res = await fetch(`http://127.0.0.1:${ready.metricsPort}${path}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`scrape ${path}: HTTP ${res.status}: ${text}`);
  return { fams: parseExposition(text), text };
}

function workerStates(fams: Family[]) {
  return {
    responding: value(fams, 'realtime_cluster_workers', { state: 'responding' }),
    stale: value(fams, 'realtime_cluster_workers', { state: 'stale' }),
    missing: value(fams, 'realtime_cluster_workers', { state: 'missing' }),
  };
}

/** The counters and gauges the clients' traffic determines. */
function totals(fams: Family[]) {
  return {
    opened: value(fams, 'realtime_connections_opened_total'),
    closed: value(fams, 'realtime_connections_closed_total'),
    messagesIn: value(fams, 'realtime_messages_total', { direction: 'in' }),
    messagesOut: value(fams, 'realtime_messages_total', { direction: 'out' }),
    bytesIn: value(fams, 'realtime_message_bytes_total', { direction: 'in' }),
    bytesOut: value(fams, 'realtime_message_bytes_total', { direction: 'out' }),
    connections: value(fams, 'realtime_connections'),
    handshakes: histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' })
      .count,
  };
}

function waitFor(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  return until(what, pred, timeoutMs);
}

beforeAll(async () => {
  const child = fork(FIXTURE, [], {
    env: { ...process.env, TW_CLUSTER_TIMEOUT_MS: String(TIMEOUT_MS), TW_CLUSTER_TOKEN: TOKEN },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  primary = child;
  if (child.pid) pids.add(child.pid);
  child.on('message', (msg: FixtureMessage) => {
    if (msg.type === 'exit') exits.push(msg);
    if (msg.type === 'aggregator-error') aggregatorErrors.push(msg);
  });
  ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cluster fixture did not start')), 20_000);
    child.on('message', (msg: FixtureMessage) => {
      if (msg.type === 'ready') {
        clearTimeout(timer);
        resolve(msg as unknown as typeof ready);
      } else if (msg.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(String(msg.message)));
      }
    });
    child.once('exit', (code) => reject(new Error(`cluster fixture exited with ${code}`)));
  });
  for (const w of ready.workers) pids.add(w.pid);
});

afterAll(() => {
  for (const c of clients) c.terminate();
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

describe('clusterMetricsHandler over a real 2-worker cluster', () => {
  let expected: ReturnType<typeof totals>;
  let perWorker: WorkerStats[];

  it('one /metrics on the primary equals exactly what the clients did, on both workers', async () => {
    expect(ready.workers).toHaveLength(2);
    const url = `ws://127.0.0.1:${ready.wsPort}/ws`;
    for (let i = 0; i < N; i++) {
      const ws = await connect(`${url}?i=${i}`);
      ws.on('error', () => {});
      clients.push(ws);
    }
    await echoAll(clients, M, payload);
    let bytes = 0;
    for (let i = 0; i < N; i++)
      for (let j = 0; j < M; j++) bytes += Buffer.byteLength(payload(i, j));
    await Promise.all(
      clients.slice(0, CLOSED).map((ws) => {
        const done = closed(ws);
        ws.close(1000);
        return done;
      }),
    );

    let fams: Family[] = [];
    await until(`${CLOSED} closes in the aggregate`, async () => {
      fams = (await scrapeMetrics()).fams;
      return value(fams, 'realtime_connections_closed_total') === CLOSED;
    });
    expected = {
      opened: N,
      closed: CLOSED,
      messagesIn: N * M,
      messagesOut: N * M,
      bytesIn: bytes,
      bytesOut: bytes,
      connections: N - CLOSED,
      handshakes: N,
    };
    expect(totals(fams)).toEqual(expected);
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'normal', initiator: 'client' }),
    ).toBe(CLOSED);
    expect(workerStates(fams)).toEqual({ responding: 2, stale: 0, missing: 0 });

    // Both workers served traffic, and the split adds up to the aggregate.
    perWorker = await command<WorkerStats[]>('stats');
    expect(perWorker).toHaveLength(2);
    for (const w of perWorker) expect(w.opened).toBeGreaterThan(0);
    const sum = (k: keyof WorkerStats) => perWorker.reduce((a, w) => a + w[k], 0);
    expect(sum('opened')).toBe(N);
    expect(sum('messagesIn')).toBe(N * M);
    expect(sum('bytesIn')).toBe(bytes);
    expect(sum('closed')).toBe(CLOSED);

    // Each metric's own aggregator: max, min, omit; +Inf survives the JSON IPC channel.
    const ids = ready.workers.map((w) => w.id);
    expect(value(fams, 'fixture_worker_peak')).toBe(Math.max(...ids) * 10);
    expect(value(fams, 'fixture_worker_low')).toBe(Math.min(...ids) * 10);
    expect(fams.some((f) => f.name === 'fixture_omitted')).toBe(false);
    const { text } = await scrapeMetrics();
    expect(text).toMatch(/^fixture_infinite \+Inf$/m);
  });

  it('refuses without credentials (401, 405), and serves OpenMetrics on request', async () => {
    const url = `http://127.0.0.1:${ready.metricsPort}/metrics`;
    const denied = await fetch(url);
    expect(denied.status).toBe(401);
    expect(denied.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
    const om = await fetch(url, {
      headers: { authorization: `Bearer ${TOKEN}`, accept: 'application/openmetrics-text' },
    });
    expect(om.status).toBe(200);
    expect(om.headers.get('content-type')).toContain('application/openmetrics-text');
    const body = await om.text();
    expect(body).toMatch(/^# TYPE realtime_connections_opened counter$/m);
    expect(body).toMatch(/# EOF\n$/);
  });

  it('a hung worker: answered from its last snapshot while it hangs, no double count after', async () => {
    const hung = ready.workers[0]!;
    process.kill(hung.pid, 'SIGSTOP');
    try {
      for (let i = 0; i < 2; i++) {
        // Answered while the worker is stopped (it cannot answer before SIGCONT below): the
        // scrape gave up on it after the timeout instead of waiting.
        const { fams } = await scrapeMetrics();
        expect(workerStates(fams)).toEqual({ responding: 1, stale: 1, missing: 0 });
        // The stale worker's last snapshot keeps the totals whole: no counter goes back.
        expect(totals(fams)).toEqual(expected);
      }
    } finally {
      process.kill(hung.pid, 'SIGCONT');
    }
    // Back: it answers the queued (now late) requests first; those must be ignored.
    let fams: Family[] = [];
    await until('the resumed worker answers in time again', async () => {
      fams = (await scrapeMetrics()).fams;
      return workerStates(fams).responding === 2;
    });
    expect(totals(fams)).toEqual(expected);
    expect(totals((await scrapeMetrics()).fams)).toEqual(expected);
  });

  it('a throwing collector in a worker: the worker lives, the rest is aggregated', async () => {
    const target = ready.workers[1]!;
    await command('break', { id: target.id });
    let fams: Family[] = [];
    await until('the failed collector is counted', async () => {
      fams = (await scrapeMetrics()).fams;
      return (
        value(fams, 'realtime_scrape_errors_total', { metric: 'fixture_broken' }) > 0 &&
        workerStates(fams).responding === 2
      );
    });
    expect(fams.some((f) => f.name === 'fixture_broken')).toBe(false);
    expect(totals(fams)).toEqual(expected);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'scrape' }),
    ).toBeGreaterThan(0);
    // Still alive and answering its app's own IPC.
    expect((await command<WorkerStats[]>('stats')).map((w) => w.id).sort()).toEqual(
      ready.workers.map((w) => w.id).sort(),
    );
  });

  it('a worker that never answers is missing, and is forgotten when it exits', async () => {
    const silent = await command<WorkerInfo>('fork-silent');
    pids.add(silent.pid);
    // Answered although the silent worker never will: it is reported missing, not waited for.
    const { fams } = await scrapeMetrics();
    expect(workerStates(fams)).toEqual({ responding: 2, stale: 0, missing: 1 });
    expect(totals(fams)).toEqual(expected);

    process.kill(silent.pid, 'SIGKILL');
    await waitFor('the silent worker exits', () => exits.some((e) => e.id === silent.id));
    const after = (await scrapeMetrics()).fams;
    expect(workerStates(after)).toEqual({ responding: 2, stale: 0, missing: 0 });
  });

  it('a killed worker: its cache is dropped, its counters stay (or go with keepExitedCounters: false)', async () => {
    const victim = ready.workers[0]!;
    const survivor = perWorker.find((w) => w.id !== victim.id)!;
    // Prime the second handler's snapshots too, so both have seen the victim.
    expect(workerStates((await scrapeMetrics('/metrics-dropping')).fams).responding).toBe(2);

    process.kill(victim.pid, 'SIGSTOP');
    const { fams: stale } = await scrapeMetrics();
    expect(workerStates(stale).stale).toBe(1);
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('the killed worker exits', () => exits.some((e) => e.id === victim.id));

    const { fams } = await scrapeMetrics();
    expect(workerStates(fams)).toEqual({ responding: 1, stale: 0, missing: 0 });
    const kept = totals(fams);
    // Counters and histograms never go back; the gauge shows only live connections.
    expect(kept).toEqual({
      ...expected,
      connections: survivor.opened - survivor.closed,
    });

    const dropped = totals((await scrapeMetrics('/metrics-dropping')).fams);
    expect(dropped.opened).toBe(survivor.opened);
    expect(dropped.messagesIn).toBe(survivor.messagesIn);
    expect(dropped.bytesIn).toBe(survivor.bytesIn);
    expect(dropped.connections).toBe(survivor.opened - survivor.closed);

    expect(aggregatorErrors.filter((e) => e.site !== 'worker')).toEqual([]);
  });
});
