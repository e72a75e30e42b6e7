import { describe, expect, it } from 'vitest';
import { HistoryError } from '../../src/history/errors.js';
import { createHistoryStore } from '../../src/history/store.js';
import { OptionError } from '../../src/options.js';

const STEP = 60_000;
const T0 = 1_700_000_040_000; // a multiple of STEP
const vals = (s: { values: ArrayLike<number> }): number[] => Array.from(s.values);

describe('HistoryStore: options', () => {
  it.each([
    [{ stepMs: 0 }, 'createHistoryStore: stepMs must be a positive integer (milliseconds), got 0'],
    [
      { stepMs: 1.5 },
      'createHistoryStore: stepMs must be a positive integer (milliseconds), got 1.5',
    ],
    [{}, 'createHistoryStore: stepMs must be a positive integer (milliseconds), got undefined'],
    [{ stepMs: 1000, capacity: 1 }, 'createHistoryStore: capacity must be an integer >= 2, got 1'],
    [
      { stepMs: 1000, maxInterpolateSteps: -1 },
      'createHistoryStore: maxInterpolateSteps must be an integer >= 0, got -1',
    ],
    [{ stepMs: 1000, file: '' }, 'createHistoryStore: file must be a non-empty path, got ""'],
    [
      { stepMs: 1000, onCorrupt: 'ignore' },
      'createHistoryStore: onCorrupt must be "throw" or "start-empty", got "ignore"',
    ],
  ])('rejects %j', (options, message) => {
    const make = () => createHistoryStore(options as never);
    expect(make).toThrow(OptionError);
    expect(make).toThrow(message);
  });

  it('has documented defaults', () => {
    const store = createHistoryStore({ stepMs: STEP });
    expect(store.capacity).toBe(20_160);
    expect(store.file).toBeUndefined();
  });
});

describe('HistoryStore: alignment and same-step samples', () => {
  it('aligns samples down to the epoch step grid and keeps the last one in a step', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('c', T0 + 59_999, 1);
    store.append('c', T0 + 10, 2); // same step: last wins
    store.append('c', T0 + STEP + 5, 3);
    const s = store.series('c');
    expect(s.startMs).toBe(T0);
    expect(s.stepMs).toBe(STEP);
    expect(vals(s)).toEqual([2, 3]);
    expect(store.lastTimestamp('c')).toBe(T0 + STEP);
  });

  it('a NaN never erases a value already in the same step', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('c', T0, 4);
    store.append('c', T0 + 1, Number.NaN);
    expect(vals(store.series('c'))).toEqual([4]);
  });

  it('rejects out-of-order samples with a typed error and keeps the series unchanged', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('c', T0 + STEP, 1);
    let error: unknown;
    try {
      store.append('c', T0 + STEP - 1, 2);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HistoryError);
    expect((error as HistoryError).code).toBe('out-of-order');
    expect((error as HistoryError).series).toBe('c');
    expect((error as Error).message).toBe(
      'history: series "c": sample at 2023-11-14T22:14:59.999Z is older than the last step 2023-11-14T22:15:00.000Z (out of order or a duplicate)',
    );
    expect(vals(store.series('c'))).toEqual([1]);
  });

  it.each([
    [-1, 'value -1'],
    [Number.POSITIVE_INFINITY, 'value Infinity'],
  ])('rejects the value %s', (value, text) => {
    const store = createHistoryStore({ stepMs: STEP });
    expect(() => store.append('c', T0, value)).toThrow(
      `history: series "c": ${text} at 2023-11-14T22:14:00.000Z is not a finite number >= 0`,
    );
    expect(store.has('c')).toBe(false);
  });

  it('rejects a non-finite timestamp', () => {
    const store = createHistoryStore({ stepMs: STEP });
    expect(() => store.append('c', Number.NaN, 1)).toThrow(
      'history: series "c": timestamp NaN is not a finite number of milliseconds',
    );
  });

  it('series() of an unknown name names the known ones', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('connections', T0, 1);
    expect(() => store.series('conections')).toThrow(
      'history: no series "conections" (known: "connections")',
    );
    expect(store.names()).toEqual(['connections']);
  });
});

