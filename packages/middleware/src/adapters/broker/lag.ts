import type { HistogramSeries } from '../../internal/family.js';
import type { Recorder } from '../../internal/recorder.js';

/**
 * Observes one message's delivery lag `recipients` times (one per socket written) in
 * `delivery_lag_seconds{transport}`: the writes of one fan-out happen in one synchronous
 * loop, so they share one clock reading, and the bucket is found once, not per socket.
 *
 * Lag is this host's `Date.now()` minus the publishing host's stamp, so across hosts it
 * includes their clock offset; a negative result (the publisher's clock ahead by more than
 * the transit time) is recorded as 0, since histograms take no negative observations.
 *
 * @param stampMs publish time in epoch ms (>= 0).
 * @param nowMs this host's `Date.now()` at the writes.
 */
export function observeLag(
  recorder: Recorder,
  transport: string,
  stampMs: number,
  nowMs: number,
  recipients: number,
): void {
  if (!(recipients > 0)) return;
  const v = nowMs > stampMs ? (nowMs - stampMs) / 1000 : 0;
  const fam = recorder.family('deliveryLag');
  const s = fam.get([transport]) as HistogramSeries;
  const b = s.bounds;
  let i = 0;
  while (i < b.length && v > b[i]!) i++;
  s.counts[i]! += recipients;
  s.sum += v * recipients;
  s.count += recipients;
  const otel = fam.otel;
  if (otel !== null) for (let k = 0; k < recipients; k++) otel.record(v, s.attrs);
}
