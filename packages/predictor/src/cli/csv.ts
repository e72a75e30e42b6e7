/**
 * Reading the CLI's input: a CSV with header `timestamp,value`, timestamps ISO-8601 or unix
 * seconds, evenly spaced. Every problem becomes a {@link CliError} naming the file and line.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import type { Series } from '../series.js';
import { CliError } from './errors.js';

/** Options of {@link parseSeriesCsvText}. */
export interface CsvOptions {
  /** Expected spacing, seconds; when absent it is inferred from the first two rows. */
  stepS?: number;
}

const UNIX_SECONDS = /^[+-]?\d+(\.\d+)?$/;
// Date.parse accepts free-form dates ("Jan 1 2001"); the contract says ISO-8601.
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads and validates `path` (see {@link parseSeriesCsvText}).
 * @throws CliError when the file is missing or unreadable, or its content is invalid.
 */
export function readSeriesCsv(path: string, options: CsvOptions = {}): Series {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`input file not found: ${path}`);
    if (code === 'EISDIR') throw new CliError(`input is a directory, not a CSV file: ${path}`);
    throw new CliError(`cannot read input file ${path}: ${(error as Error).message}`);
  }
  return parseSeriesCsvText(text, path, options);
}

/**
 * Parses CSV text into an evenly spaced {@link Series}. Lines are counted from 1 (the
 * header); blank lines are ignored.
 * @param name what messages call the input (the file path).
 * @throws CliError for an empty file, a header other than `timestamp,value`, a row with the
 *   wrong number of fields, a bad timestamp, a non-numeric value, fewer than two rows, uneven
 *   or non-increasing spacing, or a spacing different from `options.stepS`.
 */
export function parseSeriesCsvText(text: string, name: string, options: CsvOptions = {}): Series {
  const times: number[] = [];
  const values: number[] = [];
  const lines: number[] = [];
  let header = true;
  try {
    parse(text, {
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      // Rows are checked as they are parsed and not kept: the per-minute fixture has 260k.
      on_record: (record: string[], context) => {
        const line = context.lines;
        if (header) {
          header = false;
          const found = record.join(',');
          if (
            record.length !== 2 ||
            record[0]?.toLowerCase() !== 'timestamp' ||
            record[1]?.toLowerCase() !== 'value'
          ) {
            throw new CliError(`${name}: bad header "${found}", expected "timestamp,value"`);
          }
          return null;
        }
        if (record.length !== 2)
          throw new CliError(
            `${name} line ${line}: expected 2 fields (timestamp,value), found ${record.length}`,
          );
        times.push(parseTimestamp(record[0] as string, name, line));
        values.push(parseValue(record[1] as string, name, line));
        lines.push(line);
        return null;
      },
    });
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof CsvError) throw new CliError(`${name}: invalid CSV: ${error.message}`);
    throw error;
  }
  if (header)
    throw new CliError(`${name}: empty file, expected a header "timestamp,value" and rows`);
  if (times.length < 2)
    throw new CliError(`${name}: needs at least 2 rows to know the spacing, found ${times.length}`);
  const stepMs = checkSpacing(times, lines, name, options.stepS);
  return { startMs: times[0] as number, stepMs, values: Float64Array.from(values) };
}

/** Unix ms of a timestamp cell (ISO-8601 or unix seconds). */
function parseTimestamp(cell: string, name: string, line: number): number {
  let ms = Number.NaN;
  if (UNIX_SECONDS.test(cell)) ms = Math.round(Number(cell) * 1000);
  else if (ISO_DATE.test(cell)) ms = Date.parse(cell);
  if (!Number.isFinite(ms)) {
    throw new CliError(
      `${name} line ${line}: timestamp "${cell}" is neither ISO-8601 nor unix seconds`,
    );
  }
  return ms;
}

function parseValue(cell: string, name: string, line: number): number {
  // Number('') is 0 and Number('0x1f') is 31: accept plain decimal notation only.
  const v = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(cell) ? Number(cell) : Number.NaN;
  if (!Number.isFinite(v))
    throw new CliError(`${name} line ${line}: value "${cell}" is not a number`);
  return v;
}

/** The spacing in ms, checked to be constant (and equal to `stepS` when given). */
function checkSpacing(
  times: number[],
  lines: number[],
  name: string,
  stepS: number | undefined,
): number {
  const first = (times[1] as number) - (times[0] as number);
  if (first <= 0)
    throw new CliError(
      `${name} line ${lines[1]}: timestamps must increase, found a step of ${fmtS(first)}`,
    );
  if (stepS !== undefined && first !== Math.round(stepS * 1000)) {
    throw new CliError(
      `${name}: --step ${stepS} s does not match the file's spacing of ${fmtS(first)} (line ${lines[1]})`,
    );
  }
  for (let i = 2; i < times.length; i++) {
    const step = (times[i] as number) - (times[i - 1] as number);
    if (step !== first) {
      throw new CliError(
        `${name} line ${lines[i]}: uneven spacing, expected a step of ${fmtS(first)}, found ${fmtS(step)} (after ${new Date(times[i - 1] as number).toISOString()})`,
      );
    }
  }
  return first;
}

function fmtS(ms: number): string {
  return `${ms / 1000} s`;
}
