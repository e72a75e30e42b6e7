import { describe, expect, it } from 'vitest';
import type { Nowcaster } from '../../src/simulate/nowcaster-port.js';
import { simulate } from '../../src/simulate/replay.js';
import { runSimulation } from '../../src/simulate/run.js';
import { type PodState, simulateSticky } from '../../src/simulate/sticky.js';

// The hand-computed case. Per-minute trace, one HPA sync per minute (syncPeriodSeconds 60),
// capacity 100 at target 1 (the HPA wants ceil(load / 100) pods; tolerance 0), scale-down at
// once (-100 % per 60 s, no window), metric lag 0 (the HPA reads the previous sync's fleet
// connections), mean lifetime 600 s (each sync 60 / 600 = 10 % of every pod's connections
// leave), drain 60 s, new pods ready 120 s after the decision, reconnects within 1 s (all at
// the next sync). Three pods A, B, C start ready.
const demand = {
  startMs: 0,
  stepMs: 60_000,
  values: Float64Array.from([300, 300, 200, 200, 200, 240, 240, 240, 240, 240]),
};
const options = {
  capacityPerReplica: 100,
  targetUtilization: 1,
  podReadySeconds: 120,
  metricLagSeconds: 0,
  meanLifetimeSeconds: 600,
  drainSeconds: 60,
  trace: true,
  hpa: {
    minReplicas: 1,
    maxReplicas: 10,
    initialReplicas: 3,
    tolerance: 0,
    syncPeriodSeconds: 60,
    scaleDown: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max' as const,
      policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 60 }],
    },
  },
};

/** Runs the case and returns the result and each sync's per-pod connections (rounded). */
function run(extra: Parameters<typeof simulateSticky>[1] extends infer O ? Partial<O> : never) {
  const pods: number[][] = [];
  const states: PodState[][] = [];
  const r = simulateSticky(demand, {
    ...options,
    ...extra,
    onPods: (_t, p) => {
      states.push(p);
      pods.push(p.map((x) => Math.round(x.connections * 1e6) / 1e6));
    },
  });
  return { r, pods, states };
}

