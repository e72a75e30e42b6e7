/**
 * Shadow mode as a real `serve` process (dist/cli.js; needs `npx tsup` first): a seeded
 * history, a real instrumented ws server holding 6 connections, and a loopback fake
 * Prometheus whose kube-state-metrics answer pins the HPA at 1 replica. Capacity 1 per replica
 * and maxReplicas 4: the planner recommends 4 whenever the forecast is ok, so the predictive
 * policy runs 4 replicas (once its recommendation is one lead time old), the HPA 1, and the
 * load is 6 pods' worth throughout. Then, exactly, for every interval counted:
 *   overloaded(actual) x 60 = (6 - 1) x replicaSeconds(actual), and
 *   overloaded(predictive) x 60 + replicaSeconds(predictive) = 6 x replicaSeconds(actual)
 * (whatever the predictive replicas were, as long as at most 6). The sidecar publishes none of
 * the scaling signals, and the report survives a restart.
 */
import type http from 'node:http';
import { join } from 'node:path';
import { type HttpServerHandle, pollUntil, startHttpServer } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ForecastJson } from '../../src/serve/routes.js';
import type { Target } from './serve-target.js';
import {
  FAST,
  request,
  scrapeOf,
  seededDir,
  startServe as serve,
  sidecarClient,
  startProcessTarget,
  stopProcesses,
  writeServeConfig,
} from './sidecar.js';

const seeded = seededDir('tw-serve-shadow-');
const LOAD = 6;
const QUERY =
  'max(kube_horizontalpodautoscaler_status_current_replicas{namespace="realtime",horizontalpodautoscaler="chat"})';

let target: Target;
let prometheus: HttpServerHandle;
const queries: string[] = [];

beforeAll(async () => {
  target = await startProcessTarget();
  await target.setConnections(LOAD);
  prometheus = await startHttpServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/query') {
      res.writeHead(404).end();
      return;
    }
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    const result =
      query === QUERY ? [{ metric: {}, value: [Date.now() / 1000, '1'] }] : ([] as unknown[]);
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
  });
});

afterAll(async () => {
  await prometheus?.close();
  await stopProcesses(target, seeded);
});

const P = (name: string, policy: string) => `${name}{target="chat",policy="${policy}"}`;
const OVER = 'tidewatch_shadow_overloaded_pod_minutes_total';
const COST = 'tidewatch_shadow_replica_seconds_total';
const REPLICAS = 'tidewatch_shadow_replicas';

function configFile(name = 'chat', extra: Record<string, unknown> = {}): string {
  return writeServeConfig(seeded.dir, `shadow-${name}`, {
    source: scrapeOf(target),
    target: 'chat',
    dataDir: join(seeded.dir, 'data'),
    seed: { file: seeded.seedFile },
    planner: { ...FAST.planner, capacityPerReplica: 1, maxReplicas: 4 },
    mode: 'shadow',
    shadow: { prometheusUrl: prometheus.url, namespace: 'realtime', name },
    ...extra,
  });
}

/** The report's exact identities on one `/metrics` answer (see the file comment). */
function expectIdentities(m: Map<string, number>): void {
  const secActual = m.get(P(COST, 'actual')) as number;
  expect(secActual).toBeGreaterThan(0);
  expect((m.get(P(OVER, 'actual')) as number) * 60).toBeCloseTo((LOAD - 1) * secActual, 6);
  expect(
    (m.get(P(OVER, 'predictive')) as number) * 60 + (m.get(P(COST, 'predictive')) as number),
  ).toBeCloseTo(LOAD * secActual, 6);
}

describe('serve in shadow mode', () => {
  let before: Map<string, number>;

  it('reports what prediction would have done and publishes no scaling signal', async () => {
    const run = serve(['--config', configFile()]);
    const url = await run.url;
    const client = sidecarClient(() => url);
    // Predictive at 4 (the recommendation is a lead time old) and some seconds counted since.
    const m = await pollUntil(
      () => client.metrics(),
      (x) =>
        x.get(P(REPLICAS, 'predictive')) === 4 &&
        (x.get(P(COST, 'predictive')) as number) > (x.get(P(COST, 'actual')) as number) + 6,
      { timeoutMs: 60_000, description: 'the predictive policy at 4 replicas for a while' },
    );
    expect(m.get(P(REPLICAS, 'actual'))).toBe(1);
    expectIdentities(m);
    // Prediction covers 2 of the 5 overloaded pods once in force: strictly fewer pod-minutes.
    expect(m.get(P(OVER, 'predictive'))).toBeLessThan(m.get(P(OVER, 'actual')) as number);
    for (const name of [
      'tidewatch_predicted_load',
      'tidewatch_recommended_replicas',
      'tidewatch_scaling_threshold',
    ])
      expect([...m.keys()].filter((k) => k.startsWith(`${name}{`))).toEqual([]);
    expect(queries).toContain(QUERY);

    const doc: ForecastJson = await client.forecast('?history=1');
    expect(doc.status).toBe('ok');
    // /forecast still shows the plan that active mode would publish.
    expect(doc.plan.recommendedReplicas).toBe(4);
    const s = doc.shadow;
    expect(s).toMatchObject({ query: QUERY, prometheus: prometheus.url, error: null });
    expect(s?.last).toMatchObject({ load: LOAD, actualReplicas: 1, predictiveReplicas: 4 });
    const t = s?.totals;
    expect(t?.preventedPodMinutes).toBeCloseTo(
      (t?.overloadedPodMinutes.actual as number) - (t?.overloadedPodMinutes.predictive as number),
      9,
    );
    // Everything so far happened this week.
    expect(s?.week.preventedPodMinutes).toBeCloseTo(t?.preventedPodMinutes as number, 9);
    const cost = t?.replicaSeconds as { actual: number; predictive: number };
    expect(s?.week.extraReplicaPercent).toBeCloseTo(
      ((cost.predictive - cost.actual) / cost.actual) * 100,
      6,
    );
    // The page carries the section the script fills from `shadow`.
    expect((await request(`${url}/`)).text).toContain('id="shadow-summary"');

    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    before = m;
  }, 90_000);

  it('resumes the report after a restart (persisted with the history)', async () => {
    const run = serve(['--config', configFile()]);
    const url = await run.url;
    const m = await pollUntil(
      () => sidecarClient(() => url).metrics(),
      (x) => x.has(P(COST, 'actual')),
      { timeoutMs: 30_000, description: 'the shadow counters' },
    );
    for (const key of [P(OVER, 'actual'), P(COST, 'actual'), P(COST, 'predictive')])
      expect(m.get(key) as number).toBeGreaterThanOrEqual(before.get(key) as number);
    expectIdentities(m);
    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('a replicas query that finds nothing is reported, and nothing is counted', async () => {
    const run = serve(['--config', configFile('nosuch', { dataDir: join(seeded.dir, 'other') })]);
    const url = await run.url;
    const client = sidecarClient(() => url);
    const doc = await pollUntil(
      () => client.forecast('?history=1'),
      (d) => d.shadow?.error != null,
      { timeoutMs: 30_000, description: 'the shadow error' },
    );
    expect(doc.shadow?.error).toBe(
      `${prometheus.url}: no series (check shadow.namespace and shadow.name, or shadow.replicasQuery)`,
    );
    expect(doc.shadow?.last).toBeNull();
    const m = await client.metrics();
    expect(m.get(P(COST, 'actual'))).toBe(0);
    expect(m.has(P(REPLICAS, 'actual'))).toBe(false);
    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
