import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { backfillOpenMetrics } from './backfill.js';
import { requireBinary } from './binaries.js';
import { freePort } from './free-port.js';
import { type PollOptions, pollUntil } from './poll.js';
import { type PrometheusConfigOptions, renderPrometheusConfig } from './prometheus-config.js';

/** Options for {@link startPrometheus}. */
export interface StartPrometheusOptions extends PrometheusConfigOptions {
  /**
   * Rule files to load. They are copied into the instance's temp dir before start, so later
   * edits to the originals do not affect a running instance.
   */
  ruleFiles?: string[];
  /** How long to wait for `/-/ready`. Default 20 000 ms. */
  readyTimeoutMs?: number;
  /** Extra command-line flags, appended after the defaults. */
  extraArgs?: string[];
  /**
   * Historical data to preload, in the OpenMetrics text format (`# TYPE name gauge`, then
   * `name{labels} value unix_seconds` lines; `# EOF` is appended when missing). It is turned
   * into TSDB blocks with `promtool tsdb create-blocks-from openmetrics` before the server
   * starts. Samples older than the retention (15 d unless `extraArgs` set
   * `--storage.tsdb.retention.time`) are deleted by Prometheus at start-up.
   */
  openMetrics?: string;
}

/** One series of an instant query's result. */
export interface InstantSample {
  /** The series' labels, `__name__` included when the expression keeps it. */
  metric: Record<string, string>;
  /** The sample value; `NaN`, `Infinity` and `-Infinity` are decoded. */
  value: number;
  /** The evaluation timestamp in seconds since the epoch. */
  timestamp: number;
}

/** One series of a range query's result. */
export interface RangeSeries {
  metric: Record<string, string>;
  values: Array<{ timestamp: number; value: number }>;
}

/** Options for {@link PrometheusHandle.queryRange}. */
export interface QueryRangeOptions {
  /** Range start; a `Date` or seconds since the epoch. */
  start: Date | number;
  /** Range end; a `Date` or seconds since the epoch. Default now. */
  end?: Date | number;
  /** Resolution step in seconds. Default 1. */
  stepSeconds?: number;
}

/** A target from `/api/v1/targets` (active targets only). */
export interface PrometheusTarget {
  /** The job name (the `job` label; same as `scrapePool` unless relabelled). */
  job: string;
  /** The scrape config's `job_name`. */
  scrapePool: string;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  /** Empty when the last scrape succeeded. */
  lastError: string;
  /** ISO timestamp of the last scrape (`0001-01-01T00:00:00Z` before the first). */
  lastScrape: string;
  lastScrapeDuration: number;
  /** Target labels after relabelling (`job`, `instance`, ...). */
  labels: Record<string, string>;
}

/** Options for {@link PrometheusHandle.waitFor}. */
export type WaitForOptions = Pick<PollOptions, 'timeoutMs' | 'intervalMs'>;

