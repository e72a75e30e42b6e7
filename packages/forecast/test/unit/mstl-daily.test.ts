import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src/models/context.js';
import type { HoltWintersParams } from '../../src/models/holt-winters.js';
import { createModels } from '../../src/models/registry.js';
import type { ProfileParams } from '../../src/models/seasonal.js';
import type { Model } from '../../src/models/types.js';

const DAY = 86_400_000;
const daily = contextFor({ startMs: 0, stepMs: DAY }, 28);

/** A pure yearly wave (no weekly shape): only a yearly season can forecast it. */
const yearly = (n: number) =>
  Float64Array.from({ length: n }, (_, t) => 1000 + 300 * Math.sin((2 * Math.PI * t) / 365));

function fit(name: string, y: Float64Array): Model {
  const [m] = createModels([name]) as [Model];
  m.fit(y, daily);
  return m;
}

describe('seasonal models on daily data', () => {
  it('holt-winters tries a yearly season once two years and a horizon exist', () => {
    const season = (y: Float64Array) =>
      (fit('holt-winters', y).toJSON().params as { params: HoltWintersParams }).params.season;
    expect(season(yearly(2 * 365 + 28))).toBe(365);
    expect(season(yearly(2 * 365 + 27))).toBe(7);
  });

  it('seasonal-profile tries a yearly profile once two years and a horizon exist', () => {
    const period = (y: Float64Array) =>
      (fit('seasonal-profile', y).toJSON().params as ProfileParams).period;
    expect(period(yearly(2 * 365 + 28))).toBe('year');
    expect(period(yearly(2 * 365 + 27))).not.toBe('year');
  });

  it('seasonal-naive-daily stays the value one day ago, which on daily data is naive', () => {
    const y = yearly(400);
    const [naive, daily1] = createModels(['naive', 'seasonal-naive-daily']) as [Model, Model];
    expect(Array.from(daily1.predict(y, 28, daily))).toEqual(
      Array.from(naive.predict(y, 28, daily)),
    );
  });
});
