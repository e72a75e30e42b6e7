import { describe, expect, it } from 'vitest';
import { simulate } from '../../src/simulate/replay.js';

// 10 minutes: 100 for five, then 700. Capacity 100 per pod at target 0.7 (70 per pod).
const demand = {
  startMs: 0,
  stepMs: 60_000,
  values: Float64Array.from({ length: 10 }, (_, i) => (i < 5 ? 100 : 700)),
};
const options = { capacityPerReplica: 100, podReadySeconds: 120, metricLagSeconds: 60 };

describe('simulate', () => {
  it('reactive: scales when the lagged metric shows the jump, pods serve 120 s later', () => {
    // t=60: 2 replicas (ready 180); t=360 sees 700: 6 (ready 480); t=375: 10 (ready 495).
    // Under: t = 300 .. 480 (13 syncs of 15 s); replicas 4x1 + 20x2 + 6 + 15x10 = 200 syncs.
    const r = simulate(demand, options);
    expect(r).toMatchObject({
      policy: 'reactive',
      underProvisionedMinutes: 3.25,
      replicaHours: (200 * 15) / 3600,
      scalingActions: 3,
      scoredMinutes: 10,
      maxReplicas: 10,
    });
    expect(r.elasticity.underTimeSharePct).toBeCloseTo((100 * 13) / 40, 10);
  });

  it('predictive: the forecast published at minute 2 has the pods ready at the jump', () => {
    const predicted = Float64Array.from({ length: 10 }, (_, i) => (i < 2 ? 100 : 700));
    // t=180 reads the forecast of minute 2: 6 replicas (ready 300), t=195: 10 (ready 315).
    const r = simulate(demand, options, predicted);
    expect(r).toMatchObject({
      policy: 'predictive',
      underProvisionedMinutes: 0.25,
      replicaHours: ((4 * 1 + 8 * 2 + 6 + 27 * 10) * 15) / 3600,
      scalingActions: 3,
    });
  });

  it('a NaN prediction (nothing published) falls back to the reactive result', () => {
    const none = new Float64Array(10).fill(Number.NaN);
    const { policy: _p, ...reactive } = simulate(demand, options);
    const { policy: _q, ...fallback } = simulate(demand, options, none);
    expect(fallback).toEqual(reactive);
  });

  it('scores only from scoreFrom and reports the sync samples to onTick', () => {
    const ticks: number[] = [];
    const r = simulate(demand, { ...options, scoreFrom: 5, onTick: (t) => ticks.push(t.ready) });
    expect(r.scoredMinutes).toBe(5);
    expect(r.underProvisionedMinutes).toBe(3.25);
    expect(ticks).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 6, 10, 10, 10, 10, 10, 10, 10]);
  });

  it('rejects bad options naming the field, and a prediction of another length', () => {
    expect(() => simulate(demand, { capacityPerReplica: -1 })).toThrow(
      'simulate: capacityPerReplica must be a finite number > 0, got -1',
    );
    expect(() => simulate(demand, { ...options, targetUtilization: 2 })).toThrow(
      'simulate: targetUtilization must be in (0, 1], got 2',
    );
    expect(() => simulate(demand, options, [1, 2])).toThrow(
      'simulate: predicted has 2 points, demand has 10',
    );
  });
});
