import { flightsHourly, head, seededRandom } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { contextFor } from '../../src/models/context.js';
import { DecomposeScratch, decompose, seasonalPeriods } from '../../src/models/decompose.js';
import type { MstlParams } from '../../src/models/mstl.js';
import { createModels, loadModel } from '../../src/models/registry.js';
import type { Model, ModelContext } from '../../src/models/types.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const hourly = contextFor({ startMs: 0, stepMs: HOUR }, 24);

/** Standard normal draws from a seeded uniform source (Box-Muller). */
function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Known hourly components: a daily wave, a weekday/weekend step (each sums to 0). */
const dayPart = (t: number) =>
  30 * Math.sin((2 * Math.PI * t) / 24) + 10 * Math.cos((4 * Math.PI * t) / 24);
const weekPart = (t: number) => (Math.floor((t % 168) / 24) >= 5 ? -12.5 : 5);

function twoSeasonHourly(n: number, noise: number, seed: number): Float64Array {
  const g = gaussian(seed);
  return Float64Array.from(
    { length: n },
    (_, t) => 200 + 0.02 * t + dayPart(t) + weekPart(t) + noise * g(),
  );
}

/** Mean absolute error of `m` refitted at each of `origins` rolling origins `h` apart. */
function rollingMae(m: Model, y: Float64Array, ctx: ModelContext, origins: number): number {
  const h = ctx.horizon;
  let err = 0;
  for (let o = origins; o >= 1; o--) {
    const t = y.length - o * h;
    const hist = y.subarray(0, t);
    m.fit(hist, ctx);
    const f = m.predict(hist, h, ctx);
    for (let k = 0; k < h; k++) err += Math.abs((f[k] as number) - (y[t + k] as number));
  }
  return err / (origins * h);
}

function fitted(name: string, y: Float64Array, ctx: ModelContext): Model {
  const [m] = createModels([name]);
  if (!m) throw new Error(`no model ${name}`);
  m.fit(y, ctx);
  return m;
}

const paramsOf = (m: Model) => m.toJSON().params as MstlParams;

describe('decompose', () => {
  it('recovers a daily and a weekly component (amplitudes 40 and 17.5) to within the noise (sd 2)', () => {
    const n = 24 * 7 * 8;
    const y = twoSeasonHourly(n, 2, 17);
    const profiles = [new Float64Array(24), new Float64Array(168)];
    decompose(
      y,
      0,
      n,
      [24, 168],
      { cycles: 6, smooth: 0, stat: 'mean', passes: 2 },
      profiles,
      new DecomposeScratch(),
    );
    const errors = (p: Float64Array, truth: (t: number) => number) => {
      let max = 0;
      let sq = 0;
      for (let ph = 0; ph < p.length; ph++) {
        const e = Math.abs((p[ph] as number) - truth(ph));
        max = Math.max(max, e);
        sq += e * e;
      }
      return { max: Number(max.toFixed(2)), rms: Number(Math.sqrt(sq / p.length).toFixed(2)) };
    };
    // Each phase averages 6 cycles of noise of sd 2: an error of sd 2 / sqrt(6) = 0.82.
    const day = errors(profiles[0] as Float64Array, dayPart);
    const week = errors(profiles[1] as Float64Array, weekPart);
    expect({ day, week }).toEqual({ day: { max: 0.81, rms: 0.33 }, week: { max: 1.72, rms: 0.7 } });
    expect(day.rms).toBeLessThan(1);
    expect(week.rms).toBeLessThan(1);
    expect(Math.max(day.max, week.max)).toBeLessThan(3);
    // Each profile is centred: it sums to 0 over its cycle.
    for (const p of profiles) expect(Math.abs(p.reduce((a, b) => a + b, 0))).toBeLessThan(1e-9);
  });

  it('uses a year of steps only with two full years of history', () => {
    const daily = contextFor({ startMs: 0, stepMs: DAY }, 28);
    expect(daily.yearSteps).toBe(365.25);
    expect(seasonalPeriods(730, daily)).toEqual([7]);
    expect(seasonalPeriods(731, daily)).toEqual([7, 365]);
    expect(seasonalPeriods(24 * 13, hourly)).toEqual([24]);
    expect(seasonalPeriods(24 * 14, hourly)).toEqual([24, 168]);
    expect(seasonalPeriods(17_532, hourly)).toEqual([24, 168, 8766]);
  });
});

