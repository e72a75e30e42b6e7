/**
 * Counter -> rate, the way Prometheus' `rate()` treats counters: a decrease means the counter
 * was reset (the process restarted), so the new value is the whole increase since the reset.
 */
import { SourceError } from './errors.js';

/** One observation of a counter. */
export interface CounterSample {
  /** When it was read, unix ms. */
  readonly timestampMs: number;
  /** The counter's value; finite and >= 0. */
  readonly value: number;
  /**
   * The process start time (`process_start_time_seconds`), if exposed. A change means the
   * process restarted even when the counter has already climbed above its old value.
   */
  readonly startTimeSeconds?: number;
}

/** Why a rate was (not) produced; useful for logs and tests. */
export type CounterEvent = 'first' | 'ok' | 'reset' | 'restart';

/** The outcome of {@link CounterRate.next}. */
export interface RateResult {
  /** Increase per second since the previous sample; `undefined` for the first sample. */
  readonly rate: number | undefined;
  readonly event: CounterEvent;
}

/** Successive samples of one counter in, per-second rates out. */
export interface CounterRate {
  /**
   * Feeds the next sample.
   * @throws SourceError for a negative or non-finite value, or a timestamp not after the
   *   previous one (nothing is recorded then, so the next good sample still gets a rate).
   */
  next(sample: CounterSample): RateResult;
  /** Forgets the previous sample (the next one is treated as the first). */
  reset(): void;
}

/**
 * Creates a counter->rate converter.
 * @param source - Named in errors, e.g. `scrape:http://host/metrics`.
 */
export function createCounterRate(source = 'counter'): CounterRate {
  let prev: CounterSample | undefined;
  return {
    next(sample) {
      const { timestampMs, value, startTimeSeconds } = sample;
      if (!Number.isFinite(value) || value < 0)
        throw new SourceError(source, `counter value ${value} is not a finite number >= 0`);
      if (!Number.isFinite(timestampMs))
        throw new SourceError(source, `counter timestamp ${timestampMs} is not finite`);
      if (prev && timestampMs <= prev.timestampMs) {
        throw new SourceError(
          source,
          `counter sample at ${timestampMs} ms is not after the previous one at ${prev.timestampMs} ms`,
        );
      }
      const before = prev;
      prev = sample;
      if (!before) return { rate: undefined, event: 'first' };
      const seconds = (timestampMs - before.timestampMs) / 1000;
      const restarted =
        startTimeSeconds !== undefined &&
        before.startTimeSeconds !== undefined &&
        startTimeSeconds !== before.startTimeSeconds;
      if (restarted) return { rate: value / seconds, event: 'restart' };
      if (value < before.value) return { rate: value / seconds, event: 'reset' };
      return { rate: (value - before.value) / seconds, event: 'ok' };
    },
    reset() {
      prev = undefined;
    },
  };
}

/**
 * Rates of a whole counter sequence at once: `rates[0]` is `NaN` (no rate for the first
 * sample), then one rate per following sample.
 * @throws SourceError as {@link CounterRate.next}.
 */
export function counterRates(samples: readonly CounterSample[], source = 'counter'): number[] {
  const conv = createCounterRate(source);
  return samples.map((s) => conv.next(s).rate ?? Number.NaN);
}
