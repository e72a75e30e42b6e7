import { describe, expect, it } from 'vitest';
import { createAccuracyTracker } from '../../src/planner/accuracy.js';

const STEP = 60_000;

describe('createAccuracyTracker', () => {
  it('scores each forecast against what came true, scaled for MASE', () => {
    const t = createAccuracyTracker({ stepMs: STEP, scale: 10 });
    expect(t.snapshot()).toEqual({
      count: 0,
      mae: undefined,
      mase: undefined,
      coverage90: undefined,
    });
    // Made at minute 0 for minute 1: p50 100, p90 120; then 130 is observed (error 30, above p90).
    t.forecast(1 * STEP, [100, 0], [120, 0]);
    t.observe(1 * STEP, 130);
    // Made at minute 1 for minute 2: p50 200, p90 260; 190 observed (error 10, covered).
    t.forecast(2 * STEP, [200], [260]);
    t.observe(2 * STEP, 190);
    expect(t.snapshot()).toEqual({ count: 2, mae: 20, mase: 2, coverage90: 0.5 });
    t.setScale(40);
    expect(t.snapshot().mase).toBe(0.5);
  });

  it('scores a later step with lead, ignores points nobody forecast and NaN', () => {
    const t = createAccuracyTracker({ stepMs: STEP, lead: 3 });
    t.forecast(10 * STEP, [1, 2, 30, 4], [1, 2, 40, 4]); // scores minute 12 with p50 30
    t.observe(10 * STEP, 999);
    t.observe(11 * STEP, Number.NaN);
    t.observe(12 * STEP, 33);
    t.observe(13 * STEP, 5);
    expect(t.snapshot()).toEqual({ count: 1, mae: 3, mase: 3, coverage90: 1 });
  });

  it('keeps a bounded window and drops forecasts for points that passed unobserved', () => {
    const t = createAccuracyTracker({ stepMs: STEP, window: 3 });
    for (let i = 1; i <= 10; i++) {
      t.forecast(i * STEP, [i], [i]);
      t.observe(i * STEP, i + (i > 7 ? 1 : 0)); // errors 0 x7, then 1, 1, 1
    }
    expect(t.snapshot()).toEqual({ count: 3, mae: 1, mase: 1, coverage90: 0 });
    t.forecast(20 * STEP, [5], [5]);
    t.observe(25 * STEP, 5); // past 20 unobserved: the pending forecast is dropped
    t.observe(20 * STEP, 5);
    expect(t.snapshot()).toEqual({ count: 3, mae: 1, mase: 1, coverage90: 0 });
  });

  it('rejects bad options naming the field', () => {
    expect(() => createAccuracyTracker({ stepMs: 0 })).toThrow(
      'createAccuracyTracker: stepMs must be a positive integer (milliseconds), got 0',
    );
    expect(() => createAccuracyTracker({ stepMs: 1, scale: 0 })).toThrow(
      'createAccuracyTracker: scale must be a finite number > 0, got 0',
    );
  });
});
