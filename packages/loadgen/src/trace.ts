/**
 * Load traces from CSV: header `timestamp,value`, timestamps ISO-8601 or unix seconds,
 * evenly spaced (the format `tidewatch-predictor` reads), values = arrivals per step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CsvError, parse } from 'csv-parse/sync';
import { LoadgenConfigError } from './errors.js';
import type { Trace } from './options.js';

const UNIX_SECONDS = /^\d+(\.\d+)?$/;
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Parses trace CSV text.
 * @param text - The CSV content.
 * @param name - Names the source in error messages (a file path).
 * @throws {LoadgenConfigError} (field `trace`) naming the row: wrong header, a row without
 *   two fields, a bad or mixed-format timestamp, a negative or non-numeric value, uneven
 *   spacing, fewer than two rows.
 */
export function parseTraceCsv(text: string, name: string): Trace {
  const fail = (row: number, msg: string): never => {
    throw new LoadgenConfigError('trace', `${name} row ${row}: ${msg}`);
  };
  let header = true;
  let unix: boolean | undefined;
  let prev = 0;
  let step = 0;
  const values: number[] = [];
  const onRow = (r: string[], row: number): void => {
    if (header) {
      header = false;
      if (r.join(',') !== 'timestamp,value') {
        fail(row, `header is "${r.join(',')}", expected "timestamp,value"`);
      }
      return;
    }
    if (r.length !== 2) fail(row, `expected 2 fields (timestamp,value), found ${r.length}`);
    const [ts, raw] = r as [string, string];
    const looksUnix = UNIX_SECONDS.test(ts);
    unix ??= looksUnix;
    if (unix !== looksUnix) fail(row, `timestamp "${ts}" mixes formats with the first row`);
    let ms: number;
    if (looksUnix) ms = Number(ts) * 1000;
    else {
      const iso = ISO_8601.exec(ts);
      ms = iso ? Date.parse(iso[1] === undefined && ts.length > 10 ? `${ts}Z` : ts) : Number.NaN;
      if (Number.isNaN(ms)) fail(row, `timestamp "${ts}" is neither ISO-8601 nor unix seconds`);
    }
    if (!DECIMAL.test(raw) || !(Number(raw) >= 0) || !Number.isFinite(Number(raw))) {
      fail(row, `value "${raw}" is not a finite number >= 0`);
    }
    if (values.length > 0) {
      const diff = ms - prev;
      if (diff <= 0) fail(row, `timestamp "${ts}" is not after the previous row's`);
      if (values.length === 1) step = diff;
      else if (Math.abs(diff - step) > 1e-6) {
        fail(
          row,
          `timestamp "${ts}" is ${diff / 1000}s after the previous row, expected ${step / 1000}s`,
        );
      }
    }
    prev = ms;
    values.push(Number(raw));
  };
  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      on_record: (record: string[], context) => {
        onRow(record, context.lines);
        return null;
      },
    });
  } catch (err) {
    if (err instanceof LoadgenConfigError) throw err;
    if (err instanceof CsvError)
      fail((err as CsvError & { lines?: number }).lines ?? 0, err.message);
    throw err;
  }
  if (values.length < 2) fail(header ? 1 : 2, 'need a header and at least 2 data rows');
  return { values, stepSeconds: step / 1000 };
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
