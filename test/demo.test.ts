/**
 * The one-command demo (`npm start` = examples/chat-server/main.mjs), end to end and for real:
 * the process is started as a user starts it, its printed URLs are used as printed, the
 * chat server is checked over HTTP/WebSocket (live /metrics, the 401s), the sidecar's status
 * page and the chat page are driven in headless Chromium, and Ctrl-C must stop everything
 * cleanly. Needs the packages built (`npm test` builds first).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ChromiumHandle, launchChromium, pollUntil } from '@tidewatch/test-utils';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

let child: ChildProcess;
let output = '';
let exited: Promise<number | null>;
let chromium: ChromiumHandle | undefined;
const urls = { chat: '', token: '', metrics: '', sidecar: '' };

/** Sum of a metric's samples whose line contains every needle. */
function sample(text: string, name: string, ...needles: string[]): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (needles.every((n) => line.includes(n)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const metricsText = async () => (await fetch(urls.metrics)).text();

beforeAll(async () => {
  child = spawn(
    process.execPath,
    ['examples/chat-server/main.mjs', '--port', '0', '--duration', '240'],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  child.stdout?.on('data', (d) => {
    output += String(d);
  });
  child.stderr?.on('data', (d) => {
    output += String(d);
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const chat = /^chat server\s+(http:\/\/127\.0\.0\.1:\d+)\/\?token=(\S+)/m.exec(output);
    const metrics = /^metrics\s+(http:\/\/127\.0\.0\.1:\d+\/metrics)/m.exec(output);
    const sidecar = /^sidecar\s+(http:\/\/127\.0\.0\.1:\d+)\//m.exec(output);
    if (chat && metrics && sidecar) {
      Object.assign(urls, {
        chat: chat[1],
        token: chat[2],
        metrics: metrics[1],
        sidecar: sidecar[1],
      });
      break;
    }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the demo did not print its three URLs within 60 s; it printed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  chromium = await launchChromium();
}, 90_000);

afterAll(async () => {
  await chromium?.close();
  if (child.exitCode === null) child.kill('SIGKILL');
});

describe('the demo', () => {
  it('serves live realtime metrics while the load generator replays the trace', async () => {
    const open = await pollUntil(
      async () => sample(await metricsText(), 'realtime_connections', 'transport="websocket"'),
      (n) => n >= 20,
      { timeoutMs: 30_000, description: '20 open WebSocket connections on /metrics' },
    );
    expect(open).toBeGreaterThanOrEqual(20);
    const text = await metricsText();
    expect(
      sample(text, 'realtime_messages_total', 'transport="websocket"', 'direction="in"'),
    ).toBeGreaterThan(0);
    expect(
      sample(text, 'realtime_messages_total', 'transport="websocket"', 'direction="out"'),
    ).toBeGreaterThan(0);
    expect(sample(text, 'realtime_connections', 'transport="sse"')).toBeGreaterThan(0);
    expect(sample(text, 'realtime_broadcast_fanout_count')).toBeGreaterThan(0);
  });

  it('refuses a WebSocket handshake without the token with 401, counted once as rejected', async () => {
    const count = async () =>
      sample(
        await metricsText(),
        'realtime_handshake_duration_seconds_count',
        'transport="websocket"',
        'outcome="rejected"',
      );
    const before = await count();
    const ws = new WebSocket(urls.chat.replace('http:', 'ws:') + '/ws');
    const status = await new Promise<number>((resolve, reject) => {
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('opened without a token')));
      ws.once('error', () => {});
    });
    expect(status).toBe(401);
    ws.terminate();
    await pollUntil(count, (n) => n === before + 1, {
      timeoutMs: 5_000,
      description: 'the rejected handshake on /metrics',
    });
    // Still exactly one more: nothing else in the demo is refused.
    await new Promise((r) => setTimeout(r, 500));
    expect(await count()).toBe(before + 1);
  });

  it('refuses the SSE feed without the token with 401', async () => {
    const res = await fetch(`${urls.chat}/sse?room=room-0`);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it("shows live data on the sidecar's status page: connections, latency, rates, forecast band, replicas", async () => {
    const page = await (chromium as ChromiumHandle).browser.newPage();
    try {
      await page.goto(`${urls.sidecar}/`);
      // A forecast exists once the first backtest is done; the page polls /forecast.
      await page.waitForFunction(
        () => {
          const d = (globalThis as any).tidewatchStatus?.chart?.data;
          return Array.isArray(d) && d[2]?.some((v: unknown) => typeof v === 'number');
        },
        undefined,
        { timeout: 90_000, polling: 500 },
      );
      const data: Array<Array<number | null>> = await page.evaluate(
        () => (globalThis as any).tidewatchStatus.chart.data,
      );
      const numbers = (xs: Array<number | null> | undefined) =>
        (xs ?? []).filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
      expect(numbers(data[1]).length).toBeGreaterThan(600); // history: seeded + live, 1 s steps
      expect(numbers(data[2]).length).toBeGreaterThanOrEqual(30); // p50 forecast
      expect(numbers(data[3]).length).toBe(numbers(data[2]).length); // p90 band
      // The 60 forecast steps are a sliver of a chart of 3,600 history points: a narrow band.
      expect(await bandPixels(page)).toBeGreaterThan(50);

      // A forecast can go stale for a moment (rolling MASE above 1 on a noisy minute): then the
      // page honestly shows no recommendation. Wait for a published one.
      await page.waitForFunction(
        () =>
          /^\d+$/.test(
            (globalThis as any).document.querySelector('#recommended')?.textContent ?? '',
          ),
        undefined,
        { timeout: 30_000, polling: 500 },
      );
      const recommended = Number(await page.locator('#recommended').textContent());
      expect(recommended).toBeGreaterThanOrEqual(1);
      expect(await page.locator('#model').textContent()).toMatch(/seasonal|holt-winters/);
      expect(await page.locator('#data-age').textContent()).toMatch(/^\d+ s old$/);
      expect(
        Number.parseInt((await page.locator('#data-age').textContent()) ?? '', 10),
      ).toBeLessThan(15);

      const liveNumber = async (id: string) =>
        Number(((await page.locator(`#${id}`).textContent()) ?? '').replace(/[^\d.]/g, ''));
      const first = await liveNumber('live-connections');
      expect(first).toBeGreaterThan(0);
      expect(await liveNumber('live-handshake-p50')).toBeGreaterThan(0);
      expect(await liveNumber('live-handshake-p99')).toBeGreaterThan(0);
      expect(await liveNumber('live-messages-in')).toBeGreaterThan(0);
      expect(await liveNumber('live-messages-out')).toBeGreaterThan(0);
      // Live: the figure moves with the load (one trace minute per second).
      await page.waitForFunction(
        (prev) => {
          const el = (globalThis as any).document.querySelector('#live-connections');
          return el && Number(el.textContent.replace(/[^\d.]/g, '')) !== prev;
        },
        first,
        { timeout: 30_000, polling: 500 },
      );
    } finally {
      await page.close();
    }
  });

  it('lets a person chat next to the load: a message sent from the chat page comes back', async () => {
    const page = await (chromium as ChromiumHandle).browser.newPage();
    try {
      await page.goto(`${urls.chat}/?token=${urls.token}`);
      await page.waitForFunction(
        () =>
          (globalThis as any).document.querySelector('#state')?.textContent.startsWith('connected'),
        undefined,
        { timeout: 15_000 },
      );
      const text = `hello from the e2e test ${Date.now()}`;
      await page.fill('#text', text);
      await page.click('#send button');
      await page.waitForSelector(`#log li.mine >> text=${text}`, { timeout: 10_000 });
    } finally {
      await page.close();
    }
  });

  it('stops everything cleanly on Ctrl-C: exit 0, ports closed, no process left behind', async () => {
    const pid = child.pid as number;
    const descendants = () => {
      try {
        return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean);
      } catch {
        return [];
      }
    };
    const kids = descendants();
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('timeout'), 10_000)),
    ]);
    expect(code, output.slice(-2000)).toBe(0);
    expect(output).toMatch(/^stopped$/m);
    for (const k of kids) expect(() => process.kill(Number(k), 0)).toThrow();
    await expect(fetch(urls.metrics)).rejects.toThrow();
    await expect(fetch(`${urls.sidecar}/healthz`)).rejects.toThrow();
  });
});

/** Canvas pixels in the forecast band's colour (rgb(37, 99, 235) at low alpha). */
function bandPixels(page: Page): Promise<number> {
  return page.evaluate(() => {
    const canvas = (globalThis as any).document.querySelector('#chart canvas');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4)
      if (
        data[i + 3] > 0 &&
        Math.abs(data[i] - 37) < 6 &&
        Math.abs(data[i + 1] - 99) < 6 &&
        Math.abs(data[i + 2] - 235) < 6
      )
        n++;
    return n;
  });
}
