/**
 * The status page of real sidecars (in-process `createSidecar`, scraping a real instrumented
 * ws server) in a real headless Chromium, driven into each state the page must read at a
 * glance: warming (no history: the time left), ok (seeded: the band in a window that fits
 * the forecast), stale (the target went away), degraded (the data directory cannot be
 * created), follower (a second replica behind a leader, on the loopback lease API) and shadow
 * (a loopback Prometheus pinning the HPA). Each waits for the page to show the state (the
 * page polls every 2 s at a 1 s step), asserts the visible text and state attributes against
 * the document the page rendered, and takes a 1280x1150 screenshot.
 *
 * `TIDEWATCH_WRITE_SCREENSHOTS=1` writes them to docs/images/status-page-<state>.png; without
 * it the PNGs are only checked (a real PNG of the viewport's size), so runs do not dirty the tree.
 */
import { rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type ChromiumHandle,
  type HttpServerHandle,
  launchChromium,
  startHttpServer,
} from '@tidewatch/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { warmingEstimate } from '../../src/serve/warming.js';
import { type FakeLeaseApi, startFakeLeaseApi } from './fake-lease-api.js';
import { startTarget, type Target } from './serve-target.js';
import { request, scrapeOf, seededDir, serveSettings } from './sidecar.js';

const WIDTH = 1280;
const HEIGHT = 1150;
const WRITE = process.env.TIDEWATCH_WRITE_SCREENSHOTS === '1';
const DASH = '\u2014';
const seeded = seededDir('tw-status-states-');
const running: Sidecar[] = [];
let target: Target;
let chrome: ChromiumHandle;

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
  chrome = await launchChromium();
});

afterAll(async () => {
  for (const s of running.splice(0)) await s.stop();
  await chrome?.close();
  await target?.close();
  seeded.remove();
});

/** Starts an in-process sidecar scraping the target with `extra` settings on top. */
async function startSidecar(extra: Record<string, unknown> = {}): Promise<string> {
  const config = parseServeConfig(
    serveSettings({ source: scrapeOf(target), historyPoints: 5000, ...extra }),
  );
  const sidecar = createSidecar(config, { log: silentLogger, shutdownTimeoutMs: 5000 });
  running.push(sidecar);
  return (await sidecar.start()).url;
}

