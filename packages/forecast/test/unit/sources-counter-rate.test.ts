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

  it('a decrease is a reset: the new value is the increase since the reset', () => {
    expect(
      counterRates([
        { timestampMs: T, value: 50 },
        { timestampMs: T + 10_000, value: 70 },
        { timestampMs: T + 20_000, value: 5 }, // reset
        { timestampMs: T + 30_000, value: 25 },
        { timestampMs: T + 40_000, value: 0 }, // reset to zero
        { timestampMs: T + 50_000, value: 0 },
      ]),
    ).toEqual([NaN, 2, 0.5, 2, 0, 0]);
  });

  it('a changed process_start_time_seconds is a restart even when the counter grew', () => {
    const conv = createCounterRate();
    conv.next({ timestampMs: T, value: 10, startTimeSeconds: 1000 });
    expect(conv.next({ timestampMs: T + 10_000, value: 40, startTimeSeconds: 1005 })).toEqual({
      rate: 4,
      event: 'restart',
    });
    expect(conv.next({ timestampMs: T + 20_000, value: 60, startTimeSeconds: 1005 })).toEqual({
      rate: 2,
      event: 'ok',
    });
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
