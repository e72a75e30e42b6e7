/**
 * Issue 6, end to end: a real Prometheus (1 s scrapes, the generated recording and alert rules
 * loaded, 1 s evaluation) scrapes two instances of an instrumented realtime fleet
 * (test/fixtures/realtime-fleet.mjs: ws, Socket.IO, SSE and long-polling on one port each, an
 * aedes MQTT broker and a grpc-js server on ports of their own, and stamped messages from a
 * message bus fanned out to ws clients) and a real predictor sidecar forecasting one of them
 * (plus a second in shadow mode, whose "actual replicas" are the fleet instances that are up).
 * The test puts real load on the fleet from real clients on 127.0.0.1 — a scripted scenario with every situation the dashboards chart,
 * then a steady bounded load — and then runs every panel query of every committed dashboard
 * with its variables resolved as Grafana resolves them. Every panel must return a finite value,
 * every recording rule a series, and the scenario's events must be counted exactly.
 *
 * No panel reads kube-state-metrics (current replicas are the instances exporting the
 * connections gauge), so no stand-in for it is served; the alert rules that read it are loaded
 * and must evaluate without error. Nor is a Redis server started: the fixture's message bus is
 * an in-process object shaped like the ioredis clients `instrumentRedisPubSub` wraps.
 */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { panelQueries } from '@tidewatch/mixin';
import { createSidecar, parseServeConfig, type Sidecar, silentLogger } from '@tidewatch/predictor';
import {
  FAST_SIDECAR,
  hourlyCsv,
  type PrometheusHandle,
  pollUntil,
  startPrometheus,
} from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  builtInVariables,
  describeEmpty,
  type EmptyPanel,
  emptyPanels,
  failingAnnotations,
  loadDashboards,
  type QueryRange,
  resolveVariables,
} from './fixtures/dashboard-queries.js';
import { type FleetInstance, startFleetInstance } from './fixtures/fleet-process.js';
import {
  expectedCounts,
  type Held,
  noneHeld,
  releaseHeld,
  runScenario,
  type ScenarioPlan,
} from './fixtures/fleet-scenario.js';
import { addTargets } from './fixtures/prometheus-job.js';
import { type SteadyLoad, startSteadyLoad } from './fixtures/steady-load.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRAPE_SECONDS = 1;
const FLEET_JOB = 'realtime-fleet';
const SIDECAR_JOB = 'tidewatch-predictor';
/** Two instances with different loads, so per-instance and imbalance panels mean something. */
const PLANS: ScenarioPlan[] = [
  { heldWs: 6, upgradingSio: 2, heldSse: 3, bots: 30, maxWs: 24 },
  { heldWs: 2, upgradingSio: 1, heldSse: 1, bots: 30, maxWs: 24 },
];

const dir = mkdtempSync(join(tmpdir(), 'tw-mixin-e2e-'));
let instances: FleetInstance[] = [];
let held: Held[] = [];
let sidecar: Sidecar | undefined;
let sidecarAddress = '';
/** A second sidecar in shadow mode, so the shadow report's panels have data. */
let shadow: Sidecar | undefined;
let shadowAddress = '';
let prom: PrometheusHandle | undefined;
let load: SteadyLoad | undefined;
let rangeStart = 0;

/**
 * Six weeks of an hourly connection count (daily and weekly cycles plus deterministic noise)
 * at the scale of the live load; the sidecar lays it on its 1 s steps, so it forecasts at once.
 */
function seedValues(): number[] {
  let noise = 12345;
  const values: number[] = [];
  for (let k = 0; k < 1008; k++) {
    noise = (noise * 1103515245 + 12345) % 2 ** 31;
    const daily = 8 * Math.sin((2 * Math.PI * (k % 24)) / 24);
    const weekend = Math.floor(k / 24) % 7 >= 5 ? -4 : 0;
    values.push(Math.max(0, Math.round(20 + daily + weekend + (noise / 2 ** 31) * 4 - 2)));
  }
  return values;
}

