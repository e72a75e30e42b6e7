/**
 * The forecast library's one validation dialect: every factory checks its options through
 * these, and every failure is an {@link OptionError} whose message names the factory and the
 * field, says what was expected and shows what was given:
 * `createHistoryStore: stepMs must be a positive integer (milliseconds), got 0`.
 * Hand-written rather than a schema library: the library stays free of one (the sidecar's
 * config uses zod), and these run once per construction.
 */

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

/** What an integer option must be. */
export interface IntRule {
  /** Returned when the value is `undefined`; without it the option is required. */
  default?: number;
  /** Smallest allowed value. Default 1. */
  min?: number;
  /** Largest allowed value. Default `Number.MAX_SAFE_INTEGER`. */
  max?: number;
  /** Said after the range in the message, e.g. `milliseconds`. */
  unit?: string;
}

/**
 * Checks an integer option and returns it or its default.
 * @throws OptionError when the value is not an integer within `[min, max]`.
 */
export function intOption(owner: string, field: string, value: unknown, rule: IntRule): number {
  const { min = 1, max = Number.MAX_SAFE_INTEGER, unit = '' } = rule;
  if (value === undefined && rule.default !== undefined) return rule.default;
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

/** What a number option must be. */
export interface NumberRule {
  /** Returned when the value is `undefined`. */
  default: number;
  /** Lower bound. */
  min: number;
  /** `true`: the value must be above `min`; default: at least `min`. */
  exclusive?: boolean;
  /** Said after the range in the message, e.g. `seconds`. */
  unit?: string;
}

/**
 * Checks a finite number option (> `min` when `exclusive`, else >= `min`).
 * @throws OptionError naming the field.
 */
export function numberOption(
  owner: string,
  field: string,
  value: unknown,
  rule: NumberRule,
): number {
  const { min, exclusive = false, unit = '' } = rule;
  if (value === undefined) return rule.default;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (exclusive ? value <= min : value < min)
  ) {
    const range = `a finite number ${exclusive ? '>' : '>='} ${min}`;
    throw new OptionError(owner, field, unit ? `${range} (${unit})` : range, value);
  }
  return value;
}
