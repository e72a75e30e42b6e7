/**
 * The status page in a real headless Chromium, fed `/forecast` documents built from the real
 * flights fixture by the real forecaster and planner: the ok case (chart, numbers, model),
 * a stale one (reasons, nothing recommended), warming (no forecast, then no data at all), the
 * sidecar going away and coming back, and a path prefix. The page's timers run on
 * playwright's paused fake clock, so a poll happens when the test says so, not after 15 s.
 *
 * `TIDEWATCH_WRITE_SCREENSHOTS=1` also writes docs/images/status-page.png (1280x800, ok case).
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  createPlanner,
  forecast,
  forecastWith,
  MODEL_NAMES,
  type Plan,
  parseSeriesCsv,
  seasonalMae,
  sliceSeries,
  timeAt,
} from '@tidewatch/forecast';
import { type ChromiumHandle, launchChromium, pollUntil } from '@tidewatch/test-utils';
import express from 'express';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { STATUS_CSS } from '../../src/serve/page/css.js';
import { statusPageRouter } from '../../src/serve/page/index.js';
import { STATUS_JS } from '../../src/serve/page/script.js';
import type { ForecastJson } from '../../src/serve/routes.js';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const SCREENSHOT = fileURLToPath(
  new URL('../../../../docs/images/status-page.png', import.meta.url),
);
const DASH = '\u2014';

// --- The payloads: real data, real forecaster, real planner ---------------------------------

const HOUR = 3_600_000;
// History ends on Monday 2001-03-26 05:00 (12 weeks in), the hour before the morning ramp:
// the forecast sees the ramp coming, the actual load does not yet.
const END = 12 * 168 + 6;
const HORIZON = 24;
const SHOWN = 72;
const CAPACITY = 100;

function buildPayloads(): { ok: ForecastJson; stale: ForecastJson; warming: ForecastJson } {
  const csv = fileURLToPath(new URL('../../fixtures/flights-2001-hourly.csv', import.meta.url));
  const series = parseSeriesCsv(readFileSync(csv, 'utf8'), 'file:flights-2001-hourly.csv');
  const train = sliceSeries(series, 0, END);
  const result = forecast(train, {
    horizon: HORIZON,
    origins: 4,
    // Every model but the LSTM ones, whose training would dominate the test's time.
    candidates: MODEL_NAMES.filter((name) => !name.includes('lstm')),
  });
  const score = result.backtest?.models.find((m) => m.model === result.model);
  if (!score) throw new Error(`the backtest did not score ${result.model}`);
  // The live error: yesterday's forecast of the model, scored against the last 24 h.
  const yesterday = forecastWith(result.fitted, sliceSeries(series, 0, END - HORIZON), HORIZON);
  let absError = 0;
  yesterday.forEach((p, k) => {
    absError += Math.abs(Number(train.values[END - HORIZON + k]) - p.p50);
  });
  const rollingMase = absError / HORIZON / seasonalMae(train.values, 168);

  const lastMs = timeAt(train, END - 1);
  const actual = Number(train.values[END - 1]);
  const history = Array.from({ length: SHOWN }, (_, k) => ({
    timestamp: new Date(timeAt(train, END - SHOWN + k)).toISOString(),
    value: Number(train.values[END - SHOWN + k]),
  }));
  const planner = createPlanner({ capacityPerReplica: CAPACITY, targetUtilization: 0.7 });
  const document = (nowMs: number, madeAtMs: number, plan: Plan): ForecastJson => {
    // The sidecar publishes every planner figure but the p50 peak.
    const { status, reasons, reasonCodes, predictedPeakP50: _, ...figures } = plan;
    return {
      status,
      reasons,
      reasonCodes,
      metric: 'flights_departing',
      source: 'file:flights-2001-hourly.csv',
      step: HOUR / 1000,
      generatedAt: new Date(nowMs).toISOString(),
      forecastAgeSeconds: (nowMs - madeAtMs) / 1000,
      dataAgeSeconds: (nowMs - lastMs) / 1000,
      model: result.model,
      errors: { mase: score.mase, wape: score.wape, coverage90: score.coverage90, rollingMase },
      history,
      forecast: result.forecast.map(({ timestamp, p50, p90 }) => ({ timestamp, p50, p90 })),
      plan: { ...figures, capacityPerReplica: CAPACITY, targetUtilization: 0.7 },
      patch: null,
      live: null,
      band: { adaptive: true, level: 0.9135, liveCoverage90: 0.875, points: 1440 },
    };
  };
  const input = (nowMs: number, madeAtMs: number) => ({
    nowMs,
    actual,
    actualMs: lastMs,
    forecast: { madeAtMs, points: result.forecast },
    modelMase: score.mase,
    rollingMase,
  });
  const okNow = lastMs + 45_000;
  const ok = document(okNow, okNow - 30_000, planner.plan(input(okNow, okNow - 30_000)));
  // Ten minutes later, nothing new arrived and no new forecast was made.
  const staleNow = lastMs + 600_000;
  const stale = document(staleNow, okNow - 30_000, planner.plan(input(staleNow, okNow - 30_000)));
  // A sidecar that has collected six points (one missed) and not trained yet.
  const warmingPlan = planner.plan({ nowMs: okNow, actual, actualMs: lastMs });
  const warming: ForecastJson = {
    ...document(okNow, okNow, warmingPlan),
    status: 'warming',
    forecastAgeSeconds: null,
    model: null,
    errors: { mase: null, wape: null, coverage90: null, rollingMase: null },
    history: history.slice(-6).map((h, k) => (k === 2 ? { ...h, value: null } : h)),
    forecast: [],
  };
  return { ok, stale, warming };
}

// --- A stand-in sidecar: the router plus /forecast answering what the test says -------------

let current: ForecastJson | 'down';
/** The URLs of the /forecast requests, in order. */
const asked: string[] = [];
let server: Server;
let base: string;
let chrome: ChromiumHandle;
let payloads: ReturnType<typeof buildPayloads>;

