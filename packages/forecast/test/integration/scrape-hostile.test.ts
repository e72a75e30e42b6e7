/**
 * The scrape source against a hostile target (real HTTP on 127.0.0.1): endless and huge
 * bodies, stalls, HTML, garbage, duplicates, a 500 storm, counters that go down, and the
 * recovery on the next step once the target heals. Values and error counts are asserted
 * exactly; waits are bounded polls, never timing asserts.
 */
import { pollUntil, withTimeout } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { createHistoryStore, type HistoryStore } from '../../src/history/store.js';
import { DEFAULT_MAX_BODY_BYTES } from '../../src/sources/limits.js';
import { createScraper, createScrapeSource, type Scraper } from '../../src/sources/scrape.js';
import { cleanupAfterEach, hostileTarget } from './helpers.js';
import type { HostileTarget } from './hostile-server.js';
import { forceGc, MiB, sampleRss } from './memory.js';

const STEP = 1000;
const T0 = 1_700_000_040_000;
/** What the tests allow the process to grow by while a target misbehaves. */
const RSS_BOUND = 150 * MiB;

const defer = cleanupAfterEach();
const target = () => hostileTarget(defer);

type Options = Parameters<typeof createScraper>[0];

/** A scraper of `t` on a fake clock (`tick()` advances one step), into a fresh store. */
function scraperOf(
  t: HostileTarget,
  options: Partial<Options> = {},
): { s: Scraper; store: HistoryStore; tick: () => void; source: string } {
  let now = T0;
  const store = createHistoryStore({ stepMs: STEP, capacity: 100, maxInterpolateSteps: 0 });
  const s = createScraper({
    urls: [t.metricsUrl],
    metric: 'realtime_connections',
    kind: 'gauge',
    intervalMs: STEP,
    store,
    seriesName: 'load',
    now: () => now,
    ...options,
  });
  defer(() => s.stop());
  return { s, store, tick: () => (now += STEP), source: `scrape:${t.metricsUrl}` };
}

const errorsOf = (s: Scraper, source: string) => s.errors.get(source) ?? 0;
const values = (store: HistoryStore) => Array.from(store.series('load').values);

describe('scrape source: a hostile target', () => {
  it('an endless body times out after timeoutMs, even across a GC; the next step recovers', async () => {
    const t = await target();
    t.set({ kind: 'endless', chunkBytes: 16_384, everyMs: 20 });
    const { s, store, tick, source } = scraperOf(t, { timeoutMs: 1_000 });
    const scrape = s.scrapeOnce();
    await pollUntil(
      async () => t.bytesSent,
      (n) => n > 0,
      { description: 'body bytes sent' },
    );
    // The old combined AbortSignal.any() deadline stopped firing after a collection.
    forceGc();
    await pollUntil(
      async () => errorsOf(s, source),
      (n) => n === 1,
      {
        timeoutMs: 20_000,
        description: 'the endless scrape counted as failed',
      },
    );
    expect(await scrape).toBeNaN();
    expect(s.lastErrors.get(source)?.message).toBe(`${source}: timed out after 1000 ms`);
    await pollUntil(
      async () => t.cutOff,
      (n) => n === 1,
      { description: 'the body cut off' },
    );
    expect(store.has('load')).toBe(false);

    t.set({ kind: 'ok' });
    tick();
    expect(await s.scrapeOnce()).toBe(3);
    expect(errorsOf(s, source)).toBe(1);
    expect(values(store)).toEqual([3]);
  });

  it('a flood without end: response too large at maxBodyBytes, memory bounded', async () => {
    const t = await target();
    t.set({ kind: 'flood' });
    // A long deadline: only the size cap can stop this one.
    const { s, tick, source } = scraperOf(t, { timeoutMs: 60_000 });
    forceGc();
    const baseline = process.memoryUsage().rss;
    const rss = sampleRss();
    expect(await s.scrapeOnce()).toBeNaN();
    const peak = rss.stop();
    expect(s.lastErrors.get(source)?.message).toBe(
      `${source}: response too large: over ${DEFAULT_MAX_BODY_BYTES} bytes`,
    );
    expect(errorsOf(s, source)).toBe(1);
    expect(peak - baseline).toBeLessThan(RSS_BOUND);
    await pollUntil(
      async () => t.cutOff,
      (n) => n === 1,
      { description: 'the flood cut off' },
    );
    t.set({ kind: 'ok' });
    tick();
    expect(await s.scrapeOnce()).toBe(3);
  });

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'a body over maxBodyBytes %s Content-Length: response too large, one request',
    async (_w, contentLength) => {
      const t = await target();
      t.set({ kind: 'huge', bytes: 64 * MiB, contentLength });
      const { s, source } = scraperOf(t, { maxBodyBytes: MiB, timeoutMs: 60_000 });
      expect(await s.scrapeOnce()).toBeNaN();
      expect(s.lastErrors.get(source)?.message).toBe(
        `${source}: response too large: over ${MiB} bytes`,
      );
      expect(t.hits).toBe(1);
      await pollUntil(
        async () => t.cutOff,
        (n) => n === 1,
        { description: 'the body cut off' },
      );
      expect(t.finished).toBe(0);
    },
  );

  it.each([
    ['after the headers', 'stall-after-headers'],
    ['before the headers', 'stall-before-headers'],
  ] as const)('a target that stalls %s: timed out, counted once', async (_w, kind) => {
    const t = await target();
    t.set({ kind });
    const { s, source } = scraperOf(t, { timeoutMs: 300 });
    expect(await s.scrapeOnce()).toBeNaN();
    expect(s.lastErrors.get(source)?.message).toBe(`${source}: timed out after 300 ms`);
    expect(errorsOf(s, source)).toBe(1);
    expect(t.hits).toBe(1);
  });

  it.each([
    [
      'html',
      'not the Prometheus text format: line 1: "<html><body><h1>502 Bad Gateway</h1></body></html>"',
    ],
    ['garbage', 'not the Prometheus text format: line 1: "\\u0000\ufffd{\\""'],
    ['duplicate-family', 'duplicate metric family realtime_connections'],
    [
      'duplicate-series',
      'duplicate series realtime_connections{state="active",transport="websocket"}',
    ],
  ] as const)('%s: an error naming it, the step skipped, then recovery', async (kind, detail) => {
    const t = await target();
    t.set({ kind });
    const { s, store, tick, source } = scraperOf(t);
    expect(await s.scrapeOnce()).toBeNaN();
    expect(s.lastErrors.get(source)?.message).toBe(`${source}: ${detail}`);
    expect(errorsOf(s, source)).toBe(1);
    expect(store.has('load')).toBe(false);
    t.set({ kind: 'ok' });
    tick();
    expect(await s.scrapeOnce()).toBe(3);
  });

  it('a 500 storm: every step counted, then the healed target is scraped again', async () => {
    const t = await target();
    const { s, store, tick, source } = scraperOf(t);
    expect(await s.scrapeOnce()).toBe(3);
    t.set({ kind: 'status', code: 500 });
    for (let i = 0; i < 3; i++) {
      tick();
      expect(await s.scrapeOnce()).toBeNaN();
    }
    expect(errorsOf(s, source)).toBe(3);
    expect(s.lastErrors.get(source)?.message).toBe(`${source}: HTTP 500: "upstream says 500"`);
    expect(s.lastErrors.get(source)?.status).toBe(500);
    t.set({ kind: 'ok' });
    t.state.gauge = 7;
    tick();
    expect(await s.scrapeOnce()).toBe(7);
    expect(values(store)).toEqual([3, NaN, NaN, NaN, 7]);
  });

  it('stop() during an endless body aborts it and returns', async () => {
    const t = await target();
    t.set({ kind: 'endless', chunkBytes: 16_384, everyMs: 20 });
    const { s } = scraperOf(t, { timeoutMs: 60_000 });
    s.start();
    await pollUntil(
      async () => t.bytesSent,
      (n) => n > 0,
      { description: 'body bytes sent' },
    );
    forceGc();
    await withTimeout(s.stop(), 10_000, 'stop() with an endless scrape in flight');
    await pollUntil(
      async () => t.cutOff,
      (n) => n === 1,
      { description: 'the body cut off' },
    );
    expect(s.errors.size).toBe(0); // our own stop is not the target's failure
  });
});

