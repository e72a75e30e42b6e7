/**
 * Counter -> rate. Any decrease is a reset, as in Prometheus' `rate()`, but the process start
 * time (`process_start_time_seconds`, read from the same exposition) tells a restart from a
 * glitch:
 *
 * - start time changed (a restart): the counter began again from 0 at the start time, so the
 *   rate is `value / (t - max(previous t, start time))`, whether the value went down or not;
 * - start time unchanged (a glitch: a counter that went down without a restart, e.g. a child
 *   re-created or a sum over workers that lost one), or no start time on either side (cannot
 *   tell): no rate for this sample, and the next one is measured from the new value. One lost
 *   point costs the model less than a bogus rate of the whole counter over one interval.
 */
import type { CounterResetRestart } from '@tidewatch/conventions';
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

/**
 * Why a rate was (not) produced: `first` (no previous sample), `ok`, `restart` (the start time
 * changed: a rate since the restart), `reset` (the value went down without a known restart:
 * no rate, re-based on the new value).
 */
export type CounterEvent = 'first' | 'ok' | 'reset' | 'restart';

/** A decrease of the counter, see {@link RateResult.decrease}. */
export interface CounterDecrease {
  /** `true`: the start time changed; `false`: it did not; `unknown`: a side exposes none. */
  readonly restart: CounterResetRestart;
  /** The value before the decrease. */
  readonly previous: number;
}

/** The outcome of {@link CounterRate.next}. */
export interface RateResult {
  /**
   * Increase per second since the previous sample (since the restart for `restart`);
   * `undefined` for the first sample and after a decrease without a known restart.
   */
  readonly rate: number | undefined;
  readonly event: CounterEvent;
  /** Present when the value went down (absent otherwise, a restart that went up included). */
  readonly decrease?: CounterDecrease;
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

/** Whether the start time changed between two samples. */
function restartOf(before?: number, now?: number): CounterResetRestart {
  if (before === undefined || now === undefined) return 'unknown';
  return before === now ? 'false' : 'true';
}

/**
 * Creates a counter->rate converter (see the module's rules for decreases and restarts).
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
      const restart = restartOf(before.startTimeSeconds, startTimeSeconds);
      const decrease = value < before.value ? { restart, previous: before.value } : undefined;
      if (restart === 'true') {
        // Counted from 0 since the restart; a start time after the sample (clocks of two
        // hosts disagree) falls back to the whole interval.
        const since = Math.max(before.timestampMs, (startTimeSeconds as number) * 1000);
        const ms = since < timestampMs ? timestampMs - since : timestampMs - before.timestampMs;
        return { rate: value / (ms / 1000), event: 'restart', ...(decrease ? { decrease } : {}) };
      }
      if (decrease) return { rate: undefined, event: 'reset', decrease };
      return {
        rate: (value - before.value) / ((timestampMs - before.timestampMs) / 1000),
        event: 'ok',
      };
    },
    reset() {
      prev = undefined;
    },
  };
}

/**
 * Rates of a whole counter sequence at once: `rates[0]` is `NaN` (no rate for the first
 * sample), then one rate per following sample (`NaN` after a decrease without a restart).
 * @throws SourceError as {@link CounterRate.next}.
 */
export function counterRates(samples: readonly CounterSample[], source = 'counter'): number[] {
  const conv = createCounterRate(source);
  return samples.map((s) => conv.next(s).rate ?? Number.NaN);
}
