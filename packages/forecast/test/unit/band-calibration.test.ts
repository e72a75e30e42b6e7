import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { adaptBand, adaptedShift, createBandAdaptation } from '../../src/backtest/adaptation.js';
import { backtest } from '../../src/backtest/backtest.js';
import {
  type Band,
  conformalise,
  conformalQuantile,
  fitBand,
  upper,
} from '../../src/backtest/quantiles.js';
import { forecast, forecastWith } from '../../src/forecast.js';
import { createRandom } from '../../src/random.js';

/** Standard normal draws from the house generator (Box-Muller). */
function normals(seed: number, n: number): Float64Array {
  const r = createRandom(seed);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++)
    out[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  return out;
}

/** `origins` whole forecasts of `h` steps at level 100 whose error spread grows with the step. */
function pairs(seed: number, origins: number, h: number, spread: (k: number) => number) {
  const e = normals(seed, origins * h);
  const forecasts = new Float64Array(origins * h).fill(100);
  const actuals = new Float64Array(origins * h);
  for (let i = 0; i < actuals.length; i++) actuals[i] = 100 + spread(i % h) * (e[i] as number);
  return { forecasts, actuals };
}

describe('conformal quantile', () => {
  it('takes the ceil((n + 1) x level)-th smallest value, and the largest when n is too small', () => {
    const values = Array.from({ length: 19 }, (_, i) => 19 - i);
    expect(conformalQuantile(values, 0.9)).toBe(18);
    expect(conformalQuantile([5, 1, 3, 2, 4], 0.9)).toBe(5);
    expect(conformalQuantile([], 0.9)).toBeNaN();
  });
});

describe('per-step band', () => {
  it('widens with the horizon step when errors grow with lead time', () => {
    const { forecasts, actuals } = pairs(1, 30, 24, (k) => 1 + k);
    const band = fitBand(forecasts, actuals, 100, 24);
    expect(band.power).toBe(0);
    const steps = band.steps ?? [];
    expect(steps).toHaveLength(24);
    expect(steps[23] as number).toBeGreaterThan(4 * (steps[0] as number));
    expect(upper(band, 100, 23)).toBeGreaterThan(upper(band, 100, 0));
  });

  it('reads a band saved before per-step calibration exactly as before', () => {
    const old: Band = { power: 0.5, floor: 1, q90: 2 };
    expect(upper(old, 99)).toBe(99 + 2 * 10);
    expect(upper(old, 99, 7)).toBe(99 + 2 * 10);
    expect(upper({ power: 0, floor: 1, q90: -3 }, 50)).toBe(50);
  });
});

describe('conformalised band', () => {
  it('widens a band fitted on optimistic residuals until it covers 90 % of fresh forecasts', () => {
    const h = 12;
    const spread = (k: number) => 2 + k / 4;
    // Holdout residuals of a model tuned on that holdout: half the real spread.
    const hold = pairs(2, 30, h, (k) => spread(k) / 2);
    const holdout = fitBand(hold.forecasts, hold.actuals, 100, h);
    const oos = pairs(3, 40, h, spread);
    const band = conformalise(holdout, oos.forecasts, oos.actuals, h);
    expect(band.shift as number).toBeGreaterThan(0);
    expect(band.scores).toHaveLength(40 * h);
    const fresh = pairs(4, 2000, h, spread);
    const coverageOf = (b: Band) => {
      let covered = 0;
      for (let i = 0; i < fresh.actuals.length; i++)
        if ((fresh.actuals[i] as number) <= upper(b, 100, i % h)) covered++;
      return covered / fresh.actuals.length;
    };
    expect(coverageOf(holdout)).toBeLessThan(0.8);
    const after = coverageOf(band);
    expect(after).toBeGreaterThanOrEqual(0.88);
    expect(after).toBeLessThanOrEqual(0.94);
  });

  it('leaves the band alone without rolling-origin forecasts', () => {
    const hold = pairs(5, 20, 6, () => 3);
    const band = fitBand(hold.forecasts, hold.actuals, 100, 6);
    expect(conformalise(band, [], [], 6)).toBe(band);
  });
});