describe('simulateSticky: 3 pods, round-robin, one drain (computed by hand)', () => {
  it('places, drains, drops, reconnects and overloads exactly as computed', () => {
    const { r, pods, states } = run({ lb: 'round-robin' });
    // t0: no reading yet, 3 pods; 300 arrive, 100 each.
    // t1: reads 300 -> 3. 100 -> 90 each (10 % leave); 300 - 270 = 30 arrive, 10 each -> 100.
    // t2: 90 each = 270 > demand 200: 70 more leave in proportion -> 200/3 each.
    // t3: reads 200 -> 2 pods: C (youngest by row) terminates until t4. 200/3 -> 60 each;
    //     200 - 180 = 20 arrive on the ready A, B only: A = B = 70, C = 60.
    // t4: C's drain ends: 60 dropped (reconnect at t5). A, B 70 -> 63; 200 - 126 - 60 waiting
    //     = 14 arrive: A = B = 70. Fleet reads 140.
    // t5: reads 140 -> 2. 70 -> 63; 60 reconnect, 30 each -> 93; demand 240: 240 - 186 = 54
    //     arrive, 27 each: A = B = 120 (over capacity 100: 2 pods overloaded).
    // t6: reads 240 -> 3: pod D, ready at 360 + 120 = 480. 120 -> 108; 24 arrive: 120 each.
    // t7: same: A = B = 120, D starting with 0.
    // t8: D ready. 108, 108, 0; 24 arrive, round-robin 8 each: 116, 116, 8.
    // t9: 116 -> 104.4, 8 -> 7.2; 24 arrive, 8 each: 112.4, 112.4, 15.2.
    expect(pods).toEqual([
      [100, 100, 100],
      [100, 100, 100],
      [66.666667, 66.666667, 66.666667],
      [70, 70, 60],
      [70, 70],
      [120, 120],
      [120, 120, 0],
      [120, 120, 0],
      [116, 116, 8],
      [112.4, 112.4, 15.2],
    ]);
    expect(states[3]?.map((p) => p.terminating)).toEqual([false, false, true]);
    // Overloaded: 2 pods at t5..t9 = 10 pod-minutes. Under-provisioned (240 > ready x 100):
    // t5, t6, t7 (2 ready) = 3 minutes. Paid pods per sync: 3,3,3,3 (C draining),2,2,3,3,3,3
    // = 28 pod-minutes. Scaling: t3 (3 -> 2) and t6 (2 -> 3). Hottest pod: 1.2 at t5..t7,
    // the p99 of ten syncs (nearest rank: the 10th of 10) is the maximum.
    expect(r).toMatchObject({
      connections: 'sticky',
      overloadedPodMinutes: 10,
      underProvisionedMinutes: 3,
      scalingActions: 2,
      scoredMinutes: 10,
      maxReplicas: 3,
    });
    expect(r.droppedConnections).toBeCloseTo(60, 9);
    expect(r.reconnects).toBeCloseTo(60, 9);
    expect(r.replicaHours).toBeCloseTo(28 / 60, 12);
    expect(r.hottestPodUtilisationP99).toBeCloseTo(1.2, 12);
    expect(Array.from(r.trace?.readyPods ?? [])).toEqual([3, 3, 3, 2, 2, 2, 2, 2, 3, 3]);
    expect(Array.from(r.trace?.replicasDesired ?? [])).toEqual([3, 3, 3, 2, 2, 2, 3, 3, 3, 3]);
    expect(Array.from(r.trace?.overloadedPods ?? [])).toEqual([0, 0, 0, 0, 0, 2, 2, 2, 2, 2]);
    expect(Array.from(r.trace?.capacity ?? [])).toEqual([
      300, 300, 300, 200, 200, 200, 200, 200, 300, 300,
    ]);
  });

  it('least-connections fills the new pod first; round-robin keeps loading the hot ones', () => {
    const { r, pods } = run({ lb: 'least-connections' });
    // Same as round-robin until t8 (equal loads split equally). t8: 108, 108, 0 and 24
    // arrive: all go to D (it stays below 108): 108, 108, 24. t9: 97.2, 97.2, 21.6; 24 more
    // to D: 45.6. Overloaded: t5..t8 (108 > 100 at t8) = 8 pod-minutes, not 10.
    expect(pods[8]).toEqual([108, 108, 24]);
    expect(pods[9]).toEqual([97.2, 97.2, 45.6]);
    expect(r.overloadedPodMinutes).toBe(8);
    expect(r.hottestPodUtilisationP99).toBeCloseTo(1.2, 12);
  });

  it('random spreads unevenly, reproducibly for a seed', () => {
    const a = run({ lb: 'random', seed: 7 });
    expect(run({ lb: 'random', seed: 7 }).pods).toEqual(a.pods);
    expect(run({ lb: 'random', seed: 8 }).pods).not.toEqual(a.pods);
    // Same fleet total at t0 (300 arrive), not the same split.
    expect((a.pods[0] as number[]).reduce((s, v) => s + v, 0)).toBeCloseTo(300, 9);
    expect(a.pods[0]).not.toEqual([100, 100, 100]);
  });

  it('a pod becomes ready exactly podReadySeconds after the decision with jitter 0', () => {
    // D is created at t6 (360 s): ready at 480 (t8), not at t7.
    const { states } = run({ podReadyJitter: 0 });
    expect(states[7]?.[2]?.ready).toBe(false);
    expect(states[8]?.[2]?.ready).toBe(true);
    // With the default 10 minutes of idle nodes, C's node (gone at t4) still takes D. With
    // nodes kept 60 s, the nodes at t6 hold the 2 pods of t5: D waits for a node, ready at
    // 360 + 60 + 120 = 540 (t9).
    expect(run({ nodeProvisionSeconds: 60 }).states[8]?.[2]?.ready).toBe(true);
    const slow = run({ nodeProvisionSeconds: 60, nodeScaleDownSeconds: 60 });
    expect(slow.states[8]?.[2]?.ready).toBe(false);
    expect(slow.states[9]?.[2]?.ready).toBe(true);
  });

  it('jitter spreads the start-up delay within S x (1 +- j), reproducibly', () => {
    const ready = (seed: number) =>
      run({ podReadyJitter: 0.5, seed }).states.findIndex((p, t) => t >= 6 && p[2]?.ready);
    // 120 x [0.5, 1.5] = 60..180 s after t6: ready at t7, t8 or t9.
    const seen = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(ready));
    for (const t of seen) expect([7, 8, 9]).toContain(t);
    expect(seen.size).toBeGreaterThan(1);
    expect(ready(3)).toBe(ready(3));
  });

  it('a kill-pod disruption drops the hottest ready pod and starts a replacement', () => {
    // t1 (60 s), after the HPA: A (100, the first of equals) is lost: 100 dropped; its
    // replacement D starts. B, C 100 -> 90; 300 - 180 - 100 waiting = 20 arrive: 100 each.
    const { r, pods } = run({ disruptions: [{ atSeconds: 60, kind: 'kill-pod' }] });
    expect(pods[1]).toEqual([100, 100, 0]);
    // t2: the HPA read 200 on pods at t1 (A's clients were reconnecting): 2 replicas, and the
    // not-ready D goes at once. 100 reconnect, 50 each: 140, 140 = 280 > demand 200: 80
    // leave in proportion: 100 each.
    expect(pods[2]).toEqual([100, 100]);
    expect(r.droppedConnections).toBeCloseTo(100, 9);
    expect(r.reconnects).toBeCloseTo(100, 9);
  });

  it('feeds the nowcaster the lagged leading signals and scales on its answer', () => {
    const seen: Parameters<Nowcaster['observe']>[0][] = [];
    const nowcaster: Nowcaster = {
      // Asks for capacity for 400 connections once it sees abnormal closes.
      observe: (s) => {
        seen.push(s);
        return s.abnormalClosesPerSecond > 0 ? 400 : Number.NaN;
      },
    };
    const { r } = run({ nowcaster, lb: 'least-connections' });
    // At t5 it reads t4: 140 on pods, 14 arrivals / 60 s, C's 60 dropped / 60 s = 1 per s.
    const t4 = seen[4] as (typeof seen)[number];
    expect(t4).toMatchObject({ timeS: 240, connections: 140, readyPods: 2 });
    expect(t4.handshakesPerSecond).toBeCloseTo(14 / 60, 12);
    expect(t4.abnormalClosesPerSecond).toBeCloseTo(1, 12);
    // t5: 400 -> 4 pods (E, F ready at 420 = t7). t6: the nowcast reads t5 (no abnormal
    // closes: NaN), the load 240 asks for 3: the not-ready F goes at once. E is ready at t7,
    // a sync before D was without the nowcast: least-connections gives E the 24 arrivals
    // (108, 108, 24 at t7; 97.2, 97.2, 45.6 at t8): overloaded t5, t6, t7 = 6 pod-minutes
    // instead of 8.
    expect(Array.from(r.trace?.replicasDesired ?? []).slice(5)).toEqual([4, 3, 3, 3, 3]);
    expect(r.overloadedPodMinutes).toBe(6);
  });

  it('rejects a lifetime longer than the trace and a bad balancer, naming them', () => {
    expect(() => simulateSticky(demand, { ...options, meanLifetimeSeconds: 601 })).toThrow(
      "simulate: meanLifetimeSeconds must be at most the trace's length (600 s), got 601",
    );
    expect(() => simulateSticky(demand, { ...options, lb: 'sticky-hash' as 'random' })).toThrow(
      'simulate: lb must be "round-robin", "least-connections", "random", got "sticky-hash"',
    );
  });
});

