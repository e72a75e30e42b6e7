/**
 * The sidecar in-process against a real instrumented ws server: readiness, the /forecast
 * document with the exact values fed, /metrics with the planner's exact numbers, the source
 * going down / answering garbage / coming back, bad requests, a full history ring, and no
 * leaking cron tasks. Training runs in the real worker thread (needs `npx tsup` first).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPlanner, peakOver } from '@tidewatch/forecast';
import { launchChromium, pollUntil } from '@tidewatch/test-utils';
import { getTasks } from 'node-cron';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig, type ServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { trainModel } from '../../src/serve/trainer.js';
import { startTarget, type Target } from './serve-target.js';
import { request, scrapeOf, seededDir, serveSettings, sidecarClient } from './sidecar.js';

const seeded = seededDir('tw-serve-app-');
const SEED = seeded.seed;
const workerBuilt = existsSync(
  fileURLToPath(new URL('../../../forecast/dist/worker.js', import.meta.url)),
);

let target: Target;
let sidecar: Sidecar;
let url: string;
let config: ServeConfig;
let releaseTraining: () => void = () => {};
const tasksBefore = getTasks().size;

beforeAll(async () => {
  if (!workerBuilt)
    throw new Error('dist/worker.js is missing: run `npx tsup` in packages/forecast first');
  target = await startTarget();
  await target.setConnections(3);
  config = parseServeConfig(
    serveSettings({
      source: scrapeOf(target),
      historyPoints: 5000,
      target: 'chat',
      seed: { file: seeded.seedFile },
    }),
  );
  const gate = new Promise<void>((resolve) => {
    releaseTraining = resolve;
  });
  sidecar = createSidecar(config, {
    log: silentLogger,
    // The real trainer, held back until the test has seen /readyz say "not yet".
    train: async (series, signal) => {
      await gate;
      return trainModel(series, config, { signal });
    },
  });
  ({ url } = await sidecar.start());
});

afterAll(async () => {
  releaseTraining();
  await sidecar?.stop();
  await target?.close();
  seeded.remove();
});

const { forecast: getForecast, metrics: getMetrics } = sidecarClient(() => url);
const SOURCE = () => `scrape:${target.metricsUrl}`;
const FORECAST_SERIES = /^tidewatch_(forecast|recommended_replicas|scaling_threshold)\{/;

describe('sidecar in-process', () => {
  it('/readyz is 503 with the reason until a forecast exists, then 200', async () => {
    const before = await request(`${url}/readyz`);
    expect(before.status).toBe(503);
    expect(JSON.parse(before.text)).toMatchObject({ ready: false });
    expect(JSON.parse(before.text).reason).toMatch(
      /^no forecast yet; training the first model \(started \d+ s ago\)$/,
    );
    expect((await getForecast()).status).toBe('warming');
    expect((await request(`${url}/healthz`)).status).toBe(200);
    releaseTraining();
    const after = await pollUntil(
      () => request(`${url}/readyz`),
      (r) => r.status === 200,
      {
        timeoutMs: 30_000,
        description: '/readyz 200',
      },
    );
    expect(JSON.parse(after.text)).toEqual({ ready: true, status: 'ok' });
  });

  it('/forecast has the documented shape and the exact history fed', async () => {
    // Enough live points to see after the seed, and a forecast in force (what is asserted).
    const doc = await pollUntil(
      () => getForecast('?history=10080&detail=full'),
      (d) => d.history.length >= 1012 && d.status === 'ok',
      { description: '4 live points and an ok forecast' },
    );
    expect(Object.keys(doc)).toEqual([
      'status',
      'reasons',
      'reasonCodes',
      'metric',
      'source',
      'step',
      'generatedAt',
      'forecastAgeSeconds',
      'dataAgeSeconds',
      'model',
      'errors',
      'history',
      'forecast',
      'plan',
      'patch',
      'live',
      'nowcast',
      'health',
      'role',
      'leader',
      'view',
      'band',
      'forecaster',
    ]);
    expect(doc.health).toEqual({ status: 'ok', reasons: [], messages: [] });
    expect(doc.view).toEqual({
      detail: 'full',
      points: null,
      historyPoints: doc.history.length,
      forecastPoints: 30,
    });
    expect(doc).toMatchObject({
      status: 'ok',
      reasons: [],
      reasonCodes: [],
      metric: 'realtime_connections',
      source: SOURCE(),
      step: 1,
    });
    expect(['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile']).toContain(doc.model);
    expect(Object.keys(doc.errors)).toEqual(['mase', 'wape', 'coverage90', 'rollingMase']);
    expect(doc.history.slice(0, 1008).map((p) => p.value)).toEqual(SEED);
    // Every live point is the 3 connections the target had (gaps, if any, interpolate 3 to 3).
    expect(new Set(doc.history.slice(1008).map((p) => p.value))).toEqual(new Set([3]));
    const times = doc.history.map((p) => Date.parse(p.timestamp));
    expect(times.every((t, i) => i === 0 || t - (times[i - 1] as number) === 1000)).toBe(true);
    expect(doc.forecast).toHaveLength(30);
    const ft = doc.forecast.map((p) => Date.parse(p.timestamp));
    expect(ft.every((t, i) => i === 0 || t - (ft[i - 1] as number) === 1000)).toBe(true);
    expect(doc.forecast.every((p) => p.p90 >= p.p50)).toBe(true);
    // The default tail is 6 h: all of it here (the seed was laid on the last 1008 seconds),
    // and the default answer is light: 100 points of it, the newest one exact.
    const light = await getForecast();
    expect(light.view).toMatchObject({ detail: 'light', points: 100, forecastPoints: 30 });
    expect(light.view?.historyPoints).toBeGreaterThanOrEqual(1012);
    // 49 buckets of one or two points (lowest, highest), and the newest point.
    expect(light.history.length).toBeGreaterThanOrEqual(50);
    expect(light.history.length).toBeLessThanOrEqual(100);
    expect(light.history.at(-1)?.value).toBe(3);
    // Every point sent is a real one: its timestamp and value are the full history's.
    const full = await getForecast('?detail=full');
    const byTime = new Map(full.history.map((p) => [p.timestamp, p.value]));
    expect(light.history.filter((p) => byTime.get(p.timestamp) !== p.value)).toEqual([]);
    // The seed's peak (the whole window's) survives downsampling.
    expect(Math.max(...light.history.map((p) => p.value ?? 0))).toBe(Math.max(...SEED));
    expect((await getForecast('?history=1')).history.length).toBeLessThanOrEqual(61);
  });

  it('the plan and /metrics carry exactly what the planner computes', async () => {
    const planner = createPlanner({ ...config.planner, staleness: config.staleness });
    // The planner below must reach the sidecar's verdict from the same figures: an ok one.
    const doc = await pollUntil(getForecast, (d) => d.status === 'ok', {
      description: 'an ok forecast',
    });
    const nowMs = Date.parse(doc.generatedAt);
    const window = peakOver(doc.forecast, nowMs, nowMs + 5000);
    const expected = planner.plan({
      nowMs,
      actual: 3,
      actualMs: nowMs - (doc.dataAgeSeconds as number) * 1000,
      forecast: {
        madeAtMs: nowMs - (doc.forecastAgeSeconds as number) * 1000,
        points: doc.forecast,
      },
    });
    expect(expected.status).toBe('ok');
    expect(window?.p90).toBe(expected.predictedPeak);
    expect(doc.plan).toEqual({
      leadTimeSeconds: 5,
      predictedPeak: expected.predictedPeak,
      predictedLoad: expected.predictedLoad,
      reactiveReplicas: 1,
      recommendedReplicas: expected.recommendedReplicas,
      threshold: expected.threshold,
      capacityPerReplica: 100,
      targetUtilization: 0.5,
    });

    // The forecast series exist only while the forecast is in force at the scrape.
    const P50 = 'tidewatch_forecast{metric="realtime_connections",horizon="5s",quantile="0.5"}';
    const P90 = 'tidewatch_forecast{metric="realtime_connections",horizon="5s",quantile="0.9"}';
    const m = await pollUntil(getMetrics, (x) => x.has(P50) && x.has(P90), {
      description: 'the published forecast series',
    });
    const p50 = m.get(P50);
    const p90 = m.get(P90);
    expect(p50).toBeTypeOf('number');
    expect(p90).toBeTypeOf('number');
    // The replicas and threshold a planner derives from this very peak and the actual 3.
    const at = Date.now();
    const fromPeak = planner.plan({
      nowMs: at,
      actual: 3,
      actualMs: at,
      forecast: {
        madeAtMs: at,
        points: [at, at + 5000].map((t) => ({
          timestamp: new Date(t).toISOString(),
          p50: p50 as number,
          p90: p90 as number,
        })),
      },
    });
    expect(m.get('tidewatch_recommended_replicas{target="chat"}')).toBe(
      fromPeak.recommendedReplicas,
    );
    expect(m.get('tidewatch_scaling_threshold{target="chat"}')).toBe(fromPeak.threshold);
    expect(m.get('tidewatch_predicted_load{metric="realtime_connections",horizon="5s"}')).toBe(
      fromPeak.predictedLoad,
    );
    expect(m.get(`tidewatch_model_info{metric="realtime_connections",model="${doc.model}"}`)).toBe(
      1,
    );
    expect(
      m.get(
        `tidewatch_forecast_error{metric="realtime_connections",model="${doc.model}",measure="mase"}`,
      ),
    ).toBe(doc.errors.mase);
    expect(m.get(`tidewatch_source_errors_total{source="${SOURCE()}"}`)).toBe(0);
    expect(m.get('tidewatch_train_runs_total{outcome="success"}')).toBe(1);
    expect(m.get('tidewatch_scheduled_jobs')).toBe(tasksBefore + 3);
    expect([...m.keys()].some((k) => k.startsWith('process_cpu_user_seconds_total'))).toBe(true);
  });

  it('records a new connection count exactly', async () => {
    await target.setConnections(5);
    const doc = await pollUntil(
      () => getForecast('?history=1'),
      (d) => d.history.at(-1)?.value === 5,
      {
        description: 'the new count in the history',
      },
    );
    expect(doc.history.at(-1)?.value).toBe(5);
    // The live figures read the same scrapes: 5 open, the 2 new handshakes in the window, and
    // these test clients send nothing.
    const live = await pollUntil(
      () => getForecast('?history=1'),
      (d) => d.live?.connections === 5 && (d.live.handshakesPerSecond ?? 0) > 0,
      { description: 'live figures with the new handshakes' },
    );
    expect(live.live).toMatchObject({ messagesInPerSecond: 0, messagesOutPerSecond: 0 });
    expect(live.live?.handshakeP50Ms).toBeGreaterThan(0);
    expect(live.live?.handshakeP99Ms).toBeGreaterThanOrEqual(live.live?.handshakeP50Ms as number);
    expect(live.live?.windowSeconds).toBeGreaterThan(0);
  });

  it('source down: keeps serving, goes stale naming the source, publishes no forecast series', async () => {
    const errorsBefore = (await getMetrics()).get(
      `tidewatch_source_errors_total{source="${SOURCE()}"}`,
    ) as number;
    await target.down();
    const doc = await pollUntil(
      () => getForecast(),
      (d) => d.status === 'stale',
      { description: 'stale' },
    );
    expect(doc.reasons[0]).toMatch(
      new RegExp(
        `^source failing: ${SOURCE().replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: request failed`,
      ),
    );
    expect(doc.plan.recommendedReplicas).toBeNull();
    expect(doc.plan.threshold).toBeNull();
    const m = await pollUntil(
      getMetrics,
      (x) =>
        (x.get(`tidewatch_source_errors_total{source="${SOURCE()}"}`) as number) >=
        errorsBefore + 2,
      {
        description: 'two counted failures',
      },
    );
    expect([...m.keys()].filter((k) => FORECAST_SERIES.test(k))).toEqual([]);
    expect(
      m.get('tidewatch_forecast_stale{metric="realtime_connections",reason="source_failing"}'),
    ).toBe(1);
    expect((await request(`${url}/healthz`)).status).toBe(200);
  });

  it('source back: recovers to ok by itself', async () => {
    await target.up();
    await target.setConnections(4);
    const doc = await pollUntil(
      () => getForecast('?history=1'),
      (d) => d.status === 'ok' && d.history.at(-1)?.value === 4,
      {
        timeoutMs: 30_000,
        description: 'ok again',
      },
    );
    expect(doc.reasons).toEqual([]);
    // The series come back when a scrape finds the forecast in force.
    const m = await pollUntil(
      getMetrics,
      (x) => [...x.keys()].some((k) => FORECAST_SERIES.test(k)),
      {
        description: 'the forecast series published again',
      },
    );
    expect([...m.keys()].filter((k) => FORECAST_SERIES.test(k))).toHaveLength(4);
    expect([...m.keys()].filter((k) => k.startsWith('tidewatch_forecast_stale{'))).toEqual([]);
  });

  it('source answering garbage: stale with the reason, then recovers', async () => {
    target.setMode('garbage');
    const doc = await pollUntil(
      () => getForecast(),
      (d) => d.status === 'stale',
      { description: 'stale on garbage' },
    );
    expect(doc.reasons[0]?.startsWith(`source failing: ${SOURCE()}: `)).toBe(true);
    const m = await getMetrics();
    expect([...m.keys()].filter((k) => FORECAST_SERIES.test(k))).toEqual([]);
    target.setMode('ok');
    await pollUntil(
      () => getForecast(),
      (d) => d.status === 'ok',
      { timeoutMs: 30_000, description: 'ok again' },
    );
  });

  it('the status page at / shows the live forecast in Chromium', async () => {
    await using chrome = await launchChromium();
    const context = await chrome.browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    // The page polls every 2 s here: on a paused fake clock it renders its first poll only,
    // so every read below sees that one render (installed well before the pause: pauseAt
    // only moves forward).
    const now = Date.now();
    await page.clock.install({ time: now - 60_000 });
    await page.clock.pauseAt(now);
    await page.goto(`${url}/`);
    await page.waitForSelector('body[data-renders="1"]', { timeout: 20_000 });
    // What the page fetched from the sidecar (it forecasts every second here, so a second
    // fetch by the test could already differ) and what it drew from it.
    const [doc, data] = (await page.evaluate(() => {
      const s = (globalThis as { tidewatchStatus?: { data: unknown; chart: { data: unknown } } })
        .tidewatchStatus;
      return [s?.data, s?.chart.data];
    })) as [ForecastJson, Array<Array<number | null>>];
    expect(doc).toMatchObject({
      status: 'ok',
      source: SOURCE(),
      model: (await getForecast()).model,
    });
    expect(doc.plan.recommendedReplicas).toBeTypeOf('number');
    expect(await page.locator('#recommended').textContent()).toBe(
      String(doc.plan.recommendedReplicas),
    );
    expect(await page.locator('#model').textContent()).toContain(doc.model as string);
    expect(doc.live?.connections).toBeTypeOf('number');
    expect(await page.locator('#live').isVisible()).toBe(true);
    expect(await page.locator('#live-connections').textContent()).toBe(
      String(doc.live?.connections),
    );
    expect(await page.locator('#live-handshake-p50').textContent()).toMatch(
      /^(\d[\d.,]* ms|\u2014)$/,
    );
    // The chart holds every history and forecast timestamp the sidecar served (merged).
    const times = new Set(
      [...doc.history, ...doc.forecast].map((p) => Date.parse(p.timestamp) / 1000),
    );
    expect(data[0]?.length).toBe(times.size);
    expect(data[1]?.filter((v) => v !== null).length).toBe(
      doc.history.filter((p) => p.value !== null).length,
    );
    expect(errors).toEqual([]);
    await context.close();
  });

  it('bad requests get 400/404/405 with a reason', async () => {
    const cases: Array<[string, string, number, string]> = [
      [
        'GET',
        '/forecast?history=abc',
        400,
        'history must be an integer number of minutes from 1 to 10080, got "abc"',
      ],
      [
        'GET',
        '/forecast?history=0',
        400,
        'history must be an integer number of minutes from 1 to 10080, got "0"',
      ],
      ['GET', '/forecast?history=5&history=6', 400, 'history must be given once'],
      [
        'GET',
        '/forecast?limit=5',
        400,
        'unknown query parameter "limit" (known: history, points, detail)',
      ],
      ['GET', '/forecast?points=1', 400, 'points must be an integer from 2 to 100000, got "1"'],
      ['POST', '/forecast', 405, 'method POST is not allowed on /forecast; use GET'],
      ['DELETE', '/metrics', 405, 'method DELETE is not allowed on /metrics; use GET'],
      [
        'GET',
        '/nope',
        404,
        'no such endpoint: GET /nope (endpoints: /, /forecast, /metrics, /healthz, /readyz)',
      ],
    ];
    for (const [method, path, status, error] of cases) {
      const res = await request(`${url}${path}`, method);
      expect([path, res.status, JSON.parse(res.text)]).toEqual([path, status, { error }]);
      if (status === 405) expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('cron tasks stay constant over many forecast cycles', async () => {
    const seen = new Set<string>();
    await pollUntil(
      async () => {
        const d = await getForecast('?history=1');
        seen.add(d.forecast[0]?.timestamp ?? '');
        expect(getTasks().size).toBe(tasksBefore + 3);
        return seen.size;
      },
      (n) => n >= 5,
      { timeoutMs: 30_000, description: '5 forecast cycles' },
    );
    expect(getTasks().size).toBe(tasksBefore + 3);
  });
});

describe('a full history ring', () => {
  it('keeps exactly historyPoints and keeps forecasting after the ring moved', async () => {
    const small = parseServeConfig(
      serveSettings({
        source: scrapeOf(target),
        historyPoints: 1010,
        seed: { file: seeded.seedFile },
      }),
    );
    const s = createSidecar(small, { log: silentLogger });
    let u = '';
    const client = sidecarClient(() => u);
    try {
      ({ url: u } = await s.start());
      const first = await pollUntil(
        () => client.forecast('?history=10080&detail=full'),
        (d) => d.status === 'ok',
        {
          timeoutMs: 30_000,
          description: 'a first forecast',
        },
      );
      const startMs = Date.parse(first.history[0]?.timestamp ?? '');
      // More appends than the ring holds: the oldest points are dropped, the count stays.
      const later = await pollUntil(
        () => client.forecast('?history=10080&detail=full'),
        (d) => Date.parse(d.history[0]?.timestamp ?? '') >= startMs + 6000 && d.status === 'ok',
        { timeoutMs: 30_000, description: 'the ring moved 6 steps' },
      );
      expect(later.history).toHaveLength(1010);
      const m = await client.metrics();
      expect(m.get('tidewatch_history_points{metric="realtime_connections"}')).toBe(1010);
      // A forecast made after the ring moved (from the saved model, realigned), not a retrain.
      expect(Date.parse(later.forecast[0]?.timestamp ?? '')).toBeGreaterThan(startMs + 1010 * 1000);
      expect(m.get('tidewatch_train_runs_total{outcome="success"}')).toBe(1);
    } finally {
      await s.stop();
    }
    expect(getTasks().size).toBe(tasksBefore + 3); // only the first sidecar's tasks remain
  });

  it('stop() leaves no cron task behind', async () => {
    await sidecar.stop();
    expect(getTasks().size).toBe(tasksBefore);
  });
});
