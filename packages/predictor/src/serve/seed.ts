/**
 * Seeding an empty history from a CSV file (`seed.file`), so a fresh sidecar (a demo, a
 * test, a new cluster with an export of last month's load) can forecast at once instead of
 * collecting for weeks first. A history that already holds the series is never touched.
 */
import { readFileSync } from 'node:fs';
import type { HistoryStore } from '@tidewatch/forecast';
import { parseSeriesCsv, SourceError } from '@tidewatch/forecast';
import { ConfigError } from './config.js';

/** Options of {@link seedHistory}. */
export interface SeedOptions {
  /** CSV with header `timestamp,value` (the CLI's input format). */
  file: string;
  /**
   * `true`: the file's points are laid on consecutive steps ending one step before `nowMs`,
   * whatever their own spacing (an hourly trace replayed at a 1 s step is a day per 24 s).
   * `false`: the file's timestamps are kept; its spacing must equal the store's step.
   */
  retime: boolean;
  /** Series name in the store. */
  series: string;
  /** Now, unix ms. */
  nowMs: number;
}

/**
 * Appends the seed file's points to `store` unless it already holds `options.series`.
 * Only the newest `store.capacity` points are kept by the ring.
 * @returns Points appended (0 when the history already had the series).
 * @throws ConfigError naming `seed.file` when the file cannot be read or parsed, or its
 *   step does not match with `retime: false`.
 */
export function seedHistory(store: HistoryStore, options: SeedOptions): number {
  if (store.has(options.series)) return 0;
  let text: string;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (error) {
    throw new ConfigError([`config: seed.file cannot be read: ${(error as Error).message}`]);
  }
  let series: ReturnType<typeof parseSeriesCsv>;
  try {
    series = parseSeriesCsv(text, `seed:${options.file}`, { allowGaps: true });
  } catch (error) {
    if (error instanceof SourceError)
      throw new ConfigError([`config: seed.file: ${error.message}`]);
    throw error;
  }
  const { stepMs } = store;
  const n = series.values.length;
  const keep = Math.min(n, store.capacity);
  let firstMs: number;
  if (options.retime) {
    const lastMs = (Math.floor(options.nowMs / stepMs) - 1) * stepMs;
    firstMs = lastMs - (keep - 1) * stepMs;
  } else {
    if (series.stepMs !== stepMs) {
      throw new ConfigError([
        `config: seed.file has a step of ${series.stepMs / 1000} s but stepSeconds is ${stepMs / 1000}: set seed.retime to true or resample the file`,
      ]);
    }
    firstMs = series.startMs + (n - keep) * stepMs;
  }
  for (let k = 0; k < keep; k++)
    store.append(options.series, firstMs + k * stepMs, series.values[n - keep + k] as number);
  return keep;
}
