import { cleanValues, contextFor, type SeasonOptions } from '../models/context.js';
import { holdoutOrigins } from '../models/holdout.js';
import { createModels, type ModelOptions } from '../models/registry.js';
import { seasonalMae } from '../models/stats.js';
import type { FitProgress, Model, ModelContext } from '../models/types.js';
import type { Series } from '../series.js';
import { accumulate, coverage, type ErrorSums, emptySums, mase, wape } from './metrics.js';
import { type Band, fitBand, upper } from './quantiles.js';

/** Options for {@link backtest}. */
export interface BacktestOptions {
  /** Steps ahead each origin forecasts (> 0). */
  horizon: number;
  /** Rolling origins at the end of the series; default 7. */
  origins?: number;
  /** Steps between origins; default the horizon (non-overlapping windows). */
  every?: number;
  /** Models to compare (default all that the history is long enough for). */
  models?: readonly string[];
  season?: SeasonOptions;
  modelOptions?: ModelOptions;
  /** Progress of origins and of long fits. */
  onProgress?: (p: BacktestProgress) => void;
  /** `Date.now()` ms after which neural training stops early. */
  deadline?: number;
}

/** Progress of a backtest. */
export interface BacktestProgress {
  /** Origins done, of `total`. */
  readonly origin: number;
  readonly total: number;
  /** Set while a model trains. */
  readonly fit?: FitProgress;
}

/** One model's out-of-sample scores. */
export interface ModelScore {
  readonly model: string;
  /** Mean absolute scaled error against in-sample weekly seasonal naive (lower is better). */
  readonly mase: number;
  /** Weighted absolute percentage error, fraction. */
  readonly wape: number;
  /** Share of actuals at or below the p90, fraction. */
  readonly coverage90: number;
  /** Total fitting time over all origins, ms. */
  readonly fitMs: number;
}

/** The report {@link backtest} returns (the CLI's `backtest --output json`). */
export interface BacktestReport {
  readonly models: ModelScore[];
  /** The model with the lowest MASE. */
  readonly selected: string;
  readonly horizon: number;
  /** Step of the series, seconds. */
  readonly step: number;
  readonly origins: number;
  /** Models left out because the history is too short for them, with what they need. */
  readonly skipped: Array<{ model: string; needs: number }>;
}

/** Per model and origin: the median forecast and the holdout pairs a band is fitted on. */
interface Run {
  p50: Float64Array;
  holdF: number[];
  holdA: number[];
}

/**
 * Rolling-origin evaluation: at each origin every model is fitted on the history before it
 * (neural ones once, at the first origin), forecasts `horizon` steps, and gets a p90 band
 * calibrated on its own holdout residuals inside that history. Scores are pooled over
 * origins; MASE is scaled by the in-sample weekly seasonal naive error before the first
 * origin.
 * @throws Error when the series is too short for even the baselines (says how much is needed).
 */
