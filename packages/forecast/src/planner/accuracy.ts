/**
 * The forecast's live error: every forecast is remembered until its points come true, then
 * scored against what was observed. The rolling MASE (mean absolute error over the recent
 * window, scaled by the seasonal-naive in-sample error of the history) is what tells the
 * planner to stop trusting a model whose world has changed since the last retrain.
 */
import { intOption, numberOption, OptionError } from '../options.js';

const OWNER = 'createAccuracyTracker';

/** Options of {@link createAccuracyTracker}. */
export interface AccuracyTrackerOptions {
  /** Spacing of the series, milliseconds. */
  stepMs: number;
  /** Errors remembered for the rolling figures, points. Default 1440 (a day at 1 min). */
  window?: number;
  /** Scale of MASE: the seasonal naive in-sample MAE of the history. Default 1 (plain MAE). */
  scale?: number;
  /** Which forecast step is scored (1 = the next point). Default 1. */
  lead?: number;
}

/** Rolling error figures; `undefined` until something was scored. */
export interface AccuracySnapshot {
  /** Points scored in the window. */
  count: number;
  /** Mean absolute error of p50 (the series' unit). */
  mae: number | undefined;
  /** `mae / scale`. */
  mase: number | undefined;
  /** Share of observations at or below p90, 0..1. */
  coverage90: number | undefined;
}

/** See {@link createAccuracyTracker}. */
export interface AccuracyTracker {
  /** Remembers a forecast: `p50[k]` and `p90[k]` are for `firstMs + k * stepMs`. */
  forecast(firstMs: number, p50: ArrayLike<number>, p90: ArrayLike<number>): void;
  /** Scores the remembered forecast for `timeMs` against `value` (non-finite values are ignored). */
  observe(timeMs: number, value: number): void;
  /** Replaces the MASE scale (after a retrain). */
  setScale(scale: number): void;
  snapshot(): AccuracySnapshot;
}

/**
 * Tracks forecast error as observations arrive. Memory is bounded: pending predictions are
 * kept for at most `lead` future points and the window is a ring.
 * @throws OptionError naming the field.
 */
export function createAccuracyTracker(options: AccuracyTrackerOptions): AccuracyTracker {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const stepMs = intOption(OWNER, 'stepMs', options.stepMs, { min: 1, unit: 'milliseconds' });
  const size = intOption(OWNER, 'window', options.window, { default: 1440, min: 1 });
  const lead = intOption(OWNER, 'lead', options.lead, { default: 1, min: 1 });
  let scale = numberOption(OWNER, 'scale', options.scale, { default: 1, min: 0, exclusive: true });
  // Predictions for future points, keyed by their step index.
  const pending = new Map<number, { p50: number; p90: number }>();
  const absErr = new Float64Array(size);
  const covered = new Uint8Array(size);
  let n = 0;
  let next = 0;
  let sumAbs = 0;
  let sumCovered = 0;

  return {
    forecast(firstMs, p50, p90) {
      const at = Math.round(firstMs / stepMs) + lead - 1;
      const k = lead - 1;
      if (k < p50.length && Number.isFinite(p50[k]) && Number.isFinite(p90[k]))
        pending.set(at, { p50: p50[k] as number, p90: p90[k] as number });
    },
    observe(timeMs, value) {
      if (!Number.isFinite(value)) return;
      const at = Math.round(timeMs / stepMs);
      const p = pending.get(at);
      // Predictions for points that are now in the past can never be scored.
      for (const key of pending.keys()) if (key <= at) pending.delete(key);
      if (!p) return;
      if (n === size) {
        sumAbs -= absErr[next] as number;
        sumCovered -= covered[next] as number;
      } else n++;
      const e = Math.abs(value - p.p50);
      const c = value <= p.p90 ? 1 : 0;
      absErr[next] = e;
      covered[next] = c;
      sumAbs += e;
      sumCovered += c;
      next = (next + 1) % size;
    },
    setScale(s) {
      scale = numberOption(OWNER, 'scale', s, { default: 1, min: 0, exclusive: true });
    },
    snapshot() {
      if (n === 0) return { count: 0, mae: undefined, mase: undefined, coverage90: undefined };
      const mae = Math.max(0, sumAbs) / n;
      return { count: n, mae, mase: mae / scale, coverage90: sumCovered / n };
    },
  };
}
