/** Small numeric helpers shared by the models and the backtest (no allocation in loops). */

/** Median of `values[from..to)` skipping NaN; NaN when none. Sorts a scratch copy. */
export function median(values: ArrayLike<number>, scratch?: Float64Array): number {
  const buf =
    scratch && scratch.length >= values.length ? scratch : new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isNaN(v)) buf[n++] = v;
  }
  if (n === 0) return Number.NaN;
  const view = buf.subarray(0, n).sort();
  return n % 2 === 1
    ? (view[(n - 1) / 2] as number)
    : ((view[n / 2 - 1] as number) + (view[n / 2] as number)) / 2;
}

/** Median of `buf` (NaN-free), sorting it in place: for hot loops with a scratch buffer. */
export function medianInPlace(buf: Float64Array): number {
  const n = buf.length;
  if (n === 0) return Number.NaN;
  buf.sort();
  return n % 2 === 1
    ? (buf[(n - 1) / 2] as number)
    : ((buf[n / 2 - 1] as number) + (buf[n / 2] as number)) / 2;
}

/** The `q`-quantile (0..1) of `values` by linear interpolation; NaN for an empty input. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const sorted = Float64Array.from(values).sort();
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/**
 * Mean absolute error of the seasonal naive forecast with period `m` inside `y`: the MASE
 * denominator. Falls back to period 1 when `y` is shorter than two periods, and to 1 when
 * the series is constant (so MASE stays finite).
 */
export function seasonalMae(y: ArrayLike<number>, m: number): number {
  const period = y.length > m ? Math.max(1, Math.round(m)) : 1;
  let sum = 0;
  let n = 0;
  for (let i = period; i < y.length; i++) {
    const d = Math.abs((y[i] as number) - (y[i - period] as number));
    if (!Number.isNaN(d)) {
      sum += d;
      n++;
    }
  }
  const mae = n > 0 ? sum / n : 0;
  return mae > 0 ? mae : 1;
}
