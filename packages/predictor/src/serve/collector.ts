/**
 * One collection step of the sidecar, whatever the source: the embedded scraper (sum over
 * replicas' `/metrics`, appended per step) or Prometheus range queries (everything since the
 * last stored step, so a restart backfills the gap). Failures are counted per source name
 * and reported, never thrown: the sidecar keeps serving while its source is down.
 */
import type { HistoryStore } from '@tidewatch/forecast';
import { createPrometheusSource, createScraper, SourceError } from '@tidewatch/forecast';
import type { ServeConfig } from './config.js';

/** What one collection did. */
export type CollectOutcome =
  /** New data was stored (or there was nothing new yet). */
  | { status: 'ok'; appended: number }
  /** No value this step and no error: a counter's first sample (a rate needs two). */
  | { status: 'pending' }
  /** The source failed; `message` names it (one line, the source's name first). */
  | { status: 'failed'; message: string };

/** A configured source bound to the history store. */
export interface Collector {
  /** The source's name: `scrape:URL[,URL...]` or `prometheus:URL`. */
  readonly name: string;
  /** The names failures are counted under (one per scrape URL, or the Prometheus source). */
  readonly errorSources: readonly string[];
  /** Unix ms of the newest observation stored by this process, if any. */
  readonly lastObservationMs: number | undefined;
  /** Collects once. Never rejects. */
  collect(): Promise<CollectOutcome>;
  /** Aborts an in-flight collection and waits for it. */
  stop(): Promise<void>;
}

/** Options of {@link createCollector}. */
export interface CollectorOptions {
  config: ServeConfig;
  store: HistoryStore;
  /** Called once per failure (per URL for the scraper). Must not throw. */
  onError(error: SourceError): void;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
  /** Scrape source only: every exposition fetched (see `ScraperOptions.onExposition`). */
  onExposition?: (url: string, text: string, atMs: number) => void;
}

/**
 * Creates the collector for `config.source`, storing into the series named `config.metric`.
 * @throws OptionError from the source factories for options zod cannot see (none expected).
 */
export function createCollector(options: CollectorOptions): Collector {
  const { config, store } = options;
  return config.source.kind === 'scrape'
    ? scrapeCollector(options)
    : prometheusCollector(options, config.source, store);
}

function scrapeCollector(options: CollectorOptions): Collector {
  const { config, store, onError } = options;
  const source = config.source as Extract<ServeConfig['source'], { kind: 'scrape' }>;
  const clock = options.now ?? Date.now;
  const failures: SourceError[] = [];
  let scrapedAt = 0;
  let lastObservationMs: number | undefined;
  let inFlight: Promise<CollectOutcome> | undefined;
  const scraper = createScraper({
    urls: source.urls,
    metric: config.metric,
    labels: source.labels,
    kind: source.type,
    intervalMs: config.stepSeconds * 1000,
    timeoutMs: Math.max(1, Math.round(source.timeoutSeconds * 1000)),
    store,
    seriesName: config.metric,
    ...(source.bearerToken ? { bearerToken: source.bearerToken } : {}),
    ...(options.onExposition ? { onExposition: options.onExposition } : {}),
    onError(error) {
      failures.push(error);
      onError(error);
    },
    now() {
      scrapedAt = clock();
      return scrapedAt;
    },
  });

  async function once(): Promise<CollectOutcome> {
    failures.length = 0;
    let value: number;
    try {
      value = await scraper.scrapeOnce();
    } catch (error) {
      // Only a throwing onError gets here; report it like a failure of the source.
      return { status: 'failed', message: `${scraper.name}: ${(error as Error).message}` };
    }
    if (Number.isFinite(value)) {
      lastObservationMs = scrapedAt;
      return { status: 'ok', appended: 1 };
    }
    if (failures.length === 0) return { status: 'pending' };
    return { status: 'failed', message: failures.map((e) => e.message).join('; ') };
  }

  return {
    name: scraper.name,
    errorSources: source.urls.map((url) => `scrape:${url}`),
    get lastObservationMs() {
      return lastObservationMs;
    },
    collect() {
      inFlight ??= once().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    async stop() {
      await scraper.stop();
      await inFlight;
    },
  };
}

function prometheusCollector(
  options: CollectorOptions,
  source: Extract<ServeConfig['source'], { kind: 'prometheus' }>,
  store: HistoryStore,
): Collector {
  const { config, onError } = options;
  const clock = options.now ?? Date.now;
  const stepMs = config.stepSeconds * 1000;
  const series = config.metric;
  const prometheus = createPrometheusSource({
    url: source.url,
    query: source.query,
    stepMs,
    timeoutMs: Math.max(1, Math.round(source.timeoutSeconds * 1000)),
    // One quick retry: the next collection is the real retry, and a long backoff here would
    // only delay noticing that the source is down.
    retries: 1,
    ...(source.bearerToken ? { bearerToken: source.bearerToken } : {}),
  });
  let abort = new AbortController();
  let lastObservationMs: number | undefined;
  let inFlight: Promise<CollectOutcome> | undefined;

  async function once(): Promise<CollectOutcome> {
    const endMs = Math.floor(clock() / stepMs) * stepMs;
    const last = store.lastTimestamp(series);
    const startMs = last === undefined ? endMs - (store.capacity - 1) * stepMs : last + stepMs;
    if (startMs > endMs) return { status: 'ok', appended: 0 };
    const { signal } = abort;
    let read: Awaited<ReturnType<typeof prometheus.read>>;
    try {
      read = await prometheus.read({ startMs, endMs, signal });
    } catch (error) {
      if (signal.aborted) return { status: 'ok', appended: 0 };
      const e =
        error instanceof SourceError
          ? error
          : new SourceError(prometheus.name, (error as Error)?.message ?? String(error));
      onError(e);
      return { status: 'failed', message: e.message };
    }
    let appended = 0;
    for (let k = 0; k < read.values.length; k++) {
      const v = read.values[k] as number;
      if (!Number.isFinite(v)) continue;
      const at = read.startMs + k * stepMs;
      store.append(series, at, v);
      lastObservationMs = at;
      appended++;
    }
    return { status: 'ok', appended };
  }

  return {
    name: prometheus.name,
    errorSources: [prometheus.name],
    get lastObservationMs() {
      return lastObservationMs;
    },
    collect() {
      inFlight ??= once()
        .catch((error: unknown): CollectOutcome => {
          const e = new SourceError(prometheus.name, (error as Error)?.message ?? String(error));
          onError(e);
          return { status: 'failed', message: e.message };
        })
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
    async stop() {
      abort.abort();
      abort = new AbortController();
      await inFlight;
    },
  };
}
