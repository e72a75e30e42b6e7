import { holdoutMae } from './holdout.js';
import { medianInPlace } from './stats.js';
import type { Model, ModelContext, ModelJSON } from './types.js';

/** Last value repeated: the random-walk baseline. */
export function naiveModel(): Model {
  return {
    name: 'naive',
    minHistory: () => 1,
    fit() {},
    predict(y, h) {
      return new Float64Array(h).fill(y[y.length - 1] as number);
    },
    toJSON: () => ({ kind: 'naive', name: 'naive', params: null }),
  };
}

/**
 * The value one season ago: `period` picks a day or a week of steps from the context. On
 * daily or coarser data a day is one step, so `seasonal-naive-daily` is then the same
 * forecast as `naive` (the value one day ago); the name stays because it is a documented
 * baseline, and daily series get their weekly and yearly seasons from
 * `seasonal-naive-weekly`, `seasonal-profile`, `holt-winters` and `mstl`.
 */
export function seasonalNaiveModel(period: 'daily' | 'weekly'): Model {
  const name = `seasonal-naive-${period}`;
  const m = (ctx: ModelContext) =>
    Math.max(1, Math.round(period === 'daily' ? ctx.daySteps : ctx.weekSteps));
  return {
    name,
    minHistory: m,
    fit() {},
    predict(y, h, ctx) {
      const season = m(ctx);
      const out = new Float64Array(h);
      for (let k = 0; k < h; k++) out[k] = y[y.length - season + (k % season)] as number;
      return out;
    },
    toJSON: () => ({ kind: 'seasonal-naive', name, params: { period } }),
  };
}

/** Tunable settings of {@link seasonalProfileModel}. */
export interface ProfileParams {
  /**
   * The season the profile repeats: a week, or a day (more samples, no weekday shape), or a
   * year (`ctx.yearSteps`; only tried with two years of history).
   */
  period: 'day' | 'week' | 'year';
  /** Past seasons whose median forms the profile. */
  seasons: number;
  /** Half-width (steps) of the moving mean that smooths each season before the median. */
  smooth: number;
  /** 0..1: how much of the recent level ratio (actual vs profile) carries into the forecast. */
  levelWeight: number;
  /** The recent window that ratio is measured over: the last day, or 4 horizons. */
  levelWindow?: 'day' | 'short';
}

const PROFILE_GRID: ProfileParams[] = [];
const SEASONS = { week: [2, 3, 4, 6, 8], day: [3, 5, 7, 14], year: [2, 3] } as const;
for (const period of ['week', 'day', 'year'] as const)
  for (const seasons of SEASONS[period])
    for (const smooth of [0, 2, 7])
      for (const levelWeight of [0, 0.5, 1])
        for (const levelWindow of ['day', 'short'] as const)
          PROFILE_GRID.push({ period, seasons, smooth, levelWeight, levelWindow });

/**
 * A robust weekly profile: the median of the last `seasons` weeks at the same phase (each
 * smoothed over `smooth` neighbouring steps), scaled by how far the last day ran above or
 * below its own profile. Crane's "maxValue" and classical seasonal medians are the idea;
 * the parameters are chosen on a holdout at fit time, so nothing is tuned to one trace.
 */
export function seasonalProfileModel(params?: ProfileParams): Model {
  let p: ProfileParams = params ?? { period: 'week', seasons: 4, smooth: 1, levelWeight: 0.5 };
  const model: Model = {
    name: 'seasonal-profile',
    minHistory: (ctx) => Math.round(ctx.weekSteps) * 2 + Math.round(ctx.daySteps),
    fit(y, ctx) {
      if (params) return;
      let best = Number.POSITIVE_INFINITY;
      // Candidates that share period, seasons and smoothing share the profile values: cache
      // them per group (the level settings only change how they are combined).
      let cacheKey = '';
      let at: (t: number) => number = () => Number.NaN;
      for (const candidate of PROFILE_GRID) {
        if (candidate.period === 'year' && !ctx.yearSteps) continue;
        const m = periodSteps(ctx, candidate);
        if (candidate.seasons * m + ctx.horizon > y.length) continue;
        const key = `${candidate.period}/${candidate.seasons}/${candidate.smooth}`;
        if (key !== cacheKey) {
          cacheKey = key;
          at = cachedProfile(y, m, candidate);
        }
        const err = holdoutMae(y, ctx, (hist, h) =>
          profileForecast(y, h, ctx, candidate, hist.length, at),
        );
        if (err < best) {
          best = err;
          p = candidate;
        }
      }
    },
    predict: (y, h, ctx) => profileForecast(y, h, ctx, p),
    toJSON: () => ({ kind: 'seasonal-profile', name: 'seasonal-profile', params: { ...p } }),
  };
  return model;
}

