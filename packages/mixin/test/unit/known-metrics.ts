/**
 * Metric names the phantom-metric tests accept: the catalogue's, the sidecar's, and the
 * standard series a server exposes without tidewatch.
 */
import { CATALOG, METRIC_KEYS, SIGNAL_KEYS, SIGNALS } from '@tidewatch/conventions';

/** Catalogue metrics as Prometheus exposes them: histograms as _bucket/_sum/_count. */
export function catalogueNames(prefix: string): Set<string> {
  const names = new Set<string>();
  for (const key of METRIC_KEYS) {
    const spec = CATALOG[key];
    const name = `${prefix}${spec.name}`;
    if (spec.type === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
    else names.add(name);
  }
  return names;
}

/** The sidecar's signals, from its catalogue (docs/sidecar.md's table is checked against it). */
export function sidecarSignals(): Set<string> {
  return new Set(SIGNAL_KEYS.map((key) => SIGNALS[key].name));
}

/**
 * Standard series of any scraped Node.js server: Prometheus' own `up` and prom-client's
 * `collectDefaultMetrics()` ones the dashboards and rules read.
 */
export const STANDARD_METRICS = [
  'up',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_open_fds',
  'process_max_fds',
  'process_start_time_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_gc_duration_seconds_sum',
] as const;
