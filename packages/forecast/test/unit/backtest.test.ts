import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { backtest } from '../../src/backtest/backtest.js';
import { fitBand, pinball, upper } from '../../src/backtest/quantiles.js';
import { forecast, forecastWith } from '../../src/forecast.js';

const flights = flightsHourly();
// The reference protocol: train on the first 2,000 h, 7 daily origins, horizon 24 h.
const protocol = head(flights, 2000 + 24 * 7);

describe('backtest', () => {
  it('reproduces the published baseline figures on the flights trace', () => {
    const r = backtest(protocol, {
      horizon: 24,
      origins: 7,
      models: ['seasonal-naive-daily', 'seasonal-naive-weekly'],
    });
    const by = Object.fromEntries(r.models.map((m) => [m.model, m]));
    expect(by['seasonal-naive-weekly']?.mase.toFixed(3)).toBe('0.746');
    expect(by['seasonal-naive-weekly']?.wape.toFixed(4)).toBe('0.0332');
    expect(by['seasonal-naive-daily']?.mase.toFixed(3)).toBe('1.319');
    expect(by['seasonal-naive-daily']?.wape.toFixed(4)).toBe('0.0588');
    expect(r).toMatchObject({
      horizon: 24,
      step: 3600,
      origins: 7,
      selected: 'seasonal-naive-weekly',
    });
  });

  it('selects the lowest MASE and reports every requested model with a calibrated p90', () => {
    const r = backtest(protocol, {
      horizon: 24,
      origins: 7,
      models: [
        'seasonal-naive-weekly',
        'holt-winters',
        'seasonal-profile',
        'ensemble:holt-winters+seasonal-profile',
      ],
    });
    expect(r.models.map((m) => m.model)).toEqual([
      'seasonal-naive-weekly',
      'holt-winters',
      'seasonal-profile',
      'ensemble:holt-winters+seasonal-profile',
    ]);
    const best = r.models.reduce((a, b) => (b.mase < a.mase ? b : a));
    expect(r.selected).toBe(best.model);
    // The targets for the selected model on this trace.
    expect(best.mase).toBeLessThanOrEqual(0.68);
    expect(best.wape).toBeLessThanOrEqual(0.03);
    expect(best.coverage90).toBeGreaterThanOrEqual(0.85);
    expect(best.coverage90).toBeLessThanOrEqual(0.95);
  });

  it('says how much history it needs', () => {
    expect(() =>
      backtest(head(flights, 100), { horizon: 24, origins: 7, models: ['seasonal-naive-weekly'] }),
    ).toThrow('too little history: 100 points, need at least 336 for 7 origins of horizon 24');
  });

  it('leaves out models the history is too short for and says what they need', () => {
    const r = backtest(head(flights, 24 * 7 * 2 + 24 * 7), {
      horizon: 24,
      origins: 7,
      models: ['seasonal-naive-weekly', 'holt-winters'],
    });
    expect(r.models.map((m) => m.model)).toEqual(['seasonal-naive-weekly']);
    expect(r.skipped).toEqual([{ model: 'holt-winters', needs: 24 * 7 * 2 + 24 + 24 * 7 }]);
  });
});

describe('forecast', () => {
  it('continues the series with p50 <= p90 and reloads to an identical forecast', () => {
    const s = head(flights, 24 * 7 * 6);
    const r = forecast(s, {
      horizon: 24,
      candidates: ['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile'],
    });
    expect(r.forecast).toHaveLength(24);
    expect(r.step).toBe(3600);
    expect(r.forecast[0]?.timestamp).toBe(
      new Date(s.startMs + s.values.length * 3_600_000).toISOString(),
    );
    expect(r.backtest?.selected).toBe(r.model);
    for (const p of r.forecast) expect(p.p90).toBeGreaterThanOrEqual(p.p50);
    const again = forecastWith(JSON.parse(JSON.stringify(r.fitted)), s);
    expect(again).toEqual(r.forecast);
  });

  it('uses a named model without a backtest', () => {
    const r = forecast(head(flights, 24 * 7 * 3), { horizon: 5, model: 'seasonal-naive-weekly' });
    expect(r.model).toBe('seasonal-naive-weekly');
    expect(r.backtest).toBeUndefined();
    const values = Array.from(flights.values);
    expect(r.forecast.map((p) => p.p50)).toEqual(values.slice(24 * 7 * 2, 24 * 7 * 2 + 5));
  });
});

describe('quantile band', () => {
  it('covers about 90 % of errors drawn like the calibration set', () => {
    // Poisson-like noise around a daily curve: the band must scale with the level.
    let seed = 7;
    const rand = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    const gauss = () => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    const make = (n: number) => {
      const f: number[] = [];
      const a: number[] = [];
      for (let i = 0; i < n; i++) {
        const level = 50 + 45 * Math.sin(i / 5);
        f.push(level);
        a.push(level + Math.sqrt(level) * gauss());
      }
      return { f, a };
    };
    const cal = make(4000);
    const band = fitBand(cal.f, cal.a, 50);
    expect(band.power).toBe(0.5);
    const test = make(4000);
    const covered = test.a.filter((a, i) => a <= upper(band, test.f[i] as number)).length / 4000;
    expect(covered).toBeGreaterThan(0.88);
    expect(covered).toBeLessThan(0.92);
    expect(pinball(10, 8, 0.9)).toBeCloseTo(1.8);
    expect(pinball(8, 10, 0.9)).toBeCloseTo(0.2);
  });

  it('refuses to forecast from a saved model with fewer points than the model needs', () => {
    const r = forecast(head(flights, 24 * 7 * 3), { horizon: 5, model: 'seasonal-naive-weekly' });
    expect(() => forecastWith(r.fitted, head(flights, 100))).toThrow(
      'too little history for seasonal-naive-weekly: 100 points, need at least 168',
    );
  });
});
