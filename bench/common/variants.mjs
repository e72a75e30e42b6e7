// The variants every echo benchmark server shares: the uninstrumented baseline and tidewatch
// on a fresh prom-client Registry. A benchmark's server.mjs only says how tidewatch attaches to
// its server (and adds its own hand-written peers).
import { importFromRoot, importMiddleware } from './resolve.mjs';
import { sumPromText } from './util.mjs';

/** Sum of one Prometheus text-format metric's samples whose label set holds `direction="<dir>"`. */
export function sumPromSamples(text, name, dir) {
  return sumPromText(text, name, `direction="${dir}"`);
}

/** No metrics: what the others are measured against. */
export function baselineVariant() {
  return {
    counts: false,
    scrape: async () => '',
    count: async () => ({ in: Number.NaN, out: Number.NaN }),
  };
}

/**
 * tidewatch from the built middleware (or the driver's snapshot of it).
 * @param {object} args - The server's parsed flags (`--tidewatch-dist`).
 * @param {string} subpath - The entry the adapter lives in (`ws`, `mqtt`, `grpc`).
 * @param {(entry: object, metrics: object) => () => void} attach - Instruments the server;
 *   returns the detach.
 */
export async function tidewatchVariant(args, subpath, attach) {
  const { Registry } = await importFromRoot('prom-client');
  const [mw, entry] = await importMiddleware(args, subpath);
  const registry = new Registry();
  const metrics = mw.createRealtimeMetrics({ registry });
  const detach = attach(entry, metrics);
  const scrape = () => registry.metrics();
  return {
    counts: true,
    scrape,
    count: async () => {
      const text = await scrape();
      const n = metrics.names.messages;
      return { in: sumPromSamples(text, n, 'in'), out: sumPromSamples(text, n, 'out') };
    },
    close: detach,
  };
}
