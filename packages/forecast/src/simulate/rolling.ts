/**
 * The predictive signal a sidecar would have published over a trace, minute by minute,
 * without looking ahead: the model is refitted every `retrainEverySteps` on the trailing
 * `trainSteps` of history (as the sidecar's daily retrain does), each step forecasts the lead
 * time from the data up to that step, and the p90 band is recalibrated at each retrain from
 * the forecasts whose outcome is known by then.
 */
import { type Band, fitBand, upper } from '../backtest/quantiles.js';
import { contextFor } from '../models/context.js';
import { createModels } from '../models/registry.js';
import type { Model } from '../models/types.js';
import { intOption, numberOption, OptionError } from '../options.js';
import type { Series } from '../series.js';

const OWNER = 'rollingPredictions';

/** Options of {@link rollingPredictions}. */
export interface RollingOptions {
  /** Steps ahead a decision must see (the planner's lead time in steps). Required, >= 1. */
  leadSteps: number;
  /** The model (cheap to forecast: `seasonal-profile` by default, or a seasonal naive). */
  model?: string;
  /** Builds a fresh model instead of `model` (for experiments with fixed parameters). */
  createModel?: () => Model;
  /** History each fit uses, steps. Default 4 weeks. */
  trainSteps?: number;
  /** Refit interval, steps. Default 1 day. */
  retrainEverySteps?: number;
  /**
   * First step to publish for (earlier ones are NaN). Default: the model's `minHistory`.
   * Earlier works for models that degrade gracefully (a profile over fewer weeks); a fit that
   * throws publishes nothing until the next retrain.
   */
  from?: number;
  /** The planner's target utilisation: see {@link RollingResult.signal}. Default 0.7. */
  targetUtilization?: number;
}

/** The per-step predictions. `NaN` where nothing is published. */
export interface RollingResult {
  /** Highest p50 over the lead time, as forecast at each step. */
  p50: Float64Array;
  /** Highest p90 over the lead time. */
  p90: Float64Array;
  /**
   * What the predicted trigger reads: max(p50 peak, p90 peak x targetUtilization), i.e. the
   * median must fit at the target utilisation like actual load, the p90 at full capacity.
   */
  signal: Float64Array;
  /** Model fits performed. */
  fits: number;
}

/**
 * Replays the predictor over `series` without lookahead.
 * @throws OptionError naming the field; Error for an unknown model.
 */
export function rollingPredictions(series: Series, options: RollingOptions): RollingResult {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const lead = intOption(OWNER, 'leadSteps', options.leadSteps, { min: 1 });
  const day = Math.round(86_400_000 / series.stepMs);
  const week = 7 * day;
  const trainSteps = intOption(OWNER, 'trainSteps', options.trainSteps, {
    default: 4 * week,
    min: 2,
  });
  const every = intOption(OWNER, 'retrainEverySteps', options.retrainEverySteps, {
    default: day,
    min: 1,
  });
  const util = numberOption(OWNER, 'targetUtilization', options.targetUtilization, {
    default: 0.7,
    min: 0,
    exclusive: true,
  });
  const name = options.model ?? 'seasonal-profile';
  const make = options.createModel ?? (() => (createModels([name]) as [Model])[0]);
  const probe = make();
  const n = series.values.length;
  const y = Float64Array.from(series.values as ArrayLike<number>, (v) =>
    Number.isFinite(v) ? v : 0,
  );
  const ctxAt = (start: number) =>
    contextFor({ startMs: series.startMs + start * series.stepMs, stepMs: series.stepMs }, lead);
  const need = probe.minHistory(ctxAt(0));
  const from = intOption(OWNER, 'from', options.from, { default: need, min: 1 });
  // Forecasts only look back a few weeks: a window that starts a whole number of weeks back
  // keeps the weekly phase and bounds the cost of a forecast.
  const keep = Math.ceil((Math.max(need, trainSteps) + lead) / week) * week;

  const p50 = new Float64Array(n).fill(Number.NaN);
  const p90 = new Float64Array(n).fill(Number.NaN);
  const signal = new Float64Array(n).fill(Number.NaN);
  const calibration = Math.min(7 * day, Math.max(lead * 50, 1));
  let model: Model | undefined;
  let band: Band | undefined;
  let fits = 0;
  for (let i = from; i < n; i++) {
    if ((i - from) % every === 0) {
      const start = Math.max(0, i + 1 - trainSteps);
      const fresh = make();
      try {
        fresh.fit(y.subarray(start, i + 1), ctxAt(start));
        model = fresh;
        fits++;
      } catch {
        model = undefined;
      }
      band = calibrate(p50, y, i, lead, calibration);
    }
    if (model === undefined) continue;
    const start = Math.max(0, i + 1 - keep);
    const f = model.predict(y.subarray(start, i + 1), lead, ctxAt(start));
    let peak = 0;
    for (let k = 0; k < lead; k++) peak = Math.max(peak, f[k] as number);
    p50[i] = peak;
    if (band) {
      p90[i] = upper(band, peak);
      signal[i] = Math.max(peak, (p90[i] as number) * util);
    } else signal[i] = peak;
  }
  return { p50, p90, signal, fits };
}

/** A band from the p50 peaks whose actual peak is known at step `now`. */
function calibrate(
  p50: Float64Array,
  y: Float64Array,
  now: number,
  lead: number,
  size: number,
): Band | undefined {
  const forecasts: number[] = [];
  const actuals: number[] = [];
  for (let i = Math.max(0, now - lead - size); i <= now - lead; i++) {
    const f = p50[i] as number;
    if (!Number.isFinite(f)) continue;
    let a = 0;
    for (let k = 1; k <= lead; k++) a = Math.max(a, y[i + k] as number);
    forecasts.push(f);
    actuals.push(a);
  }
  if (forecasts.length < 30) return undefined;
  const level = forecasts.reduce((s, v) => s + v, 0) / forecasts.length;
  return fitBand(forecasts, actuals, level);
}