describe('mstl', () => {
  it('fits a yearly season on daily data only once two years exist', () => {
    const daily = contextFor({ startMs: 0, stepMs: DAY }, 28);
    const y = Float64Array.from(
      { length: 800 },
      (_, t) => 1000 + 100 * Math.sin((2 * Math.PI * t) / 365.25) + (t % 7 === 0 ? -50 : 0),
    );
    expect(paramsOf(fitted('mstl', y.subarray(0, 730), daily)).periods).toEqual([7]);
    expect(paramsOf(fitted('mstl', y, daily)).periods).toEqual([7, 365]);
  });

  it('beats single-season Holt-Winters on a weekly + yearly daily series (seeded)', () => {
    const daily = contextFor({ startMs: 0, stepMs: DAY }, 28);
    const g = gaussian(5);
    const y = Float64Array.from(
      { length: 3 * 365 + 7 * 28 },
      (_, t) =>
        500 +
        80 * Math.sin((2 * Math.PI * t) / 365.25) +
        [30, 10, 10, 10, 10, -30, -40][t % 7]! +
        8 * g(),
    );
    const [mstl, hw] = createModels(['mstl', 'holt-winters']);
    const mstlMae = rollingMae(mstl as Model, y, daily, 7);
    const hwMae = rollingMae(hw as Model, y, daily, 7);
    // Noise of sd 8 alone costs an MAE of about 6.4 (0.8 sd).
    expect([mstlMae.toFixed(2), hwMae.toFixed(2)]).toEqual(['6.29', '13.77']);
    expect(mstlMae).toBeLessThan(0.8 * hwMae);
  });

  it('beats Holt-Winters on a daily + weekly hourly series with noise (seeded)', () => {
    const y = twoSeasonHourly(24 * 7 * 6 + 24 * 7, 6, 99);
    const [mstl, hw] = createModels(['mstl', 'holt-winters']);
    const mstlMae = rollingMae(mstl as Model, y, hourly, 7);
    const hwMae = rollingMae(hw as Model, y, hourly, 7);
    // Noise of sd 6 alone costs an MAE of about 4.8 (0.8 sd).
    expect([mstlMae.toFixed(2), hwMae.toFixed(2)]).toEqual(['4.94', '5.35']);
    expect(mstlMae).toBeLessThan(hwMae);
  });

  it('reloads from JSON to identical forecasts, also from a longer history (no refit)', () => {
    const s = head(flightsHourly(), 24 * 7 * 6);
    const y = Float64Array.from(s.values);
    const ctx = contextFor(s, 24);
    const m = fitted('mstl', y.subarray(0, 24 * 7 * 5), ctx);
    const again = loadModel(JSON.parse(JSON.stringify(m.toJSON())));
    expect(again.name).toBe('mstl');
    for (const hist of [y.subarray(0, 24 * 7 * 5), y]) {
      const f = Array.from(m.predict(hist, 48, ctx));
      expect(Array.from(again.predict(hist, 48, ctx))).toEqual(f);
      expect(f).toHaveLength(48);
      expect(f.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
    }
    expect(paramsOf(m).periods).toEqual([24, 168]);
  });

  it('needs two cycles of its shortest season plus a horizon, and forecasts from exactly that', () => {
    const [m] = createModels(['mstl']) as [Model];
    const daily = contextFor({ startMs: 0, stepMs: DAY }, 28);
    expect(m.minHistory(hourly)).toBe(2 * 24 + 24);
    expect(m.minHistory(daily)).toBe(2 * 7 + 28);
    const y = twoSeasonHourly(72, 0, 1);
    m.fit(y, hourly);
    expect(paramsOf(m).periods).toEqual([24]);
    const f = m.predict(y, 24, hourly);
    expect(Array.from(f).every(Number.isFinite)).toBe(true);
  });

  it('rejects predict before fit', () => {
    const [m] = createModels(['mstl']);
    expect(() => m?.predict(new Float64Array(100), 24, hourly)).toThrow(
      /mstl: predict\(\) before fit\(\)/,
    );
  });
});
