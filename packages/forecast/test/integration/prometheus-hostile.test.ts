/**
 * The prometheus source against a hostile fake Prometheus (real HTTP on 127.0.0.1): an
 * answer of 5 million points (streamed, never built in memory), bodies over the byte cap,
 * stalls. Timeouts and answers over a limit fail the read at once, without a retry; a 5xx is
 * still retried.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_POINTS } from '../../src/sources/limits.js';
import { createPrometheusSource } from '../../src/sources/prometheus.js';
import { cleanupAfterEach, hostileTarget, sourceFailure } from './helpers.js';
import type { HostileTarget } from './hostile-server.js';
import { forceGc, MiB, sampleRss } from './memory.js';

const MINUTE = 60_000;
const T = 1_700_000_040_000; // on the minute grid
/** What the tests allow the process to grow by while Prometheus misbehaves. */
const RSS_BOUND = 150 * MiB;

const defer = cleanupAfterEach();
const target = () => hostileTarget(defer);

type Options = Parameters<typeof createPrometheusSource>[0];
const source = (t: HostileTarget, options: Partial<Options> = {}) =>
  createPrometheusSource({ url: t.url, query: 'up', stepMs: MINUTE, baseDelayMs: 1, ...options });

describe('prometheus source: a hostile Prometheus', () => {
  it('5 million points: refused while streaming, one request, memory bounded', async () => {
    const t = await target();
    t.set({ kind: 'matrix', points: 5_000_000 });
    const src = source(t, { retries: 3 });
    forceGc();
    const baseline = process.memoryUsage().rss;
    const rss = sampleRss();
    const error = await sourceFailure(src.read({ startMs: T, endMs: T + 9 * MINUTE }));
    const peak = rss.stop();
    expect(error.message).toBe(
      `prometheus:${t.url}: response too large: over ${DEFAULT_MAX_POINTS} points`,
    );
    expect(src.requests).toBe(1);
    expect(t.hits).toBe(1);
    expect(peak - baseline).toBeLessThan(RSS_BOUND);
    expect(t.finished).toBe(0); // cut off, not read to the end
  });

  it('maxPoints counts across the requests of one read', async () => {
    const t = await target();
    t.set({ kind: 'matrix' }); // exactly the requested points: a well-behaved Prometheus
    const read = { startMs: T, endMs: T + 29 * MINUTE }; // 30 points
    const within = source(t, { maxPointsPerRequest: 10, maxPoints: 30 });
    expect(Array.from((await within.read(read)).values)).toEqual(Array(30).fill(1));
    const over = source(t, { maxPointsPerRequest: 10, maxPoints: 25 });
    const error = await sourceFailure(over.read(read));
    expect(error.message).toBe(`prometheus:${t.url}: response too large: over 25 points`);
    expect(over.requests).toBe(3); // 10 + 10 accepted, the third answer refused
  });

  it.each([
    ['with', true],
    ['without', false],
  ])(
    'a body over maxBodyBytes %s Content-Length: response too large, not retried',
    async (_w, contentLength) => {
      const t = await target();
      t.set({ kind: 'huge', bytes: 64 * MiB, contentLength });
      const src = source(t, { maxBodyBytes: MiB, retries: 3, timeoutMs: 60_000 });
      const error = await sourceFailure(src.read({ startMs: T, endMs: T }));
      expect(error.message).toBe(`prometheus:${t.url}: response too large: over ${MiB} bytes`);
      expect(t.hits).toBe(1);
    },
  );

  it.each([
    ['after the headers', 'stall-after-headers'],
    ['before the headers', 'stall-before-headers'],
    ['in an endless body', 'endless'],
  ] as const)('a stall %s: timed out once, not retried', async (_w, kind) => {
    const t = await target();
    t.set(kind === 'endless' ? { kind, chunkBytes: 1_024, everyMs: 20 } : { kind });
    const retries: number[] = [];
    const src = source(t, { timeoutMs: 300, retries: 3, onRetry: (_e, n) => retries.push(n) });
    const error = await sourceFailure(src.read({ startMs: T, endMs: T }));
    expect(error.message).toBe(`prometheus:${t.url}: timed out after 300 ms`);
    expect(t.hits).toBe(1);
    expect(retries).toEqual([]);
  });

  it('a 500 storm is still retried, then healed', async () => {
    const t = await target();
    t.set({ kind: 'status', code: 500 });
    const src = source(t, { retries: 2 });
    const error = await sourceFailure(src.read({ startMs: T, endMs: T }));
    expect(error.message).toBe(
      `prometheus:${t.url}: HTTP 500: "upstream says 500" (gave up after 3 attempts)`,
    );
    expect(t.hits).toBe(3);
    t.set({ kind: 'matrix' });
    expect(Array.from((await src.read({ startMs: T, endMs: T + MINUTE })).values)).toEqual([1, 1]);
  });
});

describe('createPrometheusSource: limits options', () => {
  it.each([
    [{ maxBodyBytes: 0 }, 'maxBodyBytes must be an integer from 1 to 268435456 (bytes), got 0'],
    [
      { maxBodyBytes: 2 ** 30 },
      'maxBodyBytes must be an integer from 1 to 268435456 (bytes), got 1073741824',
    ],
    [{ maxPoints: 1.5 }, 'maxPoints must be a positive integer, got 1.5'],
    [{ maxPoints: '10' }, 'maxPoints must be a positive integer, got "10"'],
  ])('%j', (override, message) => {
    expect(() =>
      createPrometheusSource({ url: 'http://x', query: 'up', stepMs: 1, ...override } as never),
    ).toThrow(`createPrometheusSource: ${message}`);
  });
});
