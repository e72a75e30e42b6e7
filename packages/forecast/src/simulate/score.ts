/**
 * Scoring shared by the fluid and the sticky replay: one call per scored HPA sync, the figures
 * of {@link SimulationResult} at the end, and the per-sync arrays when asked.
 */

/** Per-sync arrays over the scored time (one entry per HPA sync), for plots and lead-time figures. */
export interface SimulationTrace {
  /** Time of the sync, seconds from the trace start. */
  timeS: Float64Array;
  /** The trace's demand (load wanted) at the sync. */
  demand: Float64Array;
  /** Pods serving new connections (ready, not terminating). */
  readyPods: Int32Array;
  /** readyPods x capacityPerReplica. */
  capacity: Float64Array;
  /**
   * Pods above capacityPerReplica. Fluid: every ready pod when demand exceeds capacity (the
   * load is spread evenly), else 0. Sticky: counted pod by pod, terminating pods included.
   */
  overloadedPods: Int32Array;
  /** `spec.replicas` after the sync. */
  replicasDesired: Int32Array;
  /** Highest pod load / capacityPerReplica (NaN with no pod ready, fluid). */
  hottestPodUtilisation: Float64Array;
}

/** The outcome of a replay (all figures over the scored time). */
export interface SimulationResult {
  policy: 'reactive' | 'predictive';
  /** The connection model that produced it. */
  connections: 'fluid' | 'sticky';
  /** Minutes in which demand exceeded the ready pods' capacity (fleet total, as if rebalanced). */
  underProvisionedMinutes: number;
  /** Sum over pods of the minutes each spent above capacityPerReplica. */
  overloadedPodMinutes: number;
  /**
   * 99th percentile over the scored syncs of the hottest pod's load / capacityPerReplica
   * (nearest rank; 1 = a pod at 100 %). Syncs with no pod ready are left out (fluid); 0 when
   * none is scored.
   */
  hottestPodUtilisationP99: number;
  /** Connections closed by a pod going away (drain end, or a killed pod). Always 0 for fluid. */
  droppedConnections: number;
  /** Dropped connections re-established on a ready pod. Always 0 for fluid. */
  reconnects: number;
  /** Pods x hours: fluid counts `spec.replicas`; sticky every pod (starting, ready, terminating). */
  replicaHours: number;
  /** Changes of `spec.replicas`. */
  scalingActions: number;
  /** Scored time, minutes. */
  scoredMinutes: number;
  /** SPEC RG elasticity measures; supply = ready pods, demand = pods needed at 100 %. */
  elasticity: {
    /** Mean (demand - supply)+ / demand, percent (under-provisioning accuracy). */
    underAccuracyPct: number;
    /** Mean (supply - demand)+ / demand, percent. */
    overAccuracyPct: number;
    /** Share of time under-provisioned, percent. */
    underTimeSharePct: number;
    /** Share of time over-provisioned, percent. */
    overTimeSharePct: number;
    /** (supply changes - demand changes) per hour: > 0 the autoscaler oscillates more than demand. */
    jitterPerHour: number;
  };
  /** Highest `spec.replicas` reached. */
  maxReplicas: number;
  /** Per-sync arrays, when the `trace` option is set. */
  trace?: SimulationTrace;
}

/** What one scored sync contributes. */
export interface ScoredSync {
  timeS: number;
  load: number;
  ready: number;
  /** Pods paid for at this sync. */
  paidPods: number;
  desired: number;
  scaled: boolean;
  overloadedPods: number;
  /** Hottest pod's utilisation; NaN to leave the sync out of the percentile. */
  hottest: number;
}

/** Accumulates the scored syncs. */
export class Scorer {
  private ticks = 0;
  private underTicks = 0;
  private overTicks = 0;
  private paidTicks = 0;
  private overloadedTicks = 0;
  private actions = 0;
  private underAcc = 0;
  private overAcc = 0;
  private supplyChanges = 0;
  private demandChanges = 0;
  private lastSupply = -1;
  private lastNeed = -1;
  private hottest = new Float64Array(1024);
  private hottestCount = 0;
  private readonly trace: SimulationTrace | undefined;
  private traceLength = 0;

  constructor(
    private readonly capacity: number,
    private readonly syncS: number,
    keepTrace: boolean,
  ) {
    this.trace = keepTrace
      ? {
          timeS: new Float64Array(1024),
          demand: new Float64Array(1024),
          readyPods: new Int32Array(1024),
          capacity: new Float64Array(1024),
          overloadedPods: new Int32Array(1024),
          replicasDesired: new Int32Array(1024),
          hottestPodUtilisation: new Float64Array(1024),
        }
      : undefined;
  }

