/** Metric names the phantom-metric tests accept: the catalogue's and the sidecar's. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOG, METRIC_KEYS } from '@tidewatch/conventions';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

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

/** The sidecar's signals, from the metric table of docs/sidecar.md. */
export function sidecarSignals(): Set<string> {
  const doc = readFileSync(join(root, 'docs', 'sidecar.md'), 'utf8');
  return new Set([...doc.matchAll(/^\| `(tidewatch_[a-z0-9_]+)` \|/gm)].map((m) => m[1] as string));
}