/** The sidecar under test; `extra` makes the shadow-mode one (its own port and mode). */
function startSidecar(scrapeUrl: string, extra: Record<string, unknown> = {}): Sidecar {
  const seed = join(dir, 'seed.csv');
  writeFileSync(seed, hourlyCsv(seedValues()));
  return createSidecar(
    parseServeConfig({
      ...FAST_SIDECAR,
      listen: { host: '127.0.0.1', port: 0 },
      ...extra,
      source: { kind: 'scrape', urls: [scrapeUrl], timeoutSeconds: 2 },
      target: 'chat',
      historyPoints: 5000,
      seed: { file: seed, retime: true },
      planner: {
        capacityPerReplica: 10,
        targetUtilization: 0.7,
        maxReplicas: 20,
        lead: { podStartSeconds: 5, readinessSeconds: 0, metricLagSeconds: 0, pollingSeconds: 5 },
      },
      staleness: { ...FAST_SIDECAR.staleness, maxDataAgeSeconds: 5 },
    }),
    { log: silentLogger },
  );
}

beforeAll(async () => {
  instances = await Promise.all(
    PLANS.map((p) => startFleetInstance({ FLEET_MAX_WS: `${p.maxWs}` })),
  );
  const [first, ...others] = instances as [FleetInstance, ...FleetInstance[]];
  sidecar = startSidecar(first.metricsUrl);
  const sidecarUrl = (await sidecar.start()).url;
  sidecarAddress = new URL(sidecarUrl).host;
  prom = await startPrometheus({
    scrapeTargets: [
      { job: FLEET_JOB, url: first.metricsUrl },
      { job: SIDECAR_JOB, url: `${sidecarUrl}/metrics` },
    ],
    ruleFiles: [
      join(ROOT, 'alerts/tidewatch-rules.yaml'),
      join(ROOT, 'alerts/tidewatch-alerts.yaml'),
    ],
    scrapeIntervalSeconds: SCRAPE_SECONDS,
    evaluationIntervalSeconds: SCRAPE_SECONDS,
  });
  await addTargets(
    prom,
    FLEET_JOB,
    others.map((i) => i.address),
  );
  // The shadow sidecar asks this Prometheus for the replicas (the "actual replicas" of its
  // report: the fleet instances Prometheus sees up), and Prometheus scrapes it.
  shadow = startSidecar(first.metricsUrl, {
    mode: 'shadow',
    shadow: { prometheusUrl: prom.url, replicasQuery: `count(up{job="${FLEET_JOB}"} == 1)` },
  });
  shadowAddress = new URL((await shadow.start()).url).host;
  await addTargets(prom, SIDECAR_JOB, [shadowAddress]);
  rangeStart = Math.floor(Date.now() / 1000);

  // The presence store behind the app's own gauge is down during the scenario: scrapes leave
  // that gauge out and count it, the rest is served.
  await Promise.all(instances.map((i) => i.setPresence(false)));
  held = instances.map(() => noneHeld());
  await Promise.all(
    instances.map((inst, k) => runScenario(inst, PLANS[k] as ScenarioPlan, held[k] as Held)),
  );
  await prom.waitFor(
    `count(realtime_scrape_errors_total{job="${FLEET_JOB}", metric="fleet_presence_users"} > 0)`,
    (r) => r[0]?.value === instances.length,
  );
  await Promise.all(instances.map((i) => i.setPresence(true)));

  load = startSteadyLoad(instances.map((inst, k) => ({ inst, held: held[k] as Held })));
  await prom.waitFor(
    `count(tidewatch_recommended_replicas{job="${SIDECAR_JOB}", target="chat"})`,
    (r) => r[0]?.value === 1,
    { timeoutMs: 45_000 },
  );
  await prom.waitFor(
    `count(tidewatch_shadow_replicas{job="${SIDECAR_JOB}", target="chat"})`,
    (r) => r[0]?.value === 2,
    { timeoutMs: 45_000 },
  );
  // Enough steady ticks that every rate window of the query phase lies inside the load.
  await pollUntil(
    async () => load?.ticks() ?? 0,
    (t) => t >= 30,
    {
      timeoutMs: 30_000,
      description: '30 steady-load ticks',
    },
  );
}, 150_000);

