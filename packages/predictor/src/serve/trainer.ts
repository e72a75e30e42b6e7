/**
 * Training for the sidecar: the rolling-origin backtest picks a model among the configured
 * candidates and fits it, in a worker thread (`runInWorker`), so the event loop serving
 * `/metrics` never waits on a model.
 */

import type { Calendar, Series } from '@tidewatch/forecast';
import {
  cleanValues,
  contextFor,
  createModels,
  loadCalendarFile,
  runInWorker,
  seasonalMae,
} from '@tidewatch/forecast';
import type { ServeConfig } from './config.js';
import type { SavedModel } from './model-file.js';

/** What a training run produced. */
export interface TrainResult {
  model: SavedModel;
  /**
   * Points of history at which a candidate the backtest had to skip becomes usable (retrain
   * then, not a day later); `undefined` when every candidate was usable.
   */
  nextUsefulPoints: number | undefined;
}

/** The finite span of `series` (what the models see once leading/trailing gaps are cut). */
export function usablePoints(series: Series): number {
  return cleanValues(series.values).y.length;
}

/**
 * Points the first training needs: the shortest candidate's minimum history plus the
 * backtest's origins (`horizon + (origins - 1) * horizon`).
 */
export function pointsNeeded(
  config: ServeConfig,
  series: Pick<Series, 'startMs' | 'stepMs'>,
): number {
  const { horizonSteps: h, origins, models, season } = config.forecast;
  const ctx = contextFor(series, h, season);
  const min = Math.min(...createModels(models).map((m) => m.minHistory(ctx)));
  return min + h + (origins - 1) * h;
}

/**
 * The calendar training uses: the one read when the config was validated. A config built
 * without the loader (a test, an embedding) that names a file has it read here, so the
 * setting is never silently ignored.
 * @throws Error naming the file when it cannot be read or is invalid.
 */
export function calendarOf(config: ServeConfig): Calendar | undefined {
  const { calendar, calendarFile } = config.forecast;
  if (calendar !== undefined || calendarFile === undefined) return calendar;
  return loadCalendarFile(calendarFile);
}

/**
 * Chooses and fits a model on `series` in a worker thread, with the events of
 * `forecast.calendarFile` when one is configured.
 * @throws (rejects) the worker's error (too little history, a model failure),
 *   `WorkerTimeoutError` past 2 x `forecast.timeBudgetSeconds`, or an AbortError.
 */
export async function trainModel(
  series: Series,
  config: ServeConfig,
  options: { signal?: AbortSignal; now?: () => number } = {},
): Promise<TrainResult> {
  const now = options.now ?? Date.now;
  const { horizonSteps, models, origins, season, timeBudgetSeconds } = config.forecast;
  const calendar = calendarOf(config);
  // The worker takes the values' buffer: keep what the MASE scale needs before it goes.
  const { y } = cleanValues(series.values);
  const ctx = contextFor(series, horizonSteps, season);
  const scale = seasonalMae(y, ctx.weekSteps);
  const result = await runInWorker(
    'forecast',
    {
      series: {
        startMs: series.startMs,
        stepMs: series.stepMs,
        values: Float64Array.from(series.values),
      },
      options: {
        horizon: horizonSteps,
        model: 'auto',
        candidates: models,
        origins,
        ...(season ? { season } : {}),
        ...(calendar ? { calendar } : {}),
      },
    },
    {
      timeBudgetMs: timeBudgetSeconds * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  const row = result.backtest?.models.find((m) => m.model === result.model);
  const scores =
    row && [row.mase, row.wape, row.coverage90].every(Number.isFinite)
      ? { mase: row.mase, wape: row.wape, coverage90: row.coverage90 }
      : null;
  const skipped = (result.backtest?.skipped ?? []).map((s) => s.needs);
  return {
    model: {
      metric: config.metric,
      stepMs: series.stepMs,
      trainedAtMs: now(),
      model: result.model,
      scores,
      maseScale: Number.isFinite(scale) && scale > 0 ? scale : null,
      fitted: result.fitted,
    },
    nextUsefulPoints: skipped.length > 0 ? Math.min(...skipped) : undefined,
  };
}
