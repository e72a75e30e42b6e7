import { readFileSync } from 'node:fs';
import { fixturePath } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/options.js';
import { rollingPredictions } from '../../src/simulate/rolling.js';
import { runSimulation } from '../../src/simulate/run.js';
import { parseSeriesCsv } from '../../src/sources/file.js';

// Five weeks of the hourly flights fixture as load.
const hourly = parseSeriesCsv(
  readFileSync(fixturePath('flights-2001-hourly.csv'), 'utf8'),
  'hourly',
);
const weeks = 5 * 168;
const series = { ...hourly, values: Float64Array.from(hourly.values).subarray(0, weeks) };

describe('rollingPredictions', () => {
  it('never looks ahead: changing the future leaves every earlier prediction unchanged', () => {
    const cut = 4 * 168 + 5;
    const changed = Float64Array.from(series.values);
    for (let i = cut; i < weeks; i++) changed[i] = (changed[i] as number) * 3 + 100;
    const a = rollingPredictions(series, { leadSteps: 2, from: 3 * 168 });
    const b = rollingPredictions({ ...series, values: changed }, { leadSteps: 2, from: 3 * 168 });
    expect(Array.from(b.signal.subarray(0, cut))).toEqual(Array.from(a.signal.subarray(0, cut)));
    expect(Array.from(b.p90.subarray(0, cut))).toEqual(Array.from(a.p90.subarray(0, cut)));
    expect(b.signal[cut + 10]).not.toBe(a.signal[cut + 10]);
  });

  it('publishes from `from` on, refits daily and derives the signal from p50 and p90', () => {
    const r = rollingPredictions(series, {
      leadSteps: 3,
      model: 'seasonal-naive-weekly',
      from: 168,
    });
    expect(Number.isNaN(r.signal[167] as number)).toBe(true);
    expect(r.fits).toBe(Math.ceil((weeks - 168) / 24));
    // Seasonal naive: the p50 peak is the highest of the same three hours a week earlier.
    const i = 2 * 168 + 7;
    const v = series.values;
    expect(r.p50[i]).toBe(
      Math.max(v[i + 1 - 168] as number, v[i + 2 - 168] as number, v[i + 3 - 168] as number),
    );
    for (let k = 2 * 168; k < weeks; k++) {
      expect(r.p90[k]).toBeGreaterThanOrEqual(r.p50[k] as number);
      expect(r.signal[k]).toBe(Math.max(r.p50[k] as number, (r.p90[k] as number) * 0.7));
    }
  });

  it('rejects bad options naming the field', () => {
    expect(() => rollingPredictions(series, { leadSteps: 0 })).toThrow(OptionError);
    expect(() => rollingPredictions(series, { leadSteps: 0 })).toThrow(
      'rollingPredictions: leadSteps must be a positive integer, got 0',
    );
    expect(() => rollingPredictions(series, { leadSteps: 1, model: 'arima' })).toThrow(
      'unknown model "arima"',
    );
  });
});

describe('runSimulation', () => {
  const base = { capacityPerReplica: 500, podReadySeconds: 3600, metricLagSeconds: 0 };

  it('derives the lead from lag + readiness + sync, and the oracle never under-provisions', () => {
    const oracle = runSimulation(series, { ...base, policy: 'oracle', warmupSteps: 168 });
    expect(oracle).toMatchObject({
      policy: 'oracle',
      leadTimeSeconds: 3615,
      underProvisionedMinutes: 0,
      model: null,
    });
    const reactive = runSimulation(series, { ...base, policy: 'reactive', warmupSteps: 168 });
    expect(reactive.underProvisionedMinutes).toBeGreaterThan(0);
    const predictive = runSimulation(series, { ...base, policy: 'predictive', warmupSteps: 168 });
    expect(predictive).toMatchObject({
      policy: 'predictive',
      model: 'seasonal-profile',
      leadTimeSeconds: 3615,
    });
    expect(predictive.forecastFits).toBe(28);
  });

  it('says how much history it needs', () => {
    expect(() =>
      runSimulation(series, { ...base, policy: 'reactive', warmupSteps: weeks }),
    ).toThrow(
      'too little history: 840 points, need at least 864 (35 days of warm-up and a day to score)',
    );
    expect(() => runSimulation(series, { ...base, policy: 'predictive', warmupSteps: 48 })).toThrow(
      'the predictive policy needs a warm-up of at least 7 days, got 2 days',
    );
    expect(() => runSimulation(series, { ...base, policy: 'magic' as never })).toThrow(
      'runSimulation: policy must be "reactive", "predictive" or "oracle", got "magic"',
    );
  });
});
