import {
  DecomposeScratch,
  type DecomposeSettings,
  decompose,
  seasonalPeriods,
} from './decompose.js';
import { holdoutOrigins } from './holdout.js';
import type { Model, ModelContext, ModelJSON } from './types.js';

/** What a fitted {@link mstlModel} forecasts with (its serialised state). */
export interface MstlParams {
  /** Seasonal periods in steps, ascending (a day, a week, a year of steps, as the data allow). */
  periods: number[];
  /** Additive, or multiplicative (decomposed in logs, for counts whose swing scales with level). */
  transform: 'additive' | 'multiplicative';
  /** Added before the log so zeros stay finite (a twentieth of the fit history's mean). */
  offset: number;
  /** The fit history had no negative values: forecasts are clipped at 0. */
  nonNegative: boolean;
  decomposition: DecomposeSettings;
  /** Level smoothing of the seasonally adjusted series, 0..1. */
  alpha: number;
  /** Trend smoothing, 0..1. */
  beta: number;
  /** Trend damping per step, 0..1. */
  phi: number;
}

const CYCLES = [3, 6, 12];
const SMOOTHS = [0, 1, 3];
const STATS: Array<DecomposeSettings['stat']> = ['mean', 'median'];
const PASSES = 2;
/**
 * Points decomposed per holdout candidate: the seasons are re-estimated at every holdout
 * origin when the window is short (hourly, daily), at fewer when it is long (three weeks per
 * minute), which bounds the tuning cost. At every origin is what `predict` does; one
 * estimate before the first origin cost 0.05 MASE on daily births (a year-stale yearly
 * profile by the last origin).
 */
const REFRESH_POINTS = 60_000;
/** Two level settings that rank decompositions before the full smoothing grid runs. */
const SCREEN: Array<[number, number, number]> = [
  [0.05, 0, 0.9],
  [0.2, 0.02, 0.9],
];
const ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.4, 0.7];
const BETAS = [0, 0.02, 0.1];
const PHIS = [0.8, 0.9, 0.98];

const DEFAULTS: Omit<MstlParams, 'periods' | 'offset' | 'nonNegative'> = {
  transform: 'additive',
  decomposition: { cycles: 6, smooth: 0, stat: 'mean', passes: PASSES },
  alpha: 0.1,
  beta: 0,
  phi: 0.9,
};

/**
 * MSTL-style forecaster: the series is split into one seasonal profile per period (a day, a
 * week and, with two years of history, a year — see {@link decompose}) and a seasonally
 * adjusted rest, the rest is forecast with damped-trend exponential smoothing and each
 * period's latest profile is added back (R's `forecast::mstl` + `stlf` recipe). Additive or
 * log decomposition, the profiles' cycles, phase smoothing and statistic, and the smoothing
 * constants are chosen at fit time on {@link holdoutOrigins}; the holdout decomposes once,
 * from the data before its first origin, so tuning costs settings x n, not x origins.
 * `predict` re-decomposes the given history (rolling origins need no refit).
 */
export function mstlModel(fixed?: MstlParams): Model {
  let params: MstlParams | undefined = fixed;
  const scratch = new DecomposeScratch();
  return {
    name: 'mstl',
    minHistory: (ctx) => 2 * smallestPeriod(ctx) + ctx.horizon,
    fit(y, ctx) {
      if (fixed) return;
      params = tune(y, ctx, scratch);
    },
    predict(y, h) {
      if (!params) throw new Error('mstl: predict() before fit()');
      return forecast(y, h, params, scratch);
    },
    toJSON: () => ({ kind: 'mstl', name: 'mstl', params: params ?? null }),
  };
}

/** Rebuilds a fitted MSTL model from its JSON (an unfitted one if it was saved unfitted). */
export function loadMstl(json: ModelJSON): Model {
  const p = json.params as MstlParams | null;
  return p ? mstlModel(p) : mstlModel();
}

function smallestPeriod(ctx: ModelContext): number {
  const day = Math.round(ctx.daySteps);
  return day >= 2 ? day : Math.max(2, Math.round(ctx.weekSteps));
}

