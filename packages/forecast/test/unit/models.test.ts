import { flightsHourly, head } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src/models/context.js';
import { createModels, loadModel, MODEL_NAMES } from '../../src/models/registry.js';

const HOUR = 3_600_000;
const ctx = contextFor({ startMs: 0, stepMs: HOUR }, 24);

/** Daily and weekly cycles plus a gentle trend, no noise. */
function synthetic(n: number): Float64Array {
  return Float64Array.from(
    { length: n },
    (_, t) =>
      100 +
      0.01 * t +
      40 * Math.sin((2 * Math.PI * t) / 24) +
      15 * (Math.floor(t / 24) % 7 >= 5 ? -1 : 1),
  );
}

describe('baselines', () => {
  it('naive repeats the last value and seasonal naive the value one season back', () => {
    const y = synthetic(24 * 7 * 3);
    const [naive, daily, weekly] = createModels([
      'naive',
      'seasonal-naive-daily',
      'seasonal-naive-weekly',
    ]);
    expect(Array.from(naive?.predict(y, 3, ctx) ?? [])).toEqual([
      y[y.length - 1],
      y[y.length - 1],
      y[y.length - 1],
    ]);
    const d = daily?.predict(y, 30, ctx) ?? [];
    const w = weekly?.predict(y, 30, ctx) ?? [];
    for (let k = 0; k < 30; k++) {
      expect(d[k]).toBe(y[y.length - 24 + (k % 24)]);
      expect(w[k]).toBe(y[y.length - 168 + k]);
    }
  });
});

describe('holt-winters and seasonal profile', () => {
  it('forecast a clean seasonal series almost exactly', () => {
    const y = synthetic(24 * 7 * 8 + 24);
    const train = y.subarray(0, y.length - 24);
    for (const m of createModels(['holt-winters', 'seasonal-profile'])) {
      m.fit(train, ctx);
      const f = m.predict(train, 24, ctx);
      let err = 0;
      for (let k = 0; k < 24; k++)
        err += Math.abs((f[k] as number) - (y[train.length + k] as number));
      // The series moves by 40 within a day: an error under 2 per point means the season was learnt.
      expect(err / 24, m.name).toBeLessThan(2);
    }
  });

  it('rejects predict before fit', () => {
    const [hw] = createModels(['holt-winters']);
    expect(() => hw?.predict(synthetic(400), 24, ctx)).toThrow(/predict\(\) before fit\(\)/);
  });
});

describe('serialisation', () => {
  it('every model reloads from JSON to bit-identical forecasts', () => {
    const s = head(flightsHourly(), 24 * 7 * 5);
    const y = Float64Array.from(s.values);
    const c = contextFor(s, 24);
    const models = createModels(MODEL_NAMES, { lstm: { iterations: 3, timeBudgetMs: 10_000 } });
    for (const m of models) {
      if (!m.members) m.fit(y, c);
    }
    for (const m of models) {
      const json = JSON.parse(JSON.stringify(m.toJSON()));
      const again = loadModel(json);
      expect(again.name).toBe(m.name);
      expect(Array.from(again.predict(y, 24, c)), m.name).toEqual(Array.from(m.predict(y, 24, c)));
    }
  });

  it('the LSTM trains reproducibly (seeded weights) and reports progress', () => {
    const s = head(flightsHourly(), 24 * 7 * 4);
    const y = Float64Array.from(s.values);
    const progress: number[] = [];
    const run = () => {
      const [m] = createModels(['lstm'], { lstm: { iterations: 4 } });
      m?.fit(y, { ...contextFor(s, 24), onProgress: (p) => progress.push(p.iterations) });
      return Array.from(m?.predict(y, 24, contextFor(s, 24)) ?? []);
    };
    expect(run()).toEqual(run());
    expect(progress.slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  it('names an unknown model and kind', () => {
    expect(() => createModels(['prophet'])).toThrow('unknown model "prophet"');
    expect(() => loadModel({ kind: 'arima', name: 'x', params: null })).toThrow(
      'cannot load model of kind "arima"',
    );
  });
});