afterAll(async () => {
  const errors: unknown[] = [];
  await load?.stop().catch((e: unknown) => errors.push(e));
  await Promise.all(held.map(releaseHeld));
  await sidecar?.stop();
  await shadow?.stop();
  await prom?.stop();
  await Promise.all(instances.map((i) => i.stop()));
  rmSync(dir, { recursive: true, force: true });
  if (errors.length > 0) throw errors[0];
});

function queryRange(): QueryRange {
  return { start: rangeStart, end: Date.now() / 1000, stepSeconds: SCRAPE_SECONDS };
}

/** Instant query -> instance -> value (labels `by` joined with `/` after the instance). */
async function byInstance(promql: string, by: string[] = []): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await (prom as PrometheusHandle).query(promql))
    out[[s.metric.instance, ...by.map((l) => s.metric[l])].join('/')] = s.value;
  return out;
}

/** Waits for `wait` (a pollUntil) until it succeeds or times out; other errors are thrown. */
async function untilTimeout(wait: Promise<unknown>): Promise<void> {
  await wait.catch((error: unknown) => {
    if (!(error instanceof Error && error.message.startsWith('Timed out after'))) throw error;
  });
}

/**
 * Expects `byInstance(promql, by)` to equal `expected`. Prometheus shows the scenario's last
 * events a scrape after the fleet counted them, and the fleet counts a close a moment after
 * the client saw it: so the query is polled until it shows `expected` (15 s at most), then
 * compared exactly, so a count that never arrives or overshoots fails with the difference.
 */
async function expectByInstance(
  promql: string,
  by: string[],
  expected: Record<string, number>,
): Promise<void> {
  await untilTimeout(
    pollUntil(
      () => byInstance(promql, by),
      (got) => isDeepStrictEqual(got, expected),
      { timeoutMs: 15_000, intervalMs: 500, shouldRetry: () => false },
    ),
  );
  expect(await byInstance(promql, by), promql).toEqual(expected);
}

/** The same expectation for every fleet instance, in the shape {@link byInstance} returns. */
function perInstance(f: (plan: ScenarioPlan) => Record<string, number> | number) {
  const out: Record<string, number> = {};
  instances.forEach((inst, k) => {
    const v = f(PLANS[k] as ScenarioPlan);
    if (typeof v === 'number') out[inst.address] = v;
    else for (const [key, n] of Object.entries(v)) out[`${inst.address}/${key}`] = n;
  });
  return out;
}

