/**
 * One collection step of the sidecar, whatever the source kind: ask the source for everything
 * after the newest stored point up to now and store what comes back. A source with a past
 * (Prometheus) backfills the gap after a restart this way; a live one (the embedded scrape)
 * answers with what it sees now. Failures are counted per target and reported, never thrown:
 * the sidecar keeps serving while its source is down.
 */
import {
  type CounterResetEvent,
  failuresOf,
  type HistoryStore,
  SourceError,
} from '@tidewatch/forecast';
import { DEFAULT_SOURCES, type SourceContext, type SourceRegistry } from '../sources/index.js';
import type { ServeConfig } from './config.js';

/** What one collection did. */
export type CollectOutcome =
  /** New data was stored, or there was none yet (a counter's first sample: a rate needs two). */
  | { status: 'ok'; appended: number }
  /** The source failed; `message` names it (one line, the source's name first). */
  | { status: 'failed'; message: string };

/** A configured source bound to the history store. */
export interface Collector {
  /** The source's name: `scrape:URL[,URL...]`, `prometheus:URL`, or a registered kind's. */
  readonly name: string;
  /** The names failures are counted under (one per scrape URL, or the Prometheus source). */
  readonly errorSources: readonly string[];
  /** Unix ms of the newest observation stored by this process, if any. */
  readonly lastObservationMs: number | undefined;
  /** The collection in flight, if any (settles when it ends; never rejects). */
  readonly inFlight: Promise<CollectOutcome> | undefined;
  /** Collects once. Never rejects. */
  collect(): Promise<CollectOutcome>;
  /** Aborts an in-flight collection without waiting for it (it settles soon after). */
  abort(): void;
  /** Aborts an in-flight collection and waits for it. */
  stop(): Promise<void>;
}

/** Options of {@link createCollector}. */
export interface CollectorOptions {
  config: ServeConfig;
  store: HistoryStore;
  /** The kinds `config.source.kind` is looked up in. Default: the shipped ones. */
  sources?: SourceRegistry;
  /**
   * Called once per failure and per target it concerns: a failure naming one of `errorSources`
   * counts for that one, any other (e.g. the history refusing the read) for every target.
   * Must not throw.
   */
  onError(error: SourceError): void;
  /** A counter of the scraped metric went down (kinds that make rates pass it to their source). Must not throw. */
  onCounterReset?: (event: CounterResetEvent) => void;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
  /** Live kinds only: every exposition fetched (see `SourceContext.onExposition`). */
  onExposition?: (url: string, text: string, atMs: number) => void;
}

/**
 * Creates the collector for `config.source`, storing into the series named `config.metric`.
 * @throws Error for a kind the registry does not know; OptionError from the kind's factory.
 */
export function createCollector(options: CollectorOptions): Collector {
  const { config, store, onError } = options;
  const kind = (options.sources ?? DEFAULT_SOURCES).require(config.source.kind);
  const clock = options.now ?? Date.now;
  const stepMs = config.stepSeconds * 1000;
  const series = config.metric;
  const { name, errorSources } = kind.names(config.source);
  const context: SourceContext = {
    metric: config.metric,
    stepMs,
    now: clock,
    ...(kind.live && options.onExposition ? { onExposition: options.onExposition } : {}),
    ...(options.onCounterReset ? { onCounterReset: options.onCounterReset } : {}),
  };
  const source = kind.create(config.source, context);
  let abort = new AbortController();
  let lastObservationMs: number | undefined;
  let inFlight: Promise<CollectOutcome> | undefined;

  function failed(error: unknown): CollectOutcome {
    const failures = failuresOf(error, name);
    for (const failure of failures) {
      if (errorSources.length === 0 || errorSources.includes(failure.source)) onError(failure);
      // Not one target's failure (the store refused the read): every target's collection failed.
      else
        for (const target of errorSources)
          onError(new SourceError(target, failure.detail, { cause: failure }));
    }
    return { status: 'failed', message: failures.map((f) => f.message).join('; ') };
  }

  async function once(): Promise<CollectOutcome> {
    const endMs = Math.floor(clock() / stepMs) * stepMs;
    const last = store.lastTimestamp(series);
    const startMs = last === undefined ? endMs - (store.capacity - 1) * stepMs : last + stepMs;
    const { signal } = abort;
    let read: Awaited<ReturnType<typeof source.read>>;
    try {
      read = await source.read({ startMs, endMs, signal });
    } catch (error) {
      if (signal.aborted) return { status: 'ok', appended: 0 };
      return failed(error);
    }
    let appended = 0;
    try {
      for (let k = 0; k < read.values.length; k++) {
        const v = read.values[k] as number;
        if (!Number.isFinite(v)) continue;
        const at = read.startMs + k * read.stepMs;
        store.append(series, at, v);
        lastObservationMs = at;
        appended++;
      }
    } catch (error) {
      // The store refused a point (out of order, invalid): the source's fault as far as the
      // operator can tell, so it is counted like any other failure of it.
      return failed(error);
    }
    return { status: 'ok', appended };
  }

  return {
    name,
    errorSources,
    get lastObservationMs() {
      return lastObservationMs;
    },
    get inFlight() {
      return inFlight;
    },
    collect() {
      inFlight ??= once()
        .catch(failed)
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    },
    abort() {
      abort.abort();
      abort = new AbortController();
    },
    async stop() {
      abort.abort();
      abort = new AbortController();
      await inFlight;
    },
  };
}
