/**
 * From a forecast to a scaling signal. The planner looks one lead time ahead (the time a new
 * replica needs from the decision until it serves: pod start + readiness + metric lag +
 * polling), takes the p90 peak over that window and turns it into replicas and into an
 * adjusted HPA threshold. A prediction only ever adds capacity on top of the reactive signal,
 * and a forecast that cannot be trusted publishes nothing (never 0) and says why.
 */
import type { StaleReason } from '@tidewatch/conventions';
import type { ForecastPoint } from '../forecast.js';
import { intOption, numberOption, OptionError } from '../options.js';
import { type StaleReasonArgs, staleReason } from './reasons.js';

const OWNER = 'createPlanner';

/** The parts of the lead time, seconds. Their sum is how far ahead the planner looks. */
export interface LeadTimeOptions {
  /** Scheduling, image pull and process start of a new pod. Default 60. */
  podStartSeconds?: number;
  /** From process start until the readiness probe passes. Default 30. */
  readinessSeconds?: number;
  /** Scrape interval plus rule evaluation: how old the metric is when the HPA reads it. Default 30. */
  metricLagSeconds?: number;
  /** How often the autoscaler reads the metric (KEDA `pollingInterval`, HPA sync 15 s). Default 30. */
  pollingSeconds?: number;
}

/** When a forecast may not be used. */
export interface StalenessOptions {
  /** A forecast made longer ago than this is stale, seconds. Default 180. */
  maxForecastAgeSeconds?: number;
  /** The newest observation older than this means the source is down, seconds. Default 180. */
  maxDataAgeSeconds?: number;
  /** The live forecast error (MASE over the recent window) above this is stale. Default 1. */
  maxRollingMase?: number;
  /** The selected model's backtest MASE above this is stale. Default 1. */
  maxModelMase?: number;
}

/** Options of {@link createPlanner}. */
export interface PlannerOptions {
  /** Load one replica can carry at 100 % (e.g. connections per pod). Required, > 0. */
  capacityPerReplica: number;
  /** The utilisation the HPA targets, (0, 1]. Default 0.7. */
  targetUtilization?: number;
  /** Default 1. */
  minReplicas?: number;
  /** Default 100. */
  maxReplicas?: number;
  /** Most replicas a prediction may add above `currentReplicas` at once. Default unlimited. */
  maxStep?: number;
  lead?: LeadTimeOptions;
  staleness?: StalenessOptions;
}

/** What the planner needs to know at one moment. */
export interface PlanInput {
  /** Now, unix ms. */
  nowMs: number;
  /** The latest observed load (the reactive signal), when known. */
  actual?: number;
  /** Unix ms of that observation. */
  actualMs?: number;
  /** The latest forecast and when it was made. */
  forecast?: { madeAtMs: number; points: readonly ForecastPoint[] };
  /** The selected model's backtest MASE. */
  modelMase?: number;
  /** The forecast's live error over the recent window (see `createAccuracyTracker`). */
  rollingMase?: number;
  /** The last collection failed with this message (cleared by a good collection). */
  sourceError?: string;
  /** Replicas running now, when known (limits the step). */
  currentReplicas?: number;
}

/** A planning decision. `null` fields are not published. */
export interface Plan {
  /** `ok`: the prediction is published; `stale`: reactive scaling only, see `reasons`. */
  status: 'ok' | 'stale';
  /** Why the forecast is not used (empty when ok), as messages. */
  reasons: string[];
  /** The same reasons as stable codes, in the same order (what metrics and pages read). */
  reasonCodes: StaleReason[];
  /** How far ahead the planner looks, seconds. */
  leadTimeSeconds: number;
  /** Highest p90 over the lead time. */
  predictedPeak: number | null;
  /** Highest p50 over the lead time. */
  predictedPeakP50: number | null;
  /**
   * The load the predicted trigger reads: max(p50 peak, target utilisation x p90 peak). The
   * median is held to the target utilisation like actual load; the upper band only has to
   * fit in full capacity (a bare p90 at the same threshold would pad twice).
   */
  predictedLoad: number | null;
  /** Replicas the actual load alone needs (what a reactive HPA aims for). */
  reactiveReplicas: number | null;
  /** max(reactive, predicted) replicas within min/max and the step limit. */
  recommendedReplicas: number | null;
  /**
   * The per-replica HPA target that makes an HPA on the actual metric reach
   * `recommendedReplicas` now (the "dynamic threshold"): capacity x target x actual /
   * predictedLoad (unchanged when the prediction is not above the actual load).
   */
  threshold: number | null;
}

/** A configured planner. */
export interface Planner {
  /** Lead time, seconds. */
  readonly leadTimeSeconds: number;
  /** Load per replica the HPA aims for: capacity x target utilisation. */
  readonly targetPerReplica: number;
  /** Replicas for a load (ceil(load / targetPerReplica) within min/max). */
  replicasFor(load: number): number;
  /** The decision for one moment. Never throws for bad input data: it reports it as stale. */
  plan(input: PlanInput): Plan;
}

/**
 * Creates a planner.
 * @throws OptionError naming the field for a missing or out-of-range option.
 */
