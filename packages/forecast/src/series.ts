/**
 * An evenly spaced series: `values[i]` is the observation at `startMs + i * stepMs`.
 * `NaN` marks a missing point (a gap the history store could not fill honestly).
 */
export interface Series {
  /** Unix time of `values[0]`, milliseconds. */
  readonly startMs: number;
  /** Spacing between points, milliseconds (> 0). */
  readonly stepMs: number;
  readonly values: ArrayLike<number>;
}

/** Unix milliseconds of point `i` of `series`. */
export function timeAt(series: Series, i: number): number {
  return series.startMs + i * series.stepMs;
}

/** A copy of `series` restricted to points `[from, to)`. */
export function sliceSeries(series: Series, from: number, to = series.values.length): Series {
  const values = Float64Array.from({ length: Math.max(0, to - from) }, (_, k) =>
    Number(series.values[from + k]),
  );
  return { startMs: timeAt(series, from), stepMs: series.stepMs, values };
}
