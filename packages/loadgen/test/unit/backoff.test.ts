import { describe, expect, it } from 'vitest';
import { backoffDelay, createRandom } from '../../src/index.js';

describe('backoffDelay: exponential with full jitter', () => {
  it('stays in [0, min(maxMs, baseMs * 2^attempt)) and spreads over that whole range', () => {
    const random = createRandom(11);
    for (const attempt of [0, 1, 2, 3, 5, 8, 20, 2000]) {
      const cap = Math.min(15_000, 500 * 2 ** attempt);
      const xs = Array.from({ length: 2000 }, () => backoffDelay(attempt, 500, 15_000, random));
      for (const x of xs) {
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(cap);
      }
      // Full jitter: uniform over the range, so both ends are reached and the mean is ~cap/2.
      expect(Math.min(...xs)).toBeLessThan(cap * 0.01);
      expect(Math.max(...xs)).toBeGreaterThan(cap * 0.99);
      const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
      expect(Math.abs(mean / cap - 0.5)).toBeLessThan(0.03);
    }
  });

  it('the cap doubles per attempt until maxMs', () => {
    const top = () => 1 - Number.EPSILON;
    expect([0, 1, 2, 3, 4, 5].map((a) => Math.round(backoffDelay(a, 100, 2000, top)))).toEqual([
      100, 200, 400, 800, 1600, 2000,
    ]);
    expect(backoffDelay(3, 100, 2000, () => 0)).toBe(0);
  });
});
