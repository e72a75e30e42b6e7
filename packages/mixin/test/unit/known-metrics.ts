/** Metric names the phantom-metric tests accept: the catalogue's and the sidecar's. */
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
