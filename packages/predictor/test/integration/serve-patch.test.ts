/**
 * Patch mode in the running sidecar, against the fake Kubernetes API and a real instrumented
 * ws server: the published dynamic threshold is written to the ScaledObject's actual-load
 * trigger; when the source dies and the forecast goes stale, the static threshold (capacity x
 * target) is written back; a refused write is counted and reported, and the sidecar serves on.
 */
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig, type ServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import type { ForecastJson } from '../../src/serve/routes.js';
import { trainModel } from '../../src/serve/trainer.js';
import { type FakeKube, SO_PATH, scaledObject, startFakeKube } from './fake-kube.js';
import { startTarget, type Target } from './serve-target.js';
import { request, scrapeOf, seededDir, serveSettings, sidecarClient } from './sidecar.js';

const seeded = seededDir('tw-serve-patch-');

let fake: FakeKube;
let target: Target;
let sidecar: Sidecar;
let url: string;
let config: ServeConfig;

beforeAll(async () => {
  fake = await startFakeKube();
  // The object as deploy/ generates it for this sidecar (capacity 100 x target 0.5), patched
  // for real: each write is clamped against the value the previous one left.
  fake.state.objects.set(SO_PATH, scaledObject('50'));
  fake.state.apply = true;
  target = await startTarget();
  await target.setConnections(3);
  config = parseServeConfig(
    serveSettings({
      source: scrapeOf(target),
      target: 'chat',
      seed: { file: seeded.seedFile },
      // Every changed value is written: the test follows each apply.
      patch: { enabled: true, namespace: 'realtime', name: 'realtime-server', hysteresis: 0 },
    }),
  );
  sidecar = createSidecar(config, {
    log: silentLogger,
    kubeConfig: fake.kubeConfig,
    train: (series, signal) => trainModel(series, config, { signal }),
  });
  ({ url } = await sidecar.start());
});

afterAll(async () => {
  await sidecar?.stop();
  await target?.close();
  await fake?.close();
  seeded.remove();
});

const client = sidecarClient(() => url);
const getForecast = () => client.forecast('?history=1');
const getMetrics = client.metrics;
const patchBodies = () =>
  fake.state.requests
    .filter((r) => r.method === 'PATCH' && r.path === SO_PATH)
    .map((r) => r.body as Array<{ op: string; path: string; value: unknown }>);
const written = (body: Array<{ op: string; value: unknown }>) =>
  body.find((op) => op.op === 'replace')?.value;

describe('sidecar patch mode', () => {
  it('writes the published threshold into the ScaledObject trigger', async () => {
    const doc = await pollUntil(
      getForecast,
      (d) =>
        d.status === 'ok' && d.patch?.mode === 'predicted' && d.patch.last?.status === 'patched',
      { timeoutMs: 60_000, description: 'a predicted threshold patched' },
    );
    const patch = doc.patch as NonNullable<ForecastJson['patch']>;
    expect(patch.target).toBe('scaledobjects.keda.sh realtime/realtime-server trigger actual-load');
    // The threshold is the planner's, a number below the static 50 (it pulls replicas forward)
    // or at it; and it is what went over the wire, as KEDA's string.
    const value = patch.last?.value as number;
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThanOrEqual(100 * 0.5);
    const bodies = patchBodies();
    expect(bodies.length).toBeGreaterThanOrEqual(1);
    expect(bodies.map(written)).toContain(String(value));
    // The guarded JSON patch addresses the actual-load trigger only (index 1 in the fake).
    expect(bodies[0]?.map((op) => `${op.op} ${op.path}`)).toEqual([
      'test /spec/triggers/1/name',
      'test /spec/triggers/1/metadata/threshold',
      'replace /spec/triggers/1/metadata/threshold',
    ]);
    // A forecast tick every 2 s patches again: the API records a request before the sidecar
    // counts its answer. Compare the two between ticks, when no patch is on its way.
    const PATCHED = 'tidewatch_patch_requests_total{target="chat",result="patched"}';
    const { m, requests } = await pollUntil(
      async () => ({ m: await getMetrics(), requests: patchBodies().length }),
      (x) => x.m.get(PATCHED) === x.requests,
      { description: 'no patch in flight' },
    );
    expect(m.get('tidewatch_patch_requests_total{target="chat",result="failed"}')).toBe(0);
    expect(m.get(PATCHED)).toBe(requests);
    const threshold = m.get('tidewatch_patch_threshold{target="chat",mode="predicted"}');
    expect(threshold).toBeGreaterThan(0);
  });

  it('writes the static threshold back when the forecast goes stale', async () => {
    await target.down();
    await pollUntil(getForecast, (d) => d.status === 'stale' && d.patch?.mode === 'reactive', {
      timeoutMs: 30_000,
      description: 'stale, reactive threshold applied',
    });
    // capacity 100 x target 0.5: the threshold without a forecast.
    // Back to the static threshold in bounded steps (at most 20 % of it per write).
    await pollUntil(getForecast, (d) => d.patch?.last?.value === 50, {
      timeoutMs: 30_000,
      description: 'the static threshold written back',
    });
    expect(written(patchBodies().at(-1) ?? [])).toBe('50');
    const m = await getMetrics();
    expect(m.get('tidewatch_patch_threshold{target="chat",mode="reactive"}')).toBe(50);
    expect(m.has('tidewatch_patch_threshold{target="chat",mode="predicted"}')).toBe(false);
    // Nothing predicted is published meanwhile.
    expect(m.has('tidewatch_scaling_threshold{target="chat"}')).toBe(false);
  });

  it('a refused write is counted, reported and retried; the sidecar keeps serving', async () => {
    const before = (await getMetrics()).get(
      'tidewatch_patch_requests_total{target="chat",result="failed"}',
    ) as number;
    fake.state.refuse.set('PATCH', 403);
    const doc = await pollUntil(getForecast, (d) => d.patch?.last?.status === 'failed', {
      timeoutMs: 30_000,
      description: 'a failed patch reported',
    });
    expect(doc.patch?.last?.error).toMatch(
      /^patch \(HTTP 403\): .*RBAC verb "patch" on scaledobjects\.keda\.sh "realtime-server" is missing/,
    );
    // The forecast job runs every 2 s: failures keep being counted, one per apply.
    const failed = await pollUntil(
      async () =>
        (await getMetrics()).get('tidewatch_patch_requests_total{target="chat",result="failed"}'),
      (n) => (n as number) >= before + 2,
      { timeoutMs: 30_000, description: 'two failures counted' },
    );
    expect((await getForecast()).patch?.failures).toBeGreaterThanOrEqual(failed as number);
    expect((await request(`${url}/healthz`)).status).toBe(200);
    fake.state.refuse.clear();
    const recovered = await pollUntil(getForecast, (d) => d.patch?.last?.status === 'patched', {
      timeoutMs: 30_000,
      description: 'patched again after the refusal ends',
    });
    expect(recovered.patch?.mode).toBe('reactive');
  });
});