beforeAll(async () => {
  payloads = buildPayloads();
  const app = express();
  const serveForecast = (req: express.Request, res: express.Response) => {
    asked.push(req.originalUrl);
    if (current === 'down') res.socket?.destroy();
    else res.set('cache-control', 'no-store').json(current);
  };
  // As the sidecar does: the page router first, /forecast after it.
  app.use(statusPageRouter());
  app.get('/forecast', serveForecast);
  app.use('/prefix', statusPageRouter());
  app.get('/prefix/forecast', serveForecast);
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  chrome = await launchChromium();
});

afterAll(async () => {
  await chrome?.close();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(() => {
  current = payloads.ok;
  asked.length = 0;
});

/** A fresh page with the fake clock, collecting console errors and page errors. */
async function openPage(
  path = '/',
): Promise<{ page: Page; errors: string[]; [Symbol.asyncDispose](): Promise<void> }> {
  const context = await chrome.browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: 'en-US',
    // The fixture's timestamps are UTC: show them as such.
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  // Time stands still unless the test moves it: "now" in the page is one second after the
  // document was generated, as when a sidecar's page polls it.
  const t = Date.parse(current === 'down' ? payloads.ok.generatedAt : current.generatedAt) + 1000;
  // The installed clock runs until paused, and pauseAt only moves forward: install it well
  // before t (no page is loaded yet, so nothing sees the gap) or a slow call lands past t.
  await page.clock.install({ time: t - 60_000 });
  await page.clock.pauseAt(t);
  await page.goto(base + path);
  await rendered(page, 1);
  return { page, errors, [Symbol.asyncDispose]: () => context.close() };
}

/** Waits until the page has rendered `n` polls (the script counts them on `<body>`). */
async function rendered(page: Page, n: number): Promise<void> {
  await page.waitForSelector(`body[data-renders="${n}"]`, { timeout: 20_000 });
}

/** Fires the next 15 s poll on the fake clock and waits for its render. */
async function nextPoll(page: Page, n: number): Promise<void> {
  await page.clock.runFor(15_000);
  await rendered(page, n);
}

const text = (page: Page, id: string) => page.locator(`#${id}`).textContent();
const state = (page: Page, id: string) => page.locator(`#${id}`).getAttribute('data-state');

/** The uPlot x scale's [min, max], seconds. */
function xScale(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const x = (globalThis as any).tidewatchStatus.chart.scales.x;
    return [x.min, x.max] as [number, number];
  });
}