/** A running Prometheus. Dispose it (`await using`) or call `stop()`; both are idempotent. */
export interface PrometheusHandle extends AsyncDisposable {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The temp dir holding `prometheus.yml`, rules and `data/`; removed by `stop()`. */
  readonly dir: string;
  /** The rendered `prometheus.yml`. */
  readonly config: string;
  /**
   * Runs an instant query (`/api/v1/query`). Scalars come back as one sample with no labels.
   * @throws Error with Prometheus's error text when the query fails or returns a matrix/string.
   */
  query(promql: string, time?: Date | number): Promise<InstantSample[]>;
  /** Runs a range query (`/api/v1/query_range`). */
  queryRange(promql: string, options: QueryRangeOptions): Promise<RangeSeries[]>;
  /**
   * Polls `query(promql)` every 250 ms until `predicate` accepts the result, and returns it.
   * @throws Error after `timeoutMs` (default 15 000) showing the last result; query errors
   * other than transport failures are thrown at once.
   */
  waitFor(
    promql: string,
    predicate: (result: InstantSample[]) => boolean,
    options?: WaitForOptions,
  ): Promise<InstantSample[]>;
  /** The active scrape targets with their health and last error. */
  targets(): Promise<PrometheusTarget[]>;
  /** Asks Prometheus to re-read its config and rule files (`POST /-/reload`). */
  reload(): Promise<void>;
  /** The last lines Prometheus wrote to stdout/stderr (its log), for diagnostics. */
  logs(): string;
  /** SIGTERM, then SIGKILL after 5 s; then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Error for a request that Prometheus's HTTP API answered with `status: "error"`. */
export class PrometheusApiError extends Error {
  override readonly name = 'PrometheusApiError';
  constructor(
    message: string,
    /** Prometheus's `errorType` (`bad_data`, `execution`, `timeout`, ...). */
    readonly errorType: string,
    readonly httpStatus: number,
  ) {
    super(message);
  }
}

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const KILL_WAIT_MS = 2_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** The first attempt plus up to three retries when the port was taken in between. */
const MAX_START_ATTEMPTS = 4;
const LOG_LINES_KEPT = 200;
const LOG_LINES_SHOWN = 30;

/**
 * Instances still running, with their temp dirs. If the test process ends without stopping
 * them (a test that forgot to, a timeout, vitest terminating a fork worker with SIGTERM), they
 * are SIGKILLed and their dirs removed synchronously, so no Prometheus outlives the tests.
 */
const live = new Map<ChildProcess, string>();
let exitHooksInstalled = false;

function killAllSync(): void {
  for (const [child, dir] of live) {
    child.kill('SIGKILL');
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 20 });
    } catch {
      // Best effort while the process is going away.
    }
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.once('exit', killAllSync);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllSync();
      // Keep the signal's meaning: with no other listener left, re-raise for the default action.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

function trackChild(child: ChildProcess, dir: string): void {
  installExitHooks();
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
}

/** Keeps the last lines of a child's output. */
class LogTail {
  private lines: string[] = [];
  private partial = '';
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > LOG_LINES_KEPT)
      this.lines.splice(0, this.lines.length - LOG_LINES_KEPT);
  }
  text(count = LOG_LINES_KEPT): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-count).join('\n');
  }
}

interface Started {
  child: ChildProcess;
  port: number;
  dataDir: string;
  log: LogTail;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function epochSeconds(time: Date | number): number {
  return time instanceof Date ? time.getTime() / 1000 : time;
}

function decodeValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n');
}

/**
 * Starts a real `prometheus` server for a test, scraping the given targets.
 *
 * Writes `prometheus.yml` into a fresh temp dir (`os.tmpdir()`), picks a free port on
 * 127.0.0.1 (retrying up to three times if the port was taken before Prometheus bound it),
 * starts Prometheus with `--web.enable-lifecycle` and `--log.level=warn`, and waits until
 * `/-/ready` answers 200. Always stop the handle (`await using` or `try/finally`).
 *
 * @param options - Scrape targets, intervals (1 s by default), rule files, ready timeout.
 * @returns A handle to query the server and stop it.
 * @throws Error when the binary is missing (see `requireBinary`), the config is invalid, or the
 * server is not ready within `readyTimeoutMs`; the message includes the end of its log.
 */
