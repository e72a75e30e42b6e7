/**
 * When connections arrive: a pure schedule (no timers) and a small loop that plays it on a
 * {@link Clock}, so tests can drive it with a fake clock and count exactly.
 */
import type { ResolvedOptions } from './options.js';
import { exponential, type Random } from './random.js';

/** Time source and timers; the default is `performance.now()` and unref'd `setTimeout`. */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timer limit: longer delays would fire after 1 ms (TimeoutOverflowWarning). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The real clock: monotonic time and unref'd timers (they never hold the process open).
 * Delays are capped at ~24.8 days, beyond any run's `limits.durationSeconds` (7 days max).
 */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.min(ms, MAX_DELAY_MS));
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** An arrival schedule: successive arrival offsets from the start, ms, non-decreasing. */
export interface ArrivalSchedule {
  /** Offset of the next arrival in ms from the start of the run; `Infinity` when none. */
  next(): number;
}

/**
 * A Poisson process: exponential gaps with mean `1000 / rate` ms.
 * @param rate - Arrivals per second, > 0.
 */
export function poissonSchedule(rate: number, random: Random): ArrivalSchedule {
  const meanMs = 1000 / rate;
  let t = 0;
  return {
    next() {
      t += exponential(random, meanMs);
      return t;
    },
  };
}

/** Options of {@link traceSchedule}. */
export interface TraceScheduleOptions {
  values: readonly number[];
  stepSeconds: number;
  /** Trace seconds per real second. */
  compression: number;
  /** Multiplies every value. */
  scale: number;
  /** First step played. */
  startAt: number;
}

/**
 * Plays a trace: step `k` lasts `stepSeconds * 1000 / compression` real ms and holds exactly
 * as many arrivals as the scaled trace asks for, rounded so that the running total never
 * drifts (cumulative rounding: 0.5 per step gives 1, 0, 1, 0 ... rather than 0 forever or
 * 1 forever). Inside a step, arrival `j` of `n` falls at a random point of the `j`-th of `n`
 * equal slices (stratified jitter): random, yet every real second of a compressed trace
 * holds the count the trace says. The trace loops at its end.
 *
 * A trace whose values are all 0 never yields an arrival; {@link resolveOptions} refuses it.
 */
export function traceSchedule(o: TraceScheduleOptions, random: Random): ArrivalSchedule {
  const stepMs = (o.stepSeconds * 1000) / o.compression;
  const len = o.values.length;
  if (o.values.every((v) => v === 0)) return { next: () => Number.POSITIVE_INFINITY };
  /** Steps played so far (the current step is `played - 1`). */
  let played = 0;
  let cumulative = 0;
  let emittedBefore = 0;
  /** Arrivals of the current step and how many were handed out. */
  let n = 0;
  let j = 0;
  let stepStart = 0;
  return {
    next() {
      while (j >= n) {
        const v = o.values[(o.startAt + played) % len]!;
        stepStart = played * stepMs;
        played++;
        cumulative += v * o.scale;
        const target = Math.round(cumulative);
        n = target - emittedBefore;
        emittedBefore = target;
        j = 0;
      }
      const at = stepStart + ((j + random()) / n) * stepMs;
      j++;
      return at;
    },
  };
}

/** The schedule for resolved `arrivals` options. */
export function scheduleFor(
  arrivals: ResolvedOptions['arrivals'],
  random: Random,
): ArrivalSchedule {
  return arrivals.kind === 'rate'
    ? poissonSchedule(arrivals.rate, random)
    : traceSchedule(arrivals, random);
}

/**
 * Plays a schedule on a clock: calls `onArrival` for each arrival when its time comes,
 * several in one timer callback when they are due together (a timer per arrival would cost
 * more than the arrival at high rates).
 */
export class ArrivalLoop {
  private readonly schedule: ArrivalSchedule;
  private readonly clock: Clock;
  private readonly onArrival: () => void;
  private timer: unknown;
  private t0 = 0;
  private nextAt = 0;
  private running = false;

  /**
   * @param schedule - Arrival offsets.
   * @param clock - Time source and timers.
   * @param onArrival - Called once per arrival, synchronously from a timer callback.
   */
  constructor(schedule: ArrivalSchedule, clock: Clock, onArrival: () => void) {
    this.schedule = schedule;
    this.clock = clock;
    this.onArrival = onArrival;
  }

  /** Starts the loop at the clock's current time. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.t0 = this.clock.now();
    this.nextAt = this.schedule.next();
    this.arm();
  }

  /** Stops the loop and clears its timer. Idempotent. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    if (!this.running || !Number.isFinite(this.nextAt)) return;
    const delay = Math.max(0, this.t0 + this.nextAt - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = undefined;
    const now = this.clock.now() - this.t0;
    // A timer may fire a little early (ms rounding); arm() then waits for the rest.
    while (this.running && this.nextAt <= now) {
      this.onArrival();
      this.nextAt = this.schedule.next();
    }
    this.arm();
  }
}
