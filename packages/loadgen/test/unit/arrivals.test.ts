import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  ArrivalLoop,
  type Clock,
  createRandom,
  poissonSchedule,
  realClock,
  traceSchedule,
} from '../../src/index.js';

/** A clock that only moves when told to; timers fire in time order as it passes them. */
class FakeClock implements Clock {
  t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Moves to `until`, firing due timers (earliest first; ties in creation order). */
  advance(until: number): void {
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers)
        if (e[1].at <= until && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = until;
  }
}

/** Arrivals per real second for `seconds` seconds, counted when the loop fires them. */
function perSecond(
  loop: (onArrival: () => void) => ArrivalLoop,
  clock: FakeClock,
  seconds: number,
) {
  const counts = new Array<number>(seconds).fill(0);
  const l = loop(() => {
    counts[Math.floor(clock.now() / 1000)]! += 1;
  });
  l.start();
  clock.advance(seconds * 1000 - 1e-9);
  l.stop();
  return counts;
}

describe('trace arrivals', () => {
  it('with compression, each real second holds exactly the trace step (per-minute trace at 60x)', () => {
    const clock = new FakeClock();
    const values = [3, 0, 5, 2, 7, 1];
    const counts = perSecond(
      (on) =>
        new ArrivalLoop(
          traceSchedule(
            { values, stepSeconds: 60, compression: 60, scale: 1, startAt: 0 },
            createRandom(1),
          ),
          clock,
          on,
        ),
      clock,
      6,
    );
    expect(counts).toEqual(values);
  });

  it('scale rounds cumulatively (no drift), startAt offsets, and the trace loops', () => {
    const clock = new FakeClock();
    const counts = perSecond(
      (on) =>
        new ArrivalLoop(
          traceSchedule(
            { values: [1, 3, 1, 4], stepSeconds: 3600, compression: 7200, scale: 0.5, startAt: 1 },
            createRandom(5),
          ),
          clock,
          on,
        ),
      clock,
      4,
    );
    // Half-second steps starting at index 1: 3,1,4,1,3,1,4,1 scaled by 0.5 -> cumulative
    // 1.5,2,4,4.5,6,6.5,8,8.5 rounded 2,2,4,5,6,7,8,9 -> per step 2,0,2,1,1,1,1,1.
    expect(counts).toEqual([2, 3, 2, 2]);
    expect(counts.reduce((a, b) => a + b)).toBe(Math.round(0.5 * (3 + 1 + 4 + 1 + 3 + 1 + 4 + 1)));
  });

  it('the same seed gives the same arrival times; another seed other times, same counts', () => {
    const o = { values: [10, 20], stepSeconds: 1, compression: 1, scale: 1, startAt: 0 };
    const take = (seed: number) => {
      const s = traceSchedule(o, createRandom(seed));
      return Array.from({ length: 30 }, () => s.next());
    };
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    const inFirstStep = (xs: number[]) => xs.filter((x) => x < 1000).length;
    expect(inFirstStep(take(42))).toBe(10);
    expect(inFirstStep(take(43))).toBe(10);
  });

  it('times are non-decreasing and each arrival lies in its step', () => {
    const s = traceSchedule(
      { values: [4, 0, 0, 9, 1], stepSeconds: 10, compression: 10, scale: 1, startAt: 0 },
      createRandom(9),
    );
    let prev = -1;
    const xs = Array.from({ length: 28 }, () => s.next());
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(prev);
      prev = x;
    }
    expect(xs.filter((x) => x >= 1000 && x < 3000)).toEqual([]);
    expect(xs.filter((x) => x >= 3000 && x < 4000)).toHaveLength(9);
  });
});

describe('rate arrivals', () => {
  it('a Poisson process: reproducible with a seed, mean rate within 4 sigma', () => {
    const a = poissonSchedule(100, createRandom(1));
    const b = poissonSchedule(100, createRandom(1));
    const xs = Array.from({ length: 20_000 }, () => a.next());
    expect(Array.from({ length: 20_000 }, () => b.next())).toEqual(xs);
    // 200 s at 100/s: 20 000 expected, sd sqrt(20 000) ~ 141.
    const n = xs.filter((x) => x < 200_000).length;
    expect(Math.abs(n - 20_000)).toBeLessThan(4 * 141.5);
    // Exponential gaps: the coefficient of variation of the gaps is 1 (Poisson, not a metronome).
    const gaps = xs.slice(1).map((x, i) => x - xs[i]!);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - mean) ** 2, 0) / gaps.length);
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
  });

  it('the loop fires every due arrival and stop() leaves no timer behind', () => {
    const clock = new FakeClock();
    let n = 0;
    const loop = new ArrivalLoop(poissonSchedule(50, createRandom(3)), clock, () => n++);
    loop.start();
    expect(clock.pending).toBe(1);
    clock.advance(10_000);
    const s = poissonSchedule(50, createRandom(3));
    let expected = 0;
    while (s.next() <= 10_000) expected++;
    expect(n).toBe(expected);
    loop.stop();
    expect(clock.pending).toBe(0);
    clock.advance(20_000);
    expect(n).toBe(expected);
  });
});

describe('realClock', () => {
  it('a delay past the 32-bit timer limit waits (Node would fire it after 1 ms)', async () => {
    let fired = false;
    const t = realClock.setTimeout(() => {
      fired = true;
    }, 30 * 86_400_000);
    await sleep(30);
    realClock.clearTimeout(t);
    expect(fired).toBe(false);
  });
});
