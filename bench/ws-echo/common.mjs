// Constants and helpers shared by the ws-echo driver and server. The generic ones live in
// bench/common/ (shared with bench/sio-echo); kept dependency-free so that every process pays
// the same (tiny) import cost regardless of variant.
import { sumPromText } from '../common/util.mjs';

export const VARIANTS = ['baseline', 'tidewatch', 'prom-naive', 'otel-sdk'];

/** Endpoint path and label: one fixed value so no variant pays for label cardinality. */
export const ENDPOINT = '/ws';

/**
 * Sum of the samples of one Prometheus text-format metric whose label set contains
 * `direction="<dir>"`.
 */
export function sumPromSamples(text, name, dir) {
  return sumPromText(text, name, `direction="${dir}"`);
}
