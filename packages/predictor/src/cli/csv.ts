/**
 * Reading the CLI's input file. Parsing and validation are the `file` source's
 * ({@link parseSeriesCsv}); this adds the file-system errors and turns every problem into a
 * one-line {@link CliError} naming the file and row.
 */
import { readFileSync } from 'node:fs';
import type { Series } from '@tidewatch/forecast';
import { parseSeriesCsv, SourceError } from '@tidewatch/forecast';
import { CliError } from './errors.js';

/** Options of {@link readSeriesCsv}. */
export interface CsvOptions {
  /** Expected spacing, seconds (`--step`); when absent it is inferred from the first two rows. */
  stepS?: number;
}

/**
 * Reads and validates `path`: header `timestamp,value`, ISO-8601 or unix-second timestamps,
 * even spacing, finite values >= 0.
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
  const stepMs = options.stepS === undefined ? undefined : Math.round(options.stepS * 1000);
  if (stepMs !== undefined && !(stepMs >= 1))
    throw new CliError(`--step must be at least 0.001 s, got ${options.stepS}`);
  try {
    return parseSeriesCsv(text, path, stepMs === undefined ? {} : { stepMs });
  } catch (error) {
    if (error instanceof SourceError) throw new CliError(error.message);
    throw error;
  }
}
