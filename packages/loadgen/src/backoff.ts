import type { Random } from './random.js';

/**
 * Reconnect delay with exponential backoff and full jitter (AWS architecture blog, "Exponential
 * Backoff And Jitter"): uniform in `[0, min(maxMs, baseMs * 2^attempt))`. Full jitter spreads
 * a crowd of clients that lost the server at the same moment, which is the point of testing
 * reconnect storms.
 *
 * @param attempt - 0 for the first retry after a failure, 1 for the second, ...
 * @param baseMs - Delay cap of the first retry, milliseconds.
 * @param maxMs - Largest cap, milliseconds.
 * @param random - Uniform source in [0, 1).
 * @returns The delay in milliseconds, `0 <= delay < min(maxMs, baseMs * 2^attempt)`.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: Random,
): number {
  // 2^attempt overflows to Infinity past 1023; min() keeps it at maxMs.
  const cap = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return random() * cap;
}