describe('scrape limits options', () => {
  const base = {
    urls: ['http://127.0.0.1:1/metrics'],
    metric: 'm',
    kind: 'gauge' as const,
    intervalMs: 1000,
    store: createHistoryStore({ stepMs: 1000 }),
    seriesName: 's',
  };
  it.each([
    [{ maxBodyBytes: 0 }, 'maxBodyBytes must be an integer from 1 to 268435456 (bytes), got 0'],
    [{ maxBodyBytes: 1.5 }, 'maxBodyBytes must be an integer from 1 to 268435456 (bytes), got 1.5'],
    [{ onCounterReset: 'log' }, 'onCounterReset must be a function, got "string"'],
  ])('%j', (override, message) => {
    expect(() => createScraper({ ...base, ...override } as never)).toThrow(
      `createScraper: ${message}`,
    );
    const { intervalMs: _i, store: _s, seriesName: _n, ...rest } = base;
    expect(() => createScrapeSource({ ...rest, stepMs: 1000, ...override } as never)).toThrow(
      `createScrapeSource: ${message}`,
    );
  });
});

describe('createScraper options', () => {
  const store = createHistoryStore({ stepMs: 1000 });
  const base = {
    urls: ['http://127.0.0.1:1/metrics'],
    metric: 'm',
    kind: 'gauge' as const,
    intervalMs: 1000,
    store,
    seriesName: 's',
  };
  it.each([
    [{ urls: [] }, 'createScraper: urls must be a non-empty array of http(s) URLs, got []'],
    [
      { urls: ['ftp://x/metrics'] },
      'createScraper: urls must be a non-empty array of http(s) URLs, got "ftp://x/metrics"',
    ],
    [
      { metric: 'bad-name' },
      'createScraper: metric must be a Prometheus metric name, got "bad-name"',
    ],
    [{ kind: 'histogram' }, 'createScraper: kind must be "gauge" or "counter", got "histogram"'],
    [
      { intervalMs: 0 },
      'createScraper: intervalMs must be a positive integer (milliseconds), got 0',
    ],
    [{ seriesName: '' }, 'createScraper: seriesName must be a non-empty string, got ""'],
  ])('%j', (override, message) => {
    expect(() => createScraper({ ...base, ...override } as never)).toThrow(message);
  });
});