/** The profile value for absolute index `t` from the points strictly before `limit`. */
export function profileAt(
  y: ArrayLike<number>,
  t: number,
  limit: number,
  m: number,
  p: ProfileParams,
  scratch: Float64Array,
): number {
  let n = 0;
  for (let j = 1; j <= p.seasons; j++) {
    const c = t - m * j;
    if (c < 0) break;
    let sum = 0;
    let cnt = 0;
    for (let i = Math.max(0, c - p.smooth); i <= c + p.smooth && i < limit; i++) {
      sum += y[i] as number;
      cnt++;
    }
    if (cnt > 0) scratch[n++] = sum / cnt;
  }
  return medianInPlace(scratch.subarray(0, n));
}

/** `profileAt(y, t, t, ...)` memoised per index: the profile from strictly earlier points. */
export function cachedProfile(
  y: ArrayLike<number>,
  m: number,
  p: ProfileParams,
): (t: number) => number {
  const cache = new Float64Array(y.length).fill(Number.NaN);
  const scratch = new Float64Array(p.seasons);
  return (t) => {
    let v = cache[t] as number;
    if (Number.isNaN(v)) {
      v = profileAt(y, t, t, m, p, scratch);
      cache[t] = v;
    }
    return v;
  };
}

/** Steps in the profile's period (a year without `ctx.yearSteps` is 365.25 days of steps). */
export function periodSteps(ctx: ModelContext, p: ProfileParams): number {
  const steps =
    p.period === 'day'
      ? ctx.daySteps
      : p.period === 'week'
        ? ctx.weekSteps
        : (ctx.yearSteps ?? 365.25 * ctx.daySteps);
  return Math.max(1, Math.round(steps));
}

/**
 * The profile forecast of the `h` steps after `y[0..n)`. `at(t)` must be the unscaled
 * profile from the points strictly before `t` ({@link cachedProfile} with the same period and
 * params): callers making many forecasts over one series cache it. Forecast points use it
 * where that equals the profile with the data cut at `n`, and compute it otherwise.
 */
export function profileForecast(
  y: ArrayLike<number>,
  h: number,
  ctx: ModelContext,
  p: ProfileParams,
  n = y.length,
  at?: (t: number) => number,
): Float64Array {
  const m = periodSteps(ctx, p);
  const scratch = new Float64Array(p.seasons);
  const profile = at ?? ((t: number) => profileAt(y, t, n, m, p, scratch));
  const direct = (t: number) => profileAt(y, t, n, m, p, scratch);
  // Level: the recent window against what the profile expected for it.
  const window = p.levelWindow === 'short' ? 4 * ctx.horizon : Math.round(ctx.daySteps);
  const recent = Math.max(1, Math.min(window, n - m));
  let actual = 0;
  let expected = 0;
  for (let t = n - recent; t < n; t++) {
    actual += y[t] as number;
    expected += profile(t);
  }
  const ratio = expected > 0 && actual >= 0 ? actual / expected : 1;
  const scale = 1 + p.levelWeight * (Math.min(ratio, 3) - 1);
  const out = new Float64Array(h);
  for (let k = 0; k < h; k++) {
    // A point less than a period (minus the smoothing) ahead reads only data before `n`, so
    // the cached profile from strictly earlier points is the same number, and far cheaper.
    const t = n + k;
    out[k] = Math.max(0, (at && k + p.smooth < m && t < y.length ? at(t) : direct(t)) * scale);
  }
  return out;
}

/** Rebuilds a seasonal model from its JSON. */
export function loadSeasonal(json: ModelJSON): Model {
  if (json.kind === 'naive') return naiveModel();
  if (json.kind === 'seasonal-naive')
    return seasonalNaiveModel((json.params as { period: 'daily' | 'weekly' }).period);
  return seasonalProfileModel({ ...(json.params as ProfileParams) });
}
