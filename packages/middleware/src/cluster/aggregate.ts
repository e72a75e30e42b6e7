import { AggregatorRegistry, Registry } from 'prom-client';
import type { MetricJson } from './protocol.js';

/** Receives errors caught while aggregating; `site` says where. */
export type AggregationErrorHook = (error: unknown, site: string) => void;

/**
 * Aggregates snapshots (each one worker's `getMetricsAsJSON()`) into a new Registry with
 * prom-client's own `AggregatorRegistry.aggregate`, each metric's `aggregator` deciding
 * how (sum, max, ...). Done family by family: prom-client throws for the whole batch on
 * one unknown aggregator, and one odd metric must cost only itself.
 */
export function aggregate(
  snapshots: ReadonlyArray<readonly MetricJson[]>,
  onError: AggregationErrorHook,
): Registry {
  const registry = new Registry();
  const byName = new Map<string, MetricJson[]>();
  for (const snap of snapshots) {
    for (const m of snap) {
      const group = byName.get(m.name);
      if (group) group.push(m);
      else byName.set(m.name, [m]);
    }
  }
  for (const [name, group] of byName) {
    try {
      // prom-client documents a missing aggregator as `sum` but throws on it; metric
      // objects of other libraries (or hand-written ones) often have none.
      const first = group[0]!;
      const input = first.aggregator === undefined ? [{ ...first, aggregator: 'sum' }] : [first];
      for (let i = 1; i < group.length; i++) input.push(group[i]!);
      const one = AggregatorRegistry.aggregate([input]);
      for (const metric of one.getMetricsAsArray()) registry.registerMetric(metric as never);
    } catch (err) {
      onError(new Error(`aggregating ${name}: ${(err as Error)?.message ?? err}`), 'aggregate');
    }
  }
  return registry;
}

/** Families of a registry built by {@link aggregate}, back as JSON (their `get()` is sync). */
function toJson(registry: Registry): MetricJson[] {
  return registry
    .getMetricsAsArray()
    .map((m) => (m as unknown as { get(): MetricJson }).get())
    .map(({ name, help, type, aggregator, values }) => ({ name, help, type, aggregator, values }));
}

/**
 * Adds the counters and histograms of a worker that is gone to the running totals of all
 * gone workers. Dropping them would make the cluster's sums fall, which Prometheus reads as
 * a counter reset: `rate()` would then count the whole remaining total as new increase.
 * Gauges and non-summed metrics describe live state and are dropped.
 */
export function retire(
  retired: readonly MetricJson[],
  gone: readonly MetricJson[],
  onError: AggregationErrorHook,
): MetricJson[] {
  const monotonic = gone
    .filter(
      (m) => (m.type === 'counter' || m.type === 'histogram') && (m.aggregator ?? 'sum') === 'sum',
    )
    .map((m) => (m.aggregator === undefined ? { ...m, aggregator: 'sum' } : m));
  if (monotonic.length === 0) return [...retired];
  return toJson(aggregate([retired, monotonic], onError));
}
