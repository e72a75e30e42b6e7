/**
 * The prometheus source against a real Prometheus (Debian `prometheus` + `promtool`), loaded
 * with a slice of the real flights trace through `promtool tsdb create-blocks-from
 * openmetrics`, and against tiny local HTTP servers for the failure modes.
 */
import { readFileSync } from 'node:fs';
import type http from 'node:http';
import {
  fixturePath,
  freePort,
  type PrometheusHandle,
  pollUntil,
  startHttpServer,
  startPrometheus,
} from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrometheusSource } from '../../src/sources/prometheus.js';
import { sourceFailure } from './helpers.js';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const MINUTES = 12_000; // > 11,000: a default read needs two requests
const HOURS = 200;
/** Hours left out of the hourly metric: they must come back as NaN. */
const HOLES = new Set([10, 11, 12, 150]);

function fixtureValues(name: string, count: number): number[] {
  const file = fixturePath(name);
  const rows = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .slice(1, count + 1);
  return rows.map((row) => Number(row.split(',')[1]));
}

// Recent past (Prometheus drops blocks beyond retention), on the step grids.
const now = Date.now();
const minuteEnd = Math.floor((now - 3 * HOUR) / MINUTE) * MINUTE;
const minuteStart = minuteEnd - (MINUTES - 1) * MINUTE;
const hourEnd = Math.floor((now - 3 * HOUR) / HOUR) * HOUR;
const hourStart = hourEnd - (HOURS - 1) * HOUR;
// The flights trace scaled into a "connections" gauge.
const minutely = fixtureValues('flights-2001-minutely.csv', MINUTES).map((v) => v * 10);
const hourly = fixtureValues('flights-2001-hourly.csv', HOURS).map((v) => v * 10);

