/** Restricting a series to a requested time range, shared by the sources. */
import type { Series } from '../series.js';

/**
 * The points of `series` with `startMs <= t <= endMs` (either bound optional), as a copy.
 * An empty range gives zero points starting at the first grid time >= `startMs`.
 */
export function clipSeries(series: Series, startMs?: number, endMs?: number): Series {
  const n = series.values.length;
  const { stepMs } = series;
  const from =
    startMs === undefined ? 0 : Math.max(0, Math.ceil((startMs - series.startMs) / stepMs));
  const to =
    endMs === undefined ? n : Math.min(n, Math.floor((endMs - series.startMs) / stepMs) + 1);
  const values = new Float64Array(Math.max(0, to - from));
  for (let k = 0; k < values.length; k++) values[k] = Number(series.values[from + k]);
  return { startMs: series.startMs + from * stepMs, stepMs, values };
}