  /** Scores one sync. A non-finite load counts for cost and actions only (as before). */
  add(s: ScoredSync): void {
    if (s.scaled) this.actions++;
    this.ticks++;
    this.paidTicks += s.paidPods;
    if (this.trace) this.record(s);
    if (!Number.isFinite(s.load)) return;
    this.overloadedTicks += s.overloadedPods;
    if (!Number.isNaN(s.hottest)) {
      if (this.hottestCount === this.hottest.length) this.hottest = grow(this.hottest);
      this.hottest[this.hottestCount++] = s.hottest;
    }
    const need = Math.ceil(s.load / this.capacity - 1e-9);
    if (s.load > s.ready * this.capacity) this.underTicks++;
    if (need > 0) {
      this.underAcc += Math.max(0, need - s.ready) / need;
      this.overAcc += Math.max(0, s.ready - need) / need;
    }
    if (s.ready > need) this.overTicks++;
    if (this.lastSupply >= 0 && s.ready !== this.lastSupply) this.supplyChanges++;
    if (this.lastNeed >= 0 && need !== this.lastNeed) this.demandChanges++;
    this.lastSupply = s.ready;
    this.lastNeed = need;
  }

  /** The figures. */
  result(
    head: Pick<SimulationResult, 'policy' | 'connections' | 'maxReplicas'>,
    droppedConnections: number,
    reconnects: number,
  ): SimulationResult {
    const syncS = this.syncS;
    const minutesPerTick = syncS / 60;
    const hours = (this.ticks * syncS) / 3600;
    const pct = (x: number) => (this.ticks > 0 ? (100 * x) / this.ticks : 0);
    const out: SimulationResult = {
      policy: head.policy,
      connections: head.connections,
      underProvisionedMinutes: this.underTicks * minutesPerTick,
      overloadedPodMinutes: this.overloadedTicks * minutesPerTick,
      hottestPodUtilisationP99: p99(this.hottest.subarray(0, this.hottestCount)),
      droppedConnections,
      reconnects,
      replicaHours: (this.paidTicks * syncS) / 3600,
      scalingActions: this.actions,
      scoredMinutes: this.ticks * minutesPerTick,
      elasticity: {
        underAccuracyPct: pct(this.underAcc),
        overAccuracyPct: pct(this.overAcc),
        underTimeSharePct: pct(this.underTicks),
        overTimeSharePct: pct(this.overTicks),
        jitterPerHour: hours > 0 ? (this.supplyChanges - this.demandChanges) / hours : 0,
      },
      maxReplicas: head.maxReplicas,
    };
    if (this.trace) {
      const n = this.traceLength;
      const t = this.trace;
      out.trace = {
        timeS: t.timeS.slice(0, n),
        demand: t.demand.slice(0, n),
        readyPods: t.readyPods.slice(0, n),
        capacity: t.capacity.slice(0, n),
        overloadedPods: t.overloadedPods.slice(0, n),
        replicasDesired: t.replicasDesired.slice(0, n),
        hottestPodUtilisation: t.hottestPodUtilisation.slice(0, n),
      };
    }
    return out;
  }

  private record(s: ScoredSync): void {
    let t = this.trace as SimulationTrace;
    const i = this.traceLength++;
    if (i === t.timeS.length) {
      t = {
        timeS: grow(t.timeS),
        demand: grow(t.demand),
        readyPods: grow(t.readyPods),
        capacity: grow(t.capacity),
        overloadedPods: grow(t.overloadedPods),
        replicasDesired: grow(t.replicasDesired),
        hottestPodUtilisation: grow(t.hottestPodUtilisation),
      };
      Object.assign(this.trace as SimulationTrace, t);
    }
    t.timeS[i] = s.timeS;
    t.demand[i] = s.load;
    t.readyPods[i] = s.ready;
    t.capacity[i] = s.ready * this.capacity;
    t.overloadedPods[i] = s.overloadedPods;
    t.replicasDesired[i] = s.desired;
    t.hottestPodUtilisation[i] = s.hottest;
  }
}

function grow<T extends Float64Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/** Nearest-rank 99th percentile (0 for no values). */
function p99(values: Float64Array): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.max(0, Math.ceil(0.99 * sorted.length) - 1)] as number;
}
