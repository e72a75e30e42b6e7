/**
 * The nowcast of a real `serve` process (the built CLI) on the `prometheus` source, the one
 * `deploy/` ships: a loopback fake Prometheus answers the range queries with the fleet's
 * connections and the leading-signal instant queries with figures the test drives (no real
 * clients, so a surge of hundreds of handshakes per second costs nothing). Steady: nothing;
 * a handshake surge: `tidewatch_nowcast_load` appears and `tidewatch_predicted_load` rises to
 * it; calm: gone. Then the instant queries fail: counted as source errors, the nowcast goes
 * quiet on stale figures, the process keeps serving.
 */
import type http from 'node:http';
import { CATALOG, DEFAULT_PREFIX, SIGNALS } from '@tidewatch/conventions';
import { type HttpServerHandle, pollUntil, startHttpServer } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leadingQueries } from '../../src/sources/prometheus-leading.js';
import { requireBuiltCli } from './run-cli.js';
import {
  type SeededDir,
  seededDir,
  sidecarClient,
  startServe,
  waitReady,
  writeServeConfig,
} from './sidecar.js';

const BASELINE_CONNECTIONS = 2000;
/** Handshakes per second of the steady fleet (and as many closes: the level holds). */
const BASELINE_RATE = 5;
const CONNECTIONS = DEFAULT_PREFIX + CATALOG.connections.name;
/** The fleet's selector, as the source's query carries it. */
const MATCHERS = 'job="chat"';
const QUERIES = leadingQueries({ prefix: DEFAULT_PREFIX, matchers: MATCHERS });

/** A fake Prometheus whose figures advance with the wall clock at the rates the test sets. */
interface DrivenPrometheus {
  readonly url: string;
  /** Handshakes per second from now on; those above the baseline add connections. */
  setHandshakeRate(perSecond: number): void;
  /** Instant queries answer HTTP 500 while set (range queries still succeed). */
  setFailing(failing: boolean): void;
  /** Instant queries received so far, by query. */
  readonly instant: Map<string, number>;
  close(): Promise<void>;
}

async function startDrivenPrometheus(): Promise<DrivenPrometheus> {
  let rate = BASELINE_RATE;
  let connections = BASELINE_CONNECTIONS;
  let failing = false;
  let lastMs = Date.now();
  const instant = new Map<string, number>();
  const advance = () => {
    const now = Date.now();
    connections += ((rate - BASELINE_RATE) * (now - lastMs)) / 1000;
    lastMs = now;
  };
  const answer = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const vector = (value: number) => ({
    status: 'success',
    data: {
      resultType: 'vector',
      result: [{ metric: {}, value: [Date.now() / 1000, `${value}`] }],
    },
  });
  const handle: HttpServerHandle = await startHttpServer((req, res) => {
    advance();
    const url = new URL(req.url ?? '/', 'http://x');
    const q = url.searchParams;
    const query = q.get('query') ?? '';
    if (url.pathname === '/api/v1/query_range') {
      const [start, end, step] = ['start', 'end', 'step'].map((k) => Number(q.get(k)));
      const values: [number, string][] = [];
      for (let t = start as number; t <= (end as number) + 1e-9; t += step as number)
        values.push([t, `${Math.round(connections)}`]);
      return answer(res, 200, {
        status: 'success',
        data: { resultType: 'matrix', result: [{ metric: {}, values }] },
      });
    }
    if (url.pathname !== '/api/v1/query') return answer(res, 404, { status: 'error' });
    instant.set(query, (instant.get(query) ?? 0) + 1);
    if (failing) return answer(res, 500, { status: 'error', error: 'the fake is failing' });
    if (query === QUERIES.connections) return answer(res, 200, vector(Math.round(connections)));
    if (query === QUERIES.handshakes) return answer(res, 200, vector(rate));
    if (query === QUERIES.abnormalCloses) return answer(res, 200, vector(0));
    return answer(res, 400, { status: 'error', errorType: 'bad_data', error: `unknown ${query}` });
  });
  return {
    url: handle.url,
    instant,
    setHandshakeRate(perSecond) {
      advance();
      rate = perSecond;
    },
    setFailing(value) {
      failing = value;
    },
    close: () => handle.close(),
  };
}

const seeded: SeededDir = seededDir('tw-serve-nowcast-prom-');
let prometheus: DrivenPrometheus;

beforeAll(async () => {
  requireBuiltCli();
  prometheus = await startDrivenPrometheus();
});
afterAll(async () => {
  await prometheus?.close();
  seeded.remove();
});

const NOWCAST = SIGNALS.nowcastLoad.name;
const PREDICTED = SIGNALS.predictedLoad.name;
const FORECAST = SIGNALS.forecast.name;
const ERRORS = SIGNALS.sourceErrors.name;
/** What one sample is called in the parsed exposition: `name{labels}` in exposition order. */
const sample = (metric: string, labels: Record<string, string>) =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

