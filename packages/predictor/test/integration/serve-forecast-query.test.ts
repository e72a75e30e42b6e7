/**
 * `/forecast` over HTTP at 10,000 points of history (issue 15): the default answer is light
 * (at most 100 points per array, under 20 KiB, the newest point exact), `?points=N` and
 * `?detail=full` give more, and fuzzed queries (random strings, repeated and bracketed
 * parameters, huge numbers, unicode, broken percent-encoding) always get a 200 or a 400 JSON
 * answer, never a 500, and the sidecar keeps serving.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flightsHourly, hourlyCsv, pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { startTarget, type Target } from './serve-target.js';
import { request, scrapeOf, seededDir, serveSettings, sidecarClient } from './sidecar.js';

const POINTS = 10_000;
const dir = seededDir('tw-serve-query-', 2);
const trace = Array.from(flightsHourly().values);
const seedFile = join(dir.dir, 'seed-10k.csv');
writeFileSync(
  seedFile,
  hourlyCsv(Array.from({ length: POINTS }, (_, i) => trace[i % trace.length] as number)),
);

let target: Target;
let sidecar: Sidecar;
let url: string;

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
  const config = parseServeConfig(
    serveSettings({ source: scrapeOf(target), historyPoints: 12_000, seed: { file: seedFile } }),
  );
  sidecar = createSidecar(config, { log: silentLogger });
  ({ url } = await sidecar.start());
});

afterAll(async () => {
  await sidecar?.stop();
  await target?.close();
  dir.remove();
});

const client = sidecarClient(() => url);

describe('/forecast size', () => {
  it('the default answer is light: <= 100 points per array, under 20 KiB, newest point exact', async () => {
    const full = await pollUntil(
      () => client.forecast('?detail=full'),
      (d) => d.status === 'ok' && d.history.length >= POINTS + 2,
      { timeoutMs: 60_000, description: 'an ok forecast over 10,000 points' },
    );
    const res = await request(`${url}/forecast`);
    expect(res.status).toBe(200);
    const light = JSON.parse(res.text) as ForecastJson;
    expect(light.history.length).toBeLessThanOrEqual(100);
    expect(light.forecast).toHaveLength(30);
    expect(light.view).toMatchObject({ detail: 'light', points: 100, forecastPoints: 30 });
    expect(light.view?.historyPoints).toBeGreaterThanOrEqual(POINTS + 2);
    expect(Buffer.byteLength(res.text)).toBeLessThan(20 * 1024);
    // The newest point is the live value, exactly; the trace's peak survives.
    expect(light.history.at(-1)?.value).toBe(2);
    expect(Math.max(...light.history.map((p) => p.value ?? 0))).toBe(
      Math.max(...full.history.map((p) => p.value ?? 0)),
    );
    const fullBytes = Buffer.byteLength((await request(`${url}/forecast?detail=full`)).text);
    expect(fullBytes).toBeGreaterThan(500 * 1024);
    const page = JSON.parse((await request(`${url}/forecast?points=1000`)).text) as ForecastJson;
    expect(page.history.length).toBeLessThanOrEqual(1000);
    expect(page.history.length).toBeGreaterThan(500);
    expect(page.view?.points).toBe(1000);
  });
});

/** A deterministic generator (the failing query is in the assertion message anyway). */
function generator(seed: number) {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  return { next, pick };
}

const KEYS = [
  'history',
  'points',
  'detail',
  'points[]',
  'points[a]',
  'history[0]',
  'x',
  '',
  'détail',
  '\u{1F30A}',
  '__proto__',
  'constructor',
];
const VALUES = [
  '',
  '0',
  '1',
  '2',
  '100',
  '100000',
  '100001',
  '99999999999999999999999',
  '1e3',
  '-1',
  '0x10',
  ' 5',
  '5 ',
  '3.5',
  'NaN',
  'Infinity',
  'light',
  'full',
  'LIGHT',
  'f\u00fcll',
  '\u0661\u0662',
  '\u{1F4A5}',
  '%',
  '%E0%A4%A',
  '%00',
  '%FF%FE',
  '\u0000',
  'a'.repeat(10_000),
  '[]',
  '{}',
  '&',
  '=',
];

function randomQuery(g: ReturnType<typeof generator>): string {
  const n = Math.floor(g.next() * 4);
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    const key = g.pick(KEYS);
    const value = g.pick(VALUES);
    // Mostly encoded, sometimes raw: what a browser, curl or a broken client would send.
    const enc = (x: string) =>
      g.next() < 0.7
        ? encodeURIComponent(x)
        : Array.from(x)
            .filter((c) => c > ' ' && c !== '#')
            .join('');
    parts.push(g.next() < 0.1 ? enc(key) : `${enc(key)}=${enc(value)}`);
  }
  return parts.length === 0 ? '' : `?${parts.join('&')}`;
}

describe('/forecast query fuzzing', () => {
  it('always a 200 document or a 400 naming the problem, never a 500', async () => {
    const g = generator(20_260_315);
    const queries = [
      '?points=1&points=2',
      '?points=2&detail=light&history=1',
      '?detail=full&points=5',
      '?points=100000',
      '?history=10080&history=10080',
      '?points[]=5',
      '?points[a][b]=5',
      '?%E0%A4%A=1',
      '?=',
      '?&&&',
      `?points=${'9'.repeat(400)}`,
      ...Array.from({ length: 400 }, () => randomQuery(g)),
    ];
    for (const q of queries) {
      const res = await request(`${url}/forecast${q}`);
      const what = `${q.slice(0, 200)} -> ${res.status} ${res.text.slice(0, 200)}`;
      expect([200, 400], what).toContain(res.status);
      expect(res.headers.get('content-type'), what).toMatch(/^application\/json/);
      const body = JSON.parse(res.text) as ForecastJson & { error?: string };
      if (res.status === 400) {
        expect(Object.keys(body), what).toEqual(['error']);
        expect(body.error, what).toMatch(/^(unknown query parameter|history |points |detail )/);
      } else {
        const max = body.view?.points ?? Number.POSITIVE_INFINITY;
        expect(body.history.length, what).toBeLessThanOrEqual(max);
        expect(body.forecast.length, what).toBeLessThanOrEqual(max);
      }
    }
    expect((await request(`${url}/healthz`)).status).toBe(200);
    expect((await client.forecast()).status).toBe('ok');
  });
});