describe('mixin end to end: real Prometheus, real fleet, real sidecar', () => {
  const dashboards = loadDashboards(join(ROOT, 'dashboards'));

  it('the dashboards list the fleet and the sidecar in their job and instance variables', async () => {
    const p = prom as PrometheusHandle;
    const base = builtInVariables(SCRAPE_SECONDS, 60);
    const fleet = instances.map((i) => i.address).sort();
    expect([...dashboards.keys()]).toEqual(['autoscaling-forecast.json', 'realtime-fleet.json']);
    const fleetVars = await resolveVariables(
      p,
      dashboards.get('realtime-fleet.json')!,
      base,
      queryRange(),
    );
    expect(fleetVars.options).toEqual({ job: [FLEET_JOB], instance: fleet });
    const scalingVars = await resolveVariables(
      p,
      dashboards.get('autoscaling-forecast.json')!,
      base,
      queryRange(),
    );
    expect(scalingVars.options).toEqual({
      job: [FLEET_JOB, SIDECAR_JOB],
      instance: [...fleet, sidecarAddress, shadowAddress].sort(),
    });
  });

  it('every panel query of every dashboard returns data', async () => {
    const p = prom as PrometheusHandle;
    const empty: EmptyPanel[] = [];
    const annotationErrors: string[] = [];
    let queries = 0;
    for (const dashboard of dashboards.values()) {
      const range = queryRange();
      const base = builtInVariables(SCRAPE_SECONDS, range.end - range.start);
      const { values } = await resolveVariables(p, dashboard, base, range);
      // A panel whose data lags (a forecast due on the next tick) gets a few more seconds and
      // counts once it has shown data; what is still empty then is reported, all at once.
      let missing = await emptyPanels(p, dashboard, values, range);
      if (missing.length > 0)
        await untilTimeout(
          pollUntil(
            async () => {
              const again = await emptyPanels(p, dashboard, values, queryRange());
              missing = again.filter((e) => missing.some((m) => m.expr === e.expr));
              return missing.length;
            },
            (n) => n === 0,
            { timeoutMs: 10_000, intervalMs: 1000, shouldRetry: () => false },
          ),
        );
      empty.push(...missing);
      annotationErrors.push(...(await failingAnnotations(p, dashboard, values, range)));
      queries += panelQueries(dashboard).length;
    }
    expect(queries).toBeGreaterThan(50);
    expect(
      empty.map(describeEmpty),
      `empty panels:\n${empty.map(describeEmpty).join('\n')}`,
    ).toEqual([]);
    expect(annotationErrors).toEqual([]);
  });

  it('every recording rule produced a series, and every rule loaded and evaluates cleanly', async () => {
    const p = prom as PrometheusHandle;
    const file = parseYaml(readFileSync(join(ROOT, 'alerts/tidewatch-rules.yaml'), 'utf8')) as {
      groups: Array<{ rules: Array<{ record?: string }> }>;
    };
    const records = [
      ...new Set(file.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])))),
    ];
    expect(records.length).toBeGreaterThan(10);
    const missing: string[] = [];
    for (const record of records) {
      const series = await p.query(`${record}{job="${FLEET_JOB}"}`);
      if (!series.some((s) => Number.isFinite(s.value)))
        missing.push(`${record}: ${JSON.stringify(series.map((s) => s.value))}`);
    }
    expect(missing).toEqual([]);

    const res = await fetch(`${p.url}/api/v1/rules`);
    const body = (await res.json()) as {
      data: {
        groups: Array<{
          name: string;
          rules: Array<{ name: string; health: string; lastError?: string }>;
        }>;
      };
    };
    const rules = body.data.groups.flatMap((g) => g.rules.map((r) => ({ group: g.name, ...r })));
    expect(rules.length).toBeGreaterThan(30);
    expect(rules.filter((r) => r.health !== 'ok' || r.lastError)).toEqual([]);
  });

  it('counts what the scenario did, exactly, per instance', async () => {
    const sel = `job="${FLEET_JOB}"`;
    const exp = (plan: ScenarioPlan) => expectedCounts(plan);
    await expectByInstance(
      `sum by (instance, outcome) (realtime_handshake_duration_seconds_count{${sel}, transport="websocket", outcome!="success"})`,
      ['outcome'],
      perInstance((plan) => exp(plan).wsHandshakes),
    );
    await expectByInstance(
      `sum by (instance, reason) (realtime_connections_closed_total{${sel}, transport="websocket", reason=~"ping_timeout|slow_consumer|protocol_error|abnormal"})`,
      ['reason'],
      perInstance((plan) => exp(plan).wsCloses),
    );
    await expectByInstance(
      `sum by (instance) (realtime_heartbeats_total{${sel}, transport="websocket", outcome="timeout"})`,
      [],
      perInstance((plan) => exp(plan).wsHeartbeatTimeouts),
    );
    await expectByInstance(
      `sum by (instance) (realtime_errors_total{${sel}, transport="websocket", type="invalid_opcode"})`,
      [],
      perInstance((plan) => exp(plan).wsInvalidOpcodeErrors),
    );
    await expectByInstance(
      `sum by (instance) (realtime_instrumentation_errors_total{${sel}, site="classifier.client_type"})`,
      [],
      perInstance((plan) => exp(plan).classifierErrors),
    );
    await expectByInstance(
      `sum by (instance) (realtime_transport_upgrades_total{${sel}, from="socketio_polling", to="socketio_websocket"})`,
      [],
      perInstance((plan) => exp(plan).sioUpgrades),
    );
    await expectByInstance(
      `sum by (instance) (realtime_handshake_duration_seconds_count{${sel}, transport=~"socketio_.*", outcome="rejected"})`,
      [],
      perInstance((plan) => exp(plan).sioRejected),
    );
    await expectByInstance(
      `sum by (instance, transport) (realtime_reconnects_total{${sel}, transport=~"sse|socketio_websocket"})`,
      ['transport'],
      perInstance((plan) => ({
        sse: exp(plan).sseReconnects,
        socketio_websocket: exp(plan).sioReconnects,
      })),
    );
    await expectByInstance(
      `sum by (instance) (realtime_connections{${sel}, transport=~"socketio_.*"})`,
      [],
      perInstance((plan) => exp(plan).sioOpen),
    );
    await expectByInstance(
      `sum by (instance) (realtime_connections{${sel}, transport="sse"})`,
      [],
      perInstance((plan) => exp(plan).sseOpen),
    );
    await expectByInstance(
      `sum by (instance) (realtime_connections_closed_total{${sel}, transport="sse", initiator="server"})`,
      [],
      perInstance((plan) => exp(plan).sseServerCloses),
    );
    await expectByInstance(
      `sum by (instance) (realtime_errors_total{${sel}, transport="long_polling", type="http_4xx"})`,
      [],
      perInstance((plan) => exp(plan).longPollBadRequests),
    );
    await expectByInstance(
      `sum by (instance, topic) (realtime_subscriptions{${sel}, transport="mqtt"})`,
      ['topic'],
      perInstance((plan) => exp(plan).mqttSubscriptions),
    );
    await expectByInstance(
      `sum by (instance) (realtime_connections{${sel}, transport="mqtt"})`,
      [],
      perInstance((plan) => exp(plan).mqttOpen),
    );
    await expectByInstance(
      `sum by (instance) (realtime_retained_messages{${sel}, transport="mqtt"})`,
      [],
      perInstance((plan) => exp(plan).mqttRetained),
    );
    await expectByInstance(
      `sum by (instance) (realtime_connections{${sel}, transport="grpc"})`,
      [],
      perInstance((plan) => exp(plan).grpcOpen),
    );
    await expectByInstance(
      `sum by (instance) (realtime_broker_errors_total{${sel}, broker="redis", type="publish"})`,
      [],
      perInstance((plan) => exp(plan).brokerPublishErrors),
    );
    // Not exact by nature, but present on every instance: folded series, dropped messages,
    // the stuck subscriber's unacknowledged delivery (besides the subscriber's passing ones),
    // QoS 0 and 1 traffic, stamped deliveries to ws clients, broker traffic both ways.
    for (const promql of [
      `realtime_series_dropped_total{${sel}, metric="realtime_messages_total"}`,
      `realtime_messages_dropped_total{${sel}, transport="websocket", reason="not_open"}`,
      `realtime_inflight_messages{${sel}, transport="mqtt", qos="1"}`,
      `realtime_qos_messages_total{${sel}, transport="mqtt", direction="in", qos="0"}`,
      `realtime_qos_messages_total{${sel}, transport="mqtt", direction="out", qos="1"}`,
      `realtime_delivery_lag_seconds_count{${sel}, transport="websocket"}`,
      `realtime_broker_messages_total{${sel}, broker="redis", direction="in"}`,
      `realtime_broker_messages_total{${sel}, broker="redis", direction="out"}`,
    ]) {
      const present = `sum by (instance) (${promql}) > 0`;
      await untilTimeout(
        pollUntil(
          async () => Object.keys(await byInstance(present)).length,
          (n) => n === instances.length,
          { timeoutMs: 15_000, intervalMs: 500, shouldRetry: () => false },
        ),
      );
      expect(Object.keys(await byInstance(present)).sort(), promql).toEqual(
        instances.map((i) => i.address).sort(),
      );
    }
  });
});
