/** HTTP plumbing shared by the prometheus and scrape sources: transient errors and messages. */
import { SourceError } from './errors.js';

/**
 * A failure worth retrying: a network error, HTTP 5xx or 429. A timeout and a response over a
 * limit are not (another attempt would only double the time until the failure is counted).
 */
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

/**
 * What went wrong in a `fetch` that threw (or a body that broke off), in one line, with the
 * cause's code when there is one, e.g. `request failed: fetch failed (ECONNREFUSED)`.
 */
export function describeFetchError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
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
