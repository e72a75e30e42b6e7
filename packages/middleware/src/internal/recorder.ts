import { diag } from '@opentelemetry/api';
import { CATALOG, METRIC_KEYS, type MetricKey, type MetricSpec } from '@tidewatch/conventions';
import {
  type AnySeries,
  Family,
  type HistogramSeries,
  observe,
  type ValueSeries,
} from './family.js';

/** Series type of each catalogue metric. */
type SeriesOf<K extends MetricKey> = (typeof CATALOG)[K]['type'] extends 'histogram'
  ? HistogramSeries
  : ValueSeries;

/** Called at collection time to refill the scrape-computed gauges from live state. */
export type Collector = (r: Recorder) => void;

/** Receives errors caught inside the instrumentation. */
export type ErrorHook = (error: unknown, site: string) => void;

/**
 * The single store every adapter writes to and every sink reads from. Adapters resolve
 * series once per connection and then do plain arithmetic on them; sinks read the
 * families at collection time.
 */
export class Recorder {
  readonly prefix: string;
  private readonly families = new Map<MetricKey, Family>();
  private readonly collectors = new Set<Collector>();
  private collected = false;
  /** Open connections and configured capacity per transport, summed over servers. */
  private readonly capacities = new Map<string, { open: number; max: number }>();
  private readonly onError: ErrorHook | undefined;
  /** Histograms that OpenTelemetry records per message; null unless a real SDK is installed. */
  otelPerMessage = false;

  constructor(prefix: string, caps: (key: MetricKey) => number, onError?: ErrorHook) {
    this.prefix = prefix;
    this.onError = onError;
    const dropped = () => this.family('seriesDropped');
    for (const key of METRIC_KEYS) {
      const spec: MetricSpec = CATALOG[key];
      const fam = new Family(spec, prefix + spec.name, caps(key));
      // Self-monitoring counters must not recurse into the guard that feeds them.
      if (key !== 'seriesDropped' && key !== 'instrumentationErrors') {
        fam.onDrop = (name) => {
          dropped().get([name]).value++;
        };
      }
      this.families.set(key, fam);
    }
  }

  /** The family of a catalogue metric. */
  family<K extends MetricKey>(key: K): Family<SeriesOf<K>> {
    return this.families.get(key) as unknown as Family<SeriesOf<K>>;
  }

  /** Shorthand: the series of `key` for these label values. */
  series<K extends MetricKey>(key: K, values: readonly string[]): SeriesOf<K> {
    return this.family(key).get(values);
  }

  /** Adds `by` to a counter series (low-frequency paths; hot paths keep the series). */
  inc(key: MetricKey, values: readonly string[], by = 1): void {
    (this.family(key).get(values) as ValueSeries).value += by;
  }

  /** Records a histogram observation in both sinks (low-frequency paths only). */
  observe(key: MetricKey, values: readonly string[], v: number): void {
    const fam = this.family(key);
    const s = fam.get(values) as unknown as HistogramSeries;
    observe(s, v);
    if (fam.otel !== null) fam.otel.record(v, s.attrs);
  }

  /** Counts an error caught inside the instrumentation and reports it; never throws. */
  error(site: string, err: unknown): void {
    try {
      (this.family('instrumentationErrors').get([site]) as ValueSeries).value++;
      diag.error(`tidewatch: ${site}`, err);
      this.onError?.(err, site);
    } catch {
      // A throwing onError hook must not turn one caught error into a host crash.
    }
  }

  addCollector(c: Collector): () => void {
    this.collectors.add(c);
    return () => {
      this.collectors.delete(c);
    };
  }

  /**
   * Recomputes the scrape gauges from live state, at most once per synchronous tick: one
   * scrape asks every metric for its values in the same tick, and a pass over 100k
   * connections should run once, not once per gauge.
   */
  collect(): void {
    if (this.collected) return;
    this.collected = true;
    queueMicrotask(() => {
      this.collected = false;
    });
    for (const fam of this.families.values()) {
      if (fam.spec.source === 'scrape') fam.zero();
    }
    this.capacities.clear();
    for (const c of this.collectors) {
      try {
        c(this);
      } catch (err) {
        this.error('collect', err);
      }
    }
    // Several servers on one transport: utilisation is total open over total capacity.
    for (const [transport, { open, max }] of this.capacities) {
      (this.family('capacityUtilization').get([transport]) as ValueSeries).value = open / max;
    }
  }

  /** Adds one server's open connections and capacity to `capacity_utilization`. */
  capacity(transport: string, open: number, max: number): void {
    const e = this.capacities.get(transport);
    if (e) {
      e.open += open;
      e.max += max;
    } else {
      this.capacities.set(transport, { open, max });
    }
  }

  /** All families in catalogue order. */
  all(): Iterable<[MetricKey, Family<AnySeries>]> {
    return this.families.entries();
  }
}
