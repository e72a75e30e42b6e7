/**
 * The sidecar side of the sidecar's integration tests: a temp dir with the six-week seed, the
 * settings every test sidecar shares, a client for a running sidecar's endpoints, and `serve`
 * as a real process (the built CLI). The scrape target it reads is in ./serve-target.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CliProcess,
  FAST_SIDECAR,
  flightsHourly,
  hourlyCsv,
  parseSamples,
  pollUntil,
  startCli,
  stopStartedProcesses,
} from '@tidewatch/test-utils';
import { stringify } from 'yaml';
import type { ForecastJson } from '../../src/serve/routes.js';
import { CLI_PATH, requireBuiltCli } from './run-cli.js';
import { startTarget, type Target } from './serve-target.js';

/** Settings shared by the sidecars under test: 1 s steps, an hourly trace replayed per second. */
export const FAST = {
  ...FAST_SIDECAR,
  planner: {
    capacityPerReplica: 100,
    targetUtilization: 0.5,
    lead: { podStartSeconds: 0, readinessSeconds: 0, metricLagSeconds: 0, pollingSeconds: 5 },
  },
} as const;

/** {@link FAST}, listening on 127.0.0.1 (any free port), with `extra` on top (source, ...). */
export function serveSettings(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...FAST, listen: { host: '127.0.0.1', port: 0 }, ...extra };
}

/** The `scrape` source reading `target`'s /metrics, giving up on a scrape after `timeoutSeconds`. */
export function scrapeOf(target: Target, timeoutSeconds = 0.5): Record<string, unknown> {
  return { kind: 'scrape', urls: [target.metricsUrl], timeoutSeconds };
}

/** The first `n` hourly flights values: the seed a fresh sidecar forecasts from at once. */
export function seedValues(n: number): number[] {
  return Array.from(flightsHourly().values).slice(0, n);
}

/** A temp dir holding a seed file; made when called (at collection time in a test file). */
export interface SeededDir {
  readonly dir: string;
  /** `seed.csv`: {@link SeededDir.seed} as hourly rows. */
  readonly seedFile: string;
  /** The seed's values. */
  readonly seed: number[];
  /** Removes the dir. */
  remove(): void;
}

/** Makes a temp dir (`prefix` + random) with the first `points` hourly flights values seeded. */
export function seededDir(prefix: string, points = 1008): SeededDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const seed = seedValues(points);
  const seedFile = join(dir, 'seed.csv');
  writeFileSync(seedFile, hourlyCsv(seed));
  return { dir, seedFile, seed, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** GET (or another method) returning status, headers and body text. */
export async function request(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(url, { method });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Polls the sidecar at `url` until `/readyz` answers 200 (a forecast is in force). */
export async function waitReady(url: string, timeoutMs = 30_000): Promise<void> {
  await pollUntil(
    () => request(`${url}/readyz`),
    (r) => r.status === 200,
    { timeoutMs, description: `${url}/readyz 200` },
  );
}

/** Reads a running sidecar's `/forecast` and `/metrics`. */
export interface SidecarClient {
  /** `/forecast` with `query` (e.g. `?history=1`); throws unless it answers 200. */
  forecast(query?: string): Promise<ForecastJson>;
  /** `/metrics` as samples, `name{labels}` -> value. */
  metrics(): Promise<Map<string, number>>;
}

/** A client of the sidecar at `url()` (a function: the URL is known once it started). */
export function sidecarClient(url: () => string): SidecarClient {
  return {
    async forecast(query = '') {
      const res = await request(`${url()}/forecast${query}`);
      if (res.status !== 200)
        throw new Error(`/forecast${query} answered ${res.status}: ${res.text.slice(0, 500)}`);
      return JSON.parse(res.text) as ForecastJson;
    },
    async metrics() {
      return parseSamples((await request(`${url()}/metrics`)).text);
    },
  };
}

/** A running `serve` process and the URL it logs. */
export type ServeProcess = CliProcess & { url: Promise<string> };

/** One JSON log line of a `serve` process. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines of `stderr`, complete lines only (the last may still be being written). */
function parseLogLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .slice(0, -1)
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The JSON log lines `run` wrote to stderr so far. */
export function logLines(run: CliProcess): LogLine[] {
  return parseLogLines(run.stderr());
}

/**
 * Starts `tidewatch-predictor serve` (the built CLI, see ./run-cli.ts) with `args` in a clean
 * environment: `PATH` and `env` only. `url` resolves from its "listening" log line.
 */
export function startServe(args: string[], env: Record<string, string> = {}): ServeProcess {
  const run = startCli(CLI_PATH, ['serve', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const url = run.waitForOutput(
    ({ stderr }) =>
      parseLogLines(stderr).find((l) => l.msg === 'listening' && l.url)?.url as string | undefined,
    { description: 'the "listening" log line' },
  );
  // A test that awaits only the exit must not see this wait's rejection as unhandled.
  url.catch(() => {});
  return Object.assign(run, { url });
}

/** Writes `<name>.yaml` in `dir`: {@link serveSettings} keeping 5000 points, `extra` on top. */
export function writeServeConfig(
  dir: string,
  name: string,
  extra: Record<string, unknown> = {},
): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(serveSettings({ historyPoints: 5000, ...extra })));
  return file;
}

/**
 * For the `beforeAll` of a file of `serve` processes: checks that the CLI is built and starts
 * the scrape target, at 2 connections.
 */
export async function startProcessTarget(): Promise<Target> {
  requireBuiltCli();
  const target = await startTarget();
  await target.setConnections(2);
  return target;
}

/** For its `afterAll`: stops the processes still running, closes `target`, removes `seeded`. */
export async function stopProcesses(target: Target | undefined, seeded: SeededDir): Promise<void> {
  await stopStartedProcesses();
  await target?.close();
  seeded.remove();
}