describe('HistoryStore: gaps', () => {
  it('fills a gap of up to maxInterpolateSteps linearly when the next point arrives', () => {
    const store = createHistoryStore({ stepMs: STEP, maxInterpolateSteps: 3 });
    store.append('c', T0, 10);
    store.append('c', T0 + 4 * STEP, 50); // 3 missing steps
    expect(vals(store.series('c'))).toEqual([10, 20, 30, 40, 50]);
  });

  it('leaves a longer gap as NaN', () => {
    const store = createHistoryStore({ stepMs: STEP, maxInterpolateSteps: 2 });
    store.append('c', T0, 10);
    store.append('c', T0 + 4 * STEP, 50);
    expect(vals(store.series('c'))).toEqual([10, Number.NaN, Number.NaN, Number.NaN, 50]);
  });

  it('the default fills 5 missing steps and not 6', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('a', T0, 0);
    store.append('a', T0 + 6 * STEP, 6);
    expect(vals(store.series('a'))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    store.append('a', T0 + 13 * STEP, 6);
    expect(vals(store.series('a')).slice(7)).toEqual(Array(6).fill(Number.NaN).concat([6]));
  });

  it('explicit NaN steps (failed scrapes) count as missing and are interpolated too', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('c', T0, 1);
    store.append('c', T0 + STEP, Number.NaN);
    expect(vals(store.series('c'))).toEqual([1, Number.NaN]);
    store.append('c', T0 + 2 * STEP, 3);
    expect(vals(store.series('c'))).toEqual([1, 2, 3]);
  });

  it('a second sample in the step that closed a gap redoes the interpolation', () => {
    const store = createHistoryStore({ stepMs: STEP });
    store.append('c', T0, 0);
    store.append('c', T0 + 2 * STEP, 10);
    store.append('c', T0 + 2 * STEP + 1, 20);
    expect(vals(store.series('c'))).toEqual([0, 10, 20]);
  });

  it('a gap longer than the capacity restarts the series at the new sample', () => {
    const store = createHistoryStore({ stepMs: STEP, capacity: 4 });
    store.append('c', T0, 1);
    store.append('c', T0 + STEP, 2);
    store.append('c', T0 + 10 * STEP, 3);
    const s = store.series('c');
    expect(s.startMs).toBe(T0 + 10 * STEP);
    expect(vals(s)).toEqual([3]);
  });

  it('a gap just within the capacity keeps the ring full of NaN', () => {
    const store = createHistoryStore({ stepMs: STEP, capacity: 4, maxInterpolateSteps: 0 });
    store.append('c', T0, 1);
    store.append('c', T0 + 4 * STEP, 5);
    const s = store.series('c');
    expect(s.startMs).toBe(T0 + STEP);
    expect(vals(s)).toEqual([Number.NaN, Number.NaN, Number.NaN, 5]);
  });
});

describe('HistoryStore: bounded memory', () => {
  it('keeps the newest `capacity` points in order as the ring wraps', () => {
    const store = createHistoryStore({ stepMs: STEP, capacity: 5 });
    for (let i = 0; i < 12; i++) store.append('c', T0 + i * STEP, i);
    const s = store.series('c');
    expect(s.startMs).toBe(T0 + 7 * STEP);
    expect(vals(s)).toEqual([7, 8, 9, 10, 11]);
  });

  it('does not interpolate from a point that was already evicted', () => {
    const store = createHistoryStore({ stepMs: STEP, capacity: 3 });
    store.append('c', T0, 0);
    store.append('c', T0 + 3 * STEP, 3); // the gap pushes the anchor out
    expect(vals(store.series('c'))).toEqual([Number.NaN, Number.NaN, 3]);
  });

  it('appending 1e6 points keeps exactly `capacity` of them', () => {
    const store = createHistoryStore({ stepMs: 1000, capacity: 1000 });
    const t0 = 1_000_000_000_000;
    for (let i = 0; i < 1_000_000; i++) store.append('m', t0 + i * 1000, i % 997);
    const s = store.series('m');
    expect(s.values.length).toBe(1000);
    expect(s.startMs).toBe(t0 + 999_000 * 1000);
    expect(s.values[0]).toBe(999_000 % 997);
    expect(s.values[999]).toBe(999_999 % 997);
  });
});
