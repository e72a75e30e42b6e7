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
      { op: 'test', path: '/spec/metrics/1/external/target/averageValue', value: '350' },
      { op: 'replace', path: '/spec/metrics/1/external/target/averageValue', value: '280' },
    ]);
    expect(p.stats()).toEqual({
      patches: 1,
      skips: 0,
      failures: 0,
      conflicts: 0,
      lastError: undefined,
    });
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
      { op: 'test', path: '/spec/triggers/1/metadata/threshold', value: '350' },
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
    const p = patcher('scaledobject', { maxConflictRetries: 0 });
    expect(await p.apply(200)).toMatchObject({
      status: 'failed',
      step: 'patch',
      httpStatus: 422,
      conflicts: 1,
    });
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
    expect(() => createPatcher({ ...base, staticThreshold: 350, maxStepFraction: 0 })).toThrow(
      /^patch: maxStepFraction must be a number in \(0, 1\]/,
    );
    expect(() => createPatcher({ ...base, staticThreshold: 350, lowerMargin: 1 })).toThrow(
      /^patch: lowerMargin must be/,
    );
    expect(() => createPatcher({ ...base, maxConflictRetries: -1 })).toThrow(
      /^patch: maxConflictRetries must be/,
    );
  });
});

describe('lost updates: the patch tests the value read and the resourceVersion', () => {
  /** A ScaledObject the fake versions and patches for real. */
  const versioned = () => {
    state.apply = true;
    const so = state.objects.get(SO_PATH) as { metadata: Record<string, string> };
    so.metadata.resourceVersion = '7';
    return so as any;
  };

  it('tests the resourceVersion, and the fake applies the write', async () => {
    const so = versioned();
    const p = patcher('scaledobject');
    expect(await p.apply(300)).toEqual({
      status: 'patched',
      value: 300,
      written: '300',
      previous: 350,
    });
    expect(patches()[0]?.body).toEqual([
      { op: 'test', path: '/spec/triggers/1/name', value: 'actual-load' },
      { op: 'test', path: '/spec/triggers/1/metadata/threshold', value: '350' },
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'replace', path: '/spec/triggers/1/metadata/threshold', value: '300' },
    ]);
    expect(so.spec.triggers[1].metadata.threshold).toBe('300');
    expect(so.metadata.resourceVersion).toBe('8');
  });

  it('a write racing another writer is a 422, counted, and retried from a fresh read', async () => {
    const so = versioned();
    let raced = false;
    state.beforePatch = () => {
      if (raced) return;
      raced = true; // someone (kubectl edit, a GitOps sync) writes between read and patch
      so.spec.triggers[1].metadata.threshold = '320';
      so.metadata.resourceVersion = '8';
    };
    const p = patcher('scaledobject');
    const result = await p.apply(250);
    expect(result).toEqual({
      status: 'patched',
      value: 250,
      written: '250',
      previous: 320,
      conflicts: 1,
    });
    expect(state.requests.map((r) => r.method)).toEqual(['GET', 'PATCH', 'GET', 'PATCH']);
    // The retry tests what it read the second time.
    expect(patches()[1]?.body).toContainEqual({
      op: 'test',
      path: '/metadata/resourceVersion',
      value: '8',
    });
    expect(so.spec.triggers[1].metadata.threshold).toBe('250');
    expect(p.stats()).toMatchObject({ patches: 1, conflicts: 1, failures: 0 });
  });

  it('gives up after maxConflictRetries fresh reads and reports every conflict', async () => {
    const so = versioned();
    state.beforePatch = () => {
      so.metadata.resourceVersion = String(Number(so.metadata.resourceVersion) + 1);
    };
    const p = patcher('scaledobject', { maxConflictRetries: 2 });
    const result = await p.apply(250);
    expect(result).toMatchObject({
      status: 'failed',
      step: 'patch',
      httpStatus: 422,
      conflicts: 3,
    });
    expect(patches()).toHaveLength(3);
    expect(so.spec.triggers[1].metadata.threshold).toBe('350'); // nothing overwritten
    expect(p.stats()).toMatchObject({ conflicts: 3, failures: 1 });
  });
});

describe('clamped thresholds', () => {
  it('moves 20 % of the static threshold per apply and stops at the floor', async () => {
    state.apply = true;
    const p = patcher('scaledobject', { staticThreshold: 350 });
    // actual 5, forecast 300: the bare formula asks for 5.83.
    const noisy = (350 * 5) / 300;
    const values: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await p.apply(noisy);
      values.push(r.status === 'patched' ? r.value : Number.NaN);
      if (r.status === 'patched') expect(r.requested).toBe(5.833);
    }
    expect(values.slice(0, 3)).toEqual([280, 210, 175]);
    expect(values[3]).toBeNaN(); // skipped: already at the floor
    // The forecast goes stale: back to static in bounded steps too.
    expect(await p.apply(350)).toMatchObject({ status: 'patched', value: 245, previous: 175 });
  });

  it('does not react to a forecast within the dead band of the actual load', async () => {
    const p = patcher('hpa', { staticThreshold: 350 });
    expect(await p.apply(330)).toMatchObject({ status: 'skipped', value: 350, requested: 330 });
    expect(patches()).toHaveLength(0);
  });
});
