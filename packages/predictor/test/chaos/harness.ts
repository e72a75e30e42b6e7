/**
 * The chaos suite's harness: `tidewatch-predictor serve --config FILE` as a real child process
 * (the installed bin, the way an operator runs it) with fast settings, a temp data dir, a
 * client for its endpoints, its memory from /proc, and its log lines. The hostile upstream is
 * `startChaosServer` of @tidewatch/test-utils; settings, seed, config file, log parsing and
 * the wait for ready are the integration tests' (../integration/sidecar.ts).
 *
 * `TIDEWATCH_CHAOS_PREDICTOR=DIR` runs another built copy of the package (e.g. the tree before
 * a change) with the same suite.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { metricName } from '@tidewatch/conventions';
import { decodeHistory } from '@tidewatch/forecast';
import {
  type ChaosServer,
  type CliExit,
  type CliProcess,
  startChaosServer,
  startCli,
  stopStartedProcesses,
  sumSamples,
} from '@tidewatch/test-utils';
import { afterAll, beforeAll } from 'vitest';
import type { ForecastJson } from '../../src/serve/routes.js';
import {
  type LogLine,
  logLines,
  type SeededDir,
  seededDir,
  waitReady,
  writeServeConfig,
} from '../integration/sidecar.js';

/** The two series the chaos target exposes: the catalogue's connections gauge and messages counter. */
export const CHAOS_METRICS = {
  gauge: metricName('connections'),
  counter: metricName('messages'),
} as const;

/** The predictor package run: `TIDEWATCH_CHAOS_PREDICTOR` or this one. */
export const PREDICTOR_DIR = resolve(
  process.env.TIDEWATCH_CHAOS_PREDICTOR ?? fileURLToPath(new URL('../..', import.meta.url)),
);
/** Its installed bin (it says so when dist/ is not built). */
export const BIN = join(PREDICTOR_DIR, 'bin/tidewatch-predictor.js');

/** Per-request deadline of every test source, seconds (`source.timeoutSeconds`). */
export const SOURCE_TIMEOUT_SECONDS = 1;
/** How often the fast sidecar collects (FAST_SIDECAR's `* * * * * *`), ms. */
export const COLLECT_MS = 1000;
/** The most a sidecar may hold in resident memory at its peak (VmHWM) under any hostile mode. */
export const MEMORY_BOUND_MB = 300;
/** Ring capacity of the test sidecars: far above what a test adds to the 1,008-point seed. */
export const HISTORY_POINTS = 20_000;

/** `/forecast`'s `health` (the degraded-persistence contract). */
export interface Health {
  status: 'ok' | 'degraded';
  reasons: string[];
  messages: string[];
}

/** `/forecast` as the chaos tests read it. */
export type ChaosForecast = Omit<ForecastJson, 'health'> & { health?: Health };

/** The `scrape` source block reading `chaos`'s /metrics (a gauge unless `extra` says otherwise). */
export function scrapeOf(chaos: ChaosServer, extra: Record<string, unknown> = {}) {
  return {
    kind: 'scrape',
    urls: [chaos.metricsUrl],
    timeoutSeconds: SOURCE_TIMEOUT_SECONDS,
    ...extra,
  };
}

/** The `prometheus` source block reading `chaos` as a Prometheus. */
export function prometheusOf(chaos: ChaosServer, extra: Record<string, unknown> = {}) {
  return { kind: 'prometheus', url: chaos.url, timeoutSeconds: SOURCE_TIMEOUT_SECONDS, ...extra };
}

/** The name failures of `source` are counted under (`scrape:URL`, `prometheus:URL`). */
export function errorSourceOf(source: { kind: string; urls?: string[]; url?: string }): string {
  return source.kind === 'scrape' ? `scrape:${source.urls?.[0]}` : `prometheus:${source.url}`;
}

/** Resident memory of a process from /proc/PID/status, MB (2^20 bytes). */
export interface Memory {
  /** VmRSS now. */
  rssMb: number;
  /** VmHWM: the peak since start or since {@link resetPeakMemory}. */
  hwmMb: number;
}

