/**
 * docs/for-keda-and-hpa.md, run: both `simulate` lines on this repository's flights trace
 * (the figures the page quotes come from this run), the deploy generator script against the
 * installed @tidewatch/mixin with every manifest it writes validated by kubernetes-models, the
 * shadow-mode environment given to a real `tidewatch-predictor serve` (against a loopback
 * target and a loopback Prometheus answering the kube-state-metrics query), and the KEDA and
 * HPA objects validated and compared with what the generator wrote.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import {
  freePort,
  pollUntil,
  runCli,
  startCli,
  startHttpServer,
  stopStartedProcesses,
} from '@tidewatch/test-utils';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { docSnippets, ROOT } from './fixtures/doc-snippets.js';

const snippet = docSnippets('for-keda-and-hpa.md');
const BIN = join(ROOT, 'packages/predictor/bin/tidewatch-predictor.js');

type Json = Record<string, any>;
/** Validators of the kinds the generator writes; the two Prometheus Operator CRDs have none. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Deployment,
  HorizontalPodAutoscaler,
  Ingress,
  PodDisruptionBudget,
  Role,
  RoleBinding,
  ScaledObject,
  Service,
  ServiceAccount,
};
const OPERATOR_KINDS = ['ServiceMonitor', 'PrometheusRule'];

// Inside the repository, so `@tidewatch/mixin` resolves from node_modules as it would in the
// reader's project (ESM ignores NODE_PATH).
const dir = mkdtempSync(join(ROOT, '.tmp-for-keda-'));
let written: string[] = [];
const docsOf = (file: string): Json[] =>
  parseAllDocuments(readFileSync(join(dir, file), 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw d.errors[0];
      return d.toJS() as Json;
    })
    .filter((d) => d !== null);

beforeAll(async () => {
  writeFileSync(join(dir, 'deploy.mjs'), snippet('deploy'));
  const run = await runCli('deploy.mjs', [], { cwd: dir });
  expect(run.code, run.stdout + run.stderr).toBe(0);
  written = run.stdout
    .trim()
    .split('\n')
    .map((line) => /^wrote (deploy\/\S+)$/.exec(line)?.[1] ?? `unexpected line: ${line}`);
});

afterAll(async () => {
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

describe('docs/for-keda-and-hpa.md', () => {
  it('has every snippet this test runs', () => {
    expect([...snippet.names].sort()).toEqual(
      ['deploy', 'hpa', 'keda', 'shadow-env', 'simulate'].sort(),
    );
  });

  it('both simulate lines run, and prediction cuts the overload the page says', async () => {
    // The flights trace scaled to a fleet that needs tens of pods at 500 per pod.
    const [header, ...rows] = readFileSync(
      join(ROOT, 'packages/predictor/fixtures/flights-2001-hourly.csv'),
      'utf8',
    )
      .trim()
      .split('\n');
    const scaled = rows.map((r) => {
      const [t, v] = r.split(',');
      return `${t},${Number(v) * 10}`;
    });
    writeFileSync(join(dir, 'load.csv'), `${[header, ...scaled].join('\n')}\n`);
    const out: Record<string, Json> = {};
    for (const line of snippet('simulate').trim().split('\n')) {
      const m = /^npx tidewatch-predictor (simulate .+) > (\w+)\.json$/.exec(line);
      if (!m) throw new Error(`not "npx tidewatch-predictor simulate ... > FILE.json": ${line}`);
      const run = await runCli(BIN, (m[1] as string).split(/\s+/), {
        cwd: dir,
        timeoutMs: 120_000,
      });
      expect(run.code, run.stderr).toBe(0);
      out[m[2] as string] = JSON.parse(run.stdout) as Json;
    }
    const { reactive, predictive } = out as { reactive: Json; predictive: Json };
    expect([reactive.policy, predictive.policy]).toEqual(['reactive', 'predictive']);
    expect([reactive.connections, predictive.connections]).toEqual(['sticky', 'sticky']);
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const extra = ((predictive.replicaHours / reactive.replicaHours - 1) * 100).toFixed(1);
    expect(snippet.markdown).toContain(
      `pod-minutes from ${fmt(reactive.overloadedPodMinutes)} to ${fmt(predictive.overloadedPodMinutes)} at +${extra} % replica-hours`,
    );
    expect(predictive.overloadedPodMinutes).toBeLessThan(reactive.overloadedPodMinutes);
  });

  it('the deploy script writes valid manifests with the figures it was given', () => {
    expect(written).toEqual(
      expect.arrayContaining([
        'deploy/realtime-server-with-sidecar.yaml',
        'deploy/predictor-standalone.yaml',
        'deploy/keda-scaledobject.yaml',
        'deploy/hpa-external-metric.yaml',
        'deploy/servicemonitor.yaml',
      ]),
    );
    for (const file of ['realtime-server-with-sidecar.yaml', 'predictor-standalone.yaml'])
      expect(snippet.markdown).toContain(`\`deploy/${file}\``);
    const kinds = new Set<string>();
    for (const file of written) {
      for (const object of docsOf(file)) {
        kinds.add(object.kind);
        if (OPERATOR_KINDS.includes(object.kind)) {
          expect(object.apiVersion).toBe('monitoring.coreos.com/v1');
          continue;
        }
        const Model = MODELS[object.kind];
        if (!Model) throw new Error(`${file}: no validator for kind ${object.kind}`);
        expect(() => new Model(object as never).validate(), `${file} ${object.kind}`).not.toThrow();
      }
    }
    expect([...kinds]).toEqual(
      expect.arrayContaining(['Deployment', 'ScaledObject', 'HorizontalPodAutoscaler']),
    );
    const server = docsOf('deploy/realtime-server-with-sidecar.yaml').find(
      (o) => o.kind === 'Deployment',
    ) as Json;
    expect(server.spec.template.spec.containers[0].image).toBe('ghcr.io/acme/chat-server:2.3.1');
  });

  it('the shadow environment runs a real sidecar that publishes no signal and keeps a ledger', async () => {
    const env = (
      parseYaml(snippet('shadow-env')) as { env: Array<{ name: string; value: string }> }
    ).env;
    expect(env.map((e) => e.name)).toEqual([
      'TIDEWATCH_MODE',
      'TIDEWATCH_SHADOW_NAMESPACE',
      'TIDEWATCH_SHADOW_NAME',
      'TIDEWATCH_SHADOW_PROMETHEUS_URL',
    ]);
    // KEDA names the HPA of ScaledObject X keda-hpa-X: the name the generated object has.
    const so = docsOf('deploy/keda-scaledobject.yaml').find(
      (o) => o.kind === 'ScaledObject',
    ) as Json;
    const shadowName = env.find((e) => e.name === 'TIDEWATCH_SHADOW_NAME')?.value;
    expect(shadowName).toBe(`keda-hpa-${so.metadata.name}`);
    expect(env.find((e) => e.name === 'TIDEWATCH_SHADOW_NAMESPACE')?.value).toBe(
      so.metadata.namespace,
    );

    const queries: string[] = [];
    await using prometheus = await startHttpServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      queries.push(url.searchParams.get('query') ?? '');
      const result = [{ metric: {}, value: [Date.now() / 1000, '3'] }];
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
    await using target = await startHttpServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end('# TYPE realtime_connections gauge\nrealtime_connections 1200\n');
    });
    const vars = Object.fromEntries(env.map((e) => [e.name, e.value]));
    // The one change: the cluster's Prometheus is a loopback stand-in here.
    vars.TIDEWATCH_SHADOW_PROMETHEUS_URL = prometheus.url;
    const port = await freePort();
    const sidecar = startCli(
      BIN,
      ['serve', '--scrape', `${target.url}/metrics`, '--port', String(port)],
      {
        cwd: dir,
        // A collection every second instead of every 15 s, so the first comes at once.
        env: { ...process.env, ...vars, TIDEWATCH_SCHEDULE_COLLECT: '* * * * * *' },
      },
    );
    const doc = await pollUntil(
      async () => {
        const res = await fetch(`http://127.0.0.1:${port}/forecast`).catch(() => undefined);
        return res?.ok ? ((await res.json()) as Json) : undefined;
      },
      (d) => (d?.shadow?.last ?? null) !== null || sidecar.child.exitCode !== null,
      { timeoutMs: 60_000, description: 'the shadow ledger to record an observation' },
    );
    if (!doc) throw new Error(`the sidecar exited: ${sidecar.stdout()}${sidecar.stderr()}`);
    const query = `max(kube_horizontalpodautoscaler_status_current_replicas{namespace="realtime",horizontalpodautoscaler="${shadowName}"})`;
    expect(doc.shadow.query).toBe(query);
    expect(queries).toContain(query);
    expect(doc.shadow.error).toBeNull();
    // No recommendation a lead time old yet (warming): predictive equals actual.
    expect(doc.shadow.last).toMatchObject({ load: 1200, actualReplicas: 3, predictiveReplicas: 3 });
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const name of [
      'tidewatch_predicted_load',
      'tidewatch_recommended_replicas',
      'tidewatch_scaling_threshold',
    ])
      expect(
        metrics.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)),
      ).toEqual([]);
    await sidecar.stop();
  });

  it('the KEDA object is valid and is the generated one, abridged', () => {
    const shown = parseYaml(snippet('keda')) as Json;
    expect(() => new ScaledObject(shown as never).validate()).not.toThrow();
    const generated = docsOf('deploy/keda-scaledobject.yaml').find(
      (o) => o.kind === 'ScaledObject',
    );
    expect(generated).toMatchObject(shown);
    // 500 per pod at 70 %, as the page says.
    expect(snippet.markdown).toContain('`350` = 500 per pod at a 70 % target');
    expect(shown.spec.triggers.map((t: Json) => t.metadata.threshold)).toEqual(['350', '350']);
    expect(shown.spec.triggers.map((t: Json) => t.metadata.ignoreNullValues)).toEqual([
      'false',
      'true',
    ]);
  });

  it('the HPA is valid and is the generated one, abridged', () => {
    const shown = parseYaml(snippet('hpa')) as Json;
    expect(() => new HorizontalPodAutoscaler(shown as never).validate()).not.toThrow();
    const generated = docsOf('deploy/hpa-external-metric.yaml').find(
      (o) => o.kind === 'HorizontalPodAutoscaler',
    );
    expect(generated).toMatchObject(shown);
  });

  it("the alert and its threshold are the mixin's", async () => {
    const { DEFAULT_CONFIG } = await import('@tidewatch/mixin');
    expect(DEFAULT_CONFIG.thresholds.shadowPreventedPodMinutes).toBe(60);
    expect(snippet.markdown).toContain('fires when N\npasses 60');
    expect(readFileSync(join(ROOT, 'alerts/tidewatch-alerts.yaml'), 'utf8')).toContain(
      'alert: TidewatchPredictionWouldHavePrevented',
    );
  });
});
