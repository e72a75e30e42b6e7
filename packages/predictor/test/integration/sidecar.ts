/**
 * The sidecar side of the sidecar's integration tests: a temp dir with the six-week seed, the
 * settings every test sidecar shares, and a client for a running sidecar's endpoints. The
 * scrape target it reads is in ./serve-target.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FAST_SIDECAR,
  flightsHourly,
  hourlyCsv,
  parseSamples,
  pollUntil,
} from '@tidewatch/test-utils';
import type { ForecastJson } from '../../src/serve/routes.js';
import type { Target } from './serve-target.js';

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

/** The `scrape` source reading `target`'s /metrics. */
export function scrapeOf(target: Target): Record<string, unknown> {
  return { kind: 'scrape', urls: [target.metricsUrl], timeoutSeconds: 0.5 };
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
