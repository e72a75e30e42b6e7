/**
 * Errors of the history store. They carry a machine-readable `code` so callers can branch
 * without parsing messages. (The option error every factory throws lives in `../options.ts`.)
 */

/** What went wrong in a {@link HistoryError}. */
export type HistoryErrorCode =
  /** A sample older than the series' last step (out of order, or a duplicate from the past). */
  | 'out-of-order'
  /** A timestamp that is not a finite number, or a value that is negative or infinite. */
  | 'invalid-sample'
  /** `series(name)` for a name that was never appended. */
  | 'unknown-series'
  /** The persisted file exists but cannot be read (permissions, a directory, I/O error). */
  | 'unreadable-file'
  /** The persisted file is truncated, not JSON, fails its checksum, or has a bad structure. */
  | 'corrupt-file'
  /** The persisted file is valid but cannot be used with these options (another step, a newer format). */
  | 'incompatible-file'
  /** `persist()` was called on a store without a `file`, or the write failed. */
  | 'persist-failed';

/** An error from the history store; `file` and `series` are set when they apply. */
export class HistoryError extends Error {
  override readonly name = 'HistoryError';
  /** The persisted file involved, if any. */
  readonly file: string | undefined;
  /** The series involved, if any. */
  readonly series: string | undefined;

  constructor(
    message: string,
    /** Why it failed; see {@link HistoryErrorCode}. */
    readonly code: HistoryErrorCode,
    details: { file?: string; series?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.file = details.file;
    this.series = details.series;
  }
}

export { OptionError } from '../options.js';
