/** Accuracy measures over paired forecasts and actuals (sums, so origins can be pooled). */
export interface ErrorSums {
  /** Sum of |actual - p50|. */
  absError: number;
  /** Sum of |actual|. */
  absActual: number;
  /** Sum over points of |actual - p50| / scale (the MASE numerator, already scaled). */
  scaledError: number;
  /** Points whose actual was at or below the p90. */
  covered: number;
  points: number;
}

/** Empty sums to accumulate into. */
export function emptySums(): ErrorSums {
  return { absError: 0, absActual: 0, scaledError: 0, covered: 0, points: 0 };
}

/** Adds one origin's forecast to `sums`; `scale` is the in-sample seasonal MAE. */
export function accumulate(
  sums: ErrorSums,
  actual: ArrayLike<number>,
  p50: ArrayLike<number>,
  p90: ArrayLike<number>,
  scale: number,
): void {
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k] as number;
    const e = Math.abs(a - (p50[k] as number));
    sums.absError += e;
    sums.absActual += Math.abs(a);
    sums.scaledError += e / scale;
    if (a <= (p90[k] as number)) sums.covered++;
    sums.points++;
  }
}

/** Mean absolute scaled error (1 = as good as in-sample weekly seasonal naive). */
export function mase(s: ErrorSums): number {
  return s.points > 0 ? s.scaledError / s.points : Number.NaN;
}

/** Weighted absolute percentage error as a fraction (0.03 = 3 %). */
export function wape(s: ErrorSums): number {
  return s.absActual > 0 ? s.absError / s.absActual : Number.NaN;
}

/** Share of actuals at or below the p90 (0..1; 0.9 is perfectly calibrated). */
export function coverage(s: ErrorSums): number {
  return s.points > 0 ? s.covered / s.points : Number.NaN;
}