export function backtest(series: Series, options: BacktestOptions): BacktestReport {
  const { y } = cleanValues(series.values);
  const h = options.horizon;
  const count = options.origins ?? 7;
  const every = options.every ?? h;
  const first = y.length - h - (count - 1) * every;
  const ctx = contextFor(series, h, options.season, { deadline: options.deadline });
  const all = createModels(options.models, options.modelOptions);
  const usable = all.filter((m) => m.minHistory(ctx) <= first);
  const skipped = all
    .filter((m) => !usable.includes(m))
    .map((m) => ({ model: m.name, needs: m.minHistory(ctx) + h + (count - 1) * every }));
  if (usable.length === 0) {
    const need = Math.min(...all.map((m) => m.minHistory(ctx))) + h + (count - 1) * every;
    throw new Error(
      `too little history: ${y.length} points, need at least ${need} for ${count} origins of horizon ${h}`,
    );
  }
  const scale = seasonalMae(y.subarray(0, first), ctx.weekSteps);
  const base = baseModels(usable);
  const sums = new Map(usable.map((m) => [m.name, emptySums()]));
  const fitMs = new Map(usable.map((m) => [m.name, 0]));
  for (let o = 0; o < count; o++) {
    const t = first + o * every;
    const hist = y.subarray(0, t);
    const actual = y.subarray(t, t + h);
    const fitCtx: ModelContext = {
      ...ctx,
      onProgress: options.onProgress
        ? (fit) => options.onProgress?.({ origin: o, total: count, fit })
        : undefined,
    };
    const runs = new Map<Model, Run>();
    const minT = Math.max(...base.map((m) => m.minHistory(ctx))) - h;
    for (const m of base) {
      const started = performance.now();
      if (o === 0 || !m.expensive) m.fit(hist, fitCtx);
      fitMs.set(m.name, (fitMs.get(m.name) ?? 0) + performance.now() - started);
      runs.set(m, runModel(m, hist, ctx, minT));
    }
    for (const m of usable) {
      const run = m.members
        ? combine(m.members.map((x) => runs.get(x) as Run))
        : (runs.get(m) as Run);
      const band = fitBand(run.holdF, run.holdA, mean(hist));
      const p90 = run.p50.map((v) => upper(band, v));
      accumulate(sums.get(m.name) as ErrorSums, actual, run.p50, p90, scale);
    }
    options.onProgress?.({ origin: o + 1, total: count });
  }
  const models = usable.map((m) => {
    const s = sums.get(m.name) as ErrorSums;
    const members = m.members ?? [m];
    const ms = members.reduce((acc, x) => acc + (fitMs.get(x.name) ?? 0), 0);
    return {
      model: m.name,
      mase: mase(s),
      wape: wape(s),
      coverage90: coverage(s),
      fitMs: Math.round(ms),
    };
  });
  const selected = models.reduce((a, b) => (b.mase < a.mase ? b : a));
  return {
    models,
    selected: selected.model,
    horizon: h,
    step: series.stepMs / 1000,
    origins: count,
    skipped,
  };
}

/** The distinct non-combination models, members included, in a stable order. */
export function baseModels(models: readonly Model[]): Model[] {
  const out: Model[] = [];
  for (const m of models) for (const x of m.members ?? [m]) if (!out.includes(x)) out.push(x);
  return out;
}

/**
 * Forecast from the end of `hist` plus the holdout forecasts a band is calibrated on.
 * Holdout origins before `minT` are skipped (the same for every member of a combination,
 * so their pairs line up).
 */
export function runModel(m: Model, hist: Float64Array, ctx: ModelContext, minT: number): Run {
  const holdF: number[] = [];
  const holdA: number[] = [];
  for (const t of holdoutOrigins(hist.length, ctx)) {
    if (t < minT) continue;
    const f = m.predict(hist.subarray(0, t), ctx.horizon, ctx);
    for (let k = 0; k < ctx.horizon; k++) {
      holdF.push(f[k] as number);
      holdA.push(hist[t + k] as number);
    }
  }
  return { p50: m.predict(hist, ctx.horizon, ctx), holdF, holdA };
}

/** The mean of member runs (an ensemble's forecast and holdout). */
export function combine(runs: Run[]): Run {
  const avg = (pick: (r: Run) => ArrayLike<number>) => {
    const len = Math.min(...runs.map((r) => pick(r).length));
    const out = new Float64Array(len);
    for (const r of runs) {
      const v = pick(r);
      for (let i = 0; i < len; i++) out[i] = (out[i] as number) + (v[i] as number) / runs.length;
    }
    return out;
  };
  const holdA = runs[0]?.holdA.slice(0, Math.min(...runs.map((r) => r.holdA.length))) ?? [];
  return { p50: avg((r) => r.p50), holdF: Array.from(avg((r) => r.holdF)), holdA };
}

function mean(y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] as number;
  return y.length > 0 ? s / y.length : 0;
}

export type { Band };
