/**
 * Patch mode against a real HTTP server on loopback playing the Kubernetes API: the real
 * @kubernetes/client-node builds and sends the requests, the fake records them.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPatcher, type PatcherOptions, type PatchResult } from '../../src/patch/patcher.js';
import {
  type FakeKube,
  type FakeKubeState,
  HPA_PATH,
  hpa,
  SO_PATH,
  startFakeKube,
} from './fake-kube.js';

let fake: FakeKube;
let state: FakeKubeState;
let kubeConfig: KubeConfig;

beforeAll(async () => {
  fake = await startFakeKube();
  state = fake.state;
  kubeConfig = fake.kubeConfig;
});

afterAll(() => fake.close());

beforeEach(() => fake.reset());

const patches = () => state.requests.filter((r) => r.method === 'PATCH');

/** A patcher of realtime/realtime-server of `kind` on the fake, with `options` on top. */
const patcher = (kind: PatcherOptions['kind'], options: Partial<PatcherOptions> = {}) =>
  createPatcher({ kind, namespace: 'realtime', name: 'realtime-server', kubeConfig, ...options });

describe('patch mode against a fake Kubernetes API', () => {
  it('patches the HPA external metric averageValue with a guarded JSON patch', async () => {
    const p = patcher('hpa');
    const result = await p.apply(280);
    expect(result).toEqual({ status: 'patched', value: 280, written: '280', previous: 350 });
    expect(state.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', HPA_PATH],
      ['PATCH', HPA_PATH],
    ]);
    const [patch] = patches();
    expect(patch?.contentType).toBe('application/json-patch+json');
    expect(patch?.authorization).toBe('Bearer test-token');
    expect(patch?.query).toEqual({ fieldManager: 'tidewatch-predictor' });
    expect(patch?.body).toEqual([
      { op: 'test', path: '/spec/metrics/1/external/metric/name', value: 'tidewatch_actual_load' },
      { op: 'replace', path: '/spec/metrics/1/external/target/averageValue', value: '280' },
    ]);
    expect(p.stats()).toEqual({ patches: 1, skips: 0, failures: 0, lastError: undefined });
  });

  it('writes fractions as milli-quantities to the HPA and reads them back', async () => {
    state.objects.set(HPA_PATH, hpa('233100m'));
    const p = patcher('hpa');
    expect(await p.apply(240)).toMatchObject({ status: 'skipped', current: 233.1 });
    expect(await p.apply(300.25)).toEqual({
      status: 'patched',
      value: 300.25,
      written: '300250m',
      previous: 233.1,
    });
  });

  it('patches the ScaledObject trigger threshold (a float string)', async () => {
    const p = patcher('scaledobject');
    expect(p.target).toBe('scaledobjects.keda.sh realtime/realtime-server trigger actual-load');
    const result = await p.apply(233.1);
    expect(result).toEqual({ status: 'patched', value: 233.1, written: '233.1', previous: 350 });
    expect(state.requests.map((r) => [r.method, r.path])).toEqual([
      ['GET', SO_PATH],
      ['PATCH', SO_PATH],
    ]);
    const [patch] = patches();
    expect(patch?.contentType).toBe('application/json-patch+json');
    expect(patch?.body).toEqual([
      { op: 'test', path: '/spec/triggers/1/name', value: 'actual-load' },
      { op: 'replace', path: '/spec/triggers/1/metadata/threshold', value: '233.1' },
    ]);
  });

  it('skips writes within 5 % of the live value, writes at 5 % and beyond', async () => {
    const p = patcher('scaledobject');
    const skipped = await p.apply(333);
    expect(skipped.status).toBe('skipped');
    expect(skipped).toMatchObject({ current: 350 });
    expect((skipped as Extract<PatchResult, { status: 'skipped' }>).change).toBeCloseTo(
      17 / 350,
      12,
    );
    expect(await p.apply(367)).toMatchObject({ status: 'skipped' });
    expect(patches()).toHaveLength(0);
    expect(await p.apply(332.5)).toMatchObject({ status: 'patched', written: '332.5' }); // exactly 5 %
    expect(patches()).toHaveLength(1);
    expect(p.stats()).toMatchObject({ patches: 1, skips: 2, failures: 0 });
  });

  it('turns a 403 on the write into a result naming the missing RBAC verb', async () => {
    state.refuse.set('PATCH', 403);
    const p = patcher('scaledobject');
    const result = await p.apply(200);
    expect(result).toMatchObject({
      status: 'failed',
      step: 'patch',
      httpStatus: 403,
      missingVerb: 'patch',
    });
    expect((result as { message: string }).message).toBe(
      'patch scaledobjects.keda.sh realtime/realtime-server: forbidden (403): RBAC verb "patch" on scaledobjects.keda.sh "realtime-server" is missing for this service account (see deploy/rbac-patch-mode.yaml)',
    );
    expect(p.stats()).toMatchObject({ patches: 0, failures: 1 });
  });

  it('turns a 403 on the read into a result naming "get"', async () => {
    state.refuse.set('GET', 403);
    const p = patcher('hpa');
    expect(await p.apply(200)).toMatchObject({
      status: 'failed',
      step: 'get',
      httpStatus: 403,
      missingVerb: 'get',
    });
    expect(patches()).toHaveLength(0);
  });

  it('reports a missing object, a missing trigger, a conflict and a bad value without throwing', async () => {
    const missing = patcher('hpa', { name: 'other' });
    expect(await missing.apply(200)).toMatchObject({
      status: 'failed',
      step: 'get',
      httpStatus: 404,
    });
    const wrongTrigger = patcher('scaledobject', { triggerName: 'nope' });
    expect(await wrongTrigger.apply(200)).toEqual({
      status: 'failed',
      value: 200,
      step: 'locate',
      message: 'scaledobjects.keda.sh realtime/realtime-server: no trigger named "nope"',
    });
    state.refuse.set('PATCH', 422);
    const p = patcher('scaledobject');
    expect(await p.apply(200)).toMatchObject({ status: 'failed', step: 'patch', httpStatus: 422 });
    const requestsBefore = state.requests.length;
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 0.0004])
      expect(await p.apply(bad)).toMatchObject({ status: 'failed', step: 'validate' });
    expect(state.requests.length).toBe(requestsBefore);
    expect(p.stats().failures).toBe(6);
  });

  it('times out a hanging API server and runs concurrent applies one at a time', async () => {
    state.delayMs = 300;
    const slow = patcher('hpa', { timeoutMs: 100 });
    expect(await slow.apply(200)).toMatchObject({
      status: 'failed',
      step: 'get',
      message:
        'get horizontalpodautoscalers.autoscaling realtime/realtime-server: timed out after 100 ms',
    });
    state.delayMs = 0;
    await fake.idle(); // the abandoned request is answered (to nobody) before the next test
    state.requests = [];
    const p = patcher('hpa');
    const results = await Promise.all([p.apply(200), p.apply(100)]);
    expect(results.map((r) => r.status)).toEqual(['patched', 'patched']);
    expect(state.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET', 'PATCH']);
  });

  it('rejects bad options at construction, naming the option', () => {
    const base = { kind: 'hpa', namespace: 'realtime', name: 'realtime-server' } as const;
    expect(() => createPatcher({ ...base, kind: 'deployment' as 'hpa' })).toThrow(
      'patch: kind must be "hpa" or "scaledobject", got "deployment"',
    );
    expect(() => createPatcher({ ...base, namespace: 'Bad_NS' })).toThrow(
      /^patch: namespace must be/,
    );
    expect(() => createPatcher({ ...base, hysteresis: 1 })).toThrow(/^patch: hysteresis must be/);
    expect(() => createPatcher({ ...base, timeoutMs: 0 })).toThrow(/^patch: timeoutMs must be/);
  });
});
