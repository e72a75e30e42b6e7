/**
 * Option validation shared by `mixinConfig()` and `deployConfig()`: every bad option
 * fails the same way, with one message format that names the config, the field, what it must
 * be and what it got (`deploy config: capacityPerReplica must be a number > 0, got -1`), and
 * an error carrying the field, so callers can point at it without parsing the message.
 */

/**
 * An invalid option. A `RangeError`, as `mixinConfig` has always thrown; the message names
 * the field and the value given.
 */
export class ConfigError extends RangeError {
  constructor(
    /** The field, dotted for nested groups: `thresholds.drainExplainedRatio`, `lead.pollingSeconds`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Throws unless `ok`: `<scope>: <field> must be <expected>, got <value>`. */
export type Check = (field: string, value: unknown, ok: boolean, expected: string) => void;

/**
 * The check of one config.
 * @param scope - The message prefix: `mixinConfig`, `deploy config`.
 * @param error - Makes the error thrown (a subclass of {@link ConfigError}); default a
 *   `ConfigError`.
 */
export function checker(
  scope: string,
  error: (field: string, message: string) => ConfigError = (field, message) =>
    new ConfigError(field, message),
): Check {
  return (field, value, ok, expected) => {
    if (!ok) throw error(field, `${scope}: ${field} must be ${expected}, got ${show(value)}`);
  };
}

/** A value as an error message shows it: JSON, or `nothing` for a missing one. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  return JSON.stringify(value) ?? String(value);
}

/** A value of the closed set `values`. */
export const isOneOf = (v: unknown, values: readonly string[]): v is string =>
  typeof v === 'string' && values.includes(v);

/** The closed set `values` as a message lists it: `"hpa" or "scaledobject"`. */
export function choices(values: readonly string[]): string {
  return [...values]
    .sort()
    .map((v) => `"${v}"`)
    .join(' or ');
}

/** A finite number. */
export const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** An integer in [min, max]. */
export const isInt = (v: unknown, min: number, max: number): v is number =>
  isNum(v) && Number.isInteger(v) && v >= min && v <= max;

/** A number in (0, 1]. */
export const isShare = (v: unknown): v is number => isNum(v) && v > 0 && v <= 1;

/**
 * A Prometheus metric name (or a prefix of one: `realtime_`). Colons are allowed as in the
 * exposition format, although they are meant for recording rules.
 */
export const isMetricName = (v: unknown): v is string =>
  typeof v === 'string' && /^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(v);

/** An RFC 1123 label: names of Services and namespaces (a-z, 0-9, `-`, at most 63 characters). */
export const isDnsLabel = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v);

/** An absolute http(s) URL. */
export const isHttpUrl = (v: unknown): v is string =>
  typeof v === 'string' && /^https?:\/\/\S+$/.test(v) && URL.canParse(v);