/** A timestamp as the page shows a time on another day than the page's clock (UTC). */
function fmtUtc(iso: string): string {
  const d = new Date(iso);
  const date = d.toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    timeZone: 'UTC',
  });
  return `${date} ${d.toLocaleTimeString('en-GB', { hour12: false, timeZone: 'UTC' })}`;
}

/** The uPlot instance's data as plain arrays (via the page's debugging handle). */
function chartData(page: Page): Promise<Array<Array<number | null>>> {
  return page.evaluate(() => (globalThis as any).tidewatchStatus.chart.data);
}

/**
 * Counts canvas pixels close to each RGB colour (ignoring alpha, which the band has). One
 * read of the canvas: repeated reads make Chromium warn on the console.
 */
function countPixels(page: Page, colours: Array<[number, number, number]>): Promise<number[]> {
  return page.evaluate((cs) => {
    const canvas = (globalThis as any).document.querySelector('#chart canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    return cs.map((c) => {
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (
          data[i + 3] > 0 &&
          Math.abs(data[i] - c[0]) < 6 &&
          Math.abs(data[i + 1] - c[1]) < 6 &&
          Math.abs(data[i + 2] - c[2]) < 6
        )
          n++;
      return n;
    });
  }, colours);
}

describe('status page over HTTP', () => {
  it('serves the page with a strict CSP and the assets with their types and cache headers', async () => {
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(CSP);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    // No inline code: every script has a src, and no style attributes or elements.
    expect(html.match(/<script[^>]*>/g)).toEqual([
      '<script src="assets/uPlot.iife.min.js" defer>',
      '<script src="assets/status.js" defer>',
    ]);
    expect(html).not.toMatch(/style=|<style/);

    const uplot = (file: string) =>
      readFileSync(createRequire(import.meta.url).resolve(`uplot/dist/${file}`), 'utf8');
    const vendor = 'public, max-age=86400';
    const assets: Record<string, [type: string, cache: string, body: string]> = {
      'uPlot.iife.min.js': ['text/javascript', vendor, uplot('uPlot.iife.min.js')],
      'uPlot.min.css': ['text/css', vendor, uplot('uPlot.min.css')],
      'status.js': ['text/javascript', 'no-cache', STATUS_JS],
      'status.css': ['text/css', 'no-cache', STATUS_CSS],
    };
    for (const [name, [type, cache, body]] of Object.entries(assets)) {
      const res = await fetch(`${base}/assets/${name}`);
      expect(res.status, name).toBe(200);
      expect(res.headers.get('content-type'), name).toBe(`${type}; charset=utf-8`);
      expect(res.headers.get('cache-control'), name).toBe(cache);
      expect(await res.text(), name).toBe(body);
    }
    // Unknown assets fall through to the app (here express's default 404).
    expect((await fetch(`${base}/assets/nope.js`)).status).toBe(404);
  });
});

