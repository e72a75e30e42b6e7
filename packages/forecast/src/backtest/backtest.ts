import type { Calendar } from '../calendar/parse.js';
import { cleanValues, contextFor, type SeasonOptions } from '../models/context.js';
import { createModels, type ModelOptions } from '../models/registry.js';
import { seasonalMae } from '../models/stats.js';
import type { FitProgress, Model, ModelContext, ModelJSON } from '../models/types.js';
import type { Series } from '../series.js';
import { calendarView, runModel } from './calendared.js';
import { accumulate, coverage, emptySums, mase, wape } from './metrics.js';
import { type Band, conformalise, fitBand, upper } from './quantiles.js';

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
  /**
   * The operator's events (holidays, launches): their effects are divided out of the
   * history before models fit and multiplied back into forecasts. Default none.
   */
  calendar?: Calendar;
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
  /** The same per horizon step (index 0 = one step ahead). */
  readonly coverage90ByStep: number[];
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
export interface OriginRun {
  p50: Float64Array;
  holdF: number[];
  holdA: number[];
}

/** One base (non-combination) model's forecasts at every origin of a backtest. */
export interface BaseRuns {
  readonly model: string;
  /** One per origin, in order. */
  readonly runs: OriginRun[];
  /** Fitting time over all origins, ms. */
  readonly fitMs: number;
  /** The model's state after the last origin's fit: a caller may forecast with it again. */
  readonly fitted: ModelJSON;
}

/** Out-of-sample pairs of one model: whole forecasts laid end to end, origin-major. */
export interface OutOfSample {
  readonly forecasts: Float64Array;
  readonly actuals: Float64Array;
}

/** What {@link scoreRuns} returns: the report and every model's out-of-sample pairs. */
export interface ScoredBacktest {
  readonly report: BacktestReport;
  readonly outOfSample: ReadonlyMap<string, OutOfSample>;
}

interface Plan {
  y: Float64Array;
  /** Unix ms of `y[0]` (leading gaps trimmed). */
  startMs: number;
  ctx: ModelContext;
  h: number;
  count: number;
  every: number;
  first: number;
  usable: Model[];
  base: Model[];
  skipped: Array<{ model: string; needs: number }>;
  /** Holdout origins before this are skipped by every model, so combinations line up. */
  minT: number;
}

function plan(series: Series, options: BacktestOptions): Plan {
  const { y, offset } = cleanValues(series.values);
  const startMs = series.startMs + offset * series.stepMs;
  const h = options.horizon;
  const count = options.origins ?? 7;
  const every = options.every ?? h;
  const first = y.length - h - (count - 1) * every;
  const ctx = contextFor({ startMs, stepMs: series.stepMs }, h, options.season, {
    deadline: options.deadline,
  });
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
  const base = baseModels(usable);
  const minT = Math.max(...base.map((m) => m.minHistory(ctx))) - h;
  return { y, startMs, ctx, h, count, every, first, usable, base, skipped, minT };
}

/**
 * Rolling-origin evaluation: at each origin every model is fitted on the history before it
 * (neural ones once, at the first origin), forecasts `horizon` steps, and gets a p90 band
 * calibrated on its own holdout residuals inside that history and conformalised on its
 * earlier origins' forecasts whose actuals are known by then. Scores are pooled over
 * origins; MASE is scaled by the in-sample weekly seasonal naive error before the first
 * origin.
 * @throws Error when the series is too short for even the baselines (says how much is needed).
 */
export function backtest(series: Series, options: BacktestOptions): BacktestReport {
  return scoreRuns(series, options, runBaseModels(series, options)).report;
}

/**
 * The fitting half of {@link backtest}: forecasts of the base models (members of
 * combinations included) at every origin. `only` restricts it to some base models, so that
 * disjoint groups can run in separate threads and be scored together by {@link scoreRuns}
 * with the same `options`.
 * @throws Error when the series is too short for even the baselines.
 */
