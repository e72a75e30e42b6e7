/**
 * profileForecast reads the callers' cached profile (`at`) for points less than a period
 * (minus the smoothing) ahead, a speed-up of the seasonal profile's fit: the forecasts must
 * be the very numbers computed from the data cut at `n`.
 */
import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src/models/context.js';
import {
  cachedProfile,
  type ProfileParams,
  periodSteps,
  profileForecast,
} from '../../src/models/seasonal.js';

const y = Float64Array.from(head(flightsHourly(), 24 * 42).values);

describe('profileForecast with a cached profile', () => {
  it('equals the uncached forecast bit for bit, across periods, smoothing and horizons', () => {
    let compared = 0;
    for (const horizon of [1, 24, 60])
      for (const period of ['day', 'week'] as const)
        for (const seasons of [2, 4])
          for (const smooth of [0, 2, 7])
            for (const levelWindow of ['day', 'short'] as const) {
              const ctx = contextFor({ startMs: 0, stepMs: 3_600_000 }, horizon);
              const p: ProfileParams = { period, seasons, smooth, levelWeight: 0.5, levelWindow };
              const at = cachedProfile(y, periodSteps(ctx, p), p);
              for (const n of [y.length - 200, y.length - 61, y.length - horizon]) {
                const cached = Array.from(profileForecast(y, horizon, ctx, p, n, at));
                const direct = Array.from(profileForecast(y, horizon, ctx, p, n));
                expect(cached).toEqual(direct);
                compared++;
              }
            }
    expect(compared).toBe(3 * 2 * 2 * 3 * 2 * 3);
  });
});