describe('status page in Chromium', () => {
  it('ok: chart of actual vs forecast with the band, the recommendation and the model', async () => {
    const { ok } = payloads;
    // The fixture's ramp makes the prediction add capacity; the test depends on it.
    expect(ok.status).toBe('ok');
    expect(ok.plan.recommendedReplicas).toBeGreaterThan(ok.plan.reactiveReplicas as number);
    await using p = await openPage();
    const { page } = p;
    expect(await text(p.page, 'status')).toBe('OK: forecast published');
    expect(await state(page, 'status')).toBe('ok');
    expect(await text(page, 'recommended')).toBe(String(ok.plan.recommendedReplicas));
    expect(await text(page, 'reactive')).toBe(`reactive: ${ok.plan.reactiveReplicas} replicas`);
    expect(await text(page, 'model')).toBe(ok.model);
    expect(await text(page, 'mase')).toBe((ok.errors.mase as number).toFixed(3));
    expect(await text(page, 'rolling')).toBe((ok.errors.rollingMase as number).toFixed(3));
    expect(await text(page, 'coverage')).toBe(
      `${((ok.errors.coverage90 as number) * 100).toFixed(1)} %`,
    );
    expect(await text(page, 'live-coverage')).toBe('87.5 % of 1,440 (band at p91.3)');
    expect(await state(page, 'live-coverage')).toBe('ok');
    expect(await text(page, 'threshold')).toBe(
      (ok.plan.threshold as number).toLocaleString('en-US', { maximumFractionDigits: 1 }),
    );
    expect(await text(page, 'threshold-note')).toBe(
      'HPA target per replica; 70 without a forecast (100 at 70 %)',
    );
    expect(await text(page, 'peak')).toBe(
      Math.round(ok.plan.predictedPeak as number).toLocaleString('en-US'),
    );
    expect(await text(page, 'lead')).toBe('highest p90 in the next 2 min 30 s (lead time)');
    expect(await text(page, 'data-age')).toBe('45 s old');
    expect(await text(page, 'forecast-age')).toBe('30 s old');
    expect(await state(page, 'data-age-dot')).toBe('ok');
    expect(await state(page, 'forecast-age-dot')).toBe('ok');
    expect(await page.locator('#notice').isHidden()).toBe(true);
    expect(await page.locator('#conn').isHidden()).toBe(true);
    // Same day as the page's clock: times only, in the context's time zone (UTC).
    expect(await text(page, 'generated')).toBe('05:00:45');
    expect(await text(page, 'checked')).toBe('05:00:46');

    // One x value per timestamp: the 72 h of history, then the 24 h of forecast.
    const data = await chartData(page);
    const xs = [...ok.history, ...ok.forecast].map((x) => Date.parse(x.timestamp) / 1000);
    expect(data[0]).toEqual(xs);
    expect(data[1]).toEqual([...ok.history.map((h) => h.value), ...ok.forecast.map(() => null)]);
    expect(data[2]).toEqual([...ok.history.map(() => null), ...ok.forecast.map((f) => f.p50)]);
    expect(data[3]).toEqual([...ok.history.map(() => null), ...ok.forecast.map((f) => f.p90)]);
    // The band (rgba(37, 99, 235, 0.18)) and the "now" line (#b91c1c) are on the canvas.
    const [band, now] = await countPixels(page, [
      [37, 99, 235],
      [185, 28, 28],
    ]);
    expect(band).toBeGreaterThan(500);
    expect(now).toBeGreaterThan(50);
    const label = await page.locator('#chart').getAttribute('aria-label');
    expect(label).toContain('Chart of flights_departing, actual and forecast.');
    // The caption's p90 peak says its span (the whole forecast), and names the card's.
    const fmt = (v: number) => Math.round(v).toLocaleString('en-US');
    const p50 = Math.max(...ok.forecast.map((f) => f.p50));
    const p90 = Math.max(...ok.forecast.map((f) => f.p90));
    const lastActual = ok.history.at(-1)?.value as number;
    // Here the lead time holds the forecast's highest p90, so card and caption agree.
    expect(fmt(ok.plan.predictedPeak as number)).toBe(fmt(p90));
    const summary =
      `Last actual ${fmt(lastActual)} at 05:00:00. Forecast over 1 d (24 points, until ` +
      `${fmtUtc(ok.forecast.at(-1)?.timestamp as string)}): p50 peaks at ${fmt(p50)}, p90 at ` +
      `${fmt(p90)} over the whole forecast. History shown: up to 3 d before now.`;
    expect(await text(page, 'peak')).toBe(fmt(p90));
    expect(label).toBe(`Chart of flights_departing, actual and forecast. ${summary}`);
    expect(await text(page, 'chart-summary')).toBe(`${summary} Shaded: the band from p50 to p90.`);
    // The history window fits the forecast: three spans (72 h) asked for at once, before the
    // first render, and the x axis starts there.
    expect(asked).toEqual(['/forecast?points=1000', '/forecast?points=1000&history=4320']);
    const [min, max] = await xScale(page);
    const nowSec = Date.parse(ok.generatedAt) / 1000;
    // The 72 h of history end 45 s before now: all of it fits in the window.
    expect(nowSec - 72 * 3600).toBeLessThan(min);
    expect(min).toBe(Date.parse(ok.history[0]?.timestamp as string) / 1000);
    expect(max).toBe(Date.parse(ok.forecast.at(-1)?.timestamp as string) / 1000);
    expect(await page.locator('#coverage-help').isHidden()).toBe(true);
    expect(await page.locator('#mode').isHidden()).toBe(true);
    expect(await page.locator('body').getAttribute('data-mode')).toBe('none');

    if (process.env.TIDEWATCH_WRITE_SCREENSHOTS === '1')
      await page.screenshot({ path: SCREENSHOT, fullPage: false });
    expect(p.errors).toEqual([]);
  });

  it('stale: lists the reasons, recommends nothing, marks the old data', async () => {
    const { stale } = payloads;
    expect(stale.reasons).toEqual([
      'data is 600 s old (limit 180 s)',
      'forecast is 585 s old (limit 180 s)',
    ]);
    current = stale;
    await using p = await openPage();
    const { page } = p;
    expect(await text(page, 'status')).toBe('Stale: reactive only');
    expect(await text(page, 'notice-title')).toBe(
      'Stale: publishing nothing, reactive scaling only',
    );
    expect(await page.locator('#reasons li').allTextContents()).toEqual(stale.reasons);
    expect(await text(page, 'recommended')).toBe(DASH);
    expect(await text(page, 'reactive')).toBe(
      `publishing nothing; reactive: ${stale.plan.reactiveReplicas} replicas`,
    );
    expect(await text(page, 'threshold')).toBe(DASH);
    expect(await text(page, 'data-age')).toBe('10 min old');
    expect(await text(page, 'data-age-state')).toBe('too old');
    expect(await text(page, 'forecast-age')).toBe('9 min 45 s old');
    // The peak is still shown, as a fact, but marked as not published.
    expect(await text(page, 'lead')).toBe(
      'highest p90 in the next 2 min 30 s (lead time); not published',
    );
    expect(await state(page, 'data-age-dot')).toBe('bad');
    expect(await state(page, 'forecast-age-dot')).toBe('bad');
    expect(p.errors).toEqual([]);
  });

  it('shadow mode: the report in one sentence and the replicas of both policies', async () => {
    current = {
      ...payloads.ok,
      shadow: {
        query: 'max(replicas)',
        prometheus: 'http://prom:9090',
        last: { at: payloads.ok.generatedAt, load: 600, actualReplicas: 5, predictiveReplicas: 8 },
        error: null,
        totals: {
          overloadedPodMinutes: { actual: 1300, predictive: 50 },
          replicaSeconds: { actual: 4_000_000, predictive: 4_100_000 },
          preventedPodMinutes: 1250,
        },
        week: {
          from: payloads.ok.generatedAt,
          to: payloads.ok.generatedAt,
          overloadedPodMinutes: { actual: 1250, predictive: 20 },
          replicaSeconds: { actual: 360_000, predictive: 370_800 },
          preventedPodMinutes: 1230,
          extraReplicaPercent: 3,
        },
      },
    };
    await using p = await openPage();
    const { page } = p;
    expect(await page.locator('#shadow').isVisible()).toBe(true);
    expect(await text(page, 'shadow-summary')).toBe(
      'Shadow report: this week prediction would have prevented 1,230 overloaded pod-minutes at +3.0 % replica-hours.',
    );
    expect(await text(page, 'shadow-actual')).toBe('5');
    expect(await text(page, 'shadow-predictive')).toBe('8');
    expect(await text(page, 'shadow-hours-predictive')).toBe('103');
    expect(await page.locator('#shadow-error').isVisible()).toBe(false);
    expect(await page.locator('body').getAttribute('data-mode')).toBe('shadow');
    expect(await text(page, 'mode-pill')).toBe('Shadow mode');
    expect(await text(page, 'mode-title')).toBe('Shadow mode \u2014 publishing no scaling signals');
    expect(await text(page, 'reactive')).toBe(
      `not published (shadow mode); reactive: ${payloads.ok.plan.reactiveReplicas} replicas`,
    );
    expect(p.errors).toEqual([]);
    current = payloads.ok;
  });

  it('nowcast: active, its load and its reason', async () => {
    const reason = 'arrivals: 400 new handshakes/s against a baseline of 5.0/s';
    current = { ...payloads.ok, nowcast: { active: true, load: 2450, reason } };
    await using p = await openPage();
    const { page } = p;
    expect(await page.locator('#nowcast').isVisible()).toBe(true);
    expect(await page.locator('#nowcast').getAttribute('data-active')).toBe('true');
    expect(await text(page, 'nowcast-state')).toBe('Active');
    expect(await text(page, 'nowcast-load')).toBe('2,450');
    expect(await text(page, 'nowcast-reason')).toBe(reason);
    expect(p.errors).toEqual([]);
    current = payloads.ok;
  });

  it('warming: no forecast, then no data at all, renders without errors', async () => {
    const { warming } = payloads;
    current = warming;
    await using p = await openPage();
    const { page } = p;
    expect(await text(page, 'status')).toBe('Warming up');
    expect(await text(page, 'notice-title')).toBe(
      'Warming up: publishing nothing, reactive scaling only',
    );
    expect(await page.locator('#reasons li').allTextContents()).toEqual(['no forecast yet']);
    expect(await text(page, 'model')).toBe('none yet');
    expect(await text(page, 'mase')).toBe(DASH);
    expect(await text(page, 'peak')).toBe(DASH);
    expect(await text(page, 'forecast-age')).toBe(DASH);
    expect(await state(page, 'forecast-age-dot')).toBe('none');
    const data = await chartData(page);
    expect(data[1]).toEqual(warming.history.map((h) => h.value));
    expect(data[2]).toEqual(warming.history.map(() => null));
    expect(await page.locator('#chart-summary').textContent()).toContain('No forecast yet.');

    current = {
      ...warming,
      history: [],
      dataAgeSeconds: null,
      reasons: ['no current observation', 'no forecast yet'],
      reasonCodes: ['no_observation', 'no_forecast'],
    };
    await nextPoll(page, 2);
    expect(await chartData(page)).toEqual([[], [], [], []]);
    expect(await page.locator('#reasons li').allTextContents()).toEqual(current.reasons);
    expect(await text(page, 'data-age')).toBe(DASH);
    expect(await page.locator('#chart-summary').textContent()).toBe(
      'No actual data yet. No forecast yet. Shaded: the band from p50 to p90.',
    );
    expect(p.errors).toEqual([]);
  });

  it('card and caption p90 differ: each says its span', async () => {
    const { ok } = payloads;
    current = { ...ok, plan: { ...ok.plan, predictedPeak: 900 } };
    await using p = await openPage();
    const { page } = p;
    expect(await text(page, 'peak')).toBe('900');
    expect(await text(page, 'lead')).toBe('highest p90 in the next 2 min 30 s (lead time)');
    expect(await text(page, 'chart-summary')).toContain(
      ' over the whole forecast. The predicted peak card (900) is the highest p90 within the 2 min 30 s lead time only.',
    );
    expect(p.errors).toEqual([]);
  });

  it('a poor p90 coverage is explained in words, not only in red', async () => {
    const { ok } = payloads;
    current = { ...ok, errors: { ...ok.errors, coverage90: 0.62 } };
    await using p = await openPage();
    const { page } = p;
    expect(await text(page, 'coverage')).toBe('62.0 %');
    expect(await state(page, 'coverage')).toBe('bad');
    expect(await page.locator('#coverage-help').isVisible()).toBe(true);
    expect(await text(page, 'coverage-what')).toBe(
      'p90 coverage 62.0 % is low: in the backtest the actual load was above the p90 in 38 % of ' +
        'the steps, where about 10 % is expected. The band is too narrow, so the predicted peak ' +
        'and the recommended replicas can be too low when the load rises.',
    );
    expect(await text(page, 'coverage-todo')).toBe(
      'What to do: let the sidecar collect more history (several weeks calibrate the band), ' +
        'check the history for a one-off change in traffic, and keep headroom meanwhile with a ' +
        'lower planner.targetUtilization.',
    );
    expect(p.errors).toEqual([]);
  });

  it('one point of history: a time axis around it and now, not 1970, not zero-wide', async () => {
    const { warming } = payloads;
    const only = warming.history.at(-1) as { timestamp: string; value: number | null };
    current = {
      ...warming,
      history: [only],
      warming: {
        pointsHeld: 1,
        pointsNeeded: 421,
        secondsLeft: 1_512_000,
        timeLeft: 'about 17 d 12 h at one point an hour',
      },
    };
    await using p = await openPage();
    const { page } = p;
    expect(await chartData(page)).toEqual([
      [Date.parse(only.timestamp) / 1000],
      [only.value],
      [null],
      [null],
    ]);
    // Ten steps (10 h at an hourly step) ending at "now".
    const now = Date.parse(warming.generatedAt) / 1000;
    expect(await xScale(page)).toEqual([now - 10 * 3600, now]);
    expect(await text(page, 'warming-text')).toBe(
      'First forecast in about 17 d 12 h at one point an hour: 1 of 421 points of history held.',
    );
    // No forecast: only the first request, the sidecar's default history window.
    expect(asked).toEqual(['/forecast?points=1000']);
    expect(p.errors).toEqual([]);
  });

  it('follower: its own pill and banner naming the leader, nothing published', async () => {
    const { ok } = payloads;
    current = { ...ok, role: 'follower', leader: 'predictor-0' };
    await using p = await openPage();
    const { page } = p;
    expect(await page.locator('body').getAttribute('data-mode')).toBe('follower');
    expect(await text(page, 'mode-pill')).toBe('Follower');
    expect(await text(page, 'mode-title')).toBe('Follower \u2014 leader is predictor-0');
    expect(await text(page, 'role')).toBe(
      'follower of predictor-0: the leader publishes the scaling signals',
    );
    expect(await page.locator('#figures').getAttribute('data-published')).toBe('false');
    expect(await text(page, 'recommended')).toBe(String(ok.plan.recommendedReplicas));
    expect(await text(page, 'reactive')).toBe(
      `not published (follower); reactive: ${ok.plan.reactiveReplicas} replicas`,
    );
    expect(p.errors).toEqual([]);
  });

  it('unreachable: says so, keeps the last data, recovers on the next poll', async () => {
    const { ok } = payloads;
    await using p = await openPage();
    const { page } = p;
    current = 'down';
    await nextPoll(page, 2);
    expect(await text(page, 'status')).toBe('Sidecar unreachable');
    expect(await state(page, 'status')).toBe('unreachable');
    expect(await text(page, 'conn')).toMatch(
      /^Sidecar unreachable \(Failed to fetch\)\. Showing the last data, fetched .+\.$/,
    );
    expect(await text(page, 'recommended')).toBe(String(ok.plan.recommendedReplicas));
    expect(await state(page, 'data-age-dot')).toBe('warn');
    // 45 s old when fetched; the fake clock moved 15 s since.
    expect(await text(page, 'data-age')).toBe('at least 1 min old');
    expect(await text(page, 'data-age-state')).toBe('not updating');
    // The failed request is the browser's own console error, and the only one. It reaches the
    // test as an event of its own, not necessarily before the render: wait for it.
    await pollUntil(
      async () => p.errors.length,
      (n) => n >= 1,
      {
        timeoutMs: 5_000,
        intervalMs: 20,
        description: 'the console error of the failed request',
      },
    );
    expect(p.errors).toEqual(['console: Failed to load resource: net::ERR_EMPTY_RESPONSE']);

    current = ok;
    await nextPoll(page, 3);
    expect(await page.locator('#conn').isHidden()).toBe(true);
    expect(await text(page, 'status')).toBe('OK: forecast published');
    expect(p.errors).toHaveLength(1);
  });

  it('works behind a path prefix (every URL is relative)', async () => {
    await using p = await openPage('/prefix/');
    expect(await text(p.page, 'recommended')).toBe(String(payloads.ok.plan.recommendedReplicas));
    expect((await chartData(p.page))[0]).toHaveLength(SHOWN + HORIZON);
    expect(p.errors).toEqual([]);
  });
});
