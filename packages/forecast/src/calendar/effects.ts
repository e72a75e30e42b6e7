/**
 * Calendar effects: how much an event (a holiday, a launch) multiplies load, learnt from its
 * past occurrences, divided out of the history before models fit (so a model never learns a
 * Christmas dip as part of its season) and multiplied back into the forecast.
 *
 * An event covers every step its time span overlaps. Its effect is a profile over the steps
 * of the event (factor per step from the event's start) so an hourly or half-hourly series
 * learns the shape of a day-long holiday; a day-long event on daily data, or a 3-hour event
 * on daily data, is one step and so one factor. Long events are cut into at most
 * {@link MAX_PROFILE} buckets of equal width (a day on minute data: 30-minute buckets),
 * because one or two occurrences cannot pin down 1,440 per-minute factors.
 *
 * The factor of a bucket is the median over occurrences of actual / baseline, where the
 * baseline of a step is the median of the values one and two weeks before and after (same
 * weekday and time), leaving out points that are in any event themselves. Steps that two
 * differently named events cover are left out of learning (their effects cannot be told
 * apart) but get both factors applied.
 */
import type { Calendar, CalendarEvent } from './parse.js';

/** What an event name's effect rests on. */
export type CalendarEffectSource =
  /** Learnt from occurrences in the history. */
  | 'history'
  /** The file's `factor` (the name never occurred in the history, or was not measurable). */
  | 'file'
  /** No history and no factor: forecasts are left unchanged. */
  | 'none';

/** The effect of one event name. */
export interface CalendarEffect {
  readonly name: string;
  readonly source: CalendarEffectSource;
  /** Steps per factor (1: one factor per step of the event). */
  readonly width: number;
  /**
   * Multipliers by bucket from the event's start, each in [{@link MIN_FACTOR},
   * {@link MAX_FACTOR}]; empty unless `source` is `history` (the file's factor is per event).
   */
  readonly factors: number[];
  /** Occurrences in the history that were measured (0 unless `source` is `history`). */
  readonly occurrences: number;
}

/** What {@link calendarAdjust} learnt: plain JSON, stored in the fitted forecaster. */
export interface CalendarEffects {
  /** The step the effects were learnt at, ms (profiles are in steps). */
  readonly stepMs: number;
  /** One entry per event name of the calendar, sorted by name. */
  readonly effects: CalendarEffect[];
}

/** Smallest learnt factor: an event that empties the service still leaves a floor. */
export const MIN_FACTOR = 0.05;
/** Largest learnt factor. */
export const MAX_FACTOR = 20;
/** Most factors one event name learns (longer events share a factor between steps). */
export const MAX_PROFILE = 48;

const WEEK_MS = 7 * 86_400_000;

/** An event's steps on the grid `originMs + i * stepMs`: `[first, end)`, unclipped. */
function stepsOf(e: CalendarEvent, originMs: number, stepMs: number): [number, number] {
  return [Math.floor((e.startMs - originMs) / stepMs), Math.ceil((e.endMs - originMs) / stepMs)];
}

/** Per name: the bucket width (from its longest occurrence, so learning and applying agree). */
function widths(calendar: Calendar, stepMs: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of calendar.events) {
    const [a, b] = stepsOf(e, 0, stepMs);
    const w = Math.max(1, Math.ceil((b - a) / MAX_PROFILE));
    out.set(e.name, Math.max(out.get(e.name) ?? 1, w));
  }
  return out;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

const clamp = (f: number) => Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, f));

/**
 * Learns each event name's effect from its occurrences in `y` and returns a copy of `y` with
 * the effects divided out (the history as it would have been without the events). Names that
 * cannot be measured (no occurrence with a baseline) fall back to the events' own `factor`
 * (divided out too) or, without one, stay in the history as they are.
 * Work is bounded by the steps the events cover in the history (x 4 reference points).
 * @param y - The history, NaN-free (see `cleanValues`); not modified.
 * @param startMs - Unix ms of `y[0]`.
 * @param stepMs - Spacing of `y`, ms (> 0).
 * @throws RangeError when `stepMs` is not a positive finite number.
 */
