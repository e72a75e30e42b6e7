import { describe, expect, it } from 'vitest';
import type { ForecastPoint } from '../../src/forecast.js';
import { OptionError } from '../../src/options.js';
import { createPlanner, peakOver } from '../../src/planner/planner.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
/** One point per minute from T0 + 1 min, p90 = p50 * 1.2. */
const points = (p50: number[]): ForecastPoint[] =>
  p50.map((v, k) => ({
    timestamp: new Date(T0 + (k + 1) * 60_000).toISOString(),
    p50: v,
    p90: v * 1.2,
  }));

describe('createPlanner', () => {
  // capacity 500 x target 0.7 = 350 per replica; lead 60 + 30 + 30 + 30 = 150 s.
  const planner = createPlanner({ capacityPerReplica: 500, maxReplicas: 50 });

  it('adds up the lead time and the load per replica', () => {
    expect(planner.leadTimeSeconds).toBe(150);
    expect(planner.targetPerReplica).toBe(350);
    expect(planner.replicasFor(0)).toBe(1);
    expect(planner.replicasFor(350)).toBe(1);
    expect(planner.replicasFor(351)).toBe(2);
    expect(planner.replicasFor(1e9)).toBe(50);
  });

  it('publishes the peak over the lead time as replicas and a lowered threshold', () => {
    // Points at +1, +2, +3 min cover the 150 s window (the +3 min point closes it); +4 is out.
    const plan = planner.plan({
      nowMs: T0,
      actual: 700,
      actualMs: T0,
      forecast: { madeAtMs: T0, points: points([800, 1000, 1500, 9000]) },
      modelMase: 0.6,
      rollingMase: 0.7,
    });
    expect(plan).toEqual({
      status: 'ok',
      reasons: [],
      reasonCodes: [],
      leadTimeSeconds: 150,
      predictedPeak: 1800,
      predictedPeakP50: 1500,
      predictedLoad: 1500, // max(p50 1500, 0.7 x p90 1800 = 1260)
      reactiveReplicas: 2,
      recommendedReplicas: 5, // ceil(1500 / 350)
      threshold: (350 * 700) / 1500, // an HPA on the actual metric then asks for 5
    });
    expect(Math.ceil(700 / (plan.threshold as number))).toBe(5);
  });

  it('lets a wide band raise the load: the p90 peak must fit in full capacity', () => {
    const wide: ForecastPoint[] = points([1000, 1000, 1000]).map((p) => ({ ...p, p90: 2500 }));
    const plan = planner.plan({
      nowMs: T0,
      actual: 700,
      actualMs: T0,
      forecast: { madeAtMs: T0, points: wide },
    });
    expect(plan.predictedLoad).toBe(1750); // 0.7 x 2500 > 1000
    expect(plan.recommendedReplicas).toBe(5); // ceil(2500 / 500)
  });

  it('never recommends less than the reactive signal', () => {
    const plan = planner.plan({
      nowMs: T0,
      actual: 3000,
      actualMs: T0,
      forecast: { madeAtMs: T0, points: points([100, 100, 100]) },
    });
    expect(plan.status).toBe('ok');
    expect(plan.reactiveReplicas).toBe(9);
    expect(plan.recommendedReplicas).toBe(9);
    expect(plan.threshold).toBe(350);
  });

  it('limits the step above the current replicas but not below reactive', () => {
    const limited = createPlanner({ capacityPerReplica: 500, maxStep: 2 });
    const input = {
      nowMs: T0,
      actual: 1000,
      actualMs: T0,
      forecast: { madeAtMs: T0, points: points([5000, 5000, 5000]) },
    };
    expect(limited.plan({ ...input, currentReplicas: 3 }).recommendedReplicas).toBe(5);
    expect(limited.plan({ ...input, currentReplicas: 1 }).recommendedReplicas).toBe(3);
  });

  it.each([
    [
      { sourceError: 'scrape:http://x: connection refused' },
      'source failing: scrape:http://x: connection refused',
      'source_failing',
    ],
    [{ actualMs: T0 - 181_000 }, 'data is 181 s old (limit 180 s)', 'data_old'],
    [{ madeAtMs: T0 - 200_000 }, 'forecast is 200 s old (limit 180 s)', 'forecast_old'],
    [{ rollingMase: 1.25 }, 'rolling MASE 1.250 above 1', 'rolling_mase'],
    [{ modelMase: 1.5 }, 'model MASE 1.500 above 1', 'model_mase'],
    [{ short: true }, 'forecast does not cover the lead time', 'lead_time_not_covered'],
    [{ nan: true }, 'forecast has invalid values', 'invalid_forecast'],
    [{ none: true }, 'no forecast yet', 'no_forecast'],
    [{ actual: Number.NaN }, 'no current observation', 'no_observation'],
  ])('goes stale and publishes nothing %#', (change, reason, code) => {
    const c = change as Record<string, unknown>;
    const pts = c.none ? [] : c.short ? points([900, 900]) : points([900, 900, 900]);
    if (c.nan) (pts[1] as { p90: number }).p90 = Number.NaN;
    const plan = planner.plan({
      nowMs: T0,
      actual: (c.actual as number | undefined) ?? 700,
      actualMs: (c.actualMs as number | undefined) ?? T0,
      forecast: { madeAtMs: (c.madeAtMs as number | undefined) ?? T0, points: pts },
      ...(c.sourceError ? { sourceError: c.sourceError as string } : {}),
      ...(c.rollingMase ? { rollingMase: c.rollingMase as number } : {}),
      ...(c.modelMase ? { modelMase: c.modelMase as number } : {}),
    });
    expect(plan.status).toBe('stale');
    expect(plan.reasons).toEqual([reason]);
    expect(plan.reasonCodes).toEqual([code]);
    expect(plan.recommendedReplicas).toBeNull();
    expect(plan.threshold).toBeNull();
  });

  it.each([
    [{}, 'createPlanner: capacityPerReplica must be a finite number > 0, got undefined'],
    [
      { capacityPerReplica: 0 },
      'createPlanner: capacityPerReplica must be a finite number > 0, got 0',
    ],
    [
      { capacityPerReplica: 1, targetUtilization: 1.5 },
      'createPlanner: targetUtilization must be in (0, 1], got 1.5',
    ],
    [
      { capacityPerReplica: 1, minReplicas: 5, maxReplicas: 2 },
      'createPlanner: maxReplicas must be an integer >= 5, got 2',
    ],
    [
      { capacityPerReplica: 1, lead: { podStartSeconds: -1 } },
      'createPlanner: lead.podStartSeconds must be a finite number >= 0 (seconds), got -1',
    ],
  ])('rejects bad options naming the field %#', (options, message) => {
    expect(() => createPlanner(options as never)).toThrow(OptionError);
    expect(() => createPlanner(options as never)).toThrow(message);
  });
});

describe('peakOver', () => {
  it('extends to the first point at or after the end, undefined when the forecast is short', () => {
    const pts = points([1, 5, 2, 9]);
    expect(peakOver(pts, T0, T0 + 120_000)).toEqual({ p50: 5, p90: 6 });
    expect(peakOver(pts, T0, T0 + 130_000)).toEqual({ p50: 5, p90: 6 });
    expect(peakOver(pts, T0 + 150_000, T0 + 200_000)).toEqual({ p50: 9, p90: 9 * 1.2 });
    expect(peakOver(pts, T0, T0 + 300_000)).toBeUndefined();
  });
});
