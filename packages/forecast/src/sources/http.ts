/** HTTP plumbing shared by the prometheus and scrape sources: timeouts and transient errors. */
import { SourceError } from './errors.js';

/** A failure worth retrying (network error, timeout, HTTP 5xx or 429). */
export class TransientSourceError extends SourceError {
  /** Read by `withRetry`. */
  readonly retryable = true;
  /** A server-requested minimum delay before the next attempt (from `Retry-After`). */
  readonly retryAfterMs: number | undefined;

  constructor(
    source: string,
    detail: string,
    extra: { status?: number; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(source, detail, extra);
    this.retryAfterMs = extra.retryAfterMs;
  }
}

/** The combined signal of a per-request timeout and the caller's signal. */
export function requestSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([timeout, signal]) : timeout;
}

/** What went wrong in a `fetch` that threw, in one line (the cause's code when there is one). */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return `request failed: ${e?.message ?? String(error)}${cause ? ` (${cause})` : ''}`;
}

/** `Retry-After` (seconds or an HTTP date) in milliseconds, if present and sane. */
export function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The start of a body for an error message, on one line. */
export function snippet(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > max ? `${flat.slice(0, max)}...` : flat);
}
