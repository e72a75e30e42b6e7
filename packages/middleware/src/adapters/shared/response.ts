import type { IncomingMessage, ServerResponse } from 'node:http';
import { type HistogramSeries, labelValue } from '../../internal/family.js';
import type { Instrumentation } from '../../internal/instrumentation.js';
import type { Recorder } from '../../internal/recorder.js';

// Shared by the SSE and long-polling middleware (`@tidewatch/middleware/express`): both
// observe a plain HTTP response, so both wrap `write`/`end` on that response object only.

/** The `next` callback of express (or any connect-style) middleware. */
export type NextFunction = (err?: unknown) => void;

/**
 * A connect-style middleware: mount it in express (`app.get('/events', sse(metrics), handler)`)
 * or call it from a `node:http` handler (`mw(req, res)` then answer the request; with a
 * `next` callback it calls `next()` once the response is instrumented).
 */
export interface RealtimeMiddleware {
  (req: IncomingMessage, res: ServerResponse, next?: NextFunction): void;
  /**
   * Stops instrumenting: later requests pass straight through, and responses in progress
   * leave the scrape gauges without being counted further. Idempotent; `metrics.close()`
   * calls it too. Counters keep their values.
   */
  detach(): void;
}

/**
 * Marks a response as claimed by one tidewatch middleware. Shared by both adapters so a
 * response passing two of them (mounted twice, or SSE and long-poll on one route) is
 * counted once, by the first. Registered globally so that the ESM and CommonJS builds,
 * both loaded in one process, see each other's mark.
 */
export const kState = Symbol.for('tidewatch.response');

/**
 * The middleware of an adapter: it passes every request on to `next`, and before that lets
 * `claim` instrument the response, unless the adapter is detached, the request cannot
 * carry a stream or a poll (HEAD, or an OPTIONS CORS preflight), or another tidewatch
 * middleware claimed the response already. An error inside `claim` is counted at `site`.
 */
export function realtimeMiddleware(
  inst: Instrumentation,
  site: string,
  claim: (req: IncomingMessage, res: TrackedResponse) => void,
): RealtimeMiddleware {
  const middleware = (req: IncomingMessage, res: ServerResponse, next?: NextFunction) => {
    if (inst.active && req.method !== 'HEAD' && req.method !== 'OPTIONS') {
      try {
        const tracked = res as TrackedResponse;
        if (tracked[kState] === undefined) claim(req, tracked);
      } catch (err) {
        inst.recorder.error(site, err);
      }
    }
    if (typeof next === 'function') next();
  };
  return Object.assign(middleware, { detach: inst.detach });
}

/** What every per-response state of both adapters carries. */
export interface ResponseState {
  /** `performance.now()` of the first write that returned false, 0 when not waiting for drain. */
  drainAt: number;
  readonly recorder: Recorder;
  readonly transport: string;
}

/** A response object with the state tidewatch attaches to it. */
export type TrackedResponse = ServerResponse & { [kState]?: ResponseState };

/**
 * The express route pattern (`/events/:room`), which is bounded by the application's code,
 * unlike `req.url` or `req.baseUrl` (a mount path with parameters is matched text). Only
 * known once express has matched a route; `default` otherwise.
 */
export function routeEndpoint(req: IncomingMessage): string {
  const path = (req as { route?: { path?: unknown } }).route?.path;
  if (typeof path === 'string') return labelValue(path, 'default');
  if (path instanceof RegExp) return labelValue(String(path), 'default');
  if (Array.isArray(path)) return labelValue(path.map(String).join(','), 'default');
  return 'default';
}

/** True for the encodings in which a JS string's UTF-8 byte length is its wire size. */
export function isUtf8(encoding: unknown): boolean {
  return typeof encoding !== 'string' || encoding === 'utf8' || /^utf-?8$/i.test(encoding);
}

/** Bytes a `write(chunk, encoding)` puts on the wire (before chunked framing); 0 if unknown. */
export function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') {
    return Buffer.byteLength(chunk, isUtf8(encoding) ? 'utf8' : (encoding as BufferEncoding));
  }
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/**
 * Counts a write that found the buffer full and, for the first one of an episode, times
 * until `drain`. One listener per episode (not per write): backpressure is the rare path.
 */
export function noteBackpressure(s: ResponseState, res: ServerResponse): void {
  s.recorder.inc('backpressureEvents', [s.transport]);
  if (s.drainAt !== 0) return;
  s.drainAt = performance.now();
  res.once('drain', onDrain);
}

function onDrain(this: TrackedResponse): void {
  const s = this[kState];
  if (s === undefined || s.drainAt === 0) return;
  try {
    s.recorder.observe('drainDuration', [s.transport], (performance.now() - s.drainAt) / 1000);
  } catch (err) {
    s.recorder.error('drain', err);
  }
  s.drainAt = 0;
}

/** Adds `k` observations of the same value to a histogram series (one bucket scan). */
export function observeMany(s: HistogramSeries, v: number, k: number): void {
  const b = s.bounds;
  let i = 0;
  while (i < b.length && v > b[i]!) i++;
  s.counts[i]! += k;
  s.sum += v * k;
  s.count += k;
}

/** True once the response can no longer send: its socket is gone or `end()` was called. */
export function isDead(res: ServerResponse): boolean {
  return res.destroyed || res.writableEnded;
}
