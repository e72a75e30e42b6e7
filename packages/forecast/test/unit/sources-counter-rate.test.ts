import { describe, expect, it } from 'vitest';
import { counterRates, createCounterRate } from '../../src/sources/counter-rate.js';
import { SourceError } from '../../src/sources/errors.js';

const T = 1_700_000_000_000;

describe('counter -> rate', () => {
  it('first sample has no rate, then increase per second', () => {
    const conv = createCounterRate('scrape:x');
    expect(conv.next({ timestampMs: T, value: 100 })).toEqual({ rate: undefined, event: 'first' });
    expect(conv.next({ timestampMs: T + 15_000, value: 130 })).toEqual({ rate: 2, event: 'ok' });
    expect(conv.next({ timestampMs: T + 30_000, value: 130 })).toEqual({ rate: 0, event: 'ok' });
  });

  it('a decrease without a start time: no rate for that step, then measured from the new value', () => {
    // One lost point instead of a "rate" of the whole counter over one interval.
    expect(
      counterRates([
        { timestampMs: T, value: 50 },
        { timestampMs: T + 10_000, value: 70 },
        { timestampMs: T + 20_000, value: 5 }, // went down: cannot tell a restart from a glitch
        { timestampMs: T + 30_000, value: 25 },
        { timestampMs: T + 40_000, value: 0 },
        { timestampMs: T + 50_000, value: 0 },
      ]),
    ).toEqual([NaN, 2, NaN, 2, NaN, 0]);
    const conv = createCounterRate();
    conv.next({ timestampMs: T, value: 1_000_000 });
    expect(conv.next({ timestampMs: T + 10_000, value: 999_000 })).toEqual({
      rate: undefined,
      event: 'reset',
      decrease: { restart: 'unknown', previous: 1_000_000 },
    });
  });

  it('a glitch (the start time unchanged): no rate, re-based, the next step is normal', () => {
    const conv = createCounterRate();
    const start = { startTimeSeconds: 1_000 };
    conv.next({ timestampMs: T, value: 1_000_000, ...start });
    // 0.1 % down: before, this was a "reset" worth 999,000 / 10 s = 99,900/s.
    expect(conv.next({ timestampMs: T + 10_000, value: 999_000, ...start })).toEqual({
      rate: undefined,
      event: 'reset',
      decrease: { restart: 'false', previous: 1_000_000 },
    });
    expect(conv.next({ timestampMs: T + 20_000, value: 999_100, ...start })).toEqual({
      rate: 10,
      event: 'ok',
    });
  });

  it('a restart that went down: counted from 0 since the start time', () => {
    const conv = createCounterRate();
    conv.next({ timestampMs: T, value: 500, startTimeSeconds: 1_000 });
    // Restarted 4 s before this sample: 40 since then is 10/s (not 40 over the 10 s interval).
    expect(
      conv.next({ timestampMs: T + 10_000, value: 40, startTimeSeconds: (T + 6_000) / 1000 }),
    ).toEqual({ rate: 10, event: 'restart', decrease: { restart: 'true', previous: 500 } });
    // A start time after the sample (clocks of two hosts disagree): the whole interval.
    conv.next({ timestampMs: T + 20_000, value: 50, startTimeSeconds: (T + 6_000) / 1000 });
    expect(
      conv.next({ timestampMs: T + 30_000, value: 20, startTimeSeconds: (T + 99_000) / 1000 }),
    ).toEqual({ rate: 2, event: 'restart', decrease: { restart: 'true', previous: 50 } });
  });

  it('uses the real spacing between samples (a missed scrape)', () => {
    expect(
      counterRates([
        { timestampMs: T, value: 0 },
        { timestampMs: T + 60_000, value: 60 },
      ]),
    ).toEqual([NaN, 1]);
  });

  it.each([
    [{ timestampMs: T + 1, value: -1 }, 'scrape:x: counter value -1 is not a finite number >= 0'],
    [{ timestampMs: T + 1, value: NaN }, 'scrape:x: counter value NaN is not a finite number >= 0'],
    [
      { timestampMs: T, value: 1 },
      `scrape:x: counter sample at ${T} ms is not after the previous one at ${T} ms`,
    ],
    [
      { timestampMs: T - 5, value: 1 },
      `scrape:x: counter sample at ${T - 5} ms is not after the previous one at ${T} ms`,
    ],
  ])('rejects %j and keeps its state', (sample, message) => {
    const conv = createCounterRate('scrape:x');
    conv.next({ timestampMs: T, value: 10 });
    expect(() => conv.next(sample)).toThrow(SourceError);
    expect(() => conv.next(sample)).toThrow(message);
    expect(conv.next({ timestampMs: T + 1000, value: 11 })).toEqual({ rate: 1, event: 'ok' });
  });

  it('reset() forgets the previous sample', () => {
    const conv = createCounterRate();
    conv.next({ timestampMs: T, value: 10 });
    conv.reset();
    expect(conv.next({ timestampMs: T + 1000, value: 11 }).event).toBe('first');
  });
});
