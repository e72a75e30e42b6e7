/**
 * The per-minute forecast off the main thread. A real sidecar (real training, real forecast
 * worker behind a test kill switch: ./forecaster-crash-entry.mjs) forecasts in its worker
 * only; a worker killed while idle is replaced at the next forecast, one killed mid-forecast
 * hands that forecast to the main thread, and forecasts never stop (exact counters from
 * `/forecast`'s `forecaster`). The live band adaptation is saved in the model file and a
 * restarted sidecar goes on from it. The forecaster alone: a forecast that hangs is stopped at
 * the timeout and the next one runs in a fresh worker; `stop()` mid-forecast settles it.
 * Needs `npx tsup` in packages/forecast and packages/predictor first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forecast as fitForecast } from '@tidewatch/forecast';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import {
  createForecaster,
  ForecasterStoppedError,
  ForecastTimeoutError,
} from '../../src/serve/forecaster.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { startTarget, type Target } from './serve-target.js';
import { scrapeOf, seededDir, serveSettings, sidecarClient, waitReady } from './sidecar.js';

const ENTRY = new URL('./forecaster-crash-entry.mjs', import.meta.url);
const BUILT = [
  new URL('../../dist/forecaster-worker.js', import.meta.url),
  new URL('../../../forecast/dist/worker.js', import.meta.url),
];
const seeded = seededDir('tw-serve-forecast-worker-');
const channel = new BroadcastChannel('tidewatch-forecaster-test');
/** Kills the worker now (`exit`), or arms it and waits until it says so. */
function kill(how: 'exit' | 'exit-on-forecast' | 'hang-on-forecast'): Promise<void> {
  if (how === 'exit') {
    channel.postMessage(how);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    channel.onmessage = (event: MessageEvent) => {
      if (event.data === `armed:${how}`) resolve();
    };
    channel.postMessage(how);
  });
}

let target: Target;
let sidecar: Sidecar | undefined;
let url = '';
const client = sidecarClient(() => url);

function settings(extra: Record<string, unknown> = {}) {
  return parseServeConfig(
    serveSettings({
      source: scrapeOf(target),
      historyPoints: 5000,
      dataDir: seeded.dir,
      seed: { file: seeded.seedFile },
      ...extra,
    }),
  );
}

/** `/forecast` once `ok(doc)` holds (the counters only grow: each wait is for a new state). */
function waitFor(ok: (d: ForecastJson) => boolean, description: string): Promise<ForecastJson> {
  return pollUntil(() => client.forecast(), ok, { timeoutMs: 30_000, description });
}

const counters = (d: ForecastJson) => d.forecaster as NonNullable<ForecastJson['forecaster']>;

beforeAll(async () => {
  for (const file of BUILT)
    if (!existsSync(fileURLToPath(file)))
      throw new Error(`${fileURLToPath(file)} is missing: run \`npx tsup\` in its package first`);
  target = await startTarget();
  await target.setConnections(3);
});

afterAll(async () => {
  await sidecar?.stop();
  channel.close();
  await target?.close();
  seeded.remove();
});

