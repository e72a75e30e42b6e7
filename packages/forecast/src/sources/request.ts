/**
 * One HTTP GET under limits the source owns, shared by the scrape and prometheus sources: a
 * deadline over the whole exchange (connect, headers and every byte of the body) and a cap on
 * the body's size, counted as it streams in. Without them a target that streams forever, or
 * answers 300 MB, holds a collection (and the memory) for as long as it likes.
 *
 * The deadline is a plain `setTimeout` on an `AbortController` of our own: on Node 20,
 * `AbortSignal.any([AbortSignal.timeout(ms), signal])` can stop firing once the combined
 * signal has been garbage-collected, so a request under it may never time out.
 */
import { SourceError } from './errors.js';
import { describeFetchError, TransientSourceError } from './http.js';

/** Options of {@link getLimited}. */
export interface LimitedRequest {
  /** The source's name, the prefix of every error, e.g. `scrape:http://host/metrics`. */
  source: string;
  headers: Readonly<Record<string, string>>;
  /** The deadline of the whole exchange, body included, milliseconds. */
  timeoutMs: number;
  /** The largest body accepted, bytes (after decompression). */
  maxBodyBytes: number;
  /** The caller's signal: aborting it aborts the request. */
  signal?: AbortSignal | undefined;
  /**
   * Sees every chunk of the body as it arrives. A `SourceError` it throws stops the download
   * and is what the request rejects with (e.g. too many points in a Prometheus answer).
   */
  inspect?: (chunk: Uint8Array) => void;
}

/** A response read whole, within the limits. */
export interface LimitedResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The body decoded as UTF-8 (a BOM is dropped, invalid bytes become U+FFFD). */
  readonly text: string;
}

const decoder = new TextDecoder();

/** The error of a body over `maxBodyBytes`. */
export function tooLarge(source: string, maxBodyBytes: number): SourceError {
  return new SourceError(source, `response too large: over ${maxBodyBytes} bytes`);
}

/**
 * GETs `url` and reads the whole body, within the deadline and the size cap. Any status is
 * returned (the caller judges it); the body is read for every status, under the same limits.
 * @throws SourceError `timed out after N ms` when the deadline passes (connecting, waiting for
 *   headers or reading the body); SourceError `response too large: over N bytes` when the
 *   `Content-Length` (of an uncompressed body) or the bytes received pass `maxBodyBytes`;
 *   whatever SourceError `inspect` throws; {@link TransientSourceError} for a network error
 *   or a body that broke off; the caller signal's reason when it aborts. In every case the
 *   request is aborted and its socket released before this returns.
 */
export async function getLimited(url: string, request: LimitedRequest): Promise<LimitedResponse> {
  const { source, timeoutMs, maxBodyBytes, signal, inspect } = request;
  signal?.throwIfAborted();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new SourceError(source, `timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  // The request's own socket keeps the process alive while it matters; the deadline need not.
  timer.unref();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let complete = false;
  try {
    const res = await fetch(url, { headers: { ...request.headers }, signal: controller.signal });
    // A compressed body's length says little about its decompressed size: only the counting
    // below judges those.
    const encoding = res.headers.get('content-encoding');
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if ((!encoding || encoding === 'identity') && declared > maxBodyBytes)
      throw tooLarge(source, maxBodyBytes);
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    if (res.body) {
      reader = res.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        if (bytes > maxBodyBytes) throw tooLarge(source, maxBodyBytes);
        inspect?.(value);
        chunks.push(value);
      }
    }
    complete = true;
    return {
      status: res.status,
      headers: res.headers,
      text: decoder.decode(Buffer.concat(chunks, bytes)),
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timedOut)
      throw new SourceError(source, `timed out after ${timeoutMs} ms`, { cause: error });
    if (error instanceof SourceError) throw error;
    throw new TransientSourceError(source, describeFetchError(error), { cause: error });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (!complete) {
      // Stop the transfer: without this an abandoned body keeps streaming into the socket.
      controller.abort();
      reader?.cancel().catch(() => {});
    }
  }
}
