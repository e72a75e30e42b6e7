import { adaptedShift, type BandAdaptation } from './backtest/adaptation.js';
import {
  type BacktestOptions,
  type BacktestReport,
  type BaseRuns,
  baseModels,
  combine,
  type OutOfSample,
  runBaseModels,
  scoreRuns,
} from './backtest/backtest.js';
import { calendarView, restore, runModel } from './backtest/calendared.js';
import { type Band, conformalise, fitBand, upper } from './backtest/quantiles.js';
import type { CalendarEffects } from './calendar/effects.js';
import type { Calendar } from './calendar/parse.js';
import { cleanValues, contextFor, type SeasonOptions } from './models/context.js';
import { ensembleModel } from './models/ensemble.js';
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
  /** The operator's calendar the model was fitted with (forecasts put its effects back). */
  readonly calendar?: Calendar;
  /** The effects learnt from the history at fit time (what the status page shows). */
  readonly calendarEffects?: CalendarEffects;
}

/** Options for {@link forecast}. */
export interface ForecastOptions extends Omit<BacktestOptions, 'models'> {
  /** A model name, or `auto` (default): the backtest winner among `candidates`. */
  model?: string;
  /** Models the backtest may choose from (default all). */
  candidates?: readonly string[];
  /**
   * The live adaptive correction of the band ({@link createBandAdaptation}, updated with
   * {@link adaptBand} as actuals arrive): the p90 is read at its level. Default: the
   * calibrated 0.9 level.
   */
  adaptation?: BandAdaptation;
}

/** What model selection hands to the final fit: the report and the rolling-origin runs. */
export interface Selection {
  /** The backtest that chose the model (absent when a model was named). */
  readonly report?: BacktestReport;
  /** The chosen model. */
  readonly model: string;
  /** The chosen model's rolling-origin forecasts and actuals (the band is conformalised on them). */
  readonly outOfSample?: OutOfSample;
  /** The base models' runs (their fitted state after the last origin is reusable). */
  readonly runs: readonly BaseRuns[];
}

/**
 * Forecasts `horizon` steps after the end of `series` with p50 and p90. With `model: 'auto'`
 * a rolling-origin {@link backtest} picks the model first; the chosen model is then fitted
 * on the whole history, its p90 band fitted per horizon step on holdout residuals and
 * conformalised on the backtest's rolling-origin forecasts ({@link select},
 * {@link forecastFrom}).
 * @throws Error for too little history (saying how much is needed) or an unknown model.
 */
export function forecast(series: Series, options: ForecastOptions): ForecastResult {
  // With a deadline, the choosing backtest gets half of what is left so the chosen model's
  // final fit is not starved.
  const backtestDeadline =
    options.deadline === undefined
      ? undefined
      : Date.now() + Math.max(0, options.deadline - Date.now()) / 2;
  return forecastFrom(series, options, select(series, { ...options, deadline: backtestDeadline }));
}

/**
 * The selection half of {@link forecast}: with `model: 'auto'` a rolling-origin backtest over
 * `candidates`; with a named model, the same rolling origins for that model alone (as many as
 * the history allows, none when it is too short), so its band can be conformalised too.
 * @throws Error for too little history for any candidate, or an unknown model.
 */
export function select(series: Series, options: ForecastOptions): Selection {
  const auto = !options.model || options.model === 'auto';
  if (auto) {
    const bt = { ...options, models: options.candidates };
    const runs = runBaseModels(series, bt);
    const { report, outOfSample } = scoreRuns(series, bt, runs);
    return { report, model: report.selected, outOfSample: outOfSample.get(report.selected), runs };
  }
  const name = options.model as string;
  createModels([name]);
  for (let origins = options.origins ?? 7; origins >= 1; origins = Math.floor(origins / 2)) {
    const bt = { ...options, models: [name], origins };
    try {
      const runs = runBaseModels(series, bt);
      return { model: name, outOfSample: scoreRuns(series, bt, runs).outOfSample.get(name), runs };
    } catch (error) {
      if (!(error as Error).message.startsWith('too little history')) throw error;
    }
  }
  return { model: name, runs: [] };
}

/**
 * The fitting half of {@link forecast}: fits the selected model on the whole history and
 * calibrates its band on the final holdout, conformalised on the selection's rolling-origin
 * forecasts.
 * @throws Error for too little history (saying how much is needed).
 */
