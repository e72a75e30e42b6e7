import { quantile } from '../models/stats.js';

/**
 * How forecast errors scale with the forecast: `error / (forecast + floor) ** power`. Counts
 * behave like Poisson (power 0.5), big aggregates like proportional noise (power 1), flat
 * noise is power 0: the power is chosen per series by pinball loss on holdout residuals.
 */
export interface Band {
  readonly power: 0 | 0.5 | 1;
  /** Keeps the divisor positive at night troughs; a small share of the mean level. */
  readonly floor: number;
  /** The 0.9-quantile of the normalised residuals (actual - forecast). */
  readonly q90: number;
}

/** Pinball (quantile) loss of predicting `pred` for `actual` at quantile `q`. */
export function pinball(actual: number, pred: number, q: number): number {
  const d = actual - pred;
  return d >= 0 ? q * d : (q - 1) * d;
}

/**
 * Fits a p90 band from paired holdout forecasts and actuals. With no residuals the band is
 * degenerate (p90 = p50) so callers can see coverage collapse rather than invent a width.
 */
export function fitBand(
  forecasts: ArrayLike<number>,
  actuals: ArrayLike<number>,
  level: number,
): Band {
  const floor = Math.max(1e-9, 0.01 * Math.abs(level));
  let best: Band = { power: 0, floor, q90: 0 };
  let bestLoss = Number.POSITIVE_INFINITY;
  for (const power of [0, 0.5, 1] as const) {
    const z = new Float64Array(forecasts.length);
    for (let i = 0; i < z.length; i++) {
      const f = forecasts[i] as number;
      z[i] = ((actuals[i] as number) - f) / (Math.max(f, 0) + floor) ** power;
    }
    const q90 = z.length > 0 ? quantile(z, 0.9) : 0;
    const band: Band = { power, floor, q90 };
    let loss = 0;
    for (let i = 0; i < z.length; i++)
      loss += pinball(actuals[i] as number, upper(band, forecasts[i] as number), 0.9);
    if (loss < bestLoss) {
      bestLoss = loss;
      best = band;
    }
  }
  return best;
}

/** The p90 for a median forecast `p50` under `band` (never below the median). */
export function upper(band: Band, p50: number): number {
  return Math.max(p50, p50 + band.q90 * (Math.max(p50, 0) + band.floor) ** band.power);
}
