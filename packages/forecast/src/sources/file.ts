/**
 * The `file` source: a CSV with header `timestamp,value`, timestamps ISO-8601 or unix
 * seconds (decided by the first data row), evenly spaced, values finite and >= 0.
 */
import { readFile } from 'node:fs/promises';
import { CsvError, parse } from 'csv-parse/sync';
import { OptionError } from '../options.js';
import type { Series } from '../series.js';
import { SourceError } from './errors.js';
import { clipSeries } from './range.js';
import type { ReadOptions, Source } from './types.js';

/** Options of {@link parseSeriesCsv}. */
export interface CsvParseOptions {
  /** Expected spacing, milliseconds (a positive integer). Default: the first two rows' spacing. */
  stepMs?: number;
  /**
   * Accept spacings that are whole multiples of the step, filling the missing rows with `NaN`.
   * Default false: any uneven spacing is an error.
   */
  allowGaps?: boolean;
  /** Refuse results longer than this many points (a huge gap with `allowGaps`). Default 10 000 000. */
  maxPoints?: number;
}

const HEADER = 'timestamp,value';
const UNIX_SECONDS = /^\d+(\.\d+)?$/;
// Date.parse alone accepts free-form dates ("Jan 1 2001"); the contract says ISO-8601.
const ISO_8601 =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

const seconds = (ms: number): string => `${ms / 1000}s`;

/** Date.parse rolls 2024-02-30 over to March 1; a typo should be an error instead. */
function realDate(iso: string): boolean {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/**
 * Parses CSV text into an evenly spaced series. Rows are numbered like lines of the file (the
 * header is row 1); blank lines are skipped; CRLF, a BOM and spaces around fields are fine.
 * ISO-8601 date-times without a zone are read as UTC, so a file means the same on every machine.
 * @param text - The CSV content.
 * @param sourceName - Starts every error message, e.g. `file:data.csv`.
 * @throws SourceError (one line, naming the source and the row) for: an empty file, a header
 *   other than `timestamp,value`, a row without exactly 2 fields, a bad or mixed-format
 *   timestamp, a value that is not a number or is negative, a timestamp not after the previous
 *   one, uneven spacing (naming the expected step), fewer than 2 rows without `stepMs`.
 */
export function parseSeriesCsv(
  text: string,
  sourceName: string,
  options: CsvParseOptions = {},
): Series {
  const fail = (row: number | undefined, detail: string): never => {
    throw new SourceError(sourceName, detail, row === undefined ? {} : { row });
  };
  if (
    options.stepMs !== undefined &&
    (!Number.isInteger(options.stepMs) || (options.stepMs as number) <= 0)
  )
    throw new OptionError(
      'parseSeriesCsv',
      'stepMs',
      'a positive integer (milliseconds)',
      options.stepMs,
    );
  const maxPoints = options.maxPoints ?? 10_000_000;
  let stepMs = options.stepMs;
  let unix: boolean | undefined;
  let header = true;
  let startMs = 0;
  let prevMs = 0;
  let firstRow = 0;
  const values: number[] = [];

  const timestamp = (raw: string, row: number): number => {
    const looksUnix = UNIX_SECONDS.test(raw);
    unix ??= looksUnix;
    if (unix && !looksUnix)
      fail(row, `timestamp "${raw}" is not unix seconds like the first row (mixed formats)`);
    if (unix) return Math.round(Number(raw) * 1000);
    if (looksUnix)
      fail(row, `timestamp "${raw}" is unix seconds but the first row is ISO-8601 (mixed formats)`);
    const iso = ISO_8601.exec(raw);
    // A date-time without a zone would be local time in Date.parse; pin it to UTC.
    const ms = iso ? Date.parse(iso[1] === undefined && raw.length > 10 ? `${raw}Z` : raw) : NaN;
    if (Number.isNaN(ms) || !realDate(raw))
      fail(row, `timestamp "${raw}" is neither ISO-8601 (2024-01-31T12:00:00Z) nor unix seconds`);
    return ms;
  };

  const value = (raw: string, row: number): number => {
    if (!DECIMAL.test(raw)) fail(row, `value "${raw}" is not a number`);
    const v = Number(raw);
    if (!Number.isFinite(v)) fail(row, `value "${raw}" is not a finite number`);
    if (v < 0) fail(row, `value "${raw}" is negative`);
    return v;
  };

  const onRow = (record: string[], row: number): void => {
    if (header) {
      header = false;
      const found = record.join(',');
      if (found !== HEADER) fail(row, `header is "${found}", expected "${HEADER}"`);
      return;
    }
    if (record.length !== 2)
      fail(row, `expected 2 fields (timestamp,value), found ${record.length}`);
    const t = timestamp(record[0] as string, row);
    const v = value(record[1] as string, row);
    if (values.length === 0) {
      startMs = t;
      firstRow = row;
    } else {
      const diff = t - prevMs;
      if (diff <= 0)
        fail(
          row,
          `timestamp "${record[0]}" is not after the previous row's (${new Date(prevMs).toISOString()})`,
        );
      if (stepMs === undefined) {
        stepMs = diff;
      } else if (diff !== stepMs) {
        const multiple = diff % stepMs === 0;
        if (!(multiple && options.allowGaps)) {
          fail(
            row,
            `timestamp "${record[0]}" is ${seconds(diff)} after the previous row, expected a step of ${seconds(stepMs)}${multiple ? ' (missing rows?)' : ''}`,
          );
        }
        if (values.length + diff / stepMs > maxPoints)
          fail(row, `the gap before this row would make more than ${maxPoints} points`);
        for (let k = 1; k < diff / stepMs; k++) values.push(Number.NaN);
      }
    }
    prevMs = t;
    values.push(v);
  };

  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // Rows are checked as they arrive and not kept: files can have hundreds of thousands.
      on_record: (record: string[], context) => {
        onRow(record, context.lines);
        return null;
      },
    });
  } catch (error) {
    if (error instanceof SourceError) throw error;
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      fail(line, `malformed CSV: ${error.message.replace(/^Invalid [^:]*: /, '')}`);
    }
    throw error;
  }
  if (header) fail(1, `empty file, expected header "${HEADER}"`);
  if (values.length === 0) fail(undefined, 'no data rows after the header');
  if (stepMs === undefined) {
    fail(firstRow, 'only one data row: the step cannot be inferred (need at least 2 rows)');
  }
  return { startMs, stepMs: stepMs as number, values: Float64Array.from(values) };
}

/** Options of {@link createFileSource}. */
export interface FileSourceOptions extends CsvParseOptions {
  /** The CSV file. */
  path: string;
}

/**
 * A source reading a CSV file (see {@link parseSeriesCsv}) on every `read()`, named `file:PATH`.
 * @throws OptionError when `path` is empty.
 */
export function createFileSource(options: FileSourceOptions): Source {
  const { path, ...csv } = options;
  if (typeof path !== 'string' || path === '')
    throw new OptionError('createFileSource', 'path', 'a non-empty path', path);
  const name = `file:${path}`;
  return {
    name,
    async read(opts: ReadOptions = {}) {
      let text: string;
      try {
        text = await readFile(path, { encoding: 'utf8', signal: opts.signal });
      } catch (error) {
        if (opts.signal?.aborted) throw opts.signal.reason;
        const code = (error as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'file not found' : (error as Error).message;
        throw new SourceError(name, `cannot read: ${why}`, { cause: error });
      }
      return clipSeries(parseSeriesCsv(text, name, csv), opts.startMs, opts.endMs);
    },
  };
}
