/**
 * Errors of the history store, and the option error shared with the sources. Both carry a
 * machine-readable field (`code`, `field`) so callers can branch without parsing messages.
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

/**
 * An invalid option passed to a factory. The message names the factory and the field, says
 * what was expected and shows what was given, e.g.
 * `createHistoryStore: stepMs must be a positive integer (milliseconds), got 0`.
 */
export class OptionError extends RangeError {
  override readonly name = 'OptionError';

  constructor(
    /** The factory that rejected the option, e.g. `createHistoryStore`. */
    readonly owner: string,
    /** The option's name, e.g. `stepMs`. */
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`${owner}: ${field} must be ${expected}, got ${show(got)}`);
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === undefined || value === null) return String(value);
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value;
  }
}

/**
 * Checks an optional integer option and returns it or its default.
 * @throws OptionError when the value is not an integer within `[min, max]`.
 */
export function intOption(
  owner: string,
  field: string,
  value: unknown,
  fallback: number | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  unit = '',
): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? min === 1
          ? 'a positive integer'
          : `an integer >= ${min}`
        : `an integer from ${min} to ${max}`;
    throw new OptionError(owner, field, unit ? `${range} (${unit})` : range, value);
  }
  return value;
}

/**
 * Checks an optional finite number option (> `min` when `exclusiveMin`, else >= `min`).
 * @throws OptionError naming the field.
 */
export function numberOption(
  owner: string,
  field: string,
  value: unknown,
  fallback: number,
  min: number,
  exclusiveMin = false,
  unit = '',
): number {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (exclusiveMin ? value <= min : value < min)
  ) {
    const range = `a finite number ${exclusiveMin ? '>' : '>='} ${min}`;
    throw new OptionError(owner, field, unit ? `${range} (${unit})` : range, value);
  }
  return value;
}
