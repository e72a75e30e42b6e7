/**
 * Load traces from CSV: header `timestamp,value`, timestamps ISO-8601 or unix seconds,
 * evenly spaced, values = arrivals per step. The format and its parser are the forecast
 * library's (`parseSeriesCsv`), so a trace the predictor reads is a trace this plays.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSeriesCsv, SourceError } from '@tidewatch/forecast';
import { LoadgenConfigError } from './errors.js';
import type { Trace } from './options.js';

/**
 * Parses trace CSV text.
 * @param text - The CSV content.
 * @param name - Names the source in error messages (a file path).
 * @throws {LoadgenConfigError} (field `trace`) naming the row: wrong header, a row without
 *   two fields, a bad or mixed-format timestamp, a negative or non-numeric value, uneven
 *   spacing, fewer than two rows.
 */
export function parseTraceCsv(text: string, name: string): Trace {
  try {
    const series = parseSeriesCsv(text, name);
    return { values: Array.from(series.values), stepSeconds: series.stepMs / 1000 };
  } catch (err) {
    if (err instanceof SourceError) throw new LoadgenConfigError('trace', err.message);
    throw err;
  }
}

/**
 * Reads a trace CSV file (`timestamp,value`; ISO-8601 or unix seconds; evenly spaced).
 * Synchronous, so it fits inline in options: `arrivals: { trace: loadTrace(f) }`.
 * @param file - Path of the CSV file.
 * @returns `{ values, stepSeconds }` with `stepSeconds` the spacing of the rows.
 * @throws {LoadgenConfigError} (field `trace`) when the file is missing or malformed.
 */
export function loadTrace(file: string): Trace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LoadgenConfigError(
      'trace',
      `cannot read ${file}: ${code === 'ENOENT' ? 'file not found' : (err as Error).message}`,
    );
  }
  return parseTraceCsv(text, file);
}

/** Which flights fixture: departures per minute (260 640 rows) or per hour (4 344 rows). */
export type FlightsResolution = 'minutely' | 'hourly';

/**
 * Where the flights fixture lives in a tidewatch checkout: the predictor package's
 * `fixtures/`. It is not part of the published loadgen package (nor a dependency of it),
 * so outside the repository pass a path to {@link flightsTrace}.
 */
export function flightsFixturePath(resolution: FlightsResolution): string {
  // src/trace.ts and dist/index.js both sit one level below packages/loadgen/.
  return fileURLToPath(
    new URL(`../../predictor/fixtures/flights-2001-${resolution}.csv`, import.meta.url),
  );
}

/**
 * The real US flight departures trace, Jan-Jun 2001 (from vega-datasets), as arrivals per
 * minute or per hour: daily and weekly cycles, a stand-in for connection arrivals.
 * @param resolution - `minutely` (stepSeconds 60) or `hourly` (3600).
 * @param file - The CSV; default: the predictor's fixture in this checkout.
 * @throws {LoadgenConfigError} (field `trace`) when the fixture is not there, saying where
 *   it was looked for and how to pass it.
 */
export function flightsTrace(resolution: FlightsResolution, file?: string): Trace {
  if (resolution !== 'minutely' && resolution !== 'hourly') {
    throw new LoadgenConfigError('trace', `flights resolution must be "minutely" or "hourly"`);
  }
  const path = file ?? flightsFixturePath(resolution);
  if (!existsSync(path)) {
    throw new LoadgenConfigError(
      'trace',
      `flights fixture not found at ${path}: it ships in the tidewatch repository (packages/predictor/fixtures), not with @tidewatch/loadgen; pass its path, or use a CSV with loadTrace()`,
    );
  }
  return loadTrace(path);
}
