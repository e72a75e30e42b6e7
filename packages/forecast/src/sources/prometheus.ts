/**
 * The `prometheus` source: `GET /api/v1/query_range`, split into requests of at most 11,000
 * points (Prometheus refuses more per series), each under a deadline (body included) and a
 * size cap, and retried with backoff and full jitter on network errors, 5xx and 429. A
 * timeout or an answer over a limit is not retried: the failure is counted at once.
 */
import { intOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { SourceError } from './errors.js';
import { parseFloatText } from './exposition.js';
import { TransientSourceError } from './http.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_POINTS, MAX_BODY_BYTES_LIMIT } from './limits.js';
import { createPointCounter } from './point-counter.js';
import { readPrometheusAnswer } from './prometheus-answer.js';
import { getLimited } from './request.js';
import { withRetry } from './retry.js';
import type { ReadOptions, Source } from './types.js';

/** Prometheus' cap on points per series in one range query. */
export const PROMETHEUS_MAX_POINTS = 11_000;

/** Options of {@link createPrometheusSource}. */
export interface PrometheusSourceOptions {
  /** Prometheus' base URL, e.g. `http://prometheus:9090` (a path prefix is kept). */
  url: string;
  /** PromQL returning exactly one series, e.g. `sum(realtime_connections)`. */
  query: string;
  /** Resolution, milliseconds; a positive integer. Points are at multiples of it (unix epoch grid). */
  stepMs: number;
  /** Points per request, 2..11 000. Default 11 000. */
  maxPointsPerRequest?: number;
  /** Range read when `read()` gets no `startMs`: this long before `endMs`, milliseconds. Default 14 days. */
  lookbackMs?: number;
  /**
   * Deadline of each HTTP request, milliseconds: connecting, the headers and the whole body.
   * Past it the read fails with `timed out after N ms`, without a retry. Default 30 000.
   */
  timeoutMs?: number;
  /**
   * Largest answer accepted per request, bytes (decompressed), at most 256 MiB; past it the
   * read fails with `response too large: over N bytes`, without a retry. Default
   * {@link DEFAULT_MAX_BODY_BYTES} (16 MiB).
   */
  maxBodyBytes?: number;
  /**
   * Most points one `read()` takes in, counted across every series and request of the read
   * while the answers stream in; past it the read fails with
   * `response too large: over N points`, without a retry. Only points received count, so a
   * range with holes may ask for more. Default {@link DEFAULT_MAX_POINTS} (110,000).
   */
  maxPoints?: number;
  /** Retries per request after the first attempt. Default 3. */
  retries?: number;
  /** Backoff base, milliseconds. Default 250. */
  baseDelayMs?: number;
  /** Longest wait between attempts, milliseconds. Default 5 000. */
  maxDelayMs?: number;
  /** Sent as `Authorization: Bearer ...`. */
  bearerToken?: string;
  /** Randomness for the jitter, for tests. Default `Math.random`. */
  random?: () => number;
  /** Called before each retry (e.g. to log it). */
  onRetry?: (error: SourceError, attempt: number, delayMs: number) => void;
}

/** The Prometheus source, with its request count (for tests and metrics). */
export interface PrometheusSource extends Source {
  /** HTTP requests sent so far, retries included. */
  readonly requests: number;
}

const OWNER = 'createPrometheusSource';
const DAY_MS = 86_400_000;

/**
 * Creates a source reading one series from Prometheus' HTTP API, named `prometheus:URL`.
 * `read()` aligns the range to the step grid, splits it into requests of at most
 * `maxPointsPerRequest` points (no point fetched twice) and puts `NaN` where Prometheus has no
 * sample.
 * @throws OptionError naming the field for invalid options. `read()` throws SourceError naming
 *   the source for: a 4xx (the query is wrong: no retry), retries used up, a body that is not
 *   JSON, `status` other than `success`, more than one series (aggregate with `sum(...)`), a
 *   NaN, infinite or negative value, a timestamp off the grid or out of order, or no data at all.
 */
export function createPrometheusSource(options: PrometheusSourceOptions): PrometheusSource {
  let base: URL;
  try {
    base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    throw new OptionError(OWNER, 'url', 'an http(s) URL', options.url);
  }
  if (typeof options.query !== 'string' || options.query.trim() === '')
    throw new OptionError(OWNER, 'query', 'a non-empty PromQL expression', options.query);
  const stepMs = intOption(OWNER, 'stepMs', options.stepMs, { min: 1, unit: 'milliseconds' });
  const maxPoints = intOption(OWNER, 'maxPointsPerRequest', options.maxPointsPerRequest, {
    default: PROMETHEUS_MAX_POINTS,
    min: 2,
    max: PROMETHEUS_MAX_POINTS,
  });
  const lookbackMs = intOption(OWNER, 'lookbackMs', options.lookbackMs, {
    default: 14 * DAY_MS,
    min: 0,
  });
  const timeoutMs = intOption(OWNER, 'timeoutMs', options.timeoutMs, { default: 30_000, min: 1 });
  const maxBodyBytes = intOption(OWNER, 'maxBodyBytes', options.maxBodyBytes, {
    default: DEFAULT_MAX_BODY_BYTES,
    max: MAX_BODY_BYTES_LIMIT,
    unit: 'bytes',
  });
  const maxReadPoints = intOption(OWNER, 'maxPoints', options.maxPoints, {
    default: DEFAULT_MAX_POINTS,
  });
  const retries = intOption(OWNER, 'retries', options.retries, { default: 3, min: 0, max: 100 });
  const baseDelayMs = intOption(OWNER, 'baseDelayMs', options.baseDelayMs, {
    default: 250,
    min: 0,
  });
  const maxDelayMs = intOption(OWNER, 'maxDelayMs', options.maxDelayMs, { default: 5_000, min: 0 });
  const root = base.href.replace(/\/+$/, '');
  const name = `prometheus:${root}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  let requests = 0;

  /**
   * One attempt at one chunk; fills `out[offset ...]`. `taken` is the points this read has
   * already accepted (toward `maxPoints`).
   * @returns Whether a series came back, and the points the answer held.
   */
  async function attempt(
    startMs: number,
    count: number,
    out: Float64Array,
    offset: number,
    taken: number,
    signal?: AbortSignal,
  ): Promise<{ found: boolean; points: number }> {
    const params = new URLSearchParams({
      query: options.query,
      start: String(startMs / 1000),
      end: String((startMs + (count - 1) * stepMs) / 1000),
      step: String(stepMs / 1000),
    });
    requests++;
    const counter = createPointCounter();
    const res = await getLimited(`${root}/api/v1/query_range?${params}`, {
      source: name,
      headers,
      timeoutMs,
      maxBodyBytes,
      signal,
      inspect: (chunk) => {
        if (taken + counter.feed(chunk) > maxReadPoints)
          throw new SourceError(name, `response too large: over ${maxReadPoints} points`);
      },
    });
    const result = readPrometheusAnswer(name, options.query, res, 'matrix');
    if (result.length > 1) {
      throw new SourceError(
        name,
        `query ${JSON.stringify(options.query)} returned ${result.length} series; it must return one: aggregate it, e.g. sum(${options.query})`,
      );
    }
    if (result.length === 0) return { found: false, points: counter.points };
    fillChunk((result[0] as { values?: unknown }).values, startMs, count, out, offset);
    return { found: true, points: counter.points };
  }

  function fillChunk(
    values: unknown,
    startMs: number,
    count: number,
    out: Float64Array,
    offset: number,
  ): void {
    if (!Array.isArray(values))
      throw new SourceError(name, 'garbage response: series without values');
    let prev = -1;
    for (const pair of values) {
      const [ts, raw] = Array.isArray(pair) ? pair : [];
      const at = typeof ts === 'number' ? ts * 1000 : Number.NaN;
      const k = Math.round((at - startMs) / stepMs);
      const when = Number.isFinite(at) ? new Date(at).toISOString() : String(ts);
      if (!Number.isFinite(at) || Math.abs(at - (startMs + k * stepMs)) > 1 || k < 0 || k >= count)
        throw new SourceError(name, `sample at ${when} is off the requested ${stepMs} ms grid`);
      if (k <= prev) throw new SourceError(name, `sample at ${when} is not after the previous one`);
      prev = k;
      const v = parseFloatText(typeof raw === 'string' ? raw : undefined);
      if (v === undefined)
        throw new SourceError(name, `garbage value ${JSON.stringify(raw)} at ${when}`);
      if (!Number.isFinite(v))
        throw new SourceError(
          name,
          `value ${raw} at ${when}: the query must not produce NaN or Inf`,
        );
      if (v < 0) throw new SourceError(name, `negative value ${raw} at ${when}`);
      out[offset + k] = v;
    }
  }

  return {
    name,
    get requests() {
      return requests;
    },
    async read(opts: ReadOptions = {}): Promise<Series> {
      const endMs = Math.floor((opts.endMs ?? Date.now()) / stepMs) * stepMs;
      const startMs = Math.ceil((opts.startMs ?? endMs - lookbackMs) / stepMs) * stepMs;
      const total = Math.max(0, (endMs - startMs) / stepMs + 1);
      const values = new Float64Array(total).fill(Number.NaN);
      let found = total === 0;
      let taken = 0;
      // Chunks do not overlap, so no boundary point is fetched (or stored) twice.
      for (let offset = 0; offset < total; offset += maxPoints) {
        const count = Math.min(maxPoints, total - offset);
        const chunkStart = startMs + offset * stepMs;
        let attempts = 0;
        try {
          const got = await withRetry(
            () => {
              attempts++;
              return attempt(chunkStart, count, values, offset, taken, opts.signal);
            },
            {
              retries,
              baseDelayMs,
              maxDelayMs,
              ...(opts.signal ? { signal: opts.signal } : {}),
              ...(options.random ? { random: options.random } : {}),
              onRetry: (error, n, delay) => options.onRetry?.(error as SourceError, n, delay),
            },
          );
          found ||= got.found;
          taken += got.points;
        } catch (error) {
          if (error instanceof TransientSourceError && attempts > 1) {
            throw new SourceError(name, `${error.detail} (gave up after ${attempts} attempts)`, {
              ...(error.status === undefined ? {} : { status: error.status }),
              cause: error,
            });
          }
          throw error;
        }
      }
      if (!found) {
        throw new SourceError(
          name,
          `query ${JSON.stringify(options.query)} returned no data between ${new Date(startMs).toISOString()} and ${new Date(endMs).toISOString()}`,
        );
      }
      return { startMs, stepMs, values };
    },
  };
}
