import { TidewatchConfigError } from '../errors.js';

// Hand-written rather than a schema library: the middleware ships with no runtime
// dependency besides its peers, and these checks run once per construction.

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : String(value);
}

export function fail(option: string, expected: string, got: unknown): never {
  throw new TidewatchConfigError(option, `must be ${expected} (got ${describe(got)})`);
}

export function optObject(option: string, value: unknown): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(option, 'an object', value);
  }
  return value as Record<string, unknown>;
}

export function optInt(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(option, `an integer from ${min} to ${max}`, value);
  }
  return value;
}

export function optString(option: string, value: unknown, pattern?: RegExp): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || (pattern && !pattern.test(value))) {
    fail(option, pattern ? `a string matching ${pattern}` : 'a string', value);
  }
  return value;
}

export function optFunction<F>(option: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(option, 'a function', value);
  return value as F;
}

/** Constructors of functions whose result is a Promise or an async iterator, never a value. */
const ASYNC_CONSTRUCTORS = new Set(['AsyncFunction', 'AsyncGeneratorFunction']);

/** True for an `async function`, async arrow or async generator (bound or not). */
export function isAsyncFunction(fn: unknown): boolean {
  return typeof fn === 'function' && ASYNC_CONSTRUCTORS.has(fn.constructor?.name);
}

/**
 * An optional callback whose result is used at once (a classifier, a predicate): async
 * functions are refused, since tidewatch cannot await inside the host's request path and
 * their Promise would become the label `[object Promise]`.
 * @throws {TidewatchConfigError} naming `option` when it is not a function or is async.
 */
export function optSyncFunction<F>(option: string, value: unknown): F | undefined {
  const fn = optFunction<F>(option, value);
  if (isAsyncFunction(fn)) {
    throw new TidewatchConfigError(
      option,
      'must be a synchronous function returning its result (got an async function; ' +
        'compute what it needs before the request, or cache it)',
    );
  }
  return fn;
}

/** Rejects keys the caller did not expect, so a typo (`idleAfterMS`) fails loudly. */
export function noUnknownKeys(
  option: string,
  value: Record<string, unknown>,
  known: readonly string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TidewatchConfigError(
        option ? `${option}.${key}` : key,
        `is not a known option (known: ${known.join(', ')})`,
      );
    }
  }
}