/** Points decomposed and smoothed: the profiles' cycles of the longest period, and one more. */
function windowLength(n: number, p: MstlParams): number {
  const longest = p.periods.length > 0 ? (p.periods[p.periods.length - 1] as number) : 0;
  return Math.min(n, Math.max((p.decomposition.cycles + 1) * longest, 500));
}

/** `y[from..)` in the model's scale (zeros before `from`, which is never read). */
function transformed(y: Float64Array, from: number, p: MstlParams): Float64Array {
  const x = new Float64Array(y.length);
  if (p.transform === 'additive') x.set(y.subarray(from), from);
  else {
    // A later history may dip below -offset where the fit history never did: keep it finite.
    const floor = p.offset / 1000;
    for (let i = from; i < y.length; i++)
      x[i] = Math.log(Math.max((y[i] as number) + p.offset, floor));
  }
  return x;
}

/** The sum of the seasonal profiles at each `t` in `[from, to)`, into `seas[t - from]`. */
function seasonal(
  from: number,
  to: number,
  periods: readonly number[],
  profiles: Float64Array[],
  seas: Float64Array,
  base = from,
): void {
  for (let t = from; t < to; t++) {
    let v = 0;
    for (let i = 0; i < periods.length; i++)
      v += (profiles[i] as Float64Array)[t % (periods[i] as number)] as number;
    seas[t - base] = v;
  }
}

/** The h-step forecast after `y` with fixed parameters. */
function forecast(
  y: Float64Array,
  h: number,
  p: MstlParams,
  scratch: DecomposeScratch,
): Float64Array {
  const n = y.length;
  const out = new Float64Array(h);
  if (n === 0) return out;
  const from = n - windowLength(n, p);
  const x = transformed(y, from, p);
  const profiles = p.periods.map((m) => new Float64Array(m));
  decompose(x, from, n, p.periods, p.decomposition, profiles, scratch);
  const seas = new Float64Array(n + h - from);
  seasonal(from, n + h, p.periods, profiles, seas);
  let level = (x[from] as number) - (seas[0] as number);
  let trend = 0;
  for (let t = from + 1; t < n; t++) {
    const prev = level;
    level =
      p.alpha * ((x[t] as number) - (seas[t - from] as number)) +
      (1 - p.alpha) * (level + p.phi * trend);
    trend = p.beta * (level - prev) + (1 - p.beta) * p.phi * trend;
  }
  let damp = 0;
  let pk = 1;
  for (let k = 0; k < h; k++) {
    pk *= p.phi;
    damp += pk;
    out[k] = back(level + damp * trend + (seas[n - from + k] as number), p);
  }
  return out;
}

function back(v: number, p: MstlParams): number {
  const u = p.transform === 'additive' ? v : Math.exp(v) - p.offset;
  return p.nonNegative ? Math.max(0, u) : u;
}

/**
 * Sum of absolute holdout errors (original scale) of damped-trend smoothing of
 * `x - seas` started at `from`, forecasting `h` steps at each origin.
 */
function holdoutError(
  y: Float64Array,
  x: Float64Array,
  seas: Float64Array,
  from: number,
  origins: readonly number[],
  h: number,
  alpha: number,
  beta: number,
  phi: number,
  p: MstlParams,
): number {
  let level = (x[from] as number) - (seas[0] as number);
  let trend = 0;
  let err = 0;
  let o = 0;
  const end = origins[origins.length - 1] as number;
  for (let t = from + 1; t <= end; t++) {
    while (o < origins.length && origins[o] === t) {
      let damp = 0;
      let pk = 1;
      for (let k = 0; k < h; k++) {
        pk *= phi;
        damp += pk;
        const f = back(level + damp * trend + (seas[t + k - from] as number), p);
        err += Math.abs((y[t + k] as number) - f);
      }
      o++;
    }
    const prev = level;
    level =
      alpha * ((x[t] as number) - (seas[t - from] as number)) + (1 - alpha) * (level + phi * trend);
    trend = beta * (level - prev) + (1 - beta) * phi * trend;
  }
  return err;
}