export async function startPrometheus(
  options: StartPrometheusOptions = {},
): Promise<PrometheusHandle> {
  const bin = requireBinary('prometheus');
  const readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-prometheus-'));
  let started: Started | undefined;
  try {
    const ruleFiles: string[] = [];
    if (options.ruleFiles?.length) {
      await mkdir(join(dir, 'rules'));
      for (const [i, file] of options.ruleFiles.entries()) {
        const copy = join(dir, 'rules', `${String(i).padStart(2, '0')}-${basename(file)}`);
        await copyFile(file, copy).catch((error: Error) => {
          throw new Error(`startPrometheus: cannot read rule file ${file}: ${error.message}`);
        });
        ruleFiles.push(copy);
      }
    }
    const config = renderPrometheusConfig({ ...options, ruleFiles });
    const configPath = join(dir, 'prometheus.yml');
    await writeFile(configPath, config);

    const dataDir = join(dir, 'data');
    if (options.openMetrics !== undefined)
      await backfillOpenMetrics(options.openMetrics, dir, dataDir);
    const baseArgs = [
      `--config.file=${configPath}`,
      `--storage.tsdb.path=${dataDir}`,
      '--log.level=warn',
      '--web.enable-lifecycle',
    ];
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const args = [...baseArgs, `--web.listen-address=127.0.0.1:${port}`];
      const fullArgs = [...args, ...(options.extraArgs ?? [])];
      const candidate = spawnPrometheus(bin, fullArgs, dir, port, dataDir);
      started = candidate;
      const outcome = await waitReady(candidate, readyTimeoutMs);
      if (outcome === 'ready') break;
      const log = candidate.log.text(LOG_LINES_SHOWN);
      await terminate(candidate);
      started = undefined;
      const portTaken = /address already in use/i.test(log);
      if (portTaken && attempt < MAX_START_ATTEMPTS) continue;
      const why =
        outcome === 'timeout'
          ? `was not ready within ${readyTimeoutMs} ms`
          : `exited (${outcome.exit}) before it was ready`;
      throw new Error(
        `startPrometheus: ${bin} on 127.0.0.1:${port} ${why}` +
          (portTaken ? ` (port taken ${attempt} times)` : '') +
          `.\n  config (${configPath}):\n${indent(config.trimEnd())}\n` +
          `  last lines of its log:\n${indent(log || '(empty)')}`,
      );
    }
    return makeHandle(started, dir, config);
  } catch (error) {
    if (started) await terminate(started);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function spawnPrometheus(
  bin: string,
  args: string[],
  cwd: string,
  port: number,
  dataDir: string,
): Started {
  // cwd is the temp dir so nothing Prometheus writes by default lands in the repository.
  const child = spawn(bin, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  trackChild(child, cwd);
  const log = new LogTail();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      log.push(`spawn error: ${error.message}\n`);
      resolve({ code: null, signal: null });
    });
    // 'close' (not 'exit'): its output is fully read by then, for the error message.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  return { child, port, dataDir, log, exited };
}

async function waitReady(
  started: Started,
  timeoutMs: number,
): Promise<'ready' | 'timeout' | { exit: string }> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void started.exited.then(({ code, signal }) => {
    exit = signal ? `signal ${signal}` : `code ${code}`;
  });
  const base = `http://127.0.0.1:${started.port}`;
  while (Date.now() < deadline) {
    if (exit !== undefined) return { exit };
    try {
      const remaining = Math.max(1, Math.min(2_000, deadline - Date.now()));
      const res = await fetch(`${base}/-/ready`, { signal: AbortSignal.timeout(remaining) });
      await res.body?.cancel();
      // The port may have been taken by another server (say, a parallel test's Prometheus)
      // between freePort() and our bind; only our own process reports our storage path.
      if (res.status === 200 && (await isOurs(base, started.dataDir, remaining))) return 'ready';
    } catch {
      // Not listening yet, or still starting up (503).
    }
    await sleep(100);
  }
  return exit !== undefined ? { exit } : 'timeout';
}

async function isOurs(base: string, dataDir: string, timeoutMs: number): Promise<boolean> {
  const res = await fetch(`${base}/api/v1/status/flags`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await res.json()) as { data?: Record<string, string> };
  return body.data?.['storage.tsdb.path'] === dataDir;
}

