import { holdoutOrigins } from './holdout.js';
import type { Model, ModelContext, ModelJSON } from './types.js';

/** Holt-Winters parameters (learnt or configured). */
export interface HoltWintersParams {
  /** Season length in steps. */
  season: number;
  seasonality: 'additive' | 'multiplicative';
  alpha: number;
  beta: number;
  gamma: number;
  /** Trend damping (1 = undamped). */
  phi: number;
}

/** Options for {@link holtWintersModel}. */
export interface HoltWintersOptions {
  /** Season in steps; default: detected from the data among a day and a week. */
  season?: number;
  /** Default: both tried, the better on the holdout kept. */
  seasonality?: 'additive' | 'multiplicative';
}

const ALPHAS = [0.01, 0.03, 0.1, 0.2, 0.4];
const BETAS = [0, 0.01];
const GAMMAS = [0.05, 0.1, 0.2, 0.4];
const PHIS = [0.8, 0.95, 1];

/**
 * Holt-Winters exponential smoothing with a damped additive trend and additive or
 * multiplicative seasonality. Smoothing parameters are chosen by the error of full-horizon
 * forecasts on a holdout (not one-step SSE, which favours a twitchy level and loses at 24 h).
 * One pass over the series yields the forecasts at every holdout origin, so tuning costs
 * grid size x n, not x origins.
 */
export function holtWintersModel(
  options: HoltWintersOptions = {},
  fixed?: HoltWintersParams,
): Model {
  let params: HoltWintersParams | undefined = fixed;
  return {
    name: 'holt-winters',
    minHistory: (ctx) => 2 * (options.season ?? Math.round(ctx.weekSteps)) + ctx.horizon,
    fit(y, ctx) {
      if (fixed) return;
      const seasons = options.season ? [options.season] : candidateSeasons(y.length, ctx);
      const kinds: Array<HoltWintersParams['seasonality']> = options.seasonality
        ? [options.seasonality]
        : ['additive', 'multiplicative'];
      const origins = holdoutOrigins(y.length, ctx);
      let best = Number.POSITIVE_INFINITY;
      for (const season of seasons)
        for (const seasonality of kinds)
          for (const alpha of ALPHAS)
            for (const beta of BETAS)
              for (const gamma of GAMMAS)
                for (const phi of PHIS) {
                  const p = { season, seasonality, alpha, beta, gamma, phi };
                  let err = 0;
                  run(y, p, origins, ctx.horizon, (t, f) => {
                    for (let k = 0; k < f.length && t + k < y.length; k++)
                      err += Math.abs((y[t + k] as number) - (f[k] as number));
                  });
                  if (err < best) {
                    best = err;
                    params = p;
                  }
                }
    },
    predict(y, h) {
      if (!params) throw new Error('holt-winters: predict() before fit()');
      let out: Float64Array = new Float64Array(h);
      run(y, params, [y.length], h, (_, f) => {
        out = f;
      });
      return out;
    },
    toJSON: () => ({ kind: 'holt-winters', name: 'holt-winters', params: { options, params } }),
  };
}

/**
 * A day and a week of steps, whichever the history can initialise (two full seasons). On
 * daily or coarser data, where a day is one step and no season, a year (`ctx.yearSteps`)
 * is tried instead when two years and a horizon exist; at finer steps a year of per-step
 * seasonal states would be mostly noise and slow, and `mstl` carries the year there.
 */
function candidateSeasons(n: number, ctx: ModelContext): number[] {
  const out: number[] = [];
  const year = ctx.daySteps < 2 && ctx.yearSteps ? Math.round(ctx.yearSteps) : 0;
  for (const m of [Math.round(ctx.weekSteps), Math.round(ctx.daySteps), year]) {
    if (m >= 2 && 2 * m + ctx.horizon <= n && !out.includes(m)) out.push(m);
  }
  return out.length > 0 ? out : [Math.max(2, Math.floor(n / 3))];
}

/**
 * Smooths through `y` and calls `emit(t, forecast)` at each origin `t` (ascending; `t` may
 * equal `y.length`) with the h-step forecast made from the state after `y[t-1]`.
 */
function run(
  y: Float64Array,
  p: HoltWintersParams,
  origins: number[],
  h: number,
  emit: (t: number, forecast: Float64Array) => void,
): void {
  const m = p.season;
  const mult = p.seasonality === 'multiplicative';
  const { alpha, beta, gamma, phi } = p;
  let level = 0;
  let next = 0;
  for (let i = 0; i < m; i++) level += y[i] as number;
  for (let i = m; i < 2 * m; i++) next += y[i] as number;
  level /= m;
  next /= m;
  let trend = (next - level) / m;
  const s = new Float64Array(m);
  for (let i = 0; i < m; i++)
    s[i] = mult ? (level > 0 ? (y[i] as number) / level : 1) : (y[i] as number) - level;
  // damp[k - 1] = phi + phi^2 + ... + phi^k, summed in that order (as the forecast always was).
  const damp = new Float64Array(h);
  let d = 0;
  for (let k = 1; k <= h; k++) {
    d += phi ** k;
    damp[k - 1] = d;
  }
  // Run the first season through the recursions too: its level/trend were only estimates.
  // `j` is t % m, kept incrementally: this loop runs once per grid point and step, and an
  // integer modulo per access was most of its cost.
  let o = 0;
  const end = origins.length > 0 ? (origins[origins.length - 1] as number) : y.length;
  for (let t = m, j = 0; t <= end; t++, j = j + 1 === m ? 0 : j + 1) {
    while (o < origins.length && origins[o] === t) {
      const f = new Float64Array(h);
      for (let k = 1, i = j; k <= h; k++, i = i + 1 === m ? 0 : i + 1) {
        const si = s[i] as number;
        const dk = damp[k - 1] as number;
        const v = mult ? (level + dk * trend) * si : level + dk * trend + si;
        f[k - 1] = Math.max(v, 0);
      }
      emit(t, f);
      o++;
    }
    if (t === y.length) break;
    const yt = y[t] as number;
    const si = s[j] as number;
    const prev = level;
    const base = level + phi * trend;
    level = mult
      ? alpha * (si > 1e-9 ? yt / si : yt) + (1 - alpha) * base
      : alpha * (yt - si) + (1 - alpha) * base;
    trend = beta * (level - prev) + (1 - beta) * phi * trend;
    s[j] = mult
      ? gamma * (level > 1e-9 ? yt / level : si) + (1 - gamma) * si
      : gamma * (yt - level) + (1 - gamma) * si;
  }
}

/** Rebuilds a fitted Holt-Winters model from its JSON. */
export function loadHoltWinters(json: ModelJSON): Model {
  const { options, params } = json.params as {
    options: HoltWintersOptions;
    params: HoltWintersParams;
  };
  return holtWintersModel(options, params);
}