export function calendarAdjust(
  y: Float64Array,
  startMs: number,
  stepMs: number,
  calendar: Calendar,
): { y: Float64Array; effects: CalendarEffects } {
  if (!(stepMs > 0) || !Number.isFinite(stepMs))
    throw new RangeError(`calendarAdjust: stepMs must be a number > 0, got ${stepMs}`);
  const n = y.length;
  const width = widths(calendar, stepMs);
  const names = [...width.keys()].sort();
  const id = new Map(names.map((name, k) => [name, k]));
  // Per step of the history: -1 no event, k one event name, -2 several names.
  const owner = new Int32Array(n).fill(-1);
  const inHistory: CalendarEvent[] = [];
  for (const e of calendar.events) {
    const [a, b] = stepsOf(e, startMs, stepMs);
    if (b <= 0 || a >= n) continue;
    inHistory.push(e);
    const k = id.get(e.name) as number;
    for (let i = Math.max(0, a); i < Math.min(n, b); i++) {
      const o = owner[i] as number;
      owner[i] = o === -1 || o === k ? k : -2;
    }
  }
  const week = Math.max(1, Math.round(WEEK_MS / stepMs));
  const refs = [-2 * week, -week, week, 2 * week];
  const ref: number[] = [];
  const baseline = (i: number): number => {
    ref.length = 0;
    for (const d of refs) {
      const j = i + d;
      if (j >= 0 && j < n && owner[j] === -1) ref.push(y[j] as number);
    }
    return ref.length > 0 ? median(ref) : Number.NaN;
  };

  // Ratios per name and bucket, one per measured occurrence.
  const ratios = new Map<string, number[][]>();
  const measured = new Map<string, number>();
  const doneUntil = new Map<string, number>();
  for (const e of inHistory) {
    const [a, b] = stepsOf(e, startMs, stepMs);
    const k = id.get(e.name) as number;
    const w = width.get(e.name) as number;
    // Overlapping rows of one name count once.
    const from = Math.max(0, a, doneUntil.get(e.name) ?? 0);
    doneUntil.set(e.name, Math.max(doneUntil.get(e.name) ?? 0, b));
    const buckets = ratios.get(e.name) ?? [];
    ratios.set(e.name, buckets);
    let any = false;
    for (let j0 = from; j0 < Math.min(n, b); ) {
      const bucket = Math.floor((j0 - a) / w);
      const bucketEnd = Math.min(n, b, a + (bucket + 1) * w);
      let actual = 0;
      let base = 0;
      for (let i = j0; i < bucketEnd; i++) {
        if (owner[i] !== k) continue;
        const reference = baseline(i);
        if (!Number.isFinite(reference)) continue;
        actual += y[i] as number;
        base += reference;
      }
      if (base > 0) {
        const list = buckets[bucket] ?? [];
        list.push(actual / base);
        buckets[bucket] = list;
        any = true;
      }
      j0 = bucketEnd;
    }
    if (any) measured.set(e.name, (measured.get(e.name) ?? 0) + 1);
  }

  const withFactor = new Set(
    calendar.events.filter((e) => e.factor !== undefined).map((e) => e.name),
  );
  const effects: CalendarEffect[] = names.map((name) => {
    const buckets = ratios.get(name) ?? [];
    const all = buckets.flatMap((r) => r ?? []);
    const hasFactor = withFactor.has(name);
    if (all.length === 0)
      return {
        name,
        source: hasFactor ? 'file' : 'none',
        width: width.get(name) as number,
        factors: [],
        occurrences: 0,
      };
    // A bucket no occurrence measured takes the name's overall median.
    const overall = median(all);
    const factors = Array.from({ length: buckets.length }, (_, j) => {
      const r = buckets[j];
      return clamp(r && r.length > 0 ? median(r) : overall);
    });
    return {
      name,
      source: 'history',
      width: width.get(name) as number,
      factors,
      occurrences: measured.get(name) ?? 0,
    };
  });
  const result: CalendarEffects = { stepMs, effects };
  const out = Float64Array.from(y);
  multiply(out, startMs, stepMs, inHistory, result, true);
  return { y: out, effects: result };
}

/**
 * The forecast with event effects multiplied back in: each step of `p50` inside an event is
 * multiplied by the effect learnt for the event's name (by step of the event, so an event
 * that began before `firstMs` continues its profile), or by the event's own `factor` when the
 * name was not learnt, or left as is when there is neither (`effects` records which).
 * An occurrence longer than any learnt from keeps the last factor for its extra steps.
 * Steps inside several events get the product. Pure: `p50` is not modified.
 * @param firstMs - Unix ms of `p50[0]` (the step after the history).
 * @param effects - From {@link calendarAdjust} on the history the forecast continues.
 * @throws RangeError when `stepMs` differs from the step the effects were learnt at.
 */
export function applyCalendar(
  p50: Float64Array,
  firstMs: number,
  stepMs: number,
  calendar: Calendar,
  effects: CalendarEffects,
): Float64Array {
  if (effects.stepMs !== stepMs)
    throw new RangeError(
      `applyCalendar: stepMs ${stepMs} differs from the ${effects.stepMs} ms the effects were learnt at`,
    );
  const out = Float64Array.from(p50);
  const inside = calendar.events.filter((e) => {
    const [a, b] = stepsOf(e, firstMs, stepMs);
    return b > 0 && a < out.length;
  });
  multiply(out, firstMs, stepMs, inside, effects, false);
  return out;
}

/** Multiplies (or divides) the steps of `events` in `v` by their effects, in place. */
function multiply(
  v: Float64Array,
  originMs: number,
  stepMs: number,
  events: readonly CalendarEvent[],
  effects: CalendarEffects,
  divide: boolean,
): void {
  const byName = new Map(effects.effects.map((e) => [e.name, e]));
  const doneUntil = new Map<string, number>();
  for (const e of events) {
    const [a, b] = stepsOf(e, originMs, stepMs);
    const effect = byName.get(e.name);
    const learnt = effect?.source === 'history' && effect.factors.length > 0 ? effect : undefined;
    if (!learnt && e.factor === undefined) continue;
    const from = Math.max(0, a, doneUntil.get(e.name) ?? 0);
    doneUntil.set(e.name, Math.max(doneUntil.get(e.name) ?? 0, b));
    for (let i = from; i < Math.min(v.length, b); i++) {
      const f = learnt
        ? (learnt.factors[
            Math.min(Math.floor((i - a) / learnt.width), learnt.factors.length - 1)
          ] as number)
        : (e.factor as number);
      v[i] = divide ? (v[i] as number) / f : (v[i] as number) * f;
    }
  }
}