/** Chooses transform, decomposition and smoothing on the holdout of `y`. */
function tune(y: Float64Array, ctx: ModelContext, scratch: DecomposeScratch): MstlParams {
  const n = y.length;
  const periods = seasonalPeriods(n, ctx);
  let min = Number.POSITIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = y[i] as number;
    if (v < min) min = v;
    sum += v;
  }
  const mean = n > 0 ? sum / n : 0;
  const nonNegative = min >= 0;
  let best: MstlParams = { ...DEFAULTS, periods, offset: Math.max(mean / 20, 1e-9), nonNegative };
  const origins = holdoutOrigins(n, ctx);
  if (origins.length === 0) return best;
  const t0 = origins[0] as number;
  const h = ctx.horizon;
  const kinds: Array<MstlParams['transform']> =
    nonNegative && mean > 0 ? ['additive', 'multiplicative'] : ['additive'];
  const seas = new Float64Array(n);
  // The history in each transform's scale, computed once (every candidate reads a suffix).
  const scaled = new Map(kinds.map((k) => [k, transformed(y, 0, { ...best, transform: k })]));
  // The seasons as the holdout origins would see them: decomposed from the data before an
  // origin, used from there to the next refresh (origins are at least a horizon apart), so
  // no forecast reads a season estimated from data after its origin.
  const prepare = (c: MstlParams) => {
    const from = t0 - windowLength(t0, c);
    const x = scaled.get(c.transform) as Float64Array;
    const profiles = c.periods.map((m) => new Float64Array(m));
    const refreshes = Math.max(1, Math.floor(REFRESH_POINTS / windowLength(t0, c)));
    const every = Math.ceil(origins.length / refreshes);
    for (let i = 0; i < origins.length; i += every) {
      const t = origins[i] as number;
      decompose(x, t - windowLength(t, c), t, c.periods, c.decomposition, profiles, scratch);
      const end = i + every < origins.length ? (origins[i + every] as number) : n;
      seasonal(i === 0 ? from : t, end, c.periods, profiles, seas, from);
    }
    return { x, from };
  };
  let bestErr = Number.POSITIVE_INFINITY;
  const consider = (c: MstlParams) => {
    const { x, from } = prepare(c);
    for (const [alpha, beta, phi] of SCREEN) {
      const err = holdoutError(y, x, seas, from, origins, h, alpha, beta, phi, c);
      if (err < bestErr) {
        bestErr = err;
        best = { ...c, alpha, beta, phi };
      }
    }
  };
  // Coordinate search, cheapest first: transform and cycles with plain means, then the
  // statistic and phase smoothing for the winner, then the smoothing constants.
  const shortest = periods.length > 0 ? (periods[0] as number) : t0;
  // All the periods, or all but the longest (a season seen in only two or three cycles can
  // cost more in noise than it explains).
  const subsets = periods.length > 1 ? [periods, periods.slice(0, -1)] : [periods];
  for (const subset of subsets)
    for (const transform of kinds)
      for (const cycles of CYCLES) {
        // More cycles than the shortest period has before t0 repeat the previous setting.
        if (cycles !== CYCLES[0] && Math.floor(t0 / shortest) < cycles) break;
        const decomposition = { ...DEFAULTS.decomposition, cycles };
        consider({ ...best, periods: subset, transform, decomposition });
      }
  const chosen = best;
  for (const smooth of SMOOTHS)
    for (const stat of STATS)
      if (smooth !== 0 || stat !== 'mean')
        consider({ ...chosen, decomposition: { ...chosen.decomposition, smooth, stat } });
  const { x, from } = prepare(best);
  for (const alpha of ALPHAS)
    for (const beta of BETAS)
      for (const phi of PHIS) {
        const err = holdoutError(y, x, seas, from, origins, h, alpha, beta, phi, best);
        if (err < bestErr) {
          bestErr = err;
          best = { ...best, alpha, beta, phi };
        }
      }
  return best;
}
