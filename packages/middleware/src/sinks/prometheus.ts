import type { MetricKey } from '@tidewatch/conventions';
import type { Registry } from 'prom-client';
import type { AnySeries, Family, HistogramSeries, ValueSeries } from '../internal/family.js';
import type { Recorder } from '../internal/recorder.js';

/** Marks metric objects owned by tidewatch, across duplicate copies of this package. */
export const kTidewatchMetric = Symbol.for('tidewatch.metric');

interface PromValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** What prom-client's `Registry` reads from a metric: `get()` plus a few fields. */
interface PromMetricData {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  values: PromValue[];
  aggregator: string;
}

/**
 * A prom-client metric whose values live in the recorder. prom-client has no bulk
 * histogram API and a call per message costs ~1.9 µs, so instead of prom-client's own
 * Counter/Histogram we register objects that only need `get()`: the values are folded in
 * from tidewatch's accumulators when the registry is scraped.
 */
export class CatalogMetric {
  readonly [kTidewatchMetric] = true;
  /** Writable: prom-client renames counters in OpenMetrics mode. */
  name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: string;
  readonly key: MetricKey;
  private readonly recorder: Recorder;
  private readonly fam: Family<AnySeries>;

  constructor(recorder: Recorder, key: MetricKey) {
    this.recorder = recorder;
    this.key = key;
    this.fam = recorder.family(key) as Family<AnySeries>;
    this.name = this.fam.fullName;
    this.help = this.fam.spec.help;
    this.type = this.fam.spec.type;
    this.aggregator = this.fam.spec.aggregation;
  }

  /** Never rejects: a failure is counted and an empty family is served. */
  async get(): Promise<PromMetricData> {
    let values: PromValue[] = [];
    try {
      if (this.fam.spec.source === 'scrape') this.recorder.collect();
      values = this.type === 'histogram' ? this.histogramValues() : this.plainValues();
    } catch (err) {
      this.recorder.error('collect', err);
    }
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  reset(): void {
    if (this.fam.spec.source === 'event') this.fam.zero();
  }

  private plainValues(): PromValue[] {
    const out: PromValue[] = [];
    for (const s of this.fam.series.values()) {
      out.push({
        value: (s as ValueSeries).value,
        labels: { ...s.attrs } as Record<string, string>,
      });
    }
    return out;
  }

  private histogramValues(): PromValue[] {
    const out: PromValue[] = [];
    const base = this.name;
    for (const raw of this.fam.series.values()) {
      const s = raw as HistogramSeries;
      const labels = s.attrs as Record<string, string>;
      let cum = 0;
      for (let i = 0; i < s.bounds.length; i++) {
        cum += s.counts[i]!;
        out.push({
          value: cum,
          labels: { ...labels, le: s.bounds[i]! },
          metricName: `${base}_bucket`,
        });
      }
      out.push({ value: s.count, labels: { ...labels, le: '+Inf' }, metricName: `${base}_bucket` });
      out.push({ value: s.sum, labels: { ...labels }, metricName: `${base}_sum` });
      out.push({ value: s.count, labels: { ...labels }, metricName: `${base}_count` });
    }
    return out;
  }
}

/** True when `metric` is a tidewatch metric object (from any copy of this package). */
export function isTidewatchMetric(metric: unknown): metric is CatalogMetric {
  return typeof metric === 'object' && metric !== null && kTidewatchMetric in metric;
}

/** Registers every catalogue metric of `recorder` in `registry`. */
export function registerAll(recorder: Recorder, registry: Registry): CatalogMetric[] {
  const metrics: CatalogMetric[] = [];
  for (const [key] of recorder.all()) {
    const m = new CatalogMetric(recorder, key);
    registry.registerMetric(m as never);
    metrics.push(m);
  }
  return metrics;
}