/** Reads VmRSS and VmHWM of `pid`. */
export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${key}`);
    return Number(m[1]) / 1024;
  };
  return { rssMb: kb('VmRSS'), hwmMb: kb('VmHWM') };
}

/**
 * Resets VmHWM of `pid` to its current RSS (`5` to /proc/PID/clear_refs, Linux >= 4.0, needs
 * the process's owner or root), so a peak can be measured per phase.
 * @throws Error when the kernel refuses: a per-phase peak would be silently wrong.
 */
export function resetPeakMemory(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** GET with a deadline (the sidecar must answer; a hang is a failure, not a wait). */
export async function get(
  url: string,
  timeoutMs = 15_000,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

/** The number of points of `series` in a history file; throws when it does not decode. */
export function historyFilePoints(file: string, series = 'realtime_connections'): number {
  return historySeries(file, series).values.length;
}

/** One series of a history file (the file must decode: checksum and all). */
export function historySeries(
  file: string,
  series = 'realtime_connections',
): { startMs: number; stepMs: number; values: number[] } {
  const snap = decodeHistory(readFileSync(file, 'utf8'), file);
  const s = snap.series.find((x) => x.name === series);
  if (!s) throw new Error(`${file} has no series ${series}`);
  return { startMs: s.startMs, stepMs: snap.stepMs, values: Array.from(s.values) };
}

/** mtime of `file` in ms, or 0 when it does not exist. */
export function mtimeMs(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Temp files of an interrupted atomic write of `history.json` or `model.json`
 * (write-file-atomic's `<file>.<number>`, or any other suffix but `.corrupt-<ms>`).
 */
export const TEMP_FILE = /^(history|model)\.json\.(?!corrupt-)/;

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** Where the config file goes (and the default data dir's parent). */
  workDir: string;
  /** Names the config file and the default data dir. */
  name: string;
  /** The `source` block. */
  source: Record<string, unknown>;
  /** `dataDir`; default `<workDir>/<name>-data`. `null`: memory only. */
  dataDir?: string | null;
  /** `seed.file` (loaded into an empty history); omitted: no seed. */
  seedFile?: string;
  /** More settings on top of the fast ones (they win). */
  settings?: Record<string, unknown>;
  /** Wait for /readyz 200 (a forecast in force). Default true. */
  ready?: boolean;
  /** Bound on the wait for ready, ms. Default 120 000 (a first training on a busy machine). */
  readyTimeoutMs?: number;
  /** Bound on the process's life, ms (SIGKILL after it). Default 1 200 000. */
  lifeMs?: number;
}

/** A running sidecar process. */
export interface SidecarProcess {
  readonly run: CliProcess;
  readonly pid: number;
  /** `http://127.0.0.1:PORT`, from its "listening" log line. */
  readonly url: string;
  readonly configFile: string;
  readonly dataDir: string | undefined;
  /** `<dataDir>/history.json`. */
  readonly historyFile: string;
  /** The name its source failures are counted under. */
  readonly errorSource: string;
  /** Still running. */
  alive(): boolean;
  /** `/metrics` body. */
  metricsText(): Promise<string>;
  /** `/forecast` (default view); throws unless 200. */
  forecast(): Promise<ChaosForecast>;
  /** `tidewatch_source_errors_total` of its source. */
  sourceErrors(): Promise<number>;
  /** The log lines so far. */
  logs(): LogLine[];
  memory(): Memory;
  /** SIGTERM (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<CliExit>;
}

/**
 * Writes the config file and starts `tidewatch-predictor serve --config FILE` in a clean
 * environment (PATH only), waits for its "listening" line and, unless `ready: false`, for
 * /readyz 200.
 * @throws Error with its output when it exits or does not get there in time.
 */
export async function launch(options: LaunchOptions): Promise<SidecarProcess> {
  const dataDir =
    options.dataDir === null
      ? undefined
      : (options.dataDir ?? join(options.workDir, `${options.name}-data`));
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const configFile = writeServeConfig(options.workDir, options.name, {
    historyPoints: HISTORY_POINTS,
    source: options.source,
    ...(dataDir ? { dataDir } : {}),
    ...(options.seedFile ? { seed: { file: options.seedFile } } : {}),
    ...options.settings,
  });
  const run = startCli(BIN, ['serve', '--config', configFile], {
    env: { PATH: process.env.PATH ?? '' },
    timeoutMs: options.lifeMs ?? 1_200_000,
  });
  const listening = () => logLines(run).find((l) => l.msg === 'listening')?.url;
  const url = await run.waitForOutput(() => listening() as string | undefined, {
    timeoutMs: 60_000,
    description: `${options.name}: the "listening" log line`,
  });
  const errorSource = errorSourceOf(options.source as { kind: string });
  const pid = run.child.pid as number;
  const text = async () => (await get(`${url}/metrics`)).text;
  const sidecar: SidecarProcess = {
    run,
    pid,
    url,
    configFile,
    dataDir,
    historyFile: dataDir ? join(dataDir, 'history.json') : '',
    errorSource,
    alive: () => run.child.exitCode === null && run.child.signalCode === null,
    metricsText: text,
    async forecast() {
      const res = await get(`${url}/forecast`);
      if (res.status !== 200)
        throw new Error(`/forecast answered ${res.status}: ${res.text.slice(0, 500)}`);
      return JSON.parse(res.text) as ChaosForecast;
    },
    async sourceErrors() {
      return sumSamples(await text(), 'tidewatch_source_errors_total', { source: errorSource });
    },
    logs: () => logLines(run),
    memory: () => memoryOf(pid),
    stop: (graceMs) => run.stop(graceMs),
  };
  if (options.ready !== false) {
    try {
      await waitReady(url, options.readyTimeoutMs ?? 120_000);
    } catch (error) {
      throw new Error(
        `${options.name}: not ready: ${(error as Error).message}\nstderr: ${run.stderr().slice(-3000)}`,
      );
    }
  }
  return sidecar;
}

/** What {@link chaosFixture} gives a test file. */
export interface ChaosFixture {
  /** A temp dir with the 1,008-point seed (`seed.csv`). */
  readonly work: SeededDir;
  /** The chaos server (started in the file's `beforeAll`). */
  chaos(): ChaosServer;
}

/**
 * For a test file of sidecars reading one chaos server: a seeded work dir, and the server
 * started before the file's tests; after them every sidecar still running is stopped, the
 * server closed, `teardown` run (e.g. unmounts) and the dir removed.
 */
export function chaosFixture(
  prefix: string,
  hooks: { setup?: () => void; teardown?: () => void } = {},
): ChaosFixture {
  const work = seededDir(prefix);
  let server: ChaosServer | undefined;
  beforeAll(async () => {
    hooks.setup?.();
    server = await startChaosServer({ metrics: CHAOS_METRICS });
  });
  afterAll(async () => {
    await stopStartedProcesses();
    await server?.close();
    hooks.teardown?.();
    work.remove();
  });
  return {
    work,
    chaos() {
      if (!server) throw new Error('the chaos server is not started yet (use it inside a test)');
      return server;
    },
  };
}

/** One line of the suite's report (elapsed times and peaks, for humans; never asserted). */
export function report(what: string, fields: Record<string, unknown>): void {
  const parts = Object.entries(fields).map(
    ([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 10) / 10 : String(v)}`,
  );
  console.log(`[chaos] ${what}: ${parts.join(' ')}`);
}
