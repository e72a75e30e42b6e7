/**
 * Retries with exponential backoff and full jitter (delay drawn uniformly from
 * `[0, min(maxDelayMs, baseDelayMs * 2^attempt)]`), so many predictors retrying against one
 * struggling Prometheus spread out instead of arriving together.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt; an integer >= 0. Default 3. */
  retries?: number;
  /** Backoff base, milliseconds. Default 200. */
  baseDelayMs?: number;
  /** Cap on one delay, milliseconds. Default 5 000. */
  maxDelayMs?: number;
  /** Stops waiting and retrying; the pending call rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Source of randomness in [0, 1), for tests. Default `Math.random`. */
  random?: () => number;
  /** Called before each wait, e.g. to log; `attempt` is 1 for the first retry. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** An error that says whether it is worth another attempt, and how long to wait at least. */
export interface Retryable {
  readonly retryable: boolean;
  /** A server-requested minimum delay (e.g. from `Retry-After`), milliseconds. */
  readonly retryAfterMs?: number;
}

/** The full-jitter delay before retry number `attempt` (1-based), milliseconds. */
export function backoffDelay(
  attempt: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

const isRetryable = (error: unknown): error is Retryable =>
  typeof error === 'object' && error !== null && (error as Retryable).retryable === true;

/**
 * Runs `attempt(n)` (n = 0, 1, ...) until it resolves, retrying only errors marked
 * `retryable: true` (see {@link Retryable}).
 * @returns What the first successful attempt resolved to.
 * @throws The last error when it is not retryable or the retries are used up; the signal's
 *   reason when aborted.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  const base = options.baseDelayMs ?? 200;
  const max = options.maxDelayMs ?? 5_000;
  for (let n = 0; ; n++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (n >= retries || !isRetryable(error)) throw error;
      const jitter = backoffDelay(n + 1, base, max, options.random);
      const delay = Math.min(max, Math.max(jitter, error.retryAfterMs ?? 0));
      options.onRetry?.(error, n + 1, delay);
      // Not unref'd: a read waiting to retry must keep a CLI process alive.
      try {
        await sleep(delay, undefined, { signal: options.signal });
      } catch (abortError) {
        throw options.signal?.reason ?? abortError;
      }
    }
  }
}