export function createPlanner(options: PlannerOptions): Planner {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const capacity = numberOption(OWNER, 'capacityPerReplica', options.capacityPerReplica, {
    default: NaN,
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
  const minReplicas = intOption(OWNER, 'minReplicas', options.minReplicas, { default: 1, min: 0 });
  const maxReplicas = intOption(OWNER, 'maxReplicas', options.maxReplicas, {
    default: 100,
    min: Math.max(1, minReplicas),
  });
  const maxStep = intOption(OWNER, 'maxStep', options.maxStep, {
    default: Number.MAX_SAFE_INTEGER,
    min: 1,
  });
  const lead = options.lead ?? {};
  const leadTimeSeconds =
    numberOption(OWNER, 'lead.podStartSeconds', lead.podStartSeconds, {
      default: 60,
      min: 0,
      unit: 'seconds',
    }) +
    numberOption(OWNER, 'lead.readinessSeconds', lead.readinessSeconds, {
      default: 30,
      min: 0,
      unit: 'seconds',
    }) +
    numberOption(OWNER, 'lead.metricLagSeconds', lead.metricLagSeconds, {
      default: 30,
      min: 0,
      unit: 'seconds',
    }) +
    numberOption(OWNER, 'lead.pollingSeconds', lead.pollingSeconds, {
      default: 30,
      min: 0,
      unit: 'seconds',
    });
  const st = options.staleness ?? {};
  const maxForecastAgeMs =
    1000 *
    numberOption(OWNER, 'staleness.maxForecastAgeSeconds', st.maxForecastAgeSeconds, {
      default: 180,
      min: 0,
      exclusive: true,
      unit: 'seconds',
    });
  const maxDataAgeMs =
    1000 *
    numberOption(OWNER, 'staleness.maxDataAgeSeconds', st.maxDataAgeSeconds, {
      default: 180,
      min: 0,
      exclusive: true,
      unit: 'seconds',
    });
  const maxRollingMase = numberOption(OWNER, 'staleness.maxRollingMase', st.maxRollingMase, {
    default: 1,
    min: 0,
    exclusive: true,
  });
  const maxModelMase = numberOption(OWNER, 'staleness.maxModelMase', st.maxModelMase, {
    default: 1,
    min: 0,
    exclusive: true,
  });
  const targetPerReplica = capacity * target;

  const replicasFor = (load: number): number =>
    Math.min(maxReplicas, Math.max(minReplicas, Math.ceil(load / targetPerReplica - 1e-9)));

  return {
    leadTimeSeconds,
    targetPerReplica,
    replicasFor,
    plan(input) {
      const reasons: string[] = [];
      const reasonCodes: StaleReason[] = [];
      const add = <C extends StaleReason>(code: C, ...args: StaleReasonArgs[C]) => {
        const r = staleReason(code, ...args);
        reasons.push(r.message);
        reasonCodes.push(r.code);
      };
      const now = input.nowMs;
      const actual =
        finite(input.actual) && (input.actual as number) >= 0
          ? (input.actual as number)
          : undefined;
      const reactive = actual === undefined ? null : replicasFor(actual);
      if (input.sourceError) add('source_failing', input.sourceError);
      if (actual === undefined) add('no_observation');
      else if (input.actualMs !== undefined && now - input.actualMs > maxDataAgeMs)
        add('data_old', now - input.actualMs, maxDataAgeMs);
      const fc = input.forecast;
      let peak: number | null = null;
      let peak50: number | null = null;
      let load: number | null = null;
      if (!fc || fc.points.length === 0) add('no_forecast');
      else {
        if (now - fc.madeAtMs > maxForecastAgeMs)
          add('forecast_old', now - fc.madeAtMs, maxForecastAgeMs);
        const window = peakOver(fc.points, now, now + leadTimeSeconds * 1000);
        if (window === undefined) add('lead_time_not_covered');
        else if (!finite(window.p90) || window.p90 < 0) add('invalid_forecast');
        else {
          peak = window.p90;
          peak50 = window.p50;
          load = Math.max(window.p50, target * window.p90);
        }
      }
      if (finite(input.modelMase) && (input.modelMase as number) > maxModelMase)
        add('model_mase', input.modelMase as number, maxModelMase);
      if (finite(input.rollingMase) && (input.rollingMase as number) > maxRollingMase)
        add('rolling_mase', input.rollingMase as number, maxRollingMase);

      if (
        reasons.length > 0 ||
        peak === null ||
        load === null ||
        actual === undefined ||
        reactive === null
      ) {
        return {
          status: 'stale',
          reasons,
          reasonCodes,
          leadTimeSeconds,
          predictedPeak: peak,
          predictedPeakP50: peak50,
          predictedLoad: load,
          reactiveReplicas: reactive,
          recommendedReplicas: null,
          threshold: null,
        };
      }
      let recommended = Math.max(reactive, replicasFor(Math.max(actual, load)));
      if (input.currentReplicas !== undefined && Number.isInteger(input.currentReplicas))
        recommended = Math.max(reactive, Math.min(recommended, input.currentReplicas + maxStep));
      const threshold =
        actual > 0 && load > actual ? (targetPerReplica * actual) / load : targetPerReplica;
      return {
        status: 'ok',
        reasons,
        reasonCodes,
        leadTimeSeconds,
        predictedPeak: peak,
        predictedPeakP50: peak50,
        predictedLoad: load,
        reactiveReplicas: reactive,
        recommendedReplicas: recommended,
        threshold,
      };
    },
  };
}

/**
 * The highest p50 and p90 among forecast points in `[fromMs, toMs]`, extended to the first
 * point at or after `toMs` (a coarse step still covers the end of the window). Undefined when
 * the forecast ends before `toMs`.
 */
export function peakOver(
  points: readonly ForecastPoint[],
  fromMs: number,
  toMs: number,
): { p50: number; p90: number } | undefined {
  let p50 = Number.NEGATIVE_INFINITY;
  let p90 = Number.NEGATIVE_INFINITY;
  let covered = false;
  for (const point of points) {
    const t = Date.parse(point.timestamp);
    if (t < fromMs) continue;
    p50 = Math.max(p50, point.p50);
    p90 = Math.max(p90, point.p90);
    if (t >= toMs) {
      covered = true;
      break;
    }
  }
  return covered ? { p50, p90 } : undefined;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