describe('fluid mode', () => {
  // The replay test's fixture: 100 for five minutes, then 700; capacity 100 at 0.7.
  const jump = {
    startMs: 0,
    stepMs: 60_000,
    values: Float64Array.from({ length: 10 }, (_, i) => (i < 5 ? 100 : 700)),
  };
  const fluid = { capacityPerReplica: 100, podReadySeconds: 120, metricLagSeconds: 60 };

  it('keeps the figures and reports overload as every ready pod while demand exceeds them', () => {
    const r = simulate(jump, fluid);
    // Unchanged: 3.25 under-provisioned minutes, 200 replica-syncs, 3 actions.
    expect(r).toMatchObject({
      underProvisionedMinutes: 3.25,
      replicaHours: (200 * 15) / 3600,
      scalingActions: 3,
      droppedConnections: 0,
      reconnects: 0,
    });
    // Under at t = 300 .. 480: 12 syncs with 2 ready pods (300 .. 465) and one with 6 (480):
    // (12 x 2 + 6) x 0.25 min = 7.5 pod-minutes.
    expect(r.overloadedPodMinutes).toBe(7.5);
  });

  it('runSimulation defaults to fluid and rejects a nowcaster there', () => {
    const r = runSimulation(
      {
        ...jump,
        values: Float64Array.from({ length: 2 * 1440 }, (_, i) => (i % 60 < 30 ? 100 : 700)),
      },
      { ...fluid, policy: 'reactive', warmupSteps: 0 },
    );
    expect(r.connections).toBe('fluid');
    expect(() =>
      runSimulation(jump, {
        ...fluid,
        policy: 'reactive',
        warmupSteps: 0,
        nowcaster: { observe: () => Number.NaN },
      }),
    ).toThrow('runSimulation: connections must be "sticky" with a nowcaster or disruptions');
  });
});
