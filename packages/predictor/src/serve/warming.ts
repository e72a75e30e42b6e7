/**
 * How long a warming sidecar still needs before its first training, in words people read:
 * "about 6 h 40 min at one point a minute". A count of points ("20 points, need 420") leaves
 * the reader to do the arithmetic with a step they may not know; the time left answers the
 * question they have (when will it forecast?). The same text goes to `/forecast`'s
 * `warming`, the stale reason, `/readyz` and the log, so they cannot disagree.
 */

/** `/forecast`'s and `/readyz`'s `warming`: the history still missing before the first training. */
export interface WarmingJson {
  /** Usable points held now (leading and trailing gaps not counted). */
  pointsHeld: number;
  /** Points the first training needs. */
  pointsNeeded: number;
  /** (needed - held) x step, seconds: the time left if every step brings a point. */
  secondsLeft: number;
  /** The same in words, e.g. `about 6 h 40 min at one point a minute`. */
  timeLeft: string;
}

const UNITS: ReadonlyArray<readonly [name: string, seconds: number]> = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
];

/**
 * A duration in at most two units, the larger first, the smaller rounded to the nearest:
 * `42 s`, `2 min 30 s`, `6 h 40 min`, `3 d 2 h`, `0 s`. Negative or non-finite input is 0.
 * @param seconds The duration, seconds.
 */
export function formatDuration(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.round(seconds)) : 0;
  const i = UNITS.findIndex(([, size]) => s >= size);
  if (i === -1) return '0 s';
  const [bigName, bigSize] = UNITS[i] as readonly [string, number];
  const small = UNITS[i + 1];
  if (!small) return `${s} ${bigName}`;
  // Round to the smaller unit first, so 6 h 39 min 50 s reads 6 h 40 min, not 6 h 39 min.
  const rounded = Math.round(s / small[1]) * small[1];
  const big = Math.floor(rounded / bigSize);
  const rest = (rounded - big * bigSize) / small[1];
  return rest ? `${big} ${bigName} ${rest} ${small[0]}` : `${big} ${bigName}`;
}

const STEP_WORDS: Readonly<Record<number, string>> = {
  1: 'one point a second',
  60: 'one point a minute',
  3600: 'one point an hour',
  86400: 'one point a day',
};

/**
 * The collection rate in words: `one point a minute`, `one point every 15 s`.
 * @param stepSeconds The sidecar's step, seconds (> 0).
 */
export function formatStep(stepSeconds: number): string {
  return STEP_WORDS[stepSeconds] ?? `one point every ${formatDuration(stepSeconds)}`;
}

/**
 * The time left before the first training, assuming one point per step from now on.
 * @param pointsHeld Usable points held now.
 * @param pointsNeeded Points the first training needs.
 * @param stepSeconds The sidecar's step, seconds.
 * @returns The estimate; `secondsLeft` 0 (and `about 0 s`) once enough points are held.
 * @example warmingEstimate(20, 420, 60).timeLeft // 'about 6 h 40 min at one point a minute'
 */
export function warmingEstimate(
  pointsHeld: number,
  pointsNeeded: number,
  stepSeconds: number,
): WarmingJson {
  const secondsLeft = Math.max(0, pointsNeeded - pointsHeld) * stepSeconds;
  return {
    pointsHeld,
    pointsNeeded,
    secondsLeft,
    timeLeft: `about ${formatDuration(secondsLeft)} at ${formatStep(stepSeconds)}`,
  };
}

/**
 * The stale reason's message with the time left:
 * `too little history: 20 points, need 420 to train (about 6 h 40 min at one point a minute)`.
 * @param base The reason's message without it (`STALE_REASON_MESSAGES.too_little_history`).
 */
export function withTimeLeft(base: string, warming: WarmingJson): string {
  return `${base} (${warming.timeLeft})`;
}
