import { quantile } from '../models/stats.js';

/**
 * The p90 band of a forecast. Residuals are normalised by how errors scale with the
 * forecast, `error / (forecast + floor) ** power`: counts behave like Poisson (power 0.5),
 * big aggregates like proportional noise (power 1), flat noise is power 0; the power is
 * chosen per series by pinball loss on holdout residuals. Then, per horizon step, the
 * split-conformal quantile of those normalised residuals (`steps`), moved by `shift`: the
 * conformalised-quantile-regression correction (Romano et al. 2019) measured on rolling-origin
 * forecasts the model never saw, because holdout residuals of a model whose settings were
 * chosen on that same holdout are optimistic.
 */
export interface Band {
  readonly power: 0 | 0.5 | 1;
  /** Keeps the divisor positive at night troughs; a small share of the mean level. */
  readonly floor: number;
  /** The 0.9-quantile of the normalised residuals (actual - forecast), all steps pooled. */
  readonly q90: number;
  /**
   * Per horizon step (0-based), the conformal 0.9-quantile of the normalised residuals at
   * that step and its neighbours. Absent in bands saved before per-step calibration: then
   * `q90` serves every step.
   */
  readonly steps?: readonly number[];
  /**
   * Added to every step's quantile (normalised units): the conformal quantile of the
   * rolling-origin conformity scores (0 = the holdout band was right). Default 0.
   */
  readonly shift?: number;
  /**
   * Sorted conformity scores `z - steps[k]` of the rolling-origin forecasts (z the normalised
   * residual at step k): the adaptive correction reads other levels than the target from
   * them. Absent when no rolling-origin forecast was available.
   */
  readonly scores?: readonly number[];
}

/** The coverage the band aims at. */
export const BAND_TARGET = 0.9;

/** Fewest residuals a per-step quantile is taken over: neighbouring steps are pooled. */
const MIN_STEP_SAMPLES = 40;

/** Pinball (quantile) loss of predicting `pred` for `actual` at quantile `q`. */
export function pinball(actual: number, pred: number, q: number): number {
  const d = actual - pred;
  return d >= 0 ? q * d : (q - 1) * d;
}

/**
 * The split-conformal quantile of `values` at `level`: the ceil((n + 1) x level)-th smallest,
 * which covers a fresh exchangeable draw with probability at least `level`. When n is too
 * small for that rank, the largest value (the band cannot be honest with fewer points).
 * NaN for no values.
 */
export function conformalQuantile(values: ArrayLike<number>, level: number): number {
  const n = values.length;
  if (n === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(n, Math.max(1, Math.ceil((n + 1) * level)));
  return sorted[rank - 1] as number;
}

/**
 * Fits a p90 band from paired holdout forecasts and actuals. With `horizon`, the pairs are
 * whole forecasts laid end to end (origin-major, `horizon` points each) and the band gets a
 * conformal quantile per step. With no residuals the band is degenerate (p90 = p50) so
 * callers can see coverage collapse rather than invent a width.
 */
export function fitBand(
  forecasts: ArrayLike<number>,
  actuals: ArrayLike<number>,
  level: number,
  horizon?: number,
): Band {
  const floor = Math.max(1e-9, 0.01 * Math.abs(level));
  let best: Band = { power: 0, floor, q90: 0 };
  let bestZ = new Float64Array(0);
  let bestLoss = Number.POSITIVE_INFINITY;
  for (const power of [0, 0.5, 1] as const) {
    const z = new Float64Array(forecasts.length);
    for (let i = 0; i < z.length; i++) {
      const f = forecasts[i] as number;
      z[i] = ((actuals[i] as number) - f) / (Math.max(f, 0) + floor) ** power;
    }
    const q90 = z.length > 0 ? quantile(z, BAND_TARGET) : 0;
    const band: Band = { power, floor, q90 };
    let loss = 0;
    for (let i = 0; i < z.length; i++)
      loss += pinball(actuals[i] as number, upper(band, forecasts[i] as number), BAND_TARGET);
    if (loss < bestLoss) {
      bestLoss = loss;
      best = band;
      bestZ = z;
    }
  }
  if (!horizon || bestZ.length < horizon) return best;
  return { ...best, steps: stepQuantiles(bestZ, horizon) };
}

/**
 * Per step k, the conformal quantile of the normalised residuals at steps k - w .. k + w of
 * every origin, w the smallest half-width giving {@link MIN_STEP_SAMPLES} residuals: errors
 * change smoothly with lead time, and a p90 from 14 samples is mostly noise.
 */
function stepQuantiles(z: Float64Array, horizon: number): number[] {
  const origins = Math.floor(z.length / horizon);
  const w = Math.min(
    horizon - 1,
    Math.max(0, Math.ceil((MIN_STEP_SAMPLES / Math.max(1, origins) - 1) / 2)),
  );
  const out: number[] = [];
  const pool: number[] = [];
  for (let k = 0; k < horizon; k++) {
    pool.length = 0;
    for (let j = Math.max(0, k - w); j <= Math.min(horizon - 1, k + w); j++)
      for (let o = 0; o < origins; o++) pool.push(z[o * horizon + j] as number);
    out.push(conformalQuantile(pool, BAND_TARGET));
  }
  return out;
}

/** The holdout quantile (normalised units) at horizon step `step`. */
export function stepQuantile(band: Band, step = 0): number {
  const steps = band.steps;
  return steps && steps.length > 0 ? (steps[Math.min(step, steps.length - 1)] as number) : band.q90;
}

/** What a residual at forecast `p50` is divided by to normalise it. */
export function bandNorm(band: Band, p50: number): number {
  return (Math.max(p50, 0) + band.floor) ** band.power;
}

/**
 * The p90 for a median forecast `p50` at horizon step `step` (0-based) under `band`, never
 * below the median. `shift` overrides the band's own conformal shift (the adaptive
 * correction passes the one for its current level).
 */
export function upper(band: Band, p50: number, step = 0, shift = band.shift ?? 0): number {
  return p50 + Math.max(0, stepQuantile(band, step) + shift) * bandNorm(band, p50);
}

/**
 * Conformalises `band` with rolling-origin forecasts the model never saw: `forecasts` and
 * `actuals` are whole forecasts laid end to end (`horizon` points each, origin-major). The
 * conformity score of a point at step k is its residual normalised as the band does, minus
 * the band's quantile at k; the shift is the conformal 0.9-quantile of the scores, so the
 * returned band covers at least 90 % of such forecasts (exchangeability assumed). The sorted
 * scores are kept for the adaptive correction.
 */
export function conformalise(
  band: Band,
  forecasts: ArrayLike<number>,
  actuals: ArrayLike<number>,
  horizon: number,
): Band {
  const n = Math.min(forecasts.length, actuals.length);
  if (n === 0) return band;
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const f = forecasts[i] as number;
    const z = ((actuals[i] as number) - f) / bandNorm(band, f);
    scores[i] = z - stepQuantile(band, i % horizon);
  }
  scores.sort();
  return { ...band, shift: conformalQuantile(scores, BAND_TARGET), scores: Array.from(scores) };
}
