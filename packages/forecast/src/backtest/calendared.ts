/**
 * Models fitted on a history with the operator's calendar divided out, and their forecasts
 * with it multiplied back in: the same wrapping for the backtest's origins and the final fit,
 * so that what selection scores is what the forecast does.
 */
import { applyCalendar, type CalendarEffects, calendarAdjust } from '../calendar/effects.js';
import type { Calendar } from '../calendar/parse.js';
import { holdoutOrigins } from '../models/holdout.js';
import type { Model, ModelContext } from '../models/types.js';
import type { OriginRun } from './backtest.js';

/** A history as models see it: with event effects divided out when there is a calendar. */
export interface CalendarView {
  /** What models fit on and forecast from. */
  readonly y: Float64Array;
  /** The actual history (holdout actuals are read from it). */
  readonly raw: Float64Array;
  readonly startMs: number;
  readonly stepMs: number;
  readonly calendar?: Calendar;
  readonly effects?: CalendarEffects;
}

/** The view of `y` (which starts at `startMs`) under `calendar` (none: `y` as is). */
export function calendarView(
  y: Float64Array,
  startMs: number,
  stepMs: number,
  calendar?: Calendar,
): CalendarView {
  if (!calendar || calendar.events.length === 0) return { y, raw: y, startMs, stepMs };
  const adjusted = calendarAdjust(y, startMs, stepMs, calendar);
  return { y: adjusted.y, raw: y, startMs, stepMs, calendar, effects: adjusted.effects };
}

/** `p50` for the steps from index `at` of the view's grid, with the events put back. */
export function restore(view: CalendarView, p50: Float64Array, at: number): Float64Array {
  if (!view.calendar || !view.effects) return p50;
  return applyCalendar(
    p50,
    view.startMs + at * view.stepMs,
    view.stepMs,
    view.calendar,
    view.effects,
  );
}

/** Per view: the effects learnt from the history before its first holdout origin. */
const early = new WeakMap<CalendarView, { t: number; effects: CalendarEffects }>();

/**
 * The effects holdout forecasts are restored with: learnt only from the history before the
 * first holdout origin, because effects learnt from occurrences inside the holdout would make
 * its errors on event days look smaller than they will be, and the band too narrow. Shared by
 * every model fitted on the view.
 */
function holdoutEffects(view: CalendarView, t: number): CalendarEffects | undefined {
  if (!view.calendar) return undefined;
  const hit = early.get(view);
  if (hit && hit.t === t) return hit.effects;
  const { effects } = calendarAdjust(
    view.raw.subarray(0, t),
    view.startMs,
    view.stepMs,
    view.calendar,
  );
  early.set(view, { t, effects });
  return effects;
}

/**
 * Forecast from the end of the view plus the holdout pairs a band is calibrated on, in the
 * actual (not adjusted) scale: holdout origins before `minT` are skipped (the same for every
 * member of a combination, so their pairs line up).
 */
export function runModel(m: Model, view: CalendarView, ctx: ModelContext, minT: number): OriginRun {
  const hist = view.y;
  const holdF: number[] = [];
  const holdA: number[] = [];
  const origins = holdoutOrigins(hist.length, ctx).filter((t) => t >= minT);
  const effects = origins.length > 0 ? holdoutEffects(view, origins[0] as number) : undefined;
  const holdoutView = effects ? { ...view, effects } : view;
  for (const t of origins) {
    const f = restore(holdoutView, m.predict(hist.subarray(0, t), ctx.horizon, ctx), t);
    for (let k = 0; k < ctx.horizon; k++) {
      holdF.push(f[k] as number);
      holdA.push(view.raw[t + k] as number);
    }
  }
  return { p50: restore(view, m.predict(hist, ctx.horizon, ctx), hist.length), holdF, holdA };
}
