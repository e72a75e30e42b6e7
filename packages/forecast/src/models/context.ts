import type { Series } from '../series.js';
import type { ModelContext } from './types.js';

const DAY_MS = 86_400_000;

/** Overrides for the calendar a series is read with. */
export interface SeasonOptions {
  /** Steps per day; default 86,400 s / step. */
  daySteps?: number;
  /** Steps per weekly season; default 7 x `daySteps`. */
  weekSteps?: number;
}

/** The model context for `series` at horizon `horizon` steps. */
export function contextFor(
  series: Pick<Series, 'startMs' | 'stepMs'>,
  horizon: number,
  season: SeasonOptions = {},
  extra: Pick<ModelContext, 'onProgress' | 'deadline'> = {},
): ModelContext {
  const daySteps = season.daySteps ?? DAY_MS / series.stepMs;
  return {
    stepMs: series.stepMs,
    startMs: series.startMs,
    daySteps,
    weekSteps: season.weekSteps ?? 7 * daySteps,
    // 365.25 days: leap years counted on average.
    yearSteps: 365.25 * daySteps,
    horizon,
    ...extra,
  };
}

/**
 * The values as a NaN-free Float64Array: interior gaps are bridged linearly (the history
 * store leaves NaN where it could not fill honestly) and leading/trailing NaN are trimmed.
 * Returns the index of the first kept point so timestamps stay right.
 */
export function cleanValues(values: ArrayLike<number>): { y: Float64Array; offset: number } {
  let first = 0;
  let last = values.length - 1;
  while (first <= last && !Number.isFinite(values[first] as number)) first++;
  while (last >= first && !Number.isFinite(values[last] as number)) last--;
  const y = new Float64Array(Math.max(0, last - first + 1));
  let prev = -1;
  for (let i = 0; i < y.length; i++) {
    const v = values[first + i] as number;
    if (!Number.isFinite(v)) continue;
    y[i] = v;
    if (prev >= 0 && i - prev > 1) {
      const a = y[prev] as number;
      for (let j = prev + 1; j < i; j++) y[j] = a + ((v - a) * (j - prev)) / (i - prev);
    }
    prev = i;
  }
  return { y, offset: first };
}
