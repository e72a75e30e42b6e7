/**
 * The engine's live band adaptation, with a stand-in forecaster (fixed points, recording the
 * adaptation each forecast is made with) and a hand-fed history: every actual above the p90
 * it was forecast with raises the level by gamma x 0.9, each one at or below lowers it by
 * gamma x 0.1; the state reaches the next forecast, `/forecast`'s band and the model to
 * persist; a new model starts at 0.9, a saved one goes on where it was.
 */
import {
  type BandAdaptation,
  createHistoryStore,
  createPlanner,
  type ForecastPoint,
  type HistoryStore,
} from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { createLiveBand } from '../../src/serve/band.js';
import type { Collector } from '../../src/serve/collector.js';
import { ConfigError, parseServeConfig, type ServeConfig } from '../../src/serve/config.js';
import { createEngine, type Engine } from '../../src/serve/engine.js';
import type { Forecaster } from '../../src/serve/forecaster.js';
import { silentLogger } from '../../src/serve/log.js';
import type { SavedModel } from '../../src/serve/model-file.js';

const STEP = 60_000;
const T0 = Date.UTC(2026, 0, 5);
const METRIC = 'realtime_connections';
const P50 = 10;
const P90 = 12;

function configWith(bandAdaptation: Record<string, unknown> = {}): ServeConfig {
  return parseServeConfig({
    source: { kind: 'scrape', urls: ['http://127.0.0.1:9/metrics'] },
    stepSeconds: 60,
    forecast: { horizonSteps: 5, models: ['naive'], bandAdaptation },
  });
}

/** A model the stand-in forecaster never reads (only its identity matters). */
function modelOf(trainedAtMs: number, bandAdaptation?: BandAdaptation): SavedModel {
  return {
    metric: METRIC,
    stepMs: STEP,
    trainedAtMs,
    model: 'naive',
    scores: null,
    maseScale: 1,
    fitted: {
      version: 1,
      model: { kind: 'naive', name: 'naive', params: {} },
      band: { power: 0, floor: 1, q90: 2 },
      stepMs: STEP,
      startMs: T0,
      horizon: 5,
      season: {},
    },
    ...(bandAdaptation ? { bandAdaptation } : {}),
  } as SavedModel;
}

interface Rig {
  engine: Engine;
  /** The adaptation of every forecast, in order. */
  seen: Array<BandAdaptation | undefined>;
  /** Models handed to `bandChanged`, in order. */
  persisted: SavedModel[];
  /** Appends `value` at the next step (the collection of one step). */
  step(value: number): Promise<void>;
}

function rig(
  config: ServeConfig,
  model: SavedModel,
  /** Holds each forecast until it resolves (default: none). */
  gate?: () => Promise<void>,
): Rig {
  const store: HistoryStore = createHistoryStore({ stepMs: STEP, capacity: 1000 });
  let t = T0;
  store.append(METRIC, t, 10);
  const collector: Collector = {
    name: 'fake',
    errorSources: [],
    lastObservationMs: undefined,
    inFlight: undefined,
    collect: async () => ({ status: 'ok', appended: 1 }),
    abort() {},
    stop: async () => {},
  };
  const seen: Array<BandAdaptation | undefined> = [];
  const persisted: SavedModel[] = [];
  const forecaster: Forecaster = {
    async forecast(_fitted, series, horizon, adaptation) {
      seen.push(adaptation);
      await gate?.();
      const first = series.startMs + series.values.length * series.stepMs;
      return Array.from(
        { length: horizon },
        (_, k): ForecastPoint => ({
          timestamp: new Date(first + k * STEP).toISOString(),
          p50: P50,
          p90: P90,
        }),
      );
    },
    busy: false,
    stats: () => ({
      workerForecasts: 0,
      mainThreadForecasts: 0,
      workerStarts: 0,
      workerCrashes: 0,
      workerTimeouts: 0,
    }),
    stop: async () => {},
    close: async () => {},
  };
  const engine = createEngine({
    config,
    store,
    collector,
    // A lead time of one step: each actual is scored against the forecast one step before it.
    planner: createPlanner({
      capacityPerReplica: 100,
      lead: { podStartSeconds: 30, readinessSeconds: 10, metricLagSeconds: 10, pollingSeconds: 10 },
    }),
    log: silentLogger,
    model,
    forecaster,
    now: () => t,
    events: { bandChanged: (m) => persisted.push(m) },
  });
  return {
    engine,
    seen,
    persisted,
    async step(value) {
      t += STEP;
      store.append(METRIC, t, value);
      await engine.collect();
    },
  };
}

