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
 * All series of one catalogue metric, behind the cardinality guard: at most `cap` series
 * with real label values; past that, open-ended label values (those without a closed value
 * set in the catalogue) fold into `__overflow__` while closed ones (direction, reason) are
 * kept, so the overflow adds at most one series per closed-label combination.
 */
export class Family<S extends AnySeries = AnySeries> {
  readonly spec: MetricSpec;
  readonly fullName: string;
  readonly cap: number;
  readonly series = new Map<string, S>();
  /** Series with real (non-overflow) label values, compared against `cap`. */
  private normal = 0;
  private readonly open: boolean[];
  private readonly labelNames: string[];
  /** Called with the metric name whenever a label set is folded. */
  onDrop: (fullName: string) => void = () => {};
  /** Set by the OpenTelemetry sink for histograms that record at event time. */
  otel: Histogram | null = null;

  constructor(spec: MetricSpec, fullName: string, cap: number) {
    this.spec = spec;
    this.fullName = fullName;
    this.cap = cap;
    this.labelNames = spec.labels.map((l) => l.name);
    this.open = spec.labels.map((l) => l.values === undefined);
  }

  /** The series for these label values (catalogue order), created on first use. */
  get(values: readonly string[]): S {
    const key = values.length === 1 ? values[0]! : values.join('\u0001');
    const found = this.series.get(key);
    if (found !== undefined) return found;
    if (this.normal < this.cap) {
      this.normal++;
      return this.create(key, values);
    }
    this.onDrop(this.fullName);
    const folded = values.map((v, i) => (this.open[i] ? OVERFLOW_VALUE : v));
    const foldedKey = folded.join('\u0001');
    return this.series.get(foldedKey) ?? this.create(foldedKey, folded);
  }

  private create(key: string, values: readonly string[]): S {
    const attrs: Record<string, string> = {};
    for (let i = 0; i < values.length; i++) attrs[this.labelNames[i]!] = values[i]!;
    let s: AnySeries;
    if (this.spec.type === 'histogram') {
      const bounds = this.spec.buckets ?? [];
      s = { values, attrs, bounds, counts: new Float64Array(bounds.length + 1), sum: 0, count: 0 };
    } else {
      s = { values, attrs, value: 0 };
    }
    this.series.set(key, s as S);
    return s as S;
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