describe('serve: nowcast on the prometheus source', () => {
  it('instant queries drive the nowcast: surge raises the load, calm returns it, failures go quiet', async () => {
    const config = writeServeConfig(seeded.dir, 'nowcast-prometheus', {
      seed: { file: seeded.seedFile },
      source: {
        kind: 'prometheus',
        url: prometheus.url,
        query: `sum(${CONNECTIONS}{${MATCHERS}})`,
        timeoutSeconds: 0.5,
      },
      // As the scrape test: windows scaled to 1 s steps and a 5 s lead time.
      nowcast: {
        shortWindowSeconds: 2,
        longWindowSeconds: 120,
        minExcessPerSecond: 20,
        minExtraConnections: 20,
        decaySeconds: 3,
        sustainSeconds: 0,
        minArrivalConnections: 0,
      },
    });
    const run = startServe(['--config', config]);
    const url = await run.url;
    const client = sidecarClient(() => url);
    await waitReady(url);
    const horizon = `${(await client.forecast()).plan.leadTimeSeconds}s`;
    const labels = { metric: CONNECTIONS, horizon };
    const planOf = (m: Map<string, number>) =>
      Math.max(
        m.get(sample(FORECAST, { ...labels, quantile: '0.5' })) ?? Number.NaN,
        0.5 * (m.get(sample(FORECAST, { ...labels, quantile: '0.9' })) ?? Number.NaN),
      );

    // Steady: the nowcast has seen the fleet (a quiet reason quoting the rates), adds nothing.
    await pollUntil(
      () => client.forecast(),
      (f) =>
        f.status === 'ok' &&
        f.nowcast?.active === false &&
        /^quiet: .*handshakes\/s/.test(f.nowcast.reason),
      { timeoutMs: 30_000, description: 'an ok plan and a quiet nowcast that has seen figures' },
    );
    // The three leading queries, with the source's selector, and nothing else.
    expect([...prometheus.instant.keys()].sort()).toEqual(
      [QUERIES.connections, QUERIES.handshakes, QUERIES.abnormalCloses].sort(),
    );
    expect(QUERIES.handshakes).toContain(`{${MATCHERS},`);
    const calm = await client.metrics();
    expect([...calm.keys()].filter((k) => k.startsWith(NOWCAST))).toEqual([]);
    expect(calm.get(sample(PREDICTED, labels))).toBeCloseTo(planOf(calm), 6);
    const errorsBefore = calm.get(sample(ERRORS, { source: `prometheus:${prometheus.url}` }));
    expect(errorsBefore).toBe(0);

    // Surge: 400 handshakes per second, the connections climbing behind them.
    prometheus.setHandshakeRate(400);
    const surging = await pollUntil(
      () => client.metrics(),
      (m) => {
        const nowcast = m.get(sample(NOWCAST, { metric: CONNECTIONS }));
        return (
          nowcast !== undefined &&
          m.get(sample(PREDICTED, labels)) === nowcast &&
          nowcast > planOf(m) &&
          nowcast > BASELINE_CONNECTIONS
        );
      },
      { timeoutMs: 30_000, description: 'the nowcast published above the plan' },
    );
    expect(surging.get(sample(PREDICTED, labels))).toBeGreaterThan(planOf(surging));
    const during = await client.forecast();
    expect(during.nowcast?.active).toBe(true);
    expect(during.nowcast?.reason).toMatch(/^arrivals: /);

    // Calm: back to the steady rate; the wave is over once the level has caught up.
    prometheus.setHandshakeRate(BASELINE_RATE);
    await pollUntil(
      () => client.forecast(),
      (f) => f.nowcast?.active === false && f.nowcast.load === null && f.status === 'ok',
      { timeoutMs: 30_000, description: 'the nowcast inactive again' },
    );
    const back = await pollUntil(
      () => client.metrics(),
      (m) => ![...m.keys()].some((k) => k.startsWith(NOWCAST)),
      { timeoutMs: 10_000, description: 'tidewatch_nowcast_load gone' },
    );
    expect(back.get(sample(PREDICTED, labels))).toBeCloseTo(planOf(back), 6);

    // Instant queries failing (the range queries still answer): counted under the source,
    // the nowcast quiet on stale figures, the sidecar still serving its plan.
    prometheus.setFailing(true);
    const failing = await pollUntil(
      () => client.forecast(),
      (f) => /^quiet: the live figures are \d+ s old$/.test(f.nowcast?.reason ?? ''),
      { timeoutMs: 20_000, description: 'the nowcast quiet on stale figures' },
    );
    expect(failing.nowcast?.active).toBe(false);
    const errors = await client.metrics();
    expect(
      errors.get(sample(ERRORS, { source: `prometheus:${prometheus.url}` })) ?? 0,
    ).toBeGreaterThan(0);
    expect([...errors.keys()].filter((k) => k.startsWith(NOWCAST))).toEqual([]);
    prometheus.setFailing(false);

    run.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  });
});
