/**
 * One instant query against Prometheus' HTTP API (`GET /api/v1/query`), under the same limits
 * as the prometheus source's range queries: a deadline this code owns over the whole exchange
 * (body included), a cap on the body's bytes and one on the samples, counted while the answer
 * streams in. For figures read "now" rather than as a history, e.g. the sidecar's leading
 * signals for its nowcast.
 *
 * No retry: a caller that asks every collection gets its next attempt a collection later, and
 * a retry would only hold the collection up while Prometheus struggles.
 */
import { intOption, OptionError } from '../options.js';
import { SourceError } from './errors.js';
import { parseFloatText } from './exposition.js';
import { DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT } from './limits.js';
import { createPointCounter } from './point-counter.js';
import { readPrometheusAnswer } from './prometheus-answer.js';
import { getLimited } from './request.js';

/** Options of {@link queryPrometheusInstant}. */
export interface PrometheusInstantOptions {
  /** Prometheus' base URL, e.g. `http://prometheus:9090` (a path prefix is kept). */
  url: string;
  /** PromQL returning an instant vector, e.g. `sum(rate(x_total[1m]))`. */
  query: string;
  /** Evaluation time, unix ms. Default: Prometheus' own clock (no `time` parameter). */
  timeMs?: number;
  /** Deadline of the request, milliseconds: connecting, the headers and the whole body. Default 30 000. */
  timeoutMs?: number;
  /** Largest answer accepted, bytes (decompressed), at most 256 MiB. Default 16 MiB. */
  maxBodyBytes?: number;
  /** Most samples the answer may hold; past it the query fails while the answer streams in. Default 1 000. */
  maxSamples?: number;
  /** Sent as `Authorization: Bearer ...`. */
  bearerToken?: string;
  /** Aborting it aborts the request (the promise rejects with its reason). */
  signal?: AbortSignal;
}

/** One sample of an instant vector. */
export interface InstantSample {
  /** The series' labels (`__name__` included when Prometheus kept it). */
  readonly labels: Readonly<Record<string, string>>;
  /** The value: finite and >= 0 (anything else is refused). */
  readonly value: number;
}

const OWNER = 'queryPrometheusInstant';
/** Samples open an array at depth 2 in a vector answer (`result` is depth 1). */
const SAMPLE_DEPTH = 2;

/**
 * The name failures of `url` are reported under: `prometheus:URL`, the prometheus source's own
 * name, so a caller counts both under one source.
 * @throws OptionError when `url` is not an http(s) URL.
 */
export function prometheusSourceName(url: string): string {
  return `prometheus:${baseUrl(url).href.replace(/\/+$/, '')}`;
}

function baseUrl(url: string): URL {
  try {
    const base = new URL(url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error('not http(s)');
    return base;
  } catch {
    throw new OptionError(OWNER, 'url', 'an http(s) URL', url);
  }
}

/**
 * Runs one instant query and returns its samples (an empty vector gives `[]`).
 * @throws OptionError naming the field for invalid options. Rejects with SourceError named
 *   `prometheus:URL` for: `timed out after N ms`, `response too large` (bytes or samples), a
 *   body that is not JSON, a 4xx or `status` other than `success` (Prometheus' error quoted),
 *   a result that is not a vector, a NaN, infinite or negative value; with a
 *   {@link TransientSourceError} (a SourceError) for a network error, 5xx or 429; with the
 *   signal's reason when it aborts.
 */
export async function queryPrometheusInstant(
  options: PrometheusInstantOptions,
): Promise<InstantSample[]> {
  const base = baseUrl(options.url);
  if (typeof options.query !== 'string' || options.query.trim() === '')
    throw new OptionError(OWNER, 'query', 'a non-empty PromQL expression', options.query);
  const timeoutMs = intOption(OWNER, 'timeoutMs', options.timeoutMs, { default: 30_000 });
  const maxBodyBytes = intOption(OWNER, 'maxBodyBytes', options.maxBodyBytes, {
    default: DEFAULT_MAX_BODY_BYTES,
    max: MAX_BODY_BYTES_LIMIT,
    unit: 'bytes',
  });
  const maxSamples = intOption(OWNER, 'maxSamples', options.maxSamples, { default: 1_000 });
  if (options.timeMs !== undefined && !Number.isFinite(options.timeMs))
    throw new OptionError(OWNER, 'timeMs', 'a finite number (unix ms)', options.timeMs);
  const root = base.href.replace(/\/+$/, '');
  const name = `prometheus:${root}`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  const params = new URLSearchParams({ query: options.query });
  if (options.timeMs !== undefined) params.set('time', String(options.timeMs / 1000));
  const counter = createPointCounter(SAMPLE_DEPTH);
  const res = await getLimited(`${root}/api/v1/query?${params}`, {
    source: name,
    headers,
    timeoutMs,
    maxBodyBytes,
    signal: options.signal,
    inspect: (chunk) => {
      if (counter.feed(chunk) > maxSamples)
        throw new SourceError(name, `response too large: over ${maxSamples} samples`);
    },
  });
  const query = JSON.stringify(options.query);
  const result = readPrometheusAnswer(name, options.query, res, 'vector');
  return result.map((entry: unknown) => {
    const { metric, value } = (entry ?? {}) as { metric?: unknown; value?: unknown };
    const raw = Array.isArray(value) ? value[1] : undefined;
    const v = parseFloatText(typeof raw === 'string' ? raw : undefined);
    if (v === undefined)
      throw new SourceError(name, `query ${query}: garbage value ${JSON.stringify(raw)}`);
    if (!Number.isFinite(v) || v < 0)
      throw new SourceError(name, `query ${query}: value ${raw} is not a finite number >= 0`);
    const labels: Record<string, string> = {};
    if (metric && typeof metric === 'object')
      for (const [k, l] of Object.entries(metric)) if (typeof l === 'string') labels[k] = l;
    return { labels, value: v };
  });
}
