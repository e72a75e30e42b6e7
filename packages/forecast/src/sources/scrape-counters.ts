/**
 * The counter state of one scraped URL: every series of the picked counter followed from one
 * scrape to the next and folded into one summed per-second rate. Each URL keeps its own
 * state, since each target has its own process start time. How a decrease is read (a restart,
 * a glitch, or cannot tell) is `counter-rate.ts`'s rule; here each one is also reported.
 */
import type { CounterResetRestart } from '@tidewatch/conventions';
import { type CounterRate, createCounterRate } from './counter-rate.js';
import { SourceError } from './errors.js';
import { labelKey, type PickedSample } from './exposition.js';

/**
 * A counter of a scraped target that went down (see `onCounterReset` of the scrape source).
 * `restart: 'true'` (its `process_start_time_seconds` changed): the step's rate counts the
 * counter from 0 since the restart. `'false'` (a glitch) and `'unknown'` (no start time
 * exposed): the step is skipped, no point is appended, and the next step is measured from
 * `current`.
 */
export interface CounterResetEvent {
  /** `scrape:URL` of the target. */
  readonly source: string;
  /** Whether the target restarted: `'true'`, `'false'` or `'unknown'`. */
  readonly restart: CounterResetRestart;
  /** The series' value at the previous scrape. */
  readonly previous: number;
  /** Its value now (below `previous`). */
  readonly current: number;
  /** The scrape time, unix ms. */
  readonly atMs: number;
  /** The labels of the series that went down. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The counters of one URL across scrapes. */
export interface UrlCounters {
  /**
   * Folds this scrape's samples into the summed rate since the previous scrape, calling
   * `onReset` for every series that went down (exceptions it throws are ignored).
   * @returns The summed rate; `undefined` when there is none this step: the first scrape, or
   *   a series went down without a known restart (the whole step is skipped then).
   * @throws SourceError when the clock went backwards (nothing is recorded then).
   */
  fold(
    samples: readonly PickedSample[],
    startTimeSeconds: number | undefined,
    atMs: number,
    onReset?: (event: CounterResetEvent) => void,
  ): number | undefined;
}

/**
 * Creates the counter state of one URL.
 * @param source - `scrape:URL`, named in errors and events.
 */
export function createUrlCounters(source: string): UrlCounters {
  /** Time of the last successful scrape, and the process start time it reported. */
  let lastMs: number | undefined;
  let lastStart: number | undefined;
  let counters = new Map<string, CounterRate>();
  return {
    fold(samples, start, atMs, onReset) {
      if (lastMs !== undefined && atMs <= lastMs)
        throw new SourceError(source, `clock went backwards (${atMs} ms after ${lastMs} ms)`);
      let total = 0;
      let complete = lastMs !== undefined;
      const seen = new Map<string, CounterRate>();
      for (const s of samples) {
        const key = labelKey(s.labels);
        let conv = counters.get(key);
        if (!conv) {
          conv = createCounterRate(source);
          // A label set that appears between two scrapes was created since the last one
          // (client libraries create children on first use), so it counts from 0.
          if (lastMs !== undefined)
            conv.next({
              timestampMs: lastMs,
              value: 0,
              ...(lastStart === undefined ? {} : { startTimeSeconds: lastStart }),
            });
        }
        seen.set(key, conv);
        const { rate, decrease } = conv.next({
          timestampMs: atMs,
          value: s.value,
          ...(start === undefined ? {} : { startTimeSeconds: start }),
        });
        if (decrease) {
          try {
            onReset?.({
              source,
              restart: decrease.restart,
              previous: decrease.previous,
              current: s.value,
              atMs,
              labels: s.labels,
            });
          } catch {
            // An observer's bug must not cost the history its state.
          }
        }
        if (rate === undefined) complete = false;
        else total += rate;
      }
      counters = seen;
      lastMs = atMs;
      lastStart = start;
      return complete ? total : undefined;
    },
  };
}
