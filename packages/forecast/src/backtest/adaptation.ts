import { BAND_TARGET, type Band } from './quantiles.js';

/**
 * The live state of the adaptive correction of a p90 band (adaptive conformal inference,
 * Gibbs & Candes 2021): the quantile level the band is read at moves up after each actual
 * above the p90 and down after each one below, so that over time the share of misses tends
 * to 1 - `target` even when the errors drift away from what the band was calibrated on.
 * Plain JSON: persist it beside the model.
 */
export interface BandAdaptation {
  /** Coverage aimed at (0.9 for a p90). */
  readonly target: number;
  /** Step size per scored point (larger reacts faster and jitters more). */
  readonly gamma: number;
  /** The level the band's conformity scores are read at now. */
  readonly level: number;
  /** Points scored so far. */
  readonly points: number;
  /** Of those, actuals at or below their p90. */
  readonly covered: number;
}

/** Options of {@link createBandAdaptation}. */
export interface BandAdaptationOptions {
  /** Coverage aimed at, in (0.5, 0.99]. Default 0.9 (the band is a p90). */
  target?: number;
  /** Step size per scored point, in (0, 0.1]. Default 0.005. */
  gamma?: number;
}

/** Lowest and highest level the correction may read the scores at. */
const MIN_LEVEL = 0.5;
const MAX_LEVEL = 0.999;

/**
 * A fresh adaptive correction at its target level.
 * @throws Error naming `target` or `gamma` when out of range.
 */
export function createBandAdaptation(options: BandAdaptationOptions = {}): BandAdaptation {
  const target = options.target ?? BAND_TARGET;
  const gamma = options.gamma ?? 0.005;
  if (!(target > 0.5 && target <= 0.99))
    throw new Error(`target must be in (0.5, 0.99], got ${String(options.target)}`);
  if (!(gamma > 0 && gamma <= 0.1))
    throw new Error(`gamma must be in (0, 0.1], got ${String(options.gamma)}`);
  return { target, gamma, level: target, points: 0, covered: 0 };
}

/**
 * The state after scoring matured forecast points: each actual above its p90 raises the
 * level by gamma x target, each one at or below lowers it by gamma x (1 - target). Pairs
 * with a non-finite member are ignored. Pure: returns a new state.
 */
export function adaptBand(
  state: BandAdaptation,
  p90: ArrayLike<number>,
  actual: ArrayLike<number>,
): BandAdaptation {
  let { level, points, covered } = state;
  const n = Math.min(p90.length, actual.length);
  for (let i = 0; i < n; i++) {
    const a = actual[i] as number;
    const u = p90[i] as number;
    if (!Number.isFinite(a) || !Number.isFinite(u)) continue;
    const miss = a > u ? 1 : 0;
    level = Math.min(
      MAX_LEVEL,
      Math.max(MIN_LEVEL, level + state.gamma * (miss - (1 - state.target))),
    );
    points++;
    covered += 1 - miss;
  }
  return { ...state, level, points, covered };
}

/**
 * The shift `band` is read with under `state`: its conformity scores' conformal quantile at
 * the adapted level. Without scores (or without a state) the band's own shift.
 */
export function adaptedShift(band: Band, state?: BandAdaptation): number {
  const scores = band.scores;
  if (!state || !scores || scores.length === 0) return band.shift ?? 0;
  const n = scores.length;
  const rank = Math.min(n, Math.max(1, Math.ceil((n + 1) * state.level)));
  return scores[rank - 1] as number;
}