function openMetrics(): string {
  const lines = ['# TYPE tidewatch_connections gauge'];
  for (const [k, v] of minutely.entries())
    lines.push(`tidewatch_connections{app="chat"} ${v} ${(minuteStart + k * MINUTE) / 1000}`);
  lines.push('# TYPE tidewatch_connections_hourly gauge');
  for (const [k, v] of hourly.entries()) {
    if (!HOLES.has(k))
      lines.push(`tidewatch_connections_hourly{app="chat"} ${v} ${(hourStart + k * HOUR) / 1000}`);
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

let prom: PrometheusHandle;
beforeAll(async () => {
  prom = await startPrometheus({
    openMetrics: openMetrics(),
    extraArgs: ['--storage.tsdb.retention.time=30d'],
  });
}, 120_000);
afterAll(async () => {
  await prom?.stop();
});

type SourceOptions = Parameters<typeof createPrometheusSource>[0];

/** A source of `query` on the real Prometheus, on a `stepMs` grid, with `options` on top. */
const promSource = (query: string, stepMs: number, options: Partial<SourceOptions> = {}) =>
  createPrometheusSource({ url: prom.url, query, stepMs, ...options });

describe('prometheus source: real Prometheus with backfilled blocks', () => {
  it('reads 12,000 points back exactly, in two requests under the 11,000-point cap', async () => {
    const source = promSource('sum(tidewatch_connections)', MINUTE);
    expect(source.name).toBe(`prometheus:${prom.url}`);
    const series = await source.read({ startMs: minuteStart, endMs: minuteEnd });
    expect(source.requests).toBe(2);
    expect(series.startMs).toBe(minuteStart);
    expect(series.stepMs).toBe(MINUTE);
    expect(series.values.length).toBe(MINUTES);
    expect(Array.from(series.values)).toEqual(minutely);
  });

  it('small chunks concatenate without duplicating or losing a boundary point', async () => {
    const source = promSource('tidewatch_connections{app="chat"}', MINUTE, {
      maxPointsPerRequest: 1_000,
    });
    // Start and end off the grid: rounded inwards.
    const series = await source.read({ startMs: minuteStart - 30_000, endMs: minuteEnd + 59_999 });
    expect(source.requests).toBe(12);
    expect(series.startMs).toBe(minuteStart);
    expect(Array.from(series.values)).toEqual(minutely);

    const odd = promSource('tidewatch_connections', MINUTE, { maxPointsPerRequest: 7 });
    const part = await odd.read({
      startMs: minuteStart + 100 * MINUTE,
      endMs: minuteStart + 129 * MINUTE,
    });
    expect(odd.requests).toBe(5); // 30 points = 7 + 7 + 7 + 7 + 2
    expect(Array.from(part.values)).toEqual(minutely.slice(100, 130));
  });

  it('steps without a sample come back as NaN', async () => {
    const source = promSource('sum(tidewatch_connections_hourly)', HOUR);
    const series = await source.read({ startMs: hourStart, endMs: hourEnd });
    const expected = hourly.map((v, k) => (HOLES.has(k) ? Number.NaN : v));
    expect(Array.from(series.values)).toEqual(expected);
  });

  it('a range with no data at all is an error, a partly empty one is NaN-padded', async () => {
    const source = promSource('sum(tidewatch_connections)', HOUR);
    const before = minuteStart - 100 * HOUR;
    const error = await sourceFailure(source.read({ startMs: before, endMs: before + 10 * HOUR }));
    expect(error.message).toBe(
      `prometheus:${prom.url}: query "sum(tidewatch_connections)" returned no data between ${new Date(Math.ceil(before / HOUR) * HOUR).toISOString()} and ${new Date(Math.floor((before + 10 * HOUR) / HOUR) * HOUR).toISOString()}`,
    );
    const startH = Math.ceil(minuteStart / HOUR) * HOUR;
    const padded = await source.read({ startMs: startH - 2 * HOUR, endMs: startH });
    expect(Number.isNaN(padded.values[0])).toBe(true);
    expect(Number.isNaN(padded.values[1])).toBe(true);
    expect(padded.values[2]).toBe(minutely[(startH - minuteStart) / MINUTE]);
  });

  it('a bad query is a 400: one request, no retry, Prometheus’ reason in the message', async () => {
    const source = promSource('sum(', MINUTE, { baseDelayMs: 1 });
    const error = await sourceFailure(
      source.read({ startMs: minuteStart, endMs: minuteStart + MINUTE }),
    );
    expect(source.requests).toBe(1);
    expect(error.status).toBe(400);
    expect(error.source).toBe(`prometheus:${prom.url}`);
    expect(error.message).toBe(
      `prometheus:${prom.url}: query "sum(" failed (HTTP 400): bad_data: 1:5: parse error: unclosed left parenthesis`,
    );
  });

  it('more than one series: tells the user to aggregate', async () => {
    const query = '{__name__=~"tidewatch_connections.*"}';
    const source = promSource(query, HOUR);
    const error = await sourceFailure(source.read({ startMs: hourStart, endMs: hourEnd }));
    expect(error.message).toBe(
      `prometheus:${prom.url}: query "${query.replaceAll('"', '\\"')}" returned 2 series; it must return one: aggregate it, e.g. sum(${query})`,
    );
  });

  it('Inf, NaN and negative values are rejected with the time of the sample', async () => {
    const at = new Date(minuteStart).toISOString();
    const read = (query: string) =>
      sourceFailure(
        promSource(query, MINUTE).read({
          startMs: minuteStart,
          endMs: minuteStart + 10 * MINUTE,
        }),
      );
    expect((await read('sum(tidewatch_connections) / 0')).message).toMatch(
      new RegExp(`: value (\\+Inf|NaN) at ${at}: the query must not produce NaN or Inf$`),
    );
    expect((await read('sum(tidewatch_connections) * 0 / 0')).message).toBe(
      `prometheus:${prom.url}: value NaN at ${at}: the query must not produce NaN or Inf`,
    );
    expect((await read('-sum(tidewatch_connections)')).message).toBe(
      `prometheus:${prom.url}: negative value -${minutely[0]} at ${at}`,
    );
  });
});

/** A local server answering from a script of responses, one per request; dispose to close. */
async function scripted(
  responses: Array<(res: http.ServerResponse) => void>,
): Promise<{ url: string; hits: () => number } & AsyncDisposable> {
  let hits = 0;
  const server = await startHttpServer((req, res) => {
    const respond = responses[Math.min(hits, responses.length - 1)] as (
      r: http.ServerResponse,
    ) => void;
    hits++;
    req.resume();
    respond(res);
  });
  return { url: server.url, hits: () => hits, [Symbol.asyncDispose]: server.close };
}

const T = 1_700_000_040_000; // on the minute grid
/** A source of `up` on `url`'s minute grid, with `options` on top. */
const upSource = (url: string, options: Partial<SourceOptions> = {}) =>
  createPrometheusSource({ url, query: 'up', stepMs: MINUTE, ...options });
const matrix = (values: Array<[number, string]>) => (res: http.ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      status: 'success',
      data: { resultType: 'matrix', result: [{ metric: {}, values }] },
    }),
  );
};
const status =
  (code: number, body = 'upstream unavailable', headers = {}) =>
  (res: http.ServerResponse) => {
    res.writeHead(code, headers);
    res.end(body);
  };

