/**
 * Replays a demand trace through the HPA and a fleet of pods that take time to become ready,
 * and scores the result the way autoscalers are compared: under-provisioned time, cost in
 * replica-hours, scaling actions, and the SPEC RG elasticity measures (accuracy and time share
 * of under/over-provisioning, jitter).
 */
import { intOption, numberOption, OptionError } from '../options.js';
import type { Series } from '../series.js';
import { createHpa, type HpaOptions } from './hpa.js';
import { Scorer, type SimulationResult } from './score.js';

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
  /** Return the per-sync arrays ({@link SimulationResult.trace}). Default false. */
  trace?: boolean;
}

/** The options every replay shares, checked. */
export interface CheckedSimulationOptions {
  capacity: number;
  target: number;
  readyS: number;
  lagS: number;
  scoreFrom: number;
}

export type { SimulationResult, SimulationTrace } from './score.js';

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
  const { capacity, target, readyS, lagS, scoreFrom } = checkSimulationOptions(
    demand,
    options,
    predicted,
  );
  const n = demand.values.length;
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
  const scorer = new Scorer(capacity, syncS, options.trace === true);
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
    let ready = 0;
    for (const r of readyAt) if (r <= tS) ready++;
    const load = at(demand.values, tS);
    options.onTick?.({ timeS: tS, load, ready, replicas: after });
    // Fluid: the load is spread evenly over the ready pods, so either all are over or none.
    const over = load > ready * capacity;
    scorer.add({
      timeS: tS,
      load,
      ready,
      paidPods: after,
      desired: after,
      scaled: after !== before,
      overloadedPods: over ? ready : 0,
      hottest: ready > 0 ? load / (ready * capacity) : Number.NaN,
    });
  }
  return scorer.result(
    { policy: predicted ? 'predictive' : 'reactive', connections: 'fluid', maxReplicas },
    0,
    0,
  );
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

/**
 * Checks the options every replay shares (capacity, target, pod ready time, metric lag,
 * scoreFrom) and the prediction's length.
 * @throws OptionError naming the field; Error when `predicted` has another length.
 */
export function checkSimulationOptions(
  demand: Series,
  options: SimulationOptions,
  predicted?: ArrayLike<number>,
): CheckedSimulationOptions {
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
  return { capacity, target, readyS, lagS, scoreFrom };
}
