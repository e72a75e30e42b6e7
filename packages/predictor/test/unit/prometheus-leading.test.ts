/**
 * The prometheus source's leading signals: the selector taken from the source's query, the
 * three queries built from the metric catalogue, and a reader that sums the answers, treats
 * missing rate series as zero and fails with the source's name.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { CATALOG, DEFAULT_PREFIX } from '@tidewatch/conventions';
import { afterEach, describe, expect, it } from 'vitest';
import { prometheusSchema } from '../../src/sources/prometheus.js';
import {
  LEADING_RATE_WINDOW_SECONDS,
  leadingQueries,
  prometheusLeading,
  selectorOf,
} from '../../src/sources/prometheus-leading.js';

const CONNECTIONS = DEFAULT_PREFIX + CATALOG.connections.name;
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

describe('selectorOf', () => {
  it.each([
    [`sum(${CONNECTIONS})`, ''],
    [`sum(${CONNECTIONS}{job="chat"})`, 'job="chat"'],
    [
      ` sum by () ( ${CONNECTIONS} { namespace="rt", job=~"a|b", } ) `,
      'namespace="rt", job=~"a|b"',
    ],
    [`sum(${CONNECTIONS}{path="/{x}"})`, 'path="/{x}"'],
  ])('%s -> %s', (query, matchers) => {
    expect(selectorOf(query, CONNECTIONS)).toBe(matchers);
  });

  it.each([
    `max(${CONNECTIONS})`,
    `sum(${CONNECTIONS}_other)`,
    `sum(rate(${CONNECTIONS}[1m]))`,
    `sum by (pod) (${CONNECTIONS})`,
    `sum(${CONNECTIONS}) * 2`,
  ])('%s has no selector', (query) => {
    expect(selectorOf(query, CONNECTIONS)).toBeUndefined();
  });
});

describe('leadingQueries', () => {
  it('sums the gauge and rates the counters over the window, with the selector', () => {
    const q = leadingQueries({ prefix: DEFAULT_PREFIX, matchers: 'job="chat"' });
    const range = `[${LEADING_RATE_WINDOW_SECONDS}s]`;
    expect(q.connections).toBe(`sum(${CONNECTIONS}{job="chat"})`);
    expect(q.handshakes).toBe(
      `sum(rate(${DEFAULT_PREFIX}${CATALOG.handshakeDuration.name}_count{job="chat",outcome="success"}${range}))`,
    );
    expect(q.abnormalCloses).toBe(
      `sum(rate(${DEFAULT_PREFIX}${CATALOG.connectionsClosed.name}{job="chat",reason=~"abnormal|error|ping_timeout|server_shutdown|unavailable"}${range}))`,
    );
    expect(leadingQueries({ prefix: 'x_', matchers: '' }).connections).toBe(
      `sum(x_${CATALOG.connections.name}{})`,
    );
  });
});

describe('prometheusLeading', () => {
  const context = { metric: CONNECTIONS, prefix: DEFAULT_PREFIX, now: () => 1_000 };
  const sourceOf = (url: string, query?: string) =>
    prometheusSchema.parse({ kind: 'prometheus', url, ...(query ? { query } : {}) });

  it('says why not for a query that is not a plain sum of the connections', () => {
    const off = prometheusLeading(sourceOf('http://p:9090', `max(${CONNECTIONS})`), context);
    expect(off).toBe(
      `off: the source query max(${CONNECTIONS}) is not sum(${CONNECTIONS}{...}), so the fleet's selector is unknown`,
    );
  });

  it('reads the three figures; missing rate series are 0, missing connections are null', async () => {
    let connections: string | undefined = '120';
    let failing = false;
    const server = http.createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams.get('query') ?? '';
      if (failing) return res.writeHead(503).end('down');
      const value = query.includes('handshake')
        ? '7.5'
        : query.includes('closed')
          ? null
          : connections;
      const result =
        value === null || value === undefined ? [] : [{ metric: {}, value: [1, value] }];
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const reader = prometheusLeading(sourceOf(url), context);
    if (typeof reader === 'string') throw new Error(reader);
    expect(await reader.read()).toEqual({
      atMs: 1_000,
      connections: 120,
      handshakesPerSecond: 7.5,
      abnormalClosesPerSecond: 0,
      readyPods: 0,
    });
    connections = undefined;
    expect(await reader.read()).toBeNull();
    failing = true;
    await expect(reader.read()).rejects.toThrow(`prometheus:${url}: HTTP 503: "down"`);
  });
});