describe('prometheus source: transport failures', () => {
  it('503, 503, 429 then success: retried with backoff, exact values', async () => {
    await using server = await scripted([
      status(503),
      status(503),
      status(429, 'slow down', { 'retry-after': '0' }),
      matrix([
        [T / 1000, '1'],
        [(T + 2 * MINUTE) / 1000, '3.5'],
      ]),
    ]);
    const retries: number[] = [];
    const source = upSource(server.url, { baseDelayMs: 5, onRetry: (_e, n) => retries.push(n) });
    const series = await source.read({ startMs: T, endMs: T + 2 * MINUTE });
    expect(Array.from(series.values)).toEqual([1, NaN, 3.5]);
    expect(server.hits()).toBe(4);
    expect(retries).toEqual([1, 2, 3]);
  });

  it('retries used up: the error names the source, the last status and the attempts', async () => {
    await using server = await scripted([status(502, '<html>Bad Gateway</html>')]);
    const source = upSource(server.url, { retries: 2, baseDelayMs: 1 });
    const error = await sourceFailure(source.read({ startMs: T, endMs: T }));
    expect(error.message).toBe(
      `prometheus:${server.url}: HTTP 502: "<html>Bad Gateway</html>" (gave up after 3 attempts)`,
    );
    expect(error.status).toBe(502);
    expect(server.hits()).toBe(3);
  });

  it('garbage JSON on 200 is an error naming the source, not retried', async () => {
    await using server = await scripted([status(200, '<html>not prometheus</html>')]);
    const source = upSource(server.url, { baseDelayMs: 1 });
    const error = await sourceFailure(source.read({ startMs: T, endMs: T }));
    expect(error.message).toBe(
      `prometheus:${server.url}: garbage response (HTTP 200, not JSON): "<html>not prometheus</html>"`,
    );
    expect(server.hits()).toBe(1);
  });

  it.each([
    [
      'status error',
      (res: http.ServerResponse) => {
        res.writeHead(422, { 'content-type': 'application/json' });
        res.end(
          '{"status":"error","errorType":"execution","error":"query processing would load too many samples"}',
        );
      },
      'query "up" failed (HTTP 422): execution: query processing would load too many samples',
    ],
    [
      'a vector',
      (res: http.ServerResponse) =>
        res.end('{"status":"success","data":{"resultType":"vector","result":[]}}'),
      'query "up": expected a matrix result, got "vector"',
    ],
    [
      'a garbage value',
      matrix([[T / 1000, 'abc']]),
      `garbage value "abc" at ${new Date(T).toISOString()}`,
    ],
    [
      'an off-grid timestamp',
      matrix([[T / 1000 + 7, '1']]),
      `sample at ${new Date(T + 7000).toISOString()} is off the requested 60000 ms grid`,
    ],
    [
      'out of order timestamps',
      matrix([
        [T / 1000 + 60, '1'],
        [T / 1000, '1'],
      ]),
      `sample at ${new Date(T).toISOString()} is not after the previous one`,
    ],
  ])('%s is a SourceError, not retried', async (_what, respond, detail) => {
    await using server = await scripted([respond]);
    const source = upSource(server.url, { baseDelayMs: 1 });
    const error = await sourceFailure(source.read({ startMs: T, endMs: T + MINUTE }));
    expect(error.message).toBe(`prometheus:${server.url}: ${detail}`);
    expect(server.hits()).toBe(1);
  });

  it('a dead port: retried, then an error naming the source', async () => {
    const port = await freePort();
    const source = upSource(`http://127.0.0.1:${port}`, { retries: 2, baseDelayMs: 5 });
    const error = await sourceFailure(source.read({ startMs: T, endMs: T }));
    expect(source.requests).toBe(3);
    expect(error.message).toBe(
      `prometheus:http://127.0.0.1:${port}: request failed: fetch failed (ECONNREFUSED) (gave up after 3 attempts)`,
    );
  });

  it('a server that never answers: timed out once, not retried (counted within one timeout)', async () => {
    await using server = await scripted([() => {}]);
    const retries: number[] = [];
    const source = upSource(server.url, {
      timeoutMs: 150,
      retries: 3,
      baseDelayMs: 1,
      onRetry: (_e, n) => retries.push(n),
    });
    const error = await sourceFailure(source.read({ startMs: T, endMs: T }));
    expect(error.message).toBe(`prometheus:${server.url}: timed out after 150 ms`);
    expect(server.hits()).toBe(1);
    expect(source.requests).toBe(1);
    expect(retries).toEqual([]);
  });

  it('the caller’s signal aborts a read at once', async () => {
    await using server = await scripted([() => {}]);
    const source = upSource(server.url);
    const controller = new AbortController();
    const read = source.read({ startMs: T, endMs: T, signal: controller.signal });
    const rejected = expect(read).rejects.toThrow('shutting down');
    // Abort while the request is at the server (which never answers): a read in flight.
    await pollUntil(
      async () => server.hits(),
      (n) => n >= 1,
      {
        timeoutMs: 5_000,
        intervalMs: 10,
        description: 'the request at the server',
      },
    );
    controller.abort(new Error('shutting down'));
    await rejected;
    expect(server.hits()).toBe(1);
  });
});
