/**
 * Round-trip recording with HdrHistogram (hdr-histogram-js, its pure-JS build: no
 * WebAssembly to compile, and a record is an array increment). Values are kept in
 * microseconds with 3 significant digits, so p50/p99 are within 0.1 % of the truth.
 */
import * as hdr from 'hdr-histogram-js';

/** Percentiles of a latency distribution, in milliseconds; `null` when nothing was recorded. */
export interface LatencySummary {
  count: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

/** Largest recordable value: one hour, in µs. Longer values are clamped to it. */
const MAX_US = 3_600_000_000;

/** A latency recorder (ms in, ms out). */
export class LatencyRecorder {
  private readonly h: hdr.Histogram;

  constructor() {
    this.h = hdr.build({
      bitBucketSize: 32,
      lowestDiscernibleValue: 1,
      highestTrackableValue: MAX_US,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
  }

  /** Records one value in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const us = Math.round(ms * 1000);
    this.h.recordValue(Math.max(0, Math.min(us, MAX_US)));
  }

  /** Values recorded so far. */
  get count(): number {
    return this.h.totalCount;
  }

  /** Count, p50, p99 and max in ms (rounded to the µs). */
  summary(): LatencySummary {
    const count = this.h.totalCount;
    if (count === 0) return { count: 0, p50Ms: null, p99Ms: null, maxMs: null };
    const ms = (us: number) => Math.round(us) / 1000;
    return {
      count,
      p50Ms: ms(this.h.getValueAtPercentile(50)),
      p99Ms: ms(this.h.getValueAtPercentile(99)),
      maxMs: ms(this.h.maxValue),
    };
  }
}