/** The level after `misses` actuals above the p90, then `hits` at or below, from 0.9. */
function levelAfter(gamma: number, misses: number, hits = 0): number {
  let level = 0.9;
  for (let i = 0; i < misses; i++) level = level + gamma * (1 - (1 - 0.9));
  for (let i = 0; i < hits; i++) level = level + gamma * (0 - (1 - 0.9));
  return level;
}

/** `rounds` times: forecast, then the next step's actual `value` arrives. */
async function feed(r: Rig, rounds: number, value: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await r.engine.forecast();
    await r.step(value);
  }
}

describe('live band adaptation in the engine', () => {
  it('actuals above the p90 raise the level by gamma x 0.9 each; hits lower it by gamma x 0.1', async () => {
    // The default gamma, 0.005.
    const r = rig(configWith(), modelOf(T0));
    // Round 1 scores nothing: the step that completes was forecast by nobody.
    await feed(r, 1, 100);
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: true,
      level: 0.9,
      liveCoverage90: null,
      points: 0,
    });
    await feed(r, 10, 100);
    const high = levelAfter(0.005, 10);
    expect(high).toBeCloseTo(0.945, 12);
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: true,
      level: high,
      liveCoverage90: 0,
      points: 10,
    });
    await r.engine.forecast();
    expect(r.seen.map((a) => a?.level)).toEqual([
      0.9,
      0.9,
      ...Array.from({ length: 10 }, (_, i) => levelAfter(0.005, i + 1)),
    ]);
    // A step's actual is scored when the next step arrives: this scores the last 100 (a
    // miss), then the 12 (at the p90: a hit) and three 5s.
    await r.step(P90);
    await feed(r, 4, 5);
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: true,
      level: levelAfter(0.005, 11, 4),
      liveCoverage90: 4 / 15,
      points: 15,
    });
    // Every scored collection hands the model with its state to persist.
    expect(r.persisted).toHaveLength(15);
    expect(r.persisted.at(-1)?.bandAdaptation).toEqual({
      target: 0.9,
      gamma: 0.005,
      level: levelAfter(0.005, 11, 4),
      points: 15,
      covered: 4,
    });
  });

  it('a new model starts at 0.9; a saved state goes on with the configured gamma', async () => {
    const r = rig(configWith({ gamma: 0.01 }), modelOf(T0));
    await feed(r, 4, 100);
    expect(r.engine.evaluate(T0).band?.level).toBe(levelAfter(0.01, 3));
    r.engine.adopt(modelOf(T0 + 1));
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: true,
      level: 0.9,
      liveCoverage90: null,
      points: 0,
    });
    const saved = { target: 0.9, gamma: 0.05, level: 0.95, points: 40, covered: 30 };
    r.engine.adopt(modelOf(T0 + 2, saved));
    await r.engine.forecast();
    expect(r.seen.at(-1)).toEqual({ ...saved, gamma: 0.01 });
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: true,
      level: 0.95,
      liveCoverage90: 0.75,
      points: 40,
    });
  });

  it('disabled: forecasts get no adaptation, the live coverage is still kept', async () => {
    const r = rig(configWith({ enabled: false }), modelOf(T0));
    await feed(r, 3, 100);
    expect(r.seen).toEqual([undefined, undefined, undefined]);
    expect(r.engine.evaluate(T0).band).toEqual({
      adaptive: false,
      level: 0.9,
      liveCoverage90: 0,
      points: 2,
    });
  });

  it('a gamma out of range fails at construction, naming the field', () => {
    const config = configWith();
    const bad = {
      ...config,
      forecast: { ...config.forecast, bandAdaptation: { enabled: true, gamma: 0.5 } },
    };
    expect(() => rig(bad, modelOf(T0))).toThrow(ConfigError);
    expect(() => rig(bad, modelOf(T0))).toThrow(
      'config: forecast.bandAdaptation.gamma must be in (0, 0.1], got 0.5',
    );
    expect(() => configWith({ gamma: 0 })).toThrow(
      'forecast.bandAdaptation.gamma must be a number in (0, 0.1], got 0',
    );
  });
});

