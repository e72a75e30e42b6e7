import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Series } from '../src/series.js';

/** The shipped hourly flights fixture as a Series (4,345 points from 2001-01-01). */
export function flightsHourly(): Series {
  const file = fileURLToPath(new URL('../fixtures/flights-2001-hourly.csv', import.meta.url));
  const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return {
    startMs: Date.parse((rows[0] as string).split(',')[0] as string),
    stepMs: 3_600_000,
    values: Float64Array.from(rows, (l) => Number(l.split(',')[1])),
  };
}

/** The first `n` points of `s`. */
export function head(s: Series, n: number): Series {
  return {
    startMs: s.startMs,
    stepMs: s.stepMs,
    values: Float64Array.from(s.values).subarray(0, n),
  };
}
