/**
 * The Kubernetes HorizontalPodAutoscaler's replica decision, as kube-controller-manager makes
 * it (autoscaling/v2 defaults): every sync period each metric proposes
 * `ceil(value / averageValue)` unless `value / (averageValue x replicas)` is within the
 * tolerance of 1; the HPA takes the highest proposal; scale-down is stabilised (the highest
 * recommendation of the window wins) and both directions are rate-limited by policies.
 * External metrics with an `AverageValue` target, which is what KEDA's Prometheus triggers
 * and Prometheus Adapter's external rules give, so pod readiness does not enter the ratio.
 */
import { intOption, numberOption, OptionError } from '../options.js';

const OWNER = 'createHpa';

/** A scaling policy: at most `value` pods (`Pods`) or `value` % (`Percent`) per `periodSeconds`. */
export interface HpaPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

/** One direction of `spec.behavior`. */
export interface HpaRules {
  /** Window over which recommendations are remembered, seconds. */
  stabilizationWindowSeconds: number;
  /** `Max` picks the policy that allows the biggest change, `Min` the smallest. */
  selectPolicy: 'Max' | 'Min';
  policies: HpaPolicy[];
}

/** Options of {@link createHpa}; defaults are Kubernetes' own. */
export interface HpaOptions {
  /** Per-replica target of every metric (`AverageValue`). Required, > 0. */
  averageValue: number;
  minReplicas?: number;
  /** Default 100. */
  maxReplicas?: number;
  /** Default 0.1. */
  tolerance?: number;
  /** Default 15. */
  syncPeriodSeconds?: number;
  /** Default: stabilisation 0 s, max(+4 pods, +100 %) per 15 s. */
  scaleUp?: HpaRules;
  /** Default: stabilisation 300 s, -100 % per 15 s. */
  scaleDown?: HpaRules;
  /** Replicas at the start. Default `minReplicas`. */
  initialReplicas?: number;
}

/** The HPA controller state machine, driven by {@link Hpa.sync}. */
export interface Hpa {
  readonly syncPeriodSeconds: number;
  /** `spec.replicas` now. */
  readonly replicas: number;
  /**
   * One sync at `timeS` (seconds, increasing by the sync period) with the current value of
   * each metric (NaN or missing values are ignored, like a metric the adapter cannot serve;
   * with none usable, nothing changes). Returns the new `spec.replicas`.
   */
  sync(timeS: number, metrics: readonly number[]): number;
}

/** Kubernetes' default scale-up rules. */
export const DEFAULT_SCALE_UP: HpaRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
};

/** Kubernetes' default scale-down rules. */
export const DEFAULT_SCALE_DOWN: HpaRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/**
 * Creates an HPA.
 * @throws OptionError naming the field.
 */
export function createHpa(options: HpaOptions): Hpa {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const target = numberOption(OWNER, 'averageValue', options.averageValue, {
    default: Number.NaN,
    min: 0,
    exclusive: true,
  });
  if (Number.isNaN(target))
    throw new OptionError(OWNER, 'averageValue', 'a finite number > 0', undefined);
  const minReplicas = intOption(OWNER, 'minReplicas', options.minReplicas, { default: 1, min: 1 });
  const maxReplicas = intOption(OWNER, 'maxReplicas', options.maxReplicas, {
    default: 100,
    min: minReplicas,
  });
  const tolerance = numberOption(OWNER, 'tolerance', options.tolerance, { default: 0.1, min: 0 });
  const syncPeriodSeconds = numberOption(OWNER, 'syncPeriodSeconds', options.syncPeriodSeconds, {
    default: 15,
    min: 0,
    exclusive: true,
  });
  const up = checkRules('scaleUp', options.scaleUp ?? DEFAULT_SCALE_UP);
  const down = checkRules('scaleDown', options.scaleDown ?? DEFAULT_SCALE_DOWN);
  let replicas = intOption(OWNER, 'initialReplicas', options.initialReplicas, {
    default: minReplicas,
    min: minReplicas,
    max: maxReplicas,
  });

  // Recommendations (time, replicas) for the stabilisation windows, and scaling events for
  // the rate-limiting policies (time, change), as the controller keeps them. Typed rings: a
  // six-month replay syncs a million times, and tuples shifted off arrays made the HPA half
  // of the sticky simulator's time.
  const recommendations = new TimedRing();
  const events = new TimedRing();
  const keepS = Math.max(
    up.stabilizationWindowSeconds,
    down.stabilizationWindowSeconds,
    ...up.policies.map((p) => p.periodSeconds),
    ...down.policies.map((p) => p.periodSeconds),
  );

  const proposal = (value: number): number => {
    const ratio = value / (target * replicas);
    if (Math.abs(1 - ratio) <= tolerance) return replicas;
    return Math.ceil(value / target);
  };

  /** Replicas `periodSeconds` ago, reconstructed from the events since. */
  const replicasAgo = (nowS: number, periodS: number, sign: 1 | -1): number => {
    let changed = 0;
    for (let k = 0; k < events.length; k++) {
      const delta = events.value(k);
      if (events.time(k) > nowS - periodS && Math.sign(delta) === sign) changed += delta;
    }
    return replicas - changed;
  };

  const limitUp = (nowS: number): number => {
    let limit = up.selectPolicy === 'Max' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    for (const p of up.policies) {
      const base = replicasAgo(nowS, p.periodSeconds, 1);
      const allowed = p.type === 'Pods' ? base + p.value : Math.ceil(base * (1 + p.value / 100));
      limit = up.selectPolicy === 'Max' ? Math.max(limit, allowed) : Math.min(limit, allowed);
    }
    return limit;
  };

  const limitDown = (nowS: number): number => {
    let limit = down.selectPolicy === 'Max' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    for (const p of down.policies) {
      const base = replicasAgo(nowS, p.periodSeconds, -1);
      // The controller truncates here (int32 conversion), where scale-up rounds up.
      const allowed = p.type === 'Pods' ? base - p.value : Math.floor(base * (1 - p.value / 100));
      limit = down.selectPolicy === 'Max' ? Math.min(limit, allowed) : Math.max(limit, allowed);
    }
    return limit;
  };

  return {
    syncPeriodSeconds,
    get replicas() {
      return replicas;
    },
    sync(nowS, metrics) {
      let desired = Number.NEGATIVE_INFINITY;
      for (const v of metrics)
        if (Number.isFinite(v) && v >= 0) desired = Math.max(desired, proposal(v));
      recommendations.dropUntil(nowS - keepS);
      events.dropUntil(nowS - keepS);
      if (desired === Number.NEGATIVE_INFINITY) return replicas;
      desired = Math.min(maxReplicas, Math.max(minReplicas, desired));
      recommendations.push(nowS, desired);
      // Stabilisation: scaling up goes to the lowest recommendation of the up window, down to
      // the highest of the down window (the controller's stabilizeRecommendationWithBehaviors).
      let upRec = desired;
      let downRec = desired;
      for (let k = 0; k < recommendations.length; k++) {
        const t = recommendations.time(k);
        const r = recommendations.value(k);
        if (t > nowS - up.stabilizationWindowSeconds) upRec = Math.min(upRec, r);
        if (t > nowS - down.stabilizationWindowSeconds) downRec = Math.max(downRec, r);
      }
      let next = replicas;
      if (upRec > replicas) next = upRec;
      else if (downRec < replicas) next = downRec;
      if (next > replicas) next = Math.min(next, limitUp(nowS), maxReplicas);
      else if (next < replicas) next = Math.max(next, limitDown(nowS), minReplicas);
      if (next !== replicas) events.push(nowS, next - replicas);
      replicas = next;
      return replicas;
    },
  };
}

