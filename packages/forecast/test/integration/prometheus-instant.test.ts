/**
 * `queryPrometheusInstant` against a loopback fake Prometheus: the samples of a vector, the
 * sample cap while the answer streams in, Prometheus' own error quoted, a 5xx as a transient
 * failure, a stall cut by the deadline, a result that is not a vector.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SourceError } from '../../src/sources/errors.js';
import { TransientSourceError } from '../../src/sources/http.js';
import {
  prometheusSourceName,
  queryPrometheusInstant,
} from '../../src/sources/prometheus-instant.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
const servers: http.Server[] = [];

async function fake(handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

const json = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const vector = (values: string[]) => ({
  status: 'success',
  data: {
    resultType: 'vector',
    result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [1_700_000_000, v] })),
  },
});

async function failure(p: Promise<unknown>): Promise<SourceError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceError);
  return error as SourceError;
}

describe('queryPrometheusInstant', () => {
  it('returns the samples, with the query, time and bearer token sent', async () => {
    let seen: URL | undefined;
    let auth: string | undefined;
    const url = await fake((req, res) => {
      seen = new URL(req.url ?? '/', 'http://x');
      auth = req.headers.authorization;
      json(res, 200, vector(['2', '3.5']));
    });
    const samples = await queryPrometheusInstant({
      url: `${url}/`,
      query: 'sum(up)',
      timeMs: 1_700_000_000_000,
      bearerToken: 't0k',
    });
    expect(samples).toEqual([
      { labels: { pod: 'p0' }, value: 2 },
      { labels: { pod: 'p1' }, value: 3.5 },
    ]);
    expect(seen?.pathname).toBe('/api/v1/query');
    expect(seen?.searchParams.get('query')).toBe('sum(up)');
    expect(seen?.searchParams.get('time')).toBe('1700000000');
    expect(auth).toBe('Bearer t0k');
    expect(prometheusSourceName(`${url}/`)).toBe(`prometheus:${url}`);
  });

  it('refuses an answer over maxSamples while it streams in', async () => {
    const url = await fake((_req, res) => json(res, 200, vector(Array(50).fill('1'))));
    const error = await failure(queryPrometheusInstant({ url, query: 'up', maxSamples: 10 }));
    expect(error.message).toBe(`prometheus:${url}: response too large: over 10 samples`);
  });

  it("quotes Prometheus' error for a bad query; a 5xx is transient", async () => {
    const bad = await fake((_req, res) =>
      json(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error' }),
    );
    const error = await failure(queryPrometheusInstant({ url: bad, query: 'sum(' }));
    expect(error.message).toBe(
      `prometheus:${bad}: query "sum(" failed (HTTP 400): bad_data: parse error`,
    );
    expect(error).not.toBeInstanceOf(TransientSourceError);
    const down = await fake((_req, res) => json(res, 503, { status: 'error' }));
    expect(await failure(queryPrometheusInstant({ url: down, query: 'up' }))).toBeInstanceOf(
      TransientSourceError,
    );
  });

  it('a stall is cut by the deadline; a matrix or a negative value is refused', async () => {
    const stall = await fake((_req, res) => res.writeHead(200).write('{"status":'));
    const error = await failure(
      queryPrometheusInstant({ url: stall, query: 'up', timeoutMs: 200 }),
    );
    expect(error.message).toBe(`prometheus:${stall}: timed out after 200 ms`);
    const matrix = await fake((_req, res) =>
      json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [] } }),
    );
    expect((await failure(queryPrometheusInstant({ url: matrix, query: 'up' }))).detail).toBe(
      'query "up": expected a vector result, got "matrix"',
    );
    const negative = await fake((_req, res) => json(res, 200, vector(['-1'])));
    expect((await failure(queryPrometheusInstant({ url: negative, query: 'up' }))).detail).toBe(
      'query "up": value -1 is not a finite number >= 0',
    );
  });
});