describe('the sidecar forecasts in a worker thread', () => {
  it('forecasts in the worker only, and carries on through killed workers', async () => {
    sidecar = createSidecar(settings(), { log: silentLogger, forecastWorkerUrl: ENTRY });
    ({ url } = await sidecar.start());
    await waitReady(url);
    // Two worker forecasts: the first after training, one more on the schedule.
    const first = await waitFor((d) => counters(d).workerForecasts >= 2, 'two worker forecasts');
    expect(first.forecast).toHaveLength(30);
    expect(counters(first)).toMatchObject({
      mainThreadForecasts: 0,
      workerStarts: 1,
      workerCrashes: 0,
      workerTimeouts: 0,
    });

    // Killed while idle: counted; the next forecast starts a new worker (no backoff after a
    // first crash), nothing runs on the main thread.
    await kill('exit');
    const crashed = await waitFor((d) => counters(d).workerCrashes === 1, 'the crash counted');
    const n = counters(crashed).workerForecasts;
    const back = await waitFor((d) => counters(d).workerForecasts > n, 'a worker forecast again');
    expect(counters(back)).toMatchObject({
      mainThreadForecasts: 0,
      workerStarts: 2,
      workerCrashes: 1,
      workerTimeouts: 0,
    });

    // Killed mid-forecast: that forecast runs on the main thread, the next in a new worker.
    await kill('exit-on-forecast');
    const mid = await waitFor((d) => counters(d).workerCrashes === 2, 'the second crash');
    expect(counters(mid).mainThreadForecasts).toBe(1);
    const m = counters(mid).workerForecasts;
    const again = await waitFor((d) => counters(d).workerForecasts > m, 'a third worker');
    expect(counters(again)).toMatchObject({
      mainThreadForecasts: 1,
      workerStarts: 3,
      workerCrashes: 2,
      workerTimeouts: 0,
    });
    // Forecasts never stopped: the one in force is fresh (made within the schedule's 2 s, with
    // room for a loaded machine).
    expect(again.forecast).toHaveLength(30);
    expect(again.forecastAgeSeconds).toBeLessThan(10);
  });

  it('saves the band adaptation with the model; a restart goes on from it', async () => {
    const scored = await waitFor((d) => (d.band?.points ?? 0) >= 3, 'three scored actuals');
    expect(scored.band?.adaptive).toBe(true);
    expect(scored.band?.liveCoverage90).toBe(
      // Coverage is the share of the scored points: a multiple of 1 / points.
      Math.round((scored.band?.liveCoverage90 as number) * (scored.band?.points as number)) /
        (scored.band?.points as number),
    );
    await sidecar?.stop();
    const saved = JSON.parse(readFileSync(join(seeded.dir, 'model.json'), 'utf8'));
    const state = saved.bandAdaptation;
    expect(Object.keys(state).sort()).toEqual(['covered', 'gamma', 'level', 'points', 'target']);
    expect(state.points).toBeGreaterThanOrEqual(3);
    expect(state.gamma).toBe(0.005);

    // Collections only at start (a yearly schedule): nothing is scored before the first read.
    sidecar = createSidecar(
      settings({ schedule: { collect: '0 0 0 1 1 *', forecast: '0 0 0 1 1 *' } }),
      { log: silentLogger, forecastWorkerUrl: ENTRY },
    );
    ({ url } = await sidecar.start());
    const restarted = await client.forecast();
    expect(restarted.band).toEqual({
      adaptive: true,
      level: state.level,
      liveCoverage90: state.covered / state.points,
      points: state.points,
    });
    // The saved model was used as it was: no training, and its forecast came from the worker.
    expect(counters(restarted)).toMatchObject({ workerForecasts: 1, mainThreadForecasts: 0 });
    await sidecar.stop();
    sidecar = undefined;
  });
});

describe('the forecaster', () => {
  const series = {
    startMs: Date.UTC(2026, 0, 5),
    stepMs: 60_000,
    values: Float64Array.from({ length: 600 }, (_, i) => 100 + 10 * Math.sin(i / 10)),
  };
  const fitted = () =>
    fitForecast(series, { horizon: 10, model: 'naive', season: { daySteps: 24 } }).fitted;

  it('stops a forecast that outlives the timeout; the next runs in a fresh worker', async () => {
    const f = createForecaster({ log: silentLogger, workerUrl: ENTRY, timeoutMs: 1000 });
    const model = fitted();
    const expected = (await f.forecast(model, series, 10)).map((p) => p.p50);
    expect(expected).toHaveLength(10);
    await kill('hang-on-forecast');
    await expect(f.forecast(model, series, 10)).rejects.toBeInstanceOf(ForecastTimeoutError);
    const points = await f.forecast(model, series, 10);
    expect(points.map((p) => p.p50)).toEqual(expected);
    expect(f.stats()).toMatchObject({ workerStarts: 2, workerTimeouts: 1, workerCrashes: 0 });
    expect(f.stats().mainThreadForecasts).toBe(0);
    await f.stop();
  });

  it('stop() during a forecast settles it and later calls reject', async () => {
    const f = createForecaster({ log: silentLogger, workerUrl: ENTRY, timeoutMs: 60_000 });
    const model = fitted();
    await f.forecast(model, series, 10);
    await kill('hang-on-forecast');
    const hung = f.forecast(model, series, 10);
    expect(f.busy).toBe(true);
    await f.stop();
    await expect(hung).rejects.toBeInstanceOf(ForecasterStoppedError);
    await expect(f.forecast(model, series, 10)).rejects.toBeInstanceOf(ForecasterStoppedError);
    expect(f.busy).toBe(false);
  });
});