function checkRules(field: string, rules: HpaRules): HpaRules {
  if (typeof rules !== 'object' || rules === null || !Array.isArray(rules.policies))
    throw new OptionError(OWNER, field, 'an object with policies', rules);
  numberOption(OWNER, `${field}.stabilizationWindowSeconds`, rules.stabilizationWindowSeconds, {
    default: 0,
    min: 0,
  });
  if (rules.stabilizationWindowSeconds > 3600)
    throw new OptionError(
      OWNER,
      `${field}.stabilizationWindowSeconds`,
      'at most 3600',
      rules.stabilizationWindowSeconds,
    );
  if (rules.selectPolicy !== 'Max' && rules.selectPolicy !== 'Min')
    throw new OptionError(OWNER, `${field}.selectPolicy`, '"Max" or "Min"', rules.selectPolicy);
  if (rules.policies.length === 0)
    throw new OptionError(OWNER, `${field}.policies`, 'non-empty', rules.policies);
  rules.policies.forEach((p, i) => {
    if (p.type !== 'Pods' && p.type !== 'Percent')
      throw new OptionError(OWNER, `${field}.policies[${i}].type`, '"Pods" or "Percent"', p.type);
    numberOption(OWNER, `${field}.policies[${i}].value`, p.value, {
      default: 0,
      min: 0,
      exclusive: true,
    });
    numberOption(OWNER, `${field}.policies[${i}].periodSeconds`, p.periodSeconds, {
      default: 0,
      min: 0,
      exclusive: true,
    });
  });
  return rules;
}

/** (time, value) pairs, oldest first, in a growable ring of typed arrays (no allocation per push). */
class TimedRing {
  private times = new Float64Array(64);
  private values = new Float64Array(64);
  private head = 0;
  /** Entries held. */
  length = 0;

  /** The k-th oldest entry's time. */
  time(k: number): number {
    return this.times[(this.head + k) % this.times.length] as number;
  }

  /** The k-th oldest entry's value. */
  value(k: number): number {
    return this.values[(this.head + k) % this.values.length] as number;
  }

  push(time: number, value: number): void {
    if (this.length === this.times.length) this.grow();
    const i = (this.head + this.length) % this.times.length;
    this.times[i] = time;
    this.values[i] = value;
    this.length++;
  }

  /** Drops the oldest entries with time <= `cutS`. */
  dropUntil(cutS: number): void {
    while (this.length > 0 && (this.times[this.head] as number) <= cutS) {
      this.head = (this.head + 1) % this.times.length;
      this.length--;
    }
  }

  private grow(): void {
    const n = this.times.length * 2;
    const times = new Float64Array(n);
    const values = new Float64Array(n);
    for (let k = 0; k < this.length; k++) {
      times[k] = this.time(k);
      values[k] = this.value(k);
    }
    this.times = times;
    this.values = values;
    this.head = 0;
  }
}