/** SIGTERM by PID, SIGKILL after the grace period; resolves once the process is gone. */
async function terminate(started: Started): Promise<void> {
  const { child, exited } = started;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  // Whether the process is gone within `ms`; the timer is cleared so it never holds the loop.
  const within = async (ms: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([exited.then(() => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  try {
    process.kill(child.pid, 'SIGTERM');
  } catch {
    return; // Already gone.
  }
  if (await within(STOP_GRACE_MS)) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return;
  }
  if (!(await within(KILL_WAIT_MS))) {
    throw new Error(`prometheus (pid ${child.pid}) did not exit after SIGKILL`);
  }
}

async function api<T>(url: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (error) {
    throw new Error(`Prometheus request ${url} failed: ${(error as Error).message}`);
  }
  const text = await res.text();
  let body: { status?: string; data?: T; errorType?: string; error?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new PrometheusApiError(
      `Prometheus ${url} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 500)}`,
      'bad_response',
      res.status,
    );
  }
  if (body.status !== 'success') {
    throw new PrometheusApiError(
      `Prometheus ${body.errorType ?? 'error'} (HTTP ${res.status}): ${body.error ?? text}`,
      body.errorType ?? 'unknown',
      res.status,
    );
  }
  return body.data as T;
}

type QueryData =
  | {
      resultType: 'vector';
      result: Array<{ metric: Record<string, string>; value: [number, string] }>;
    }
  | { resultType: 'scalar'; result: [number, string] }
  | { resultType: 'matrix' | 'string'; result: unknown };

function makeHandle(started: Started, dir: string, config: string): PrometheusHandle {
  const { child, port, log } = started;
  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<void> | undefined;

  const query = async (promql: string, time?: Date | number): Promise<InstantSample[]> => {
    const params = new URLSearchParams({ query: promql });
    if (time !== undefined) params.set('time', String(epochSeconds(time)));
    let data: QueryData;
    try {
      data = await api<QueryData>(`${url}/api/v1/query`, { method: 'POST', body: params });
    } catch (error) {
      if (error instanceof PrometheusApiError) {
        error.message = `${error.message}\n  query: ${promql}`;
      }
      throw error;
    }
    switch (data.resultType) {
      case 'vector':
        return data.result.map((s) => ({
          metric: s.metric,
          value: decodeValue(s.value[1]),
          timestamp: s.value[0],
        }));
      case 'scalar':
        return [{ metric: {}, value: decodeValue(data.result[1]), timestamp: data.result[0] }];
      default:
        throw new Error(
          `query() returned a ${data.resultType}, not an instant vector or scalar ` +
            `(use queryRange for range data): ${promql}`,
        );
    }
  };

  const handle: PrometheusHandle = {
    url,
    port,
    pid: child.pid ?? -1,
    dir,
    config,
    query,
    async queryRange(promql, { start, end = new Date(), stepSeconds = 1 }) {
      const params = new URLSearchParams({
        query: promql,
        start: String(epochSeconds(start)),
        end: String(epochSeconds(end)),
        step: String(stepSeconds),
      });
      const data = await api<{
        result: Array<{ metric: Record<string, string>; values: Array<[number, string]> }>;
      }>(`${url}/api/v1/query_range`, { method: 'POST', body: params });
      return data.result.map((s) => ({
        metric: s.metric,
        values: s.values.map(([timestamp, value]) => ({ timestamp, value: decodeValue(value) })),
      }));
    },
    waitFor(promql, predicate, options = {}) {
      return pollUntil(() => query(promql), predicate, {
        timeoutMs: 15_000,
        intervalMs: 250,
        ...options,
        description: `PromQL \`${promql}\` to satisfy the predicate`,
        // A malformed query stays malformed: fail at once instead of at the timeout.
        shouldRetry: (error) => !(error instanceof PrometheusApiError),
      });
    },
    async targets() {
      const data = await api<{ activeTargets: Array<Omit<PrometheusTarget, 'job'>> }>(
        `${url}/api/v1/targets?state=active`,
      );
      return data.activeTargets.map((t) => ({
        job: t.labels.job ?? t.scrapePool,
        scrapePool: t.scrapePool,
        scrapeUrl: t.scrapeUrl,
        health: t.health,
        lastError: t.lastError,
        lastScrape: t.lastScrape,
        lastScrapeDuration: t.lastScrapeDuration,
        labels: t.labels,
      }));
    },
    async reload() {
      const res = await fetch(`${url}/-/reload`, {
        method: 'POST',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      if (res.status !== 200)
        throw new Error(`Prometheus reload failed (HTTP ${res.status}): ${text}`);
    },
    logs: () => log.text(),
    stop() {
      stopping ??= (async () => {
        try {
          await terminate(started);
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
    [Symbol.asyncDispose]() {
      return handle.stop();
    },
  };
  return handle;
}