describe('adaptive correction', () => {
  it('moves the level by gamma x target per miss and gamma x (1 - target) per hit', () => {
    let s = createBandAdaptation({ gamma: 0.01 });
    expect(s).toEqual({ target: 0.9, gamma: 0.01, level: 0.9, points: 0, covered: 0 });
    s = adaptBand(s, [10, 10, 10], [11, 12, 13]);
    expect(s.level).toBeCloseTo(0.927, 12);
    expect(s.points).toBe(3);
    expect(s.covered).toBe(0);
    s = adaptBand(s, [10, 10, Number.NaN], [9, 10, 50]);
    expect(s.level).toBeCloseTo(0.925, 12);
    expect(s.points).toBe(5);
    expect(s.covered).toBe(2);
    let many = createBandAdaptation({ gamma: 0.1 });
    for (let i = 0; i < 50; i++) many = adaptBand(many, [0], [1]);
    expect(many.level).toBe(0.999);
  });

  it('throws naming the field for a bad target or gamma', () => {
    expect(() => createBandAdaptation({ target: 1.2 })).toThrow(/^target must be in/);
    expect(() => createBandAdaptation({ gamma: 0 })).toThrow(/^gamma must be in/);
  });

  it('reads the band wider after misses and at the calibrated shift at the target', () => {
    const hold = pairs(6, 20, 8, () => 2);
    const oos = pairs(7, 20, 8, () => 3);
    const band = conformalise(
      fitBand(hold.forecasts, hold.actuals, 100, 8),
      oos.forecasts,
      oos.actuals,
      8,
    );
    const start = createBandAdaptation();
    expect(adaptedShift(band, start)).toBe(band.shift);
    expect(adaptedShift(band)).toBe(band.shift);
    let missed = start;
    for (let i = 0; i < 10; i++) missed = adaptBand(missed, [0], [1]);
    expect(adaptedShift(band, missed)).toBeGreaterThan(band.shift as number);
  });
});

describe('calibration end to end', () => {
  const protocol = head(flightsHourly(), 2000 + 24 * 7);

  it('reports p90 coverage per horizon step, averaging to the overall coverage', () => {
    const r = backtest(protocol, { horizon: 24, origins: 7, models: ['holt-winters'] });
    const m = r.models[0];
    expect(m?.coverage90ByStep).toHaveLength(24);
    const mean = (m?.coverage90ByStep ?? []).reduce((a, b) => a + b, 0) / 24;
    expect(mean).toBeCloseTo(m?.coverage90 as number, 12);
    for (const c of m?.coverage90ByStep ?? []) expect([0, 1, 2, 3, 4, 5, 6, 7]).toContain(c * 7);
  });

  it('conformalises the forecast band on the selection backtest and applies the live level', () => {
    const series = head(flightsHourly(), 2000);
    const r = forecast(series, { horizon: 24, origins: 7, candidates: ['holt-winters'] });
    const band = r.fitted.band;
    expect(band.steps).toHaveLength(24);
    expect(band.scores).toHaveLength(7 * 24);
    expect(typeof band.shift).toBe('number');
    const again = forecastWith(r.fitted, series);
    expect(again).toEqual(r.forecast);
    let wide = createBandAdaptation({ gamma: 0.05 });
    for (let i = 0; i < 3; i++) wide = adaptBand(wide, [0], [1]);
    const adapted = forecastWith(r.fitted, series, 24, wide);
    for (let k = 0; k < 24; k++) {
      expect(adapted[k]?.p50).toBe(r.forecast[k]?.p50);
      expect(adapted[k]?.p90 as number).toBeGreaterThanOrEqual(r.forecast[k]?.p90 as number);
    }
    // A named model is conformalised on its own rolling origins too.
    const named = forecast(series, { horizon: 24, origins: 7, model: 'holt-winters' });
    expect(named.fitted.band.scores).toHaveLength(7 * 24);
    expect(named.forecast).toEqual(r.forecast);
  });
});