describe('forecast ticks', () => {
  it('a tick while a forecast runs waits for it and is counted as skipped', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const r = rig(configWith(), modelOf(T0), () => held);
    const first = r.engine.forecast();
    const second = r.engine.forecast();
    expect([...r.engine.running().keys()]).toEqual(['forecast']);
    release();
    await Promise.all([first, second]);
    expect(r.seen).toHaveLength(1);
    expect(r.engine.evaluate(T0).forecaster).toMatchObject({ skippedForecasts: 1 });
    expect(r.engine.evaluate(T0).forecast?.points).toHaveLength(5);
    expect([...r.engine.running().keys()]).toEqual([]);
  });

  it('a model adopted while a forecast runs is forecast with right after it', async () => {
    let release: () => void = () => {};
    const r = rig(configWith(), modelOf(T0), () =>
      r.seen.length === 1
        ? new Promise<void>((resolve) => {
            release = resolve;
          })
        : Promise.resolve(),
    );
    const first = r.engine.forecast();
    const next = modelOf(T0 + 1);
    r.engine.adopt(next);
    release();
    await first;
    // The first forecast (old model) was dropped; the new model's followed at once.
    expect(r.seen).toHaveLength(2);
    expect(r.engine.evaluate(T0).model).toBe(next);
    expect(r.engine.evaluate(T0).forecast?.points).toHaveLength(5);
    expect(r.engine.evaluate(T0).forecaster).toMatchObject({ skippedForecasts: 0 });
  });
});

describe('createLiveBand scores each actual at the planner lead', () => {
  const at = (step: number) => new Date(T0 + step * STEP).toISOString();
  /** A forecast made after step `made`: p90 = 100 + lead, so a score tells which lead it used. */
  const forecastAfter = (made: number): ForecastPoint[] =>
    Array.from({ length: 5 }, (_, k) => ({
      timestamp: at(made + 1 + k),
      p50: 0,
      p90: 100 + k + 1,
    }));

  it('pairs an actual with the p90 forecast for it three steps earlier, and only that one', () => {
    const band = createLiveBand({ enabled: true, gamma: 0.01 }, STEP, undefined, 3);
    for (let made = 0; made < 6; made++) band.forecast(forecastAfter(made));
    // Step 4 was forecast at lead 3 by the forecast made after step 1 (p90 103): 103.5 misses.
    band.observe(T0 + 4 * STEP, 103.5);
    // Step 5 at lead 3 came from the forecast after step 2 (p90 103 again): 102 is covered.
    band.observe(T0 + 5 * STEP, 102);
    // Step 2 was never forecast at lead 3 (the first forecast was after step 0: lead 2).
    band.observe(T0 + 2 * STEP, 1e9);
    expect(band.flush()).toBe(true);
    expect(band.state.points).toBe(2);
    expect(band.state.covered).toBe(1);
    expect(band.state.level).toBeCloseTo(0.9 + 0.01 * 0.9 - 0.01 * 0.1, 12);
  });

  it('uses the last point when the forecast is shorter than the lead', () => {
    const band = createLiveBand({ enabled: true, gamma: 0.01 }, STEP, undefined, 9);
    band.forecast(forecastAfter(0));
    band.observe(T0 + 5 * STEP, 106);
    band.flush();
    expect(band.state).toMatchObject({ points: 1, covered: 0 });
  });
});
