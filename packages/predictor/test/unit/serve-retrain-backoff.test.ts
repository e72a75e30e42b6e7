/**
 * Retraining after failed forecasts backs off: at once, then max(1 min, 10 steps) doubling up to
 * max(1 h, 60 steps); the same failure is logged once; a forecast that works resets it.
 */
import { describe, expect, it } from 'vitest';
import { createRetrainBackoff, retrainDelayMs } from '../../src/serve/retrain-backoff.js';

describe('retrainDelayMs', () => {
  it('doubles from max(1 min, 10 steps) up to max(1 h, 60 steps)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => retrainDelayMs(n, 1000))).toEqual([
      0, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => retrainDelayMs(n, 60_000))).toEqual([
      0, 600_000, 1_200_000, 2_400_000, 3_600_000,
    ]);
    expect([2, 3].map((n) => retrainDelayMs(n, 3_600_000))).toEqual([36_000_000, 72_000_000]);
  });
});

/** A first failure (or the first after a success): retrained at once and logged. */
const FIRST_FAILURE = { retrain: true, log: true, failures: 1, retrainInSeconds: 0 };

describe('createRetrainBackoff', () => {
  it('retrains at once, then only after the growing wait; logs each distinct failure once', () => {
    let t = 0;
    const b = createRetrainBackoff({ stepMs: 1000, now: () => t });
    expect(b.failed('broken', true)).toEqual(FIRST_FAILURE);
    t = 2000;
    expect(b.failed('broken', true)).toEqual({
      retrain: false,
      log: false,
      failures: 2,
      retrainInSeconds: 58,
    });
    t = 60_000;
    expect(b.failed('broken', true)).toMatchObject({ retrain: true, log: false, failures: 3 });
    t = 61_000;
    expect(b.failed('other', true)).toMatchObject({
      retrain: false,
      log: true,
      retrainInSeconds: 119,
    });
    // No training possible (too little history, or one running): no slot is used.
    t = 180_000;
    expect(b.failed('other', false)).toMatchObject({ retrain: false });
    expect(b.failed('other', true)).toMatchObject({ retrain: true });
    expect(b.failure).toBe('other');
    expect(b.succeeded()).toBe(6);
    expect(b.failure).toBeUndefined();
    expect(b.failed('other', true)).toEqual(FIRST_FAILURE);
  });

  it('names a bad step', () => {
    expect(() => createRetrainBackoff({ stepMs: 0 })).toThrow(
      'createRetrainBackoff: stepMs must be a number > 0, got 0',
    );
  });
});
