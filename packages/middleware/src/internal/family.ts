import type { Attributes, Histogram } from '@opentelemetry/api';
import { type MetricSpec, OVERFLOW_VALUE } from '@tidewatch/conventions';

/** A stored series of a counter or gauge: label values in catalogue order plus a number. */
export interface ValueSeries {
  readonly values: readonly string[];
  /** The same labels as an OpenTelemetry attribute set, built once per series. */
  readonly attrs: Attributes;
  value: number;
}

/** A stored series of a histogram; `counts` is per bucket (not cumulative), last = +Inf. */
export interface HistogramSeries {
  readonly values: readonly string[];
  readonly attrs: Attributes;
  readonly bounds: readonly number[];
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

export type AnySeries = ValueSeries | HistogramSeries;

/** Longest label value kept; longer values are cut so one series cannot hold a megabyte. */
const MAX_LABEL_LENGTH = 128;

/** Makes an arbitrary classifier result a safe, bounded label value. */
export function labelValue(v: unknown, fallback = 'unknown'): string {
  if (typeof v !== 'string') {
    if (v === undefined || v === null) return fallback;
    v = String(v);
  }
  const s = v as string;
  if (s.length === 0) return fallback;
  return s.length > MAX_LABEL_LENGTH ? s.slice(0, MAX_LABEL_LENGTH) : s;
}

/**
 * Exposed series one label set of `spec` costs: a histogram's is one `_bucket` per bound,
 * one for `le="+Inf"`, `_sum` and `_count` (buckets + 3, what prom-client writes; it adds
 * no `_created`); a counter's or gauge's is 1.
 */
export function seriesPerLabelSet(spec: MetricSpec): number {
  return spec.type === 'histogram' ? (spec.buckets?.length ?? 0) + 3 : 1;
}

/**
 * Label sets the overflow of `spec` can take: one per combination of its closed labels'
 * values (open-ended labels all become `__overflow__`).
 */
export function overflowLabelSets(spec: MetricSpec): number {
  let n = 1;
  for (const l of spec.labels) if (l.values !== undefined) n *= l.values.length;
  return n;
}

/** The smallest series cap of `spec` that holds one real label set next to the overflow room. */
export function minSeriesCap(spec: MetricSpec): number {
  return seriesPerLabelSet(spec) * (1 + overflowLabelSets(spec));
}

/**
 * All series of one catalogue metric, behind the cardinality guard. `cap` bounds the
 * series the metric exposes (see {@link seriesPerLabelSet}), not its label sets: room for
 * every overflow label set is reserved up front, and real label values get the rest. Past
 * that, open-ended label values (those without a closed value set in the catalogue) fold
 * into `__overflow__` while closed ones (direction, reason) are kept, so the exposed series
 * never exceed `cap`, before or after overflow.
 */
export class Family<S extends AnySeries = AnySeries> {
  readonly spec: MetricSpec;
  readonly fullName: string;
  /** Exposed series this metric may reach, overflow included. */
  readonly cap: number;
  readonly series = new Map<string, S>();
  /** Exposed series per label set: buckets + 3 for a histogram, else 1. */
  readonly cost: number;
  /** Label sets with real (non-overflow) values allowed: what the overflow room leaves. */
  readonly maxLabelSets: number;
  /** Exposed series in use, overflow included; never above `cap`. */
  private used = 0;
  /** Label sets with real values created so far, compared against `maxLabelSets`. */
  private normal = 0;
  private readonly open: boolean[];
  private readonly closed: Array<ReadonlySet<string> | undefined>;
  private readonly labelNames: string[];
  /** Called with the metric name whenever a label set is folded. */
  onDrop: (fullName: string) => void = () => {};
  /** Set by the OpenTelemetry sink for histograms that record at event time. */
  otel: Histogram | null = null;

  /**
   * @param cap exposed series, overflow included; at least {@link minSeriesCap}.
   * @throws {RangeError} for a smaller cap (`createRealtimeMetrics` checks first, naming the option).
   */
  constructor(spec: MetricSpec, fullName: string, cap: number) {
    if (!(cap >= minSeriesCap(spec))) {
      throw new RangeError(`${fullName}: series cap ${cap} is below ${minSeriesCap(spec)}`);
    }
    this.spec = spec;
    this.fullName = fullName;
    this.cap = cap;
    this.cost = seriesPerLabelSet(spec);
    this.maxLabelSets = Math.floor(cap / this.cost) - overflowLabelSets(spec);
    this.labelNames = spec.labels.map((l) => l.name);
    this.open = spec.labels.map((l) => l.values === undefined);
    this.closed = spec.labels.map((l) => (l.values ? new Set(l.values) : undefined));
  }

  /** The series for these label values (catalogue order), created on first use. */
  get(values: readonly string[]): S {
    const key = values.length === 1 ? values[0]! : values.join('\u0001');
    const found = this.series.get(key);
    if (found !== undefined) return found;
    if (this.normal < this.maxLabelSets) {
      this.normal++;
      return this.create(key, values);
    }
    this.onDrop(this.fullName);
    const folded = values.map((v, i) => (this.open[i] ? OVERFLOW_VALUE : v));
    const foldedKey = folded.join('\u0001');
    const existing = this.series.get(foldedKey);
    if (existing !== undefined) return existing;
    // The reserve covers every combination of closed values from the catalogue; a value
    // outside its closed set (a bug upstream) gets a series that is counted but never
    // exposed, so the cap holds whatever the caller passes.
    const inCatalogue = folded.every((v, i) => this.closed[i]?.has(v) ?? true);
    return inCatalogue ? this.create(foldedKey, folded) : this.make(folded);
  }

  private create(key: string, values: readonly string[]): S {
    const s = this.make(values);
    this.series.set(key, s);
    this.used += this.cost;
    return s;
  }

  private make(values: readonly string[]): S {
    const attrs: Record<string, string> = {};
    for (let i = 0; i < values.length; i++) attrs[this.labelNames[i]!] = values[i]!;
    let s: AnySeries;
    if (this.spec.type === 'histogram') {
      const bounds = this.spec.buckets ?? [];
      s = { values, attrs, bounds, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
    } else {
      s = { values, attrs, value: 0 };
    }
    return s as S;
  }

  /**
   * Drops a series made by {@link get} and gives its room back to the cap (the top-K room
   * tracker drops a room's series when it leaves the top K). An `__overflow__` series is
   * never dropped: other label sets may have folded into it.
   * @returns whether a series was dropped.
   */
  remove(values: readonly string[]): boolean {
    const key = values.length === 1 ? values[0]! : values.join('\u0001');
    if (!this.series.has(key) || values.includes(OVERFLOW_VALUE)) return false;
    this.series.delete(key);
    this.used -= this.cost;
    this.normal--;
    return true;
  }

  /** Exposed series in use, overflow included; at most `cap`. */
  get exposed(): number {
    return this.used;
  }

  /** Label names in catalogue order. */
  get labels(): readonly string[] {
    return this.labelNames;
  }

  /** Zeroes every series (gauges before a scrape pass; `Registry.resetMetrics()`). */
  zero(): void {
    for (const s of this.series.values()) {
      if ('counts' in s) {
        s.counts.fill(0);
        s.sum = 0;
        s.count = 0;
      } else {
        s.value = 0;
      }
    }
  }
}

/** Adds one observation to a histogram series. Linear scan: small values hit early. */
export function observe(s: HistogramSeries, v: number): void {
  const b = s.bounds;
  let i = 0;
  while (i < b.length && v > b[i]!) i++;
  s.counts[i]!++;
  s.sum += v;
  s.count++;
}
