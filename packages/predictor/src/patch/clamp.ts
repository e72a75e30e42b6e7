/**
 * How far patch mode may move the actual load's threshold in one write.
 *
 * The planner's dynamic threshold is `T = target x actual / load` (target = capacity x target
 * utilisation, `load` the predicted load over the lead time, only when `load > actual`). The
 * HPA then wants `actual_then / T = (load / target) x (actual_then / actual_now)` replicas:
 * right while the actual load the HPA reads next equals the one the threshold was computed
 * from, but the threshold turns the ratio `load / actual` into a gain on every later change of
 * the actual load. When actual is far below the forecast (a quiet night, a dip between scrapes,
 * a half-empty fleet after a reconnect wave) the gain is large: at actual 5 and load 300, T is
 * 1/60 of the target, and a swing of the actual load from 5 to 50 makes the HPA ask for ten
 * times the predicted need. The threshold is also a persisted write (unlike the predicted
 * trigger, which vanishes with a stale forecast), so a noisy low value stays until overwritten.
 *
 * So the written value is bounded where the noise enters, the gain:
 * - a floor, `floorFraction x static` (default 0.5): the gain `load / actual` is capped at
 *   1 / floorFraction (2x); prediction can add up to as much capacity again as the actual load
 *   needs, not unboundedly more;
 * - a dead band, `lowerMargin` (default 0.1): lowering starts only when the forecast exceeds the
 *   actual load by 1 / (1 - margin) (about 11 %); a request closer to the static threshold
 *   writes the static threshold, so noise around "forecast = actual" does not flap the object;
 * - a step bound, `maxStepFraction x static` per write (default 0.2) in both directions: a
 *   single outlier moves the threshold by at most 20 % of the static value, and a stale
 *   forecast returns the object to the static threshold within ceil((1 - floor) / step) = 3
 *   writes (HPA scale-down is slower than that anyway: its stabilisation window);
 * - never above the static threshold (patch mode only ever adds capacity).
 */

/** The bounds {@link clampThreshold} applies. */
export interface ClampOptions {
  /** The threshold without prediction (capacity x target utilisation), load per replica, > 0. */
  staticThreshold: number;
  /** Largest change per write as a share of `staticThreshold`, (0, 1]. */
  maxStepFraction: number;
  /** Lowest threshold as a share of `staticThreshold`, (0, 1]. */
  floorFraction: number;
  /** Share below `staticThreshold` a request must reach before lowering starts, [0, 1). */
  lowerMargin: number;
}

/**
 * The threshold to write for a `requested` one, given the `current` live value (undefined when
 * the object has none or it is unreadable: then only the floor, dead band and ceiling apply).
 * Pure; rounded to 0.001 (what a quantity holds).
 */
export function clampThreshold(
  requested: number,
  current: number | undefined,
  o: ClampOptions,
): number {
  const s = o.staticThreshold;
  let aim = requested >= s * (1 - o.lowerMargin) ? s : requested;
  aim = Math.min(s, Math.max(aim, o.floorFraction * s));
  if (current !== undefined && Number.isFinite(current) && current > 0) {
    const step = o.maxStepFraction * s;
    aim = Math.min(Math.max(aim, current - step), current + step);
  }
  return Math.round(aim * 1000) / 1000;
}
