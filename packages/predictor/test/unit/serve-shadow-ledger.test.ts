/**
 * The shadow report's accounting, against figures computed by hand: capacity 100 per replica,
 * lead time 60 s, intervals counted up to 120 s.
 */
import { describe, expect, it } from 'vitest';
import { createShadowLedger, type ShadowLedger } from '../../src/serve/shadow-ledger.js';

const S = 1000;

function ledger(state?: unknown): ShadowLedger {
  return createShadowLedger({
    capacityPerReplica: 100,
    leadTimeSeconds: 60,
    maxGapSeconds: 120,
    ...(state !== undefined ? { state } : {}),
  });
}

/** recommend then observe, as the sidecar does at each collection. */
function step(l: ShadowLedger, t: number, rec: number | null, load: number, actual: number) {
  l.recommend(t * S, rec);
  return l.observe({ atMs: t * S, load, actualReplicas: actual });
}

/**
 * t (s)  load  actual  rec made  predictive (rec made at t-60, max with actual)
 *   0    450     2       5       2 (no recommendation 60 s old)
 *  30    450     2       6       2 (none made at or before -30 s)
 *  60    450     3       6       max(3, rec@0 = 5) = 5
 *  90    450     3     null      max(3, rec@30 = 6) = 6
 * 150    300     3       4       rec@90 = null (nothing published): actual, 3
 * 400    300     3       4       (gap of 250 s > 120 s: the interval is not counted)
 */
function scenario(l = ledger()): number[] {
  return [
    step(l, 0, 5, 450, 2),
    step(l, 30, 6, 450, 2),
    step(l, 60, 6, 450, 3),
    step(l, 90, null, 450, 3),
    step(l, 150, 4, 300, 3),
  ];
}

describe('shadow ledger', () => {
  it('compares the load at t with the recommendation made one lead time before t', () => {
    expect(scenario()).toEqual([2, 2, 5, 6, 3]);
  });

  it('accounts each interval with the figures observed at its start', () => {
    const l = ledger();
    scenario(l);
    // Overloaded pods: 4.5 - replicas. Actual: 2.5 for 30 s, 2.5 for 30 s, 1.5 for 30 s, 1.5
    // for 60 s = 1.25 + 1.25 + 0.75 + 1.5 = 4.75 pod-minutes. Predictive: 2.5, 2.5, then
    // 5 and 6 replicas carry 450: 1.25 + 1.25 = 2.5.
    // Replica-seconds: actual 2x30 + 2x30 + 3x30 + 3x60 = 390; predictive 60 + 60 + 5x30 + 6x60 = 630.
    expect(l.totals()).toEqual({
      overloadedPodMinutes: { actual: 4.75, predictive: 2.5 },
      replicaSeconds: { actual: 390, predictive: 630 },
    });
    const w = l.window(150 * S);
    expect(w.preventedPodMinutes).toBeCloseTo(2.25, 12);
    expect(w.extraReplicaPercent).toBeCloseTo((240 / 390) * 100, 12);
  });

  it('does not count an interval longer than maxGapSeconds, nor one going back in time', () => {
    const l = ledger();
    scenario(l);
    const before = l.totals();
    step(l, 400, 4, 300, 3);
    expect(l.totals()).toEqual(before);
    l.observe({ atMs: 399 * S, load: 10_000, actualReplicas: 0 });
    expect(l.last()).toMatchObject({ atMs: 400 * S, load: 300 });
    // The next interval counts from 400 s: 30 s at load 300 on 3 (actual) and 4 (rec@340: made at 150 s).
    step(l, 430, 4, 300, 3);
    expect(l.totals().replicaSeconds.actual).toBe(390 + 90);
    expect(l.totals().replicaSeconds.predictive).toBe(630 + 4 * 30);
    expect(l.totals().overloadedPodMinutes).toEqual(before.overloadedPodMinutes);
  });

  it('resumes from its JSON (a restart keeps the totals, the ring and the last observation)', () => {
    const a = ledger();
    scenario(a);
    const b = ledger(JSON.parse(JSON.stringify(a.toJSON())));
    expect(b.toJSON()).toEqual(a.toJSON());
    // 180 s: rec@120 comes from the ring entry made at 90 s (null) -> actual, 2 replicas.
    expect(step(b, 180, 4, 300, 2)).toBe(2);
    expect(b.totals().replicaSeconds.actual).toBe(390 + 90);
  });

  it('starts afresh from a malformed state', () => {
    for (const state of [null, {}, { totals: 'x' }, { ...ledger().toJSON(), ring: [['a', 1]] }])
      expect(ledger(state).totals()).toEqual({
        overloadedPodMinutes: { actual: 0, predictive: 0 },
        replicaSeconds: { actual: 0, predictive: 0 },
      });
  });

  it('the window holds whole hours of the last 7 days only', () => {
    const l = ledger();
    const H = 3600;
    // One overloaded hour eight days ago, one today (both: 2 pods of load on 1 replica).
    for (const start of [0, 8 * 24 * H])
      for (let t = start; t <= start + H; t += 60) step(l, t, null, 200, 1);
    const w = l.window((8 * 24 + 1) * H * S);
    // Today's hour: 60 intervals of 60 s, 1 pod over each = 60 pod-minutes; 3600 replica-s.
    expect(w.overloadedPodMinutes.actual).toBeCloseTo(60, 9);
    expect(w.replicaSeconds.actual).toBeCloseTo(3600, 9);
    expect(w.preventedPodMinutes).toBe(0);
    expect(w.extraReplicaPercent).toBe(0);
    expect(l.totals().overloadedPodMinutes.actual).toBeCloseTo(120, 9);
  });

  it('rejects bad options naming them', () => {
    expect(() => createShadowLedger({ capacityPerReplica: 0, leadTimeSeconds: 60 })).toThrow(
      /capacityPerReplica must be a number > 0, got 0/,
    );
    expect(() => createShadowLedger({ capacityPerReplica: 1, leadTimeSeconds: -1 })).toThrow(
      /leadTimeSeconds/,
    );
  });
});
