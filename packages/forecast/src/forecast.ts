import {
  type BacktestOptions,
  type BacktestReport,
  backtest,
  baseModels,
  combine,
  runModel,
} from './backtest/backtest.js';
import { type Band, fitBand, upper } from './backtest/quantiles.js';
import { cleanValues, contextFor, type SeasonOptions } from './models/context.js';
import { createModels, loadModel, type ModelOptions } from './models/registry.js';
import type { Model, ModelJSON } from './models/types.js';
import type { Series } from './series.js';

/** One forecast point. */
export interface ForecastPoint {
  /** ISO-8601 time of the point. */
  readonly timestamp: string;
  /** Median forecast. */
  readonly p50: number;
  /** 90th percentile: the upper band scaling decisions use. */
  readonly p90: number;
}

/** What {@link forecast} returns (the CLI's `forecast --output json`, plus `fitted`). */
export interface ForecastResult {
  readonly model: string;
  /** Step of the series, seconds. */
  readonly step: number;
  readonly forecast: ForecastPoint[];
  /** The backtest that chose the model (absent when a model was named). */
  readonly backtest?: BacktestReport;
  /** The fitted model and band: {@link forecastWith} reproduces the forecast from it. */
  readonly fitted: FittedForecaster;
}

/** A fitted model with its band and calendar: serialisable, reloads to identical forecasts. */
export interface FittedForecaster {
  readonly version: 1;
  readonly model: ModelJSON;
  readonly band: Band;
  readonly stepMs: number;
  /** Unix ms of the first point the model was fitted on (calendar features count from it). */
  readonly startMs: number;
  readonly horizon: number;
  readonly season: SeasonOptions;
}

/** Options for {@link forecast}. */
export interface ForecastOptions extends Omit<BacktestOptions, 'models'> {
  /** A model name, or `auto` (default): the backtest winner among `candidates`. */
  model?: string;
  /** Models the backtest may choose from (default all). */
  candidates?: readonly string[];
}

/**
 * Forecasts `horizon` steps after the end of `series` with p50 and p90. With `model: 'auto'`
 * a rolling-origin {@link backtest} picks the model first; the chosen model is then fitted
 * on the whole history and its p90 band calibrated on holdout residuals.
 * @throws Error for too little history (saying how much is needed) or an unknown model.
 */
export function forecast(series: Series, options: ForecastOptions): ForecastResult {
  const { y, offset } = cleanValues(series.values);
  const startMs = series.startMs + offset * series.stepMs;
  const auto = !options.model || options.model === 'auto';
  // With a deadline, the choosing backtest gets half of what is left so the chosen model's
  // final fit is not starved.
  const backtestDeadline =
    options.deadline === undefined
      ? undefined
      : Date.now() + Math.max(0, options.deadline - Date.now()) / 2;
  const report = auto
    ? backtest(series, { ...options, models: options.candidates, deadline: backtestDeadline })
    : undefined;
  const name = report ? report.selected : (options.model as string);
  const [model] = createModels([name], options.modelOptions) as [Model];
  const ctx = contextFor({ startMs, stepMs: series.stepMs }, options.horizon, options.season, {
    deadline: options.deadline,
    onProgress: options.onProgress
      ? (fit) => options.onProgress?.({ origin: 0, total: 1, fit })
      : undefined,
  });
  const need = model.minHistory(ctx);
  if (y.length < need)
    throw new Error(`too little history for ${name}: ${y.length} points, need at least ${need}`);
  const base = baseModels([model]);
  for (const m of base) m.fit(y, ctx);
  const minT = Math.max(...base.map((m) => m.minHistory(ctx))) - ctx.horizon;
  const runs = base.map((m) => runModel(m, y, ctx, minT));
  const run = model.members ? combine(runs) : (runs[0] as ReturnType<typeof combine>);
  const band = fitBand(run.holdF, run.holdA, meanOf(y));
  const fitted: FittedForecaster = {
    version: 1,
    model: model.toJSON(),
    band,
    stepMs: series.stepMs,
    startMs,
    horizon: options.horizon,
    season: options.season ?? {},
  };
  return {
    model: name,
    step: series.stepMs / 1000,
    forecast: points(run.p50, band, startMs + y.length * series.stepMs, series.stepMs),
    ...(report ? { backtest: report } : {}),
    fitted,
  };
}

/**
 * Forecasts from a saved {@link FittedForecaster} without refitting: `series` must start
 * where the fitted one started (it may be longer). Same input, same output, bit for bit.
 * @throws Error when the step differs, the series starts elsewhere, or it holds fewer
 *   points than the model's minimum history.
 */
export function forecastWith(
  fitted: FittedForecaster,
  series: Series,
  horizon = fitted.horizon,
): ForecastPoint[] {
  if (series.stepMs !== fitted.stepMs)
    throw new Error(`series step ${series.stepMs} ms differs from the model's ${fitted.stepMs} ms`);
  const { y, offset } = cleanValues(series.values);
  const startMs = series.startMs + offset * series.stepMs;
  if (startMs !== fitted.startMs)
    throw new Error('series must start where the fitted history started');
  const model = loadModel(fitted.model);
  const ctx = contextFor({ startMs, stepMs: series.stepMs }, horizon, fitted.season);
  // A saved model fed fewer points than it was fitted to need forecasts from garbage lags.
  const need = model.minHistory(ctx);
  if (y.length < need)
    throw new Error(
      `too little history for ${model.name}: ${y.length} points, need at least ${need}`,
    );
  return points(
    model.predict(y, horizon, ctx),
    fitted.band,
    startMs + y.length * series.stepMs,
    series.stepMs,
  );
}

function points(
  p50: ArrayLike<number>,
  band: Band,
  firstMs: number,
  stepMs: number,
): ForecastPoint[] {
  return Array.from({ length: p50.length }, (_, k) => ({
    timestamp: new Date(firstMs + k * stepMs).toISOString(),
    p50: p50[k] as number,
    p90: upper(band, p50[k] as number),
  }));
}

function meanOf(y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] as number;
  return y.length > 0 ? s / y.length : 0;
}

export type { ModelOptions };
