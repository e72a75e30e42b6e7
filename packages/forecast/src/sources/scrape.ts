/**
 * The `scrape` source, the embedded default: read one metric from one or more `/metrics`
 * URLs (a fleet of replicas), sum it and turn counters into per-second rates.
 * {@link createScrapeSource} is the live {@link Source} (one point per `read()`);
 * {@link createScraper} runs it on an interval into a history store. A step where any URL
 * fails is skipped: a partial sum would look like a drop in load and teach the model a lie.
 * A URL fails, too, when it takes longer than `timeoutMs` (body included), answers more
 * than `maxBodyBytes`, or exposes the metric twice; a counter that goes down without a known
 * restart skips the step (see `scrape-counters.ts`).
 */

import type { HistoryStore } from '../history/store.js';
import { intOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { failuresOf, SourceError, SourceFailures } from './errors.js';
import { pickMetric } from './exposition.js';
import { snippet } from './http.js';
import { DEFAULT_MAX_BODY_BYTES, MAX_BODY_BYTES_LIMIT } from './limits.js';
import { clipSeries } from './range.js';
import { getLimited } from './request.js';
import { type CounterResetEvent, createUrlCounters, type UrlCounters } from './scrape-counters.js';
import type { ReadOptions, Source } from './types.js';

export type { CounterResetEvent } from './scrape-counters.js';

/** Options of {@link createScrapeSource}. */
export interface ScrapeSourceOptions {
  /** The `/metrics` URLs, one per replica; their values are summed. */
  urls: readonly string[];
  /** The metric family to read (any catalogue name); a histogram/summary name means its `_count`. */
  metric: string;
  /** Only samples carrying all these label values are summed, e.g. `{ direction: 'in' }`. */
  labels?: Readonly<Record<string, string>>;
  /** `gauge`: the summed value; `counter`: the summed per-second rate (resets handled). */
  kind: 'gauge' | 'counter';
  /** The spacing of the series `read()` returns, milliseconds (a positive integer): the collection step. */
  stepMs: number;
  /**
   * Deadline of each request, milliseconds: connecting, the headers and the whole body. Past
   * it the URL fails with `timed out after N ms` (not retried). Default `min(stepMs, 10 000)`.
   */
  timeoutMs?: number;
  /**
   * Largest `/metrics` body accepted from one URL, bytes (decompressed), at most 256 MiB.
   * A larger `Content-Length`, or more bytes received, fails the URL with
   * `response too large: over N bytes` as soon as it shows. Default
   * {@link DEFAULT_MAX_BODY_BYTES} (16 MiB).
   */
  maxBodyBytes?: number;
  /** Sent as `Authorization: Bearer ...` to every URL. */
  bearerToken?: string;
  /**
   * Called with every exposition fetched (status 200), before it is checked, e.g. to read more
   * metrics from the same response. Exceptions it throws are ignored.
   */
  onExposition?: (url: string, text: string, atMs: number) => void;
  /**
   * Called for every series of a `counter` that went down, e.g. to count
   * `tidewatch_counter_resets_total{source,restart}`. A restart (`restart: 'true'`) still
   * gives the step a rate; a glitch (`'false'`) or an unknown (`'unknown'`: the target exposes
   * no `process_start_time_seconds`) skips the step. Exceptions it throws are ignored.
   */
  onCounterReset?: (event: CounterResetEvent) => void;
  /** The clock, unix ms. Default `Date.now` (tests pass a fake one). */
  now?: () => number;
}

/**
 * A live source: it has no past, only what the targets say now. `read()` scrapes every URL
 * (the requested range is ignored) and returns a series of one point at the scrape time, or
 * of none while a counter has no previous sample to make a rate with.
 */
export type ScrapeSource = Source;

/** Options of {@link createScraper}. */
export interface ScraperOptions extends Omit<ScrapeSourceOptions, 'stepMs' | 'timeoutMs'> {
  /** Time between scrapes, milliseconds (a positive integer); usually the store's step. */
  intervalMs: number;
  /** Timeout of each request, milliseconds. Default `min(intervalMs, 10 000)`. */
  timeoutMs?: number;
  /** Where the points go. */
  store: HistoryStore;
  /** The series name in the store, e.g. `connections`. */
  seriesName: string;
  /** Called for every failed scrape (already counted in `errors`). */
  onError?: (error: SourceError) => void;
}

/** A running scrape loop into a history store; `read()` returns the stored history. */
export interface Scraper extends Source {
  /** Scrapes now, then every `intervalMs` (the timer is unref'd). Idempotent. */
  start(): void;
  /** Stops the timer, aborts an in-flight scrape and waits for it. Idempotent. */
  stop(): Promise<void>;
  /**
   * One scrape of every URL; the sum (gauge) or summed rate (counter) is appended to the store.
   * @returns The value appended; `NaN` when the step was skipped and nothing was appended (a
   *   URL failed or answered garbage, or a counter has no previous sample yet).
   */
  scrapeOnce(): Promise<number>;
  /** Failed scrapes per source name (`scrape:URL`, or the scraper's name for store errors). */
  readonly errors: ReadonlyMap<string, number>;
  /** The last error per source name. */
  readonly lastErrors: ReadonlyMap<string, SourceError>;
}

const OWNER = 'createScraper';
const COUNTER_TYPES = ['counter', 'histogram', 'summary', 'untyped'];
const GAUGE_TYPES = ['gauge', 'untyped'];

/** What one URL gave this step. */
interface UrlResult {
  /** Gauge: the sum. Counter: the summed rate, or `undefined` while there is none this step. */
  value: number | undefined;
}

/**
 * Creates a live scrape source, named `scrape:URL[,URL...]`; nothing is fetched until `read()`.
 * A step where any URL fails is not a point: `read()` rejects with {@link SourceFailures}
 * listing each URL's own {@link SourceError} (a partial sum would look like a drop in load):
 * a network error, a non-200 status, `timed out after N ms`, `response too large: over N
 * bytes`, not the text format, `duplicate metric family NAME`, `duplicate series
 * NAME{labels}`, the metric missing or of the wrong kind.
 * @throws OptionError naming the field for invalid options (no URLs, a non-http URL, a
 *   `maxBodyBytes` that is not an integer from 1 to 256 MiB, ...).
 */
export function createScrapeSource(options: ScrapeSourceOptions): ScrapeSource {
  return scrapeSource(options, 'createScrapeSource', 'stepMs');
}

function scrapeSource(
  options: ScrapeSourceOptions,
  owner: string,
  stepField: string,
): ScrapeSource {
  const urls = options.urls;
  if (!Array.isArray(urls) || urls.length === 0)
    throw new OptionError(owner, 'urls', 'a non-empty array of http(s) URLs', urls);
  for (const url of urls) {
    if (typeof url !== 'string' || !/^https?:\/\/\S+$/.test(url) || !URL.canParse(url))
      throw new OptionError(owner, 'urls', 'a non-empty array of http(s) URLs', url);
  }
  if (typeof options.metric !== 'string' || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(options.metric))
    throw new OptionError(owner, 'metric', 'a Prometheus metric name', options.metric);
  if (options.kind !== 'gauge' && options.kind !== 'counter')
    throw new OptionError(owner, 'kind', '"gauge" or "counter"', options.kind);
  const stepMs = intOption(owner, stepField, options.stepMs, { min: 1, unit: 'milliseconds' });
  const timeoutMs = intOption(owner, 'timeoutMs', options.timeoutMs, {
    default: Math.min(stepMs, 10_000),
    min: 1,
  });
  const maxBodyBytes = intOption(owner, 'maxBodyBytes', options.maxBodyBytes, {
    default: DEFAULT_MAX_BODY_BYTES,
    max: MAX_BODY_BYTES_LIMIT,
    unit: 'bytes',
  });
  const { onCounterReset } = options;
  if (onCounterReset !== undefined && typeof onCounterReset !== 'function')
    throw new OptionError(owner, 'onCounterReset', 'a function', typeof onCounterReset);
  const { kind, metric } = options;
  const matchers = options.labels ?? {};
  const now = options.now ?? Date.now;
  const name = `scrape:${urls.join(',')}`;
  const headers: Record<string, string> = { accept: 'text/plain;version=0.0.4' };
  if (options.bearerToken) headers.authorization = `Bearer ${options.bearerToken}`;
  // Per URL: each target has its own process start time.
  const counters = new Map<string, UrlCounters>(
    urls.map((url) => [url, createUrlCounters(`scrape:${url}`)]),
  );

  async function fetchText(url: string, source: string, signal?: AbortSignal): Promise<string> {
    const res = await getLimited(url, { source, headers, timeoutMs, maxBodyBytes, signal });
    if (res.status !== 200)
      throw new SourceError(source, `HTTP ${res.status}: ${snippet(res.text)}`, {
        status: res.status,
      });
    return res.text;
  }

  /** Scrapes one URL and folds it into a value; throws SourceError for anything unusable. */
  async function scrapeUrl(url: string, atMs: number, signal?: AbortSignal): Promise<UrlResult> {
    const source = `scrape:${url}`;
    const text = await fetchText(url, source, signal);
    if (options.onExposition)
      try {
        options.onExposition(url, text, atMs);
      } catch {
        // An observer's bug must not cost the history a point.
      }
    const picked = pickMetric(text, metric, matchers);
    if (picked instanceof Error) throw new SourceError(source, picked.message);
    const allowed = kind === 'counter' ? COUNTER_TYPES : GAUGE_TYPES;
    if (!allowed.includes(picked.type)) {
      const other = kind === 'counter' ? 'gauge' : 'counter';
      throw new SourceError(source, `metric ${metric} is a ${picked.type}; use kind "${other}"`);
    }
    for (const s of picked.samples) {
      if (!Number.isFinite(s.value) || s.value < 0)
        throw new SourceError(
          source,
          `${metric}${labelText(s.labels)} is ${s.value}, not a finite number >= 0`,
        );
    }
    if (kind === 'gauge') return { value: picked.samples.reduce((sum, s) => sum + s.value, 0) };
    const state = counters.get(url) as UrlCounters;
    return { value: state.fold(picked.samples, picked.startTimeSeconds, atMs, onCounterReset) };
  }

  return {
    name,
    async read(opts: ReadOptions = {}) {
      const atMs = now();
      const { signal } = opts;
      const results = await Promise.allSettled(urls.map((url) => scrapeUrl(url, atMs, signal)));
      // Stopped mid-scrape: the failures are ours, not the targets'.
      if (signal?.aborted) throw signal.reason;
      let sum = 0;
      let pending = false;
      const failures: SourceError[] = [];
      for (const [i, r] of results.entries()) {
        if (r.status === 'rejected')
          failures.push(
            r.reason instanceof SourceError
              ? r.reason
              : new SourceError(
                  `scrape:${urls[i]}`,
                  String((r.reason as Error)?.message ?? r.reason),
                ),
          );
        else if (r.value.value === undefined) pending = true;
        else sum += r.value.value;
      }
      if (failures.length > 0) throw new SourceFailures(name, failures);
      return { startMs: atMs, stepMs, values: Float64Array.of(...(pending ? [] : [sum])) };
    },
  };
}

/**
 * Creates a scrape loop: a {@link createScrapeSource} read every `intervalMs`, each value
 * appended to `store`. Nothing happens until `start()` or `scrapeOnce()`.
 * @throws OptionError naming the field for invalid options (no URLs, a non-http URL, ...).
 */
export function createScraper(options: ScraperOptions): Scraper {
  const { intervalMs, store, seriesName, onError, ...rest } = options;
  const source = scrapeSource({ ...rest, stepMs: intervalMs }, OWNER, 'intervalMs');
  if (!store || typeof store.append !== 'function')
    throw new OptionError(OWNER, 'store', 'a HistoryStore', typeof store);
  if (typeof seriesName !== 'string' || seriesName === '')
    throw new OptionError(OWNER, 'seriesName', 'a non-empty string', seriesName);
  const { name } = source;
  const errors = new Map<string, number>();
  const lastErrors = new Map<string, SourceError>();
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<number> | undefined;
  let abort = new AbortController();

  function record(error: SourceError): void {
    errors.set(error.source, (errors.get(error.source) ?? 0) + 1);
    lastErrors.set(error.source, error);
    onError?.(error);
  }

  async function scrapeOnce(): Promise<number> {
    const { signal } = abort;
    let point: Series;
    try {
      point = await source.read({ signal });
    } catch (error) {
      if (signal.aborted) return Number.NaN;
      for (const failure of failuresOf(error, name)) record(failure);
      return Number.NaN;
    }
    // Skipped steps are not appended: the store turns them into NaN when the next point
    // arrives, so the history only ever holds complete sums.
    if (point.values.length === 0) return Number.NaN;
    const value = point.values[0] as number;
    try {
      store.append(seriesName, point.startMs, value);
    } catch (error) {
      record(new SourceError(name, (error as Error).message, { cause: error }));
      return Number.NaN;
    }
    return value;
  }

  function tick(): void {
    if (inFlight !== undefined) return; // A slow scrape is not stacked; its step is simply late.
    // Only a throwing onError can reject here; a timer has nobody to report to, so drop it.
    inFlight = scrapeOnce()
      .catch(() => Number.NaN)
      .finally(() => {
        inFlight = undefined;
      });
  }

  return {
    name,
    errors,
    lastErrors,
    scrapeOnce,
    start() {
      if (timer) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      abort.abort();
      abort = new AbortController();
      await inFlight?.catch(() => {});
    },
    async read(opts: ReadOptions = {}) {
      if (!store.has(seriesName))
        throw new SourceError(
          name,
          `no samples of ${rest.metric} scraped yet into "${seriesName}"`,
        );
      return clipSeries(store.series(seriesName), opts.startMs, opts.endMs);
    },
  };
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
