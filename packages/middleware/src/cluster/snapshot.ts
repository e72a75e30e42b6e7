import type { Registry } from 'prom-client';
import type { ValueSeries } from '../internal/family.js';
import type { Recorder } from '../internal/recorder.js';
import { internalsOf, type RealtimeMetrics } from '../metrics.js';
import type { MetricJson } from './protocol.js';

const kInstances = Symbol.for('tidewatch.instances');
const TIMED_OUT = Symbol('timed out');

/** What one worker collected for one request. */
export interface Snapshot {
  metrics: MetricJson[];
  /** Names of the metrics whose collector threw or did not finish in time. */
  failed: string[];
}

interface NamedMetric {
  name: string;
}

/** The recorder of the tidewatch metrics registered in `registry`, if any. */
function recorderOf(registry: Registry): Recorder | undefined {
  const instances = (registry as unknown as { [kInstances]?: Map<string, RealtimeMetrics> })[
    kInstances
  ];
  const owner = instances?.values().next().value;
  return owner ? internalsOf(owner).recorder : undefined;
}

/**
 * Collects every metric of `registries` on its own, like `getMetricsAsJSON()` (default
 * labels included) but so that one throwing or hanging collector costs only its own
 * family: it is named in `failed`, counted in `scrape_errors_total{metric}` when the
 * registry holds tidewatch metrics, and the rest is answered within `budgetMs`.
 */
export async function snapshot(
  registries: Iterable<Registry>,
  budgetMs: number,
): Promise<Snapshot> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), budgetMs);
  });
  const jobs: Array<Promise<{ metrics: MetricJson[]; failed?: string }>> = [];
  for (const registry of registries) {
    const recorder = recorderOf(registry);
    const onFail = (name: string, err: unknown) => {
      if (!recorder) return;
      (recorder.series('scrapeErrors', [name]) as ValueSeries).value++;
      recorder.error('scrape', err);
    };
    for (const metric of registry.getMetricsAsArray() as unknown as NamedMetric[]) {
      // A view whose only metric is this one: prom-client's own JSON (default labels
      // merged the same way) for a single family.
      const view = Object.create(registry, {
        getMetricsAsArray: { value: () => [metric] },
      }) as Registry;
      jobs.push(
        (async () => {
          try {
            const result = await Promise.race([view.getMetricsAsJSON(), deadline]);
            if (result === TIMED_OUT) {
              onFail(metric.name, new Error(`collector did not finish within ${budgetMs} ms`));
              return { metrics: [], failed: metric.name };
            }
            return {
              metrics: result as unknown as MetricJson[],
            };
          } catch (err) {
            onFail(metric.name, err);
            return { metrics: [], failed: metric.name };
          }
        })(),
      );
    }
  }
  try {
    const parts = await Promise.all(jobs);
    const out: Snapshot = { metrics: [], failed: [] };
    for (const p of parts) {
      out.metrics.push(...p.metrics);
      if (p.failed !== undefined) out.failed.push(p.failed);
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}
