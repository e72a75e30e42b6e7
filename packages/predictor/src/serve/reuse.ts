/**
 * Forecasting from a saved model after the history ring has moved on. `forecastWith` needs
 * the series to start where the fitted one started, because calendar features count steps
 * from the first point; but the sidecar's ring drops its oldest point every step once full.
 * Starting the series a whole number of seasons later keeps every step's calendar phase, so
 * the saved model still applies: this finds that start.
 */
import {
  type BandAdaptation,
  contextFor,
  type FittedForecaster,
  type ForecastPoint,
  forecastWith,
  loadModel,
  type Series,
  sliceSeries,
} from '@tidewatch/forecast';

/**
 * Forecasts `horizon` steps after `series` with the fitted model, without refitting. When
 * the series no longer starts where the model was fitted, it is cut at the first finite
 * point a whole number of calendar periods (lcm of day and week, in steps) after the
 * fitted start, so time-of-day and day-of-week features line up. With `adaptation` (the live
 * correction of ./band.ts) the p90 is read at its adapted level.
 * @throws Error when the step differs, when no aligned start exists (a calendar that is not
 *   a whole number of steps, or fewer points after the cut than the model's minimum
 *   history), or from the model.
 */
export function forecastFromFitted(
  fitted: FittedForecaster,
  series: Series,
  horizon: number,
  adaptation?: BandAdaptation,
): ForecastPoint[] {
  const { values, stepMs } = series;
  if (stepMs !== fitted.stepMs)
    throw new Error(`series step ${stepMs} ms differs from the model's ${fitted.stepMs} ms`);
  let first = 0;
  while (first < values.length && !Number.isFinite(values[first] as number)) first++;
  if (first === values.length) throw new Error('no observations to forecast from');
  const startMs = series.startMs + first * stepMs;
  if (startMs === fitted.startMs) return forecastWith(fitted, series, horizon, adaptation);

  const ctx = contextFor(series, horizon, fitted.season);
  const period = calendarPeriod(ctx.daySteps, ctx.weekSteps);
  if (period === undefined) {
    throw new Error(
      `the history moved and a day (${ctx.daySteps} steps) is not a whole number of steps: retrain needed`,
    );
  }
  const offset = Math.round((startMs - fitted.startMs) / stepMs);
  const r = ((offset % period) + period) % period;
  let cut = first + (r === 0 ? 0 : period - r);
  while (cut < values.length && !Number.isFinite(values[cut] as number)) cut += period;
  // Fewer points after the cut than the model needs would forecast from missing lags.
  if (cut >= values.length || values.length - cut < loadModel(fitted.model).minHistory(ctx))
    throw new Error('too little history after aligning to the model calendar: retrain needed');
  const aligned = sliceSeries(series, cut);
  return forecastWith({ ...fitted, startMs: aligned.startMs }, aligned, horizon, adaptation);
}

/** lcm(day, week) in steps, or `undefined` when either is not a whole number. */
function calendarPeriod(daySteps: number, weekSteps: number): number | undefined {
  const d = Math.round(daySteps);
  const w = Math.round(weekSteps);
  if (Math.abs(d - daySteps) > 1e-9 || Math.abs(w - weekSteps) > 1e-9 || d < 1 || w < 1)
    return undefined;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return (d / gcd(d, w)) * w;
}