export function runBaseModels(
  series: Series,
  options: BacktestOptions,
  only?: readonly string[],
): BaseRuns[] {
  const p = plan(series, options);
  const base = only ? p.base.filter((m) => only.includes(m.name)) : p.base;
  const runs = base.map(() => [] as OriginRun[]);
  const fitMs = base.map(() => 0);
  for (let o = 0; o < p.count; o++) {
    const t = p.first + o * p.every;
    const view = calendarView(p.y.subarray(0, t), p.startMs, series.stepMs, options.calendar);
    const fitCtx: ModelContext = {
      ...p.ctx,
      onProgress: options.onProgress
        ? (fit) => options.onProgress?.({ origin: o, total: p.count, fit })
        : undefined,
    };
    base.forEach((m, i) => {
      const started = performance.now();
      if (o === 0 || !m.expensive) m.fit(view.y, fitCtx);
      fitMs[i] = (fitMs[i] as number) + performance.now() - started;
      (runs[i] as OriginRun[]).push(runModel(m, view, p.ctx, p.minT));
    });
    options.onProgress?.({ origin: o + 1, total: p.count });
  }
  return base.map((m, i) => ({
    model: m.name,
    runs: runs[i] as OriginRun[],
    fitMs: fitMs[i] as number,
    fitted: m.toJSON(),
  }));
}

/**
 * The scoring half of {@link backtest}: combines member runs into their combinations, bands
 * every forecast and scores it against the actuals.
 * @throws Error when a base model the candidates need is missing from `runs`.
 */
export function scoreRuns(
  series: Series,
  options: BacktestOptions,
  runs: readonly BaseRuns[],
): ScoredBacktest {
  const p = plan(series, options);
  const { y, h, count, every, first } = p;
  const byName = new Map(runs.map((r) => [r.model, r]));
  const baseOf = (m: Model): BaseRuns => {
    const r = byName.get(m.name);
    if (!r) throw new Error(`no runs for base model "${m.name}"`);
    return r;
  };
  const scale = seasonalMae(y.subarray(0, first), p.ctx.weekSteps);
  const models: ModelScore[] = [];
  const outOfSample = new Map<string, OutOfSample>();
  for (const m of p.usable) {
    const members = (m.members ?? [m]).map(baseOf);
    const sums = emptySums();
    const stepCovered = new Float64Array(h);
    const forecasts = new Float64Array(count * h);
    const actuals = new Float64Array(count * h);
    for (let o = 0; o < count; o++) {
      const t = first + o * every;
      const hist = y.subarray(0, t);
      const actual = y.subarray(t, t + h);
      const parts = members.map((b) => b.runs[o] as OriginRun);
      const run = parts.length > 1 ? combine(parts) : (parts[0] as OriginRun);
      // Conformalise on the earlier origins whose whole forecast has matured by t.
      const matured = Math.max(0, Math.min(o, Math.floor((t - first - h) / every) + 1));
      const band = conformalise(
        fitBand(run.holdF, run.holdA, mean(hist), h),
        forecasts.subarray(0, matured * h),
        actuals.subarray(0, matured * h),
        h,
      );
      const p90 = run.p50.map((v, k) => upper(band, v, k));
      accumulate(sums, actual, run.p50, p90, scale);
      for (let k = 0; k < h; k++)
        if ((actual[k] as number) <= (p90[k] as number))
          stepCovered[k] = (stepCovered[k] as number) + 1;
      forecasts.set(run.p50, o * h);
      actuals.set(actual, o * h);
    }
    outOfSample.set(m.name, { forecasts, actuals });
    models.push({
      model: m.name,
      mase: mase(sums),
      wape: wape(sums),
      coverage90: coverage(sums),
      coverage90ByStep: Array.from(stepCovered, (c) => c / count),
      fitMs: Math.round(members.reduce((acc, b) => acc + b.fitMs, 0)),
    });
  }
  const selected = models.reduce((a, b) => (b.mase < a.mase ? b : a));
  return {
    report: {
      models,
      selected: selected.model,
      horizon: h,
      step: series.stepMs / 1000,
      origins: count,
      skipped: p.skipped,
    },
    outOfSample,
  };
}

/** The distinct non-combination models, members included, in a stable order. */
export function baseModels(models: readonly Model[]): Model[] {
  const out: Model[] = [];
  for (const m of models) for (const x of m.members ?? [m]) if (!out.includes(x)) out.push(x);
  return out;
}

/** The mean of member runs (an ensemble's forecast and holdout). */
export function combine(runs: OriginRun[]): OriginRun {
  const avg = (pick: (r: OriginRun) => ArrayLike<number>) => {
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
