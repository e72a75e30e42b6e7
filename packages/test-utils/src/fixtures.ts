/** The shipped data fixtures, for tests of every package (one place that knows where they live). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** An evenly spaced series, structurally the forecast library's `Series`. */
export interface FixtureSeries {
  readonly startMs: number;
  readonly stepMs: number;
  readonly values: Float64Array;
}

/**
 * Absolute path of a file of the shipped fixtures (`packages/predictor/fixtures`: the
 * published CLI documents these paths), e.g. `flights-2001-hourly.csv`.
 */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../predictor/fixtures/${name}`, import.meta.url));
}

/** The shipped hourly flights fixture as a series (4,345 points from 2001-01-01). */
export function flightsHourly(): FixtureSeries {
  const rows = readFileSync(fixturePath('flights-2001-hourly.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  return {
    startMs: Date.parse((rows[0] as string).split(',')[0] as string),
    stepMs: 3_600_000,
    values: Float64Array.from(rows, (l) => Number(l.split(',')[1])),
  };
}

/** The first `n` points of `s`. */
export function head(s: FixtureSeries, n: number): FixtureSeries {
  return {
    startMs: s.startMs,
    stepMs: s.stepMs,
    values: Float64Array.from(s.values).subarray(0, n),
  };
}

/**
 * A trace CSV (`timestamp,value`, the format of the shipped fixtures and of a sidecar's
 * `seed.file`) of hourly `values` from 2001-01-01T00:00Z.
 *
 * @param values - One value per hour.
 * @returns The CSV text, header and trailing newline included.
 */
export function hourlyCsv(values: readonly number[]): string {
  const t0 = Date.parse('2001-01-01T00:00:00Z');
  const rows = values.map((v, k) => `${new Date(t0 + k * 3_600_000).toISOString()},${v}`);
  return `timestamp,value\n${rows.join('\n')}\n`;
}
