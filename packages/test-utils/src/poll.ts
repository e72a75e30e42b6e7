import { setTimeout as sleep } from 'node:timers/promises';

/** Options for {@link pollUntil}. */
export interface PollOptions {
  /** Give up after this long. Default 15 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 250 ms. */
  intervalMs?: number;
  /** Names what is being waited for in the timeout error. */
  description?: string;
  /**
   * Decides whether an error thrown by `probe` is retried (the default) or rethrown at once,
   * e.g. a malformed query that no amount of waiting fixes.
   */
  shouldRetry?: (error: unknown) => boolean;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Calls `probe` every `intervalMs` until `predicate` accepts its result, and returns that
 * result. Bounded: after `timeoutMs` (including a `probe` call that hangs) it throws an error
 * that shows the last result, or the last error `probe` threw.
 *
 * @param probe - Produces the current value, e.g. a query.
 * @param predicate - Decides whether the value is the one being waited for.
 * @param options - Timeout, interval, a description for the error, and which errors to retry.
 * @returns The first value that satisfied `predicate`.
 * @throws Error on timeout; a non-retried `probe` error; whatever `predicate` throws.
 */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  predicate: (value: T) => boolean,
  options: PollOptions = {},
): Promise<T> {
  const {
    timeoutMs = 15_000,
    intervalMs = 250,
    description = 'condition',
    shouldRetry = () => true,
  } = options;
  const deadline = Date.now() + timeoutMs;
  let last: Attempt<T> | undefined;
  for (;;) {
    let attempt: Attempt<T>;
    try {
      attempt = { ok: true, value: await beforeDeadline(probe(), deadline) };
    } catch (error) {
      if (error === DEADLINE) break;
      if (!shouldRetry(error)) throw error;
      attempt = { ok: false, error };
    }
    last = attempt;
    // The predicate runs outside the try: its own errors are bugs in the test, not retried.
    if (attempt.ok && predicate(attempt.value)) return attempt.value;
    if (Date.now() + intervalMs > deadline) break;
    await sleep(intervalMs);
  }
  let detail: string;
  if (last === undefined) detail = 'no attempt completed in time';
  else if (last.ok) detail = `last result: ${describe(last.value)}`;
  else detail = `last attempt threw: ${errorText(last.error)}`;
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}; ${detail}`);
}

/**
 * Waits for `promise`, bounded: rejects with an error naming `description` when it has not
 * settled after `timeoutMs` (the promise itself is not cancelled). For waits on an event (a
 * process exit, a message) that must not hang a test.
 *
 * @param promise - What to wait for.
 * @param timeoutMs - The bound.
 * @param description - Names what is awaited in the timeout error.
 * @returns What `promise` resolves with.
 * @throws Error on timeout; whatever `promise` rejects with.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  timeoutMs: number,
  description = 'a promise',
): Promise<T> {
  try {
    return await beforeDeadline(promise, Date.now() + timeoutMs);
  } catch (error) {
    if (error === DEADLINE)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    throw error;
  }
}

const DEADLINE = Symbol('deadline');

async function beforeDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(DEADLINE), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value, (_key, v) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
  if (text === undefined) return String(value);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
