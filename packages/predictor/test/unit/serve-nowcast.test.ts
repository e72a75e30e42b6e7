/**
 * The sidecar's nowcast glue (src/serve/nowcast.ts): raises only a published plan, only
 * upwards, and is off where its figures or its unit do not fit.
 */
import { createPlanner } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseServeConfig } from '../../src/serve/config.js';
import type { Decision } from '../../src/serve/engine.js';
import type { LiveJson, LiveStats } from '../../src/serve/live.js';
import { createSidecarNowcast } from '../../src/serve/nowcast.js';

const T0 = Date.UTC(2030, 0, 1);

/** Live figures the test sets directly. */
function fakeLive() {
  let snap: LiveJson | null = null;
  const live: LiveStats = { observe() {}, snapshot: () => snap };
  return {
    live,
    set(atMs: number, connections: number, handshakesPerSecond: number, abnormal = 0) {
      snap = {
        at: new Date(atMs).toISOString(),
        windowSeconds: 15,
        connections,
        handshakesPerSecond,
        handshakeP50Ms: null,
        handshakeP99Ms: null,
        messagesInPerSecond: null,
        messagesOutPerSecond: null,
        abnormalClosesPerSecond: abnormal,
      };
    },
  };
}

const config = (extra: Record<string, unknown> = {}) =>
  parseServeConfig({
    source: { kind: 'scrape', urls: ['http://127.0.0.1:1/metrics'] },
    planner: { capacityPerReplica: 100, targetUtilization: 0.5 },
    // A small fleet and one observation of the crowd: no sustain, no absolute arrival floor.
    nowcast: { sustainSeconds: 0, minArrivalConnections: 0 },
    ...extra,
  });

/** capacity 100 x 0.5 = 50 per replica; lead 150 s. */
const planner = createPlanner({
  capacityPerReplica: 100,
  targetUtilization: 0.5,
  maxReplicas: 500,
});

/** An ok decision planning `load` at `nowMs` for an actual of `actual`. */
function decision(nowMs: number, load: number, actual: number, status: Decision['status'] = 'ok') {
  return {
    nowMs,
    status,
    reasons: [],
    reasonCodes: [],
    plan: {
      status: status === 'ok' ? 'ok' : 'stale',
      reasons: [],
      reasonCodes: [],
      leadTimeSeconds: 150,
      predictedPeak: load,
      predictedPeakP50: load,
      predictedLoad: load,
      reactiveReplicas: planner.replicasFor(actual),
      recommendedReplicas: status === 'ok' ? planner.replicasFor(Math.max(load, actual)) : null,
      threshold: status === 'ok' ? (50 * actual) / Math.max(load, actual) : null,
    },
    model: undefined,
    forecast: undefined,
    rollingMase: undefined,
    dataAgeSeconds: 0,
    forecastAgeSeconds: 0,
  } satisfies Decision;
}

/** Steady at 1 000 connections up to T0 + 150 s, then 40 handshakes/s (a crowd). */
function surge(fake: ReturnType<typeof fakeLive>, n: ReturnType<typeof createSidecarNowcast>) {
  for (let k = 2; k <= 10; k++) {
    fake.set(T0 + k * 15_000, 1000, 1);
    n?.observe();
  }
  fake.set(T0 + 11 * 15_000, 1100, 40);
  n?.observe();
  return T0 + 11 * 15_000;
}

describe('createSidecarNowcast', () => {
  it('is off without live figures or when disabled', () => {
    expect(createSidecarNowcast({ config: config(), planner, live: undefined })).toBeUndefined();
    const off = config({ nowcast: { enabled: false } });
    expect(createSidecarNowcast({ config: off, planner, live: fakeLive().live })).toBeUndefined();
  });

  it('raises an ok plan to the nowcast: load, replicas and threshold', () => {
    const fake = fakeLive();
    const n = createSidecarNowcast({ config: config(), planner, live: fake.live });
    // Steady: a quiet nowcast changes nothing.
    fake.set(T0, 1000, 1);
    n?.observe();
    fake.set(T0 + 15_000, 1000, 1);
    n?.observe();
    const steady = decision(T0 + 15_000, 900, 1000);
    const quiet = n?.apply(steady);
    expect(quiet?.nowcast).toMatchObject({ active: false, load: null });
    expect(quiet?.plan).toEqual(steady.plan);
    const at = surge(fake, n);
    const d = n?.apply(decision(at, 900, 1100)) as Decision;
    expect(d.nowcast?.active).toBe(true);
    expect(d.nowcast?.reason).toMatch(/^arrivals: /);
    const load = d.nowcast?.load as number;
    expect(load).toBeGreaterThan(1100 + 1000);
    expect(d.plan.predictedLoad).toBe(load);
    expect(d.plan.recommendedReplicas).toBe(Math.ceil(load / 50));
    expect(d.plan.threshold).toBeCloseTo((50 * 1100) / load, 9);
    // The planner's own figures are untouched.
    expect(d.plan.predictedPeak).toBe(900);
  });

  it('never lowers a plan above it; publishes the nowcast alone through a stale one', () => {
    const fake = fakeLive();
    const n = createSidecarNowcast({ config: config(), planner, live: fake.live });
    const at = surge(fake, n);
    const high = decision(at, 1e6, 1100);
    expect(n?.apply(high).plan).toEqual(high.plan);
    // Stale or warming: a wave observed live is not a forecast; the nowcast is published alone
    // (load, replicas for it), the threshold stays the static one (null here).
    for (const status of ['stale', 'warming'] as const) {
      const stale = decision(at, 900, 1100, status);
      const d = n?.apply(stale) as Decision;
      expect(d.nowcast?.active).toBe(true);
      const load = d.nowcast?.load as number;
      expect(load).toBeGreaterThan(2100);
      expect(d.plan.predictedLoad).toBe(load);
      expect(d.plan.recommendedReplicas).toBe(Math.ceil(load / 50));
      expect(d.plan.threshold).toBeNull();
      expect(d.status).toBe(status);
    }
  });

  it('goes quiet when the live figures stop', () => {
    const fake = fakeLive();
    const n = createSidecarNowcast({ config: config(), planner, live: fake.live });
    const at = surge(fake, n);
    expect(n?.json(at + 181_000)).toEqual({
      active: false,
      load: null,
      reason: 'quiet: the live figures are 181 s old',
    });
  });

  it('is off for a metric that is not the connections gauge', () => {
    const fake = fakeLive();
    const n = createSidecarNowcast({
      config: config({ metric: 'realtime_messages_total' }),
      planner,
      live: fake.live,
    });
    const at = surge(fake, n);
    expect(n?.json(at)).toEqual({
      active: false,
      load: null,
      reason: 'off: the forecast metric realtime_messages_total is not realtime_connections',
    });
  });

  it('reports a bad combination of options as a configuration error naming the field', () => {
    const bad = config({ nowcast: { shortWindowSeconds: 60, longWindowSeconds: 30 } });
    expect(() => createSidecarNowcast({ config: bad, planner, live: fakeLive().live })).toThrow(
      ConfigError,
    );
    expect(() => createSidecarNowcast({ config: bad, planner, live: fakeLive().live })).toThrow(
      'config: nowcast.longWindowSeconds must be above shortWindowSeconds (60), got 30',
    );
  });
});
