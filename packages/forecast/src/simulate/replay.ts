/**
 * Replays a demand trace through the HPA and a fleet of pods that take time to become ready,
 * and scores the result the way autoscalers are compared: under-provisioned time, cost in
 * replica-hours, scaling actions, and the SPEC RG elasticity measures (accuracy and time share
 * of under/over-provisioning, jitter).
 */
import { intOption, numberOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { createHpa, type HpaOptions } from './hpa.js';

const OWNER = 'simulate';

/** Options of {@link simulate}. */
export interface SimulationOptions {
  /** Load one pod carries at 100 % (e.g. connections). Required, > 0. */
  capacityPerReplica: number;
  /** HPA target utilisation, (0, 1]: the metric target is capacity x this. Default 0.7. */
  targetUtilization?: number;
  /** From the scaling decision until a new pod serves, seconds. Default 120. */
  podReadySeconds?: number;
  /** Age of the metric when the HPA reads it (scrape + query), seconds. Default 60. */
  metricLagSeconds?: number;
  /** Only time from this index of the trace on is scored (warm-up for a forecaster). Default 0. */
  scoreFrom?: number;
  /** HPA settings besides the target (min/max replicas, tolerance, behaviour). */
  hpa?: Omit<HpaOptions, 'averageValue'>;
  /** Called at every scored sync with the load, the ready pods and `spec.replicas` (for plots). */
  onTick?: (tick: { timeS: number; load: number; ready: number; replicas: number }) => void;
}

/** The outcome of a replay (all figures over the scored time). */
export interface SimulationResult {
  policy: 'reactive' | 'predictive';
  /** Minutes in which demand exceeded the ready pods' capacity. */
  underProvisionedMinutes: number;
  /** Pods (ready or starting) x hours. */
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
}

/**
 * Replays `demand` (load per step, sample-and-hold between points) through a Kubernetes HPA
 * fed the actual load (`reactive`), or fed both the actual load and `predicted` (the
 * predicted peak published at each step, NaN = nothing published), as KEDA's two triggers
 * do: the HPA takes the max, so the prediction can only add capacity.
 * @throws OptionError naming the field; Error when `predicted` has another length.
 */
export function simulate(
  demand: Series,
  options: SimulationOptions,
  predicted?: ArrayLike<number>,
): SimulationResult {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const capacity = numberOption(OWNER, 'capacityPerReplica', options.capacityPerReplica, {
    default: Number.NaN,
    min: 0,
    exclusive: true,
  });
  if (Number.isNaN(capacity))
    throw new OptionError(OWNER, 'capacityPerReplica', 'a finite number > 0', undefined);
  const target = numberOption(OWNER, 'targetUtilization', options.targetUtilization, {
    default: 0.7,
    min: 0,
    exclusive: true,
  });
  if (target > 1) throw new OptionError(OWNER, 'targetUtilization', 'in (0, 1]', target);
  const readyS = numberOption(OWNER, 'podReadySeconds', options.podReadySeconds, {
    default: 120,
    min: 0,
    unit: 'seconds',
  });
  const lagS = numberOption(OWNER, 'metricLagSeconds', options.metricLagSeconds, {
    default: 60,
    min: 0,
    unit: 'seconds',
  });
  const n = demand.values.length;
  const scoreFrom = intOption(OWNER, 'scoreFrom', options.scoreFrom, {
    default: 0,
    min: 0,
    max: Math.max(0, n - 1),
  });
  if (predicted !== undefined && predicted.length !== n)
    throw new Error(`simulate: predicted has ${predicted.length} points, demand has ${n}`);
  const hpa = createHpa({ ...options.hpa, averageValue: capacity * target });
  const syncS = hpa.syncPeriodSeconds;
  const stepS = demand.stepMs / 1000;
  const at = (values: ArrayLike<number>, tS: number): number => {
    const i = Math.floor(tS / stepS + 1e-9);
    return i >= 0 && i < n ? (values[i] as number) : Number.NaN;
  };

  // Pods by the time they become ready, oldest first; scale-down removes the not-ready ones
  // first, then the newest, as a ReplicaSet does.
  const readyAt: number[] = [];
  for (let i = 0; i < hpa.replicas; i++) readyAt.push(Number.NEGATIVE_INFINITY);
  const scoreFromS = scoreFrom * stepS;
  const endS = n * stepS;
  let ticks = 0;
  let underTicks = 0;
  let overTicks = 0;
  let replicaTicks = 0;
  let actions = 0;
  let underAcc = 0;
  let overAcc = 0;
  let supplyChanges = 0;
  let demandChanges = 0;
  let lastSupply = -1;
  let lastNeed = -1;
  let maxReplicas = hpa.replicas;
  const metrics: number[] = [];

  for (let tS = 0; tS < endS; tS += syncS) {
    metrics.length = 0;
    metrics.push(at(demand.values, tS - lagS));
    if (predicted) metrics.push(at(predicted, tS - lagS));
    const before = hpa.replicas;
    const after = hpa.sync(tS, metrics);
    if (after > before) for (let i = before; i < after; i++) readyAt.push(tS + readyS);
    else if (after < before) removePods(readyAt, before - after);
    maxReplicas = Math.max(maxReplicas, after);
    if (tS < scoreFromS) continue;
    if (after !== before) actions++;
    ticks++;
    replicaTicks += after;
    let ready = 0;
    for (const r of readyAt) if (r <= tS) ready++;
    const load = at(demand.values, tS);
    options.onTick?.({ timeS: tS, load, ready, replicas: after });
    if (!Number.isFinite(load)) continue;
    const need = Math.ceil(load / capacity - 1e-9);
    if (load > ready * capacity) underTicks++;
    if (need > 0) {
      underAcc += Math.max(0, need - ready) / need;
      overAcc += Math.max(0, ready - need) / need;
    }
    if (ready > need) overTicks++;
    if (lastSupply >= 0 && ready !== lastSupply) supplyChanges++;
    if (lastNeed >= 0 && need !== lastNeed) demandChanges++;
    lastSupply = ready;
    lastNeed = need;
  }
  const minutesPerTick = syncS / 60;
  const hours = (ticks * syncS) / 3600;
  const pct = (x: number) => (ticks > 0 ? (100 * x) / ticks : 0);
  return {
    policy: predicted ? 'predictive' : 'reactive',
    underProvisionedMinutes: underTicks * minutesPerTick,
    replicaHours: (replicaTicks * syncS) / 3600,
    scalingActions: actions,
    scoredMinutes: ticks * minutesPerTick,
    elasticity: {
      underAccuracyPct: pct(underAcc),
      overAccuracyPct: pct(overAcc),
      underTimeSharePct: pct(underTicks),
      overTimeSharePct: pct(overTicks),
      jitterPerHour: hours > 0 ? (supplyChanges - demandChanges) / hours : 0,
    },
    maxReplicas,
  };
}

function removePods(readyAt: number[], count: number): void {
  for (let k = 0; k < count; k++) {
    // The pod becoming ready last is the youngest (or still starting): it goes first.
    let youngest = 0;
    for (let i = 1; i < readyAt.length; i++)
      if ((readyAt[i] as number) >= (readyAt[youngest] as number)) youngest = i;
    readyAt.splice(youngest, 1);
  }
}