/** Opens the sidecar's page at 1280x1150 in UTC; collects console and page errors. */
async function openPage(url: string) {
  const context = await chrome.browser.newContext({
    viewport: { width: WIDTH, height: HEIGHT },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  await page.goto(`${url}/`);
  return { page, errors, [Symbol.asyncDispose]: () => context.close() };
}

/** Waits until `#id`'s text is `text` (the page renders each poll). */
async function waitText(page: Page, id: string, text: string): Promise<void> {
  await page.waitForFunction(
    ([i, t]) => (globalThis as any).document.getElementById(i)?.textContent === t,
    [id, text] as const,
    { timeout: 30_000 },
  );
}

/**
 * Waits for the next render after now, then returns the document it rendered: the page's
 * text and the document compared below come from the same render.
 */
async function settled(page: Page): Promise<ForecastJson> {
  const n = Number(await page.locator('body').getAttribute('data-renders'));
  await page.waitForSelector(`body[data-renders="${n + 1}"]`, { timeout: 10_000 });
  return page.evaluate(() => (globalThis as any).tidewatchStatus.data);
}

const text = (page: Page, id: string) => page.locator(`#${id}`).textContent();
const attr = (page: Page, selector: string, name: string) =>
  page.locator(selector).getAttribute(name);

/** The state attributes of `<body>` and the status pill. */
async function looks(page: Page) {
  return {
    state: await attr(page, 'body', 'data-state'),
    mode: await attr(page, 'body', 'data-mode'),
    health: await attr(page, 'body', 'data-health'),
    pill: await text(page, 'status'),
  };
}

/** The uPlot x scale's [min, max], seconds. */
function xScale(page: Page): Promise<[number, number]> {
  return page.evaluate(() => {
    const x = (globalThis as any).tidewatchStatus.chart.scales.x;
    return [x.min, x.max] as [number, number];
  });
}

/**
 * Screenshots the viewport, checks it is a PNG of 1280x1150 (signature, IHDR width and
 * height), and writes it to docs/images/status-page-<state>.png when asked to.
 */
async function screenshot(page: Page, state: string): Promise<void> {
  // The newest render's chart is on the canvas before the shot: one animation frame.
  await page.evaluate(
    () => new Promise((resolve) => (globalThis as any).requestAnimationFrame(resolve)),
  );
  const png = await page.screenshot({ fullPage: false });
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([WIDTH, HEIGHT]);
  expect(png.length).toBeGreaterThan(10_000);
  if (WRITE)
    writeFileSync(
      fileURLToPath(new URL(`../../../../docs/images/status-page-${state}.png`, import.meta.url)),
      png,
    );
}

describe('status page states on real sidecars', () => {
  it('warming: the time left before the first forecast, from the points held', async () => {
    const url = await startSidecar();
    await using p = await openPage(url);
    const { page } = p;
    await page.waitForSelector('#warming:not([hidden])', { timeout: 30_000 });
    const d = await settled(page);
    expect(await looks(page)).toEqual({
      state: 'warming',
      mode: 'none',
      health: 'ok',
      pill: 'Warming up',
    });
    const w = d.warming as NonNullable<ForecastJson['warming']>;
    // Seasonal naive weekly (168) + 7 origins of 30 steps, at one point per 1 s step.
    expect(w).toEqual(warmingEstimate(w.pointsHeld, 378, 1));
    expect(await text(page, 'notice-title')).toBe(
      'Warming up: publishing nothing, reactive scaling only',
    );
    expect(await text(page, 'warming-text')).toBe(
      `First forecast in ${w.timeLeft}: ${w.pointsHeld} of 378 points of history held.`,
    );
    expect(await page.locator('#reasons li').allTextContents()).toEqual(d.reasons);
    expect(d.reasons).toContain(
      `too little history: ${w.pointsHeld} points, need 378 to train (${w.timeLeft})`,
    );
    // /readyz says the same.
    const ready = JSON.parse((await request(`${url}/readyz`)).text);
    expect(ready.ready).toBe(false);
    expect(ready.warming.pointsNeeded).toBe(378);
    expect(ready.warming.timeLeft).toMatch(/^about (\d+ min )?\d+ s at one point a second$/);
    // A few points: the axis spans ten steps at least (60 s here) and ends at now, in this century.
    const [min, max] = await xScale(page);
    const now = Date.parse(d.generatedAt) / 1000;
    expect(max).toBe(now);
    expect(min).toBeLessThanOrEqual(now - 60);
    expect(min).toBeGreaterThan(Date.parse('2020-01-01') / 1000);
    expect(await text(page, 'recommended')).toBe(DASH);
    await screenshot(page, 'warming');
    expect(p.errors).toEqual([]);
  });

  let seededUrl = '';

  it('ok: the forecast band in a history window of three forecast spans', async () => {
    seededUrl = await startSidecar({ seed: { file: seeded.seedFile } });
    await using p = await openPage(seededUrl);
    const { page } = p;
    await waitText(page, 'status', 'OK: forecast published');
    const d = await settled(page);
    expect(d.status).toBe('ok');
    expect(await looks(page)).toEqual({
      state: 'ok',
      mode: 'none',
      health: 'ok',
      pill: 'OK: forecast published',
    });
    expect(await text(page, 'recommended')).toBe(String(d.plan.recommendedReplicas));
    expect(await attr(page, '#figures', 'data-published')).toBe('true');
    expect(await page.locator('#notice').isHidden()).toBe(true);
    expect(await page.locator('#mode').isHidden()).toBe(true);
    expect(await text(page, 'lead')).toBe('highest p90 in the next 5 s (lead time)');
    // 30 forecast steps of 1 s: the x axis shows the 90 s before now and the forecast.
    expect(d.view?.forecastPoints).toBe(30);
    const now = Date.parse(d.generatedAt) / 1000;
    const lastForecast = Date.parse(d.forecast.at(-1)?.timestamp as string) / 1000;
    expect(await xScale(page)).toEqual([now - 90, Math.max(now, lastForecast)]);
    expect(await text(page, 'chart-summary')).toContain(
      'History shown: up to 1 min 30 s before now.',
    );
    await screenshot(page, 'ok');
    expect(p.errors).toEqual([]);
  });

  it('stale: the target goes away, the page says why and recommends nothing', async () => {
    await using p = await openPage(seededUrl);
    const { page } = p;
    await waitText(page, 'status', 'OK: forecast published');
    await target.down();
    try {
      await waitText(page, 'status', 'Stale: reactive only');
      const d = await settled(page);
      expect(d.status).toBe('stale');
      expect(await looks(page)).toEqual({
        state: 'stale',
        mode: 'none',
        health: 'ok',
        pill: 'Stale: reactive only',
      });
      expect(await text(page, 'notice-title')).toBe(
        'Stale: publishing nothing, reactive scaling only',
      );
      expect(await page.locator('#reasons li').allTextContents()).toEqual(d.reasons);
      expect(d.reasonCodes).toContain('source_failing');
      expect(await text(page, 'recommended')).toBe(DASH);
      expect(await attr(page, '#figures', 'data-published')).toBe('false');
      expect(await attr(page, '#data-age-dot', 'data-state')).toBe('bad');
      await screenshot(page, 'stale');
      expect(p.errors).toEqual([]);
    } finally {
      await target.up();
      await target.setConnections(2);
    }
  });

  it('degraded: the data directory cannot be written, in a red banner', async () => {
    const dataDir = join(seeded.dir, 'degraded-data');
    const url = await startSidecar({ seed: { file: seeded.seedFile }, dataDir });
    // The directory replaced by a regular file while running: the sidecar cannot recreate it
    // (EEXIST) nor write into it (ENOTDIR), even as root.
    // A save in flight may recreate the directory between the two calls: try again (bounded).
    for (let attempt = 1; ; attempt++) {
      rmSync(dataDir, { recursive: true, force: true });
      try {
        writeFileSync(dataDir, 'a file where the data directory should be\n', { flag: 'wx' });
        break;
      } catch (error) {
        if (attempt === 10) throw error;
      }
    }
    await using p = await openPage(url);
    const { page } = p;
    await waitText(page, 'status', 'OK: forecast published');
    await page.waitForSelector('#health:not([hidden])', { timeout: 30_000 });
    const d = await settled(page);
    expect(d.health?.status).toBe('degraded');
    expect(await looks(page)).toEqual({
      state: 'ok',
      mode: 'none',
      health: 'degraded',
      pill: 'OK: forecast published',
    });
    expect(await text(page, 'health-title')).toBe(
      'Degraded: the history or the model cannot be saved; a restart would lose data',
    );
    expect(await page.locator('#health-messages li').allTextContents()).toEqual(d.health?.messages);
    expect(d.health?.messages.join('\n')).toMatch(/ENOTDIR|EEXIST/);
    await screenshot(page, 'degraded');
    expect(p.errors).toEqual([]);
  });

  describe('fleet', () => {
    let api: FakeLeaseApi;
    beforeAll(async () => {
      api = await startFakeLeaseApi();
    });
    afterAll(async () => {
      // The replicas stop first (they release the lease through the API).
      for (const s of running.splice(0)) await s.stop();
      await api?.close();
    });

    const election = async (identity: string) => ({
      enabled: true,
      leaseName: 'status-page',
      namespace: 'realtime',
      identity,
      apiServer: await api.clientUrl(identity),
    });
    const roleOf = async (url: string) => {
      const body = JSON.parse((await request(`${url}/healthz`)).text);
      return `${body.role}:${body.leader}`;
    };

    it('follower: its own pill and banner naming the leader, nothing published', async () => {
      const leader = await startSidecar({
        seed: { file: seeded.seedFile },
        election: await election('predictor-0'),
      });
      await using lp = await openPage(leader);
      await waitText(
        lp.page,
        'role',
        'leader of the fleet: this replica publishes the scaling signals',
      );
      expect(await roleOf(leader)).toBe('leader:predictor-0');

      const follower = await startSidecar({
        seed: { file: seeded.seedFile },
        election: await election('predictor-1'),
      });
      await using p = await openPage(follower);
      const { page } = p;
      await waitText(page, 'mode-title', 'Follower \u2014 leader is predictor-0');
      const d = await settled(page);
      expect([d.role, d.leader]).toEqual(['follower', 'predictor-0']);
      // Without a model of its own (no model ConfigMap here) it follows, it does not warm up.
      expect(d.status).toBe('warming');
      expect(await looks(page)).toEqual({
        state: 'warming',
        mode: 'follower',
        health: 'ok',
        pill: 'Following predictor-0',
      });
      expect(await text(page, 'notice-title')).toBe(
        'Follower: no forecast of its own; the leader forecasts and publishes for the fleet',
      );
      expect(await text(page, 'mode-pill')).toBe('Follower');
      expect(await attr(page, '#mode', 'data-mode')).toBe('follower');
      expect(await text(page, 'mode-text')).toBe(
        'This replica collects and serves this page but publishes no scaling signals: the ' +
          "leader does. The figures below are its own view, for comparison; open the leader's " +
          'page for what the autoscaler reads.',
      );
      expect(await attr(page, '#figures', 'data-published')).toBe('false');
      await screenshot(page, 'follower');
      expect(p.errors).toEqual([]);
    });
  });

  describe('shadow', () => {
    let prometheus: HttpServerHandle;
    beforeAll(async () => {
      // Kube-state-metrics through Prometheus: the HPA runs 1 replica.
      prometheus = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
        const result = req.url?.startsWith('/api/v1/query')
          ? [{ metric: {}, value: [Date.now() / 1000, '1'] }]
          : [];
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
      });
    });
    afterAll(async () => {
      for (const s of running.splice(0)) await s.stop();
      await prometheus?.close();
    });

    it('shadow: its own pill, banner and report; nothing published', async () => {
      const url = await startSidecar({
        seed: { file: seeded.seedFile },
        target: 'chat',
        mode: 'shadow',
        shadow: { prometheusUrl: prometheus.url, namespace: 'realtime', name: 'chat' },
      });
      await using p = await openPage(url);
      const { page } = p;
      await waitText(page, 'status', 'OK: forecast published');
      await waitText(page, 'shadow-actual', '1');
      const d = await settled(page);
      expect(d.shadow?.last?.actualReplicas).toBe(1);
      expect(await looks(page)).toEqual({
        state: 'ok',
        mode: 'shadow',
        health: 'ok',
        pill: 'OK: forecast published',
      });
      expect(await text(page, 'mode-pill')).toBe('Shadow mode');
      expect(await text(page, 'mode-title')).toBe(
        'Shadow mode \u2014 publishing no scaling signals',
      );
      expect(await attr(page, '#figures', 'data-published')).toBe('false');
      expect(await text(page, 'reactive')).toBe(
        `not published (shadow mode); reactive: ${d.plan.reactiveReplicas} replica${d.plan.reactiveReplicas === 1 ? '' : 's'}`,
      );
      expect(await page.locator('#shadow').isVisible()).toBe(true);
      await screenshot(page, 'shadow');
      expect(p.errors).toEqual([]);
    });
  });
});