export function forecastFrom(
  series: Series,
  options: ForecastOptions,
  selection: Selection,
): ForecastResult {
  const { y, offset } = cleanValues(series.values);
  const startMs = series.startMs + offset * series.stepMs;
  const name = selection.model;
  const { model, reused } = reuseExpensive(
    createModels([name], options.modelOptions)[0] as Model,
    selection.runs,
  );
  const ctx = contextFor({ startMs, stepMs: series.stepMs }, options.horizon, options.season, {
    deadline: options.deadline,
    onProgress: options.onProgress
      ? (fit) => options.onProgress?.({ origin: 0, total: 1, fit })
      : undefined,
  });
  const need = model.minHistory(ctx);
  if (y.length < need)
    throw new Error(`too little history for ${name}: ${y.length} points, need at least ${need}`);
  const view = calendarView(y, startMs, series.stepMs, options.calendar);
  const base = baseModels([model]);
  for (const m of base) if (!reused.has(m)) m.fit(view.y, ctx);
  const minT = Math.max(...base.map((m) => m.minHistory(ctx))) - ctx.horizon;
  const runs = base.map((m) => runModel(m, view, ctx, minT));
  const run = model.members ? combine(runs) : (runs[0] as ReturnType<typeof combine>);
  const holdout = fitBand(run.holdF, run.holdA, meanOf(y), options.horizon);
  const oos = selection.outOfSample;
  const band = oos ? conformalise(holdout, oos.forecasts, oos.actuals, options.horizon) : holdout;
  const fitted: FittedForecaster = {
    version: 1,
    model: model.toJSON(),
    band,
    stepMs: series.stepMs,
    startMs,
    horizon: options.horizon,
    season: options.season ?? {},
    ...(view.calendar && view.effects
      ? { calendar: view.calendar, calendarEffects: view.effects }
      : {}),
  };
  return {
    model: name,
    step: series.stepMs / 1000,
    forecast: points(
      run.p50,
      band,
      startMs + y.length * series.stepMs,
      series.stepMs,
      adaptedShift(band, options.adaptation),
    ),
    ...(selection.report ? { backtest: selection.report } : {}),
    fitted,
  };
}

/**
 * `model` with its expensive (neural) members taken from the selection's fitted state instead
 * of fitted again: the backtest fits them once, at its first origin, and scores them
 * forecasting from later origins, so that is the state it chose; a second fit on the whole
 * history doubled the cost of a forecast (the sidecar refits daily anyway). Cheap members are
 * refitted on the whole history by the caller.
 */
function reuseExpensive(
  model: Model,
  runs: readonly BaseRuns[],
): { model: Model; reused: ReadonlySet<Model> } {
  const reused = new Set<Model>();
  const reuse = (m: Model): Model => {
    const json = m.expensive ? runs.find((r) => r.model === m.name)?.fitted : undefined;
    if (!json) return m;
    const loaded = loadModel(json);
    reused.add(loaded);
    return loaded;
  };
  if (!model.members) return { model: reuse(model), reused };
  const members = model.members.map(reuse);
  return { model: reused.size > 0 ? ensembleModel(model.name, members) : model, reused };
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
  adaptation?: BandAdaptation,
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
  // The effects are learnt again from this history: the same history gives the same
  // forecast bit for bit, and a longer one counts the events it has seen since.
  const view = calendarView(y, startMs, series.stepMs, fitted.calendar);
  return points(
    restore(view, model.predict(view.y, horizon, ctx), y.length),
    fitted.band,
    startMs + y.length * series.stepMs,
    series.stepMs,
    adaptedShift(fitted.band, adaptation),
  );
}

function points(
  p50: ArrayLike<number>,
  band: Band,
  firstMs: number,
  stepMs: number,
  shift: number,
): ForecastPoint[] {
  return Array.from({ length: p50.length }, (_, k) => ({
    timestamp: new Date(firstMs + k * stepMs).toISOString(),
    p50: p50[k] as number,
    p90: upper(band, p50[k] as number, k, shift),
  }));
}

function meanOf(y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i] as number;
  return y.length > 0 ? s / y.length : 0;
}

export type { ModelOptions };
