/**
 * The predictor sidecar's signal catalogue: every `tidewatch_*` series its `/metrics` serves.
 * The sidecar registers its metrics from this table; the generated dashboards, alert rules,
 * rule tests, runbooks and Kubernetes manifests spell the names through it; docs/sidecar.md's
 * table is checked against it.
 */

/** The prefix every sidecar signal carries (fixed: KEDA triggers and rules depend on it). */
export const SIGNAL_PREFIX = 'tidewatch_';

/** One label of a signal. */
export interface SignalLabel {
  readonly name: string;
  readonly help: string;
  /** The closed set of values, when there is one. */
  readonly values?: readonly string[];
}

/** One row of the signal catalogue. */
export interface SignalSpec {
  /** The full Prometheus name, e.g. `tidewatch_forecast`. */
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  /** Base unit (`seconds`) or a count noun; empty for a load in the metric's own unit. */
  readonly unit: string;
  readonly labels: readonly SignalLabel[];
}

/**
 * Why a forecast is not published: the values of `tidewatch_forecast_stale{reason}` and the
 * codes of the planner's and the sidecar engine's reasons (the status page reads these codes,
 * never the English messages).
 */
export const STALE_REASONS = [
  'source_failing',
  'no_observation',
  'data_old',
  'no_forecast',
  'forecast_old',
  'lead_time_not_covered',
  'invalid_forecast',
  'model_mase',
  'rolling_mase',
  'training',
  'training_failed',
  'too_little_history',
  'forecast_failed',
] as const;
/** A stale-reason code. */
export type StaleReason = (typeof STALE_REASONS)[number];

/** Stale reasons that say the data is missing or too old (the status page's data freshness). */
export const DATA_STALE_REASONS: readonly StaleReason[] = [
  'source_failing',
  'no_observation',
  'data_old',
];
/** Stale reasons that say the forecast is missing or too old (the page's forecast freshness). */
export const FORECAST_STALE_REASONS: readonly StaleReason[] = ['no_forecast', 'forecast_old'];
/** Stale reasons that are an age over its limit (the page says "too old"). */
export const AGE_STALE_REASONS: readonly StaleReason[] = ['data_old', 'forecast_old'];

/** Quantiles `tidewatch_forecast` publishes. */
export const FORECAST_QUANTILES = ['0.5', '0.9'] as const;
/** Measures of `tidewatch_forecast_error`. */
export const FORECAST_ERROR_MEASURES = ['mase', 'wape', 'coverage90', 'rolling_mase'] as const;
/** Outcomes of `tidewatch_train_runs_total`. */
export const TRAIN_OUTCOMES = ['success', 'failure'] as const;
/**
 * Results of `tidewatch_patch_requests_total`: `conflict` counts writes rejected as lost updates
 * (409/422: the object changed between read and patch), each retried from a fresh read.
 */
export const PATCH_RESULTS = ['patched', 'skipped', 'failed', 'conflict'] as const;
/** Modes of `tidewatch_patch_threshold`. */
export const PATCH_MODES = ['predicted', 'reactive'] as const;
/**
 * Values of `tidewatch_counter_resets_total{restart}`: `true` when the target's
 * `process_start_time_seconds` changed (a real restart), `false` when it did not (a counter that
 * went down without a restart: a glitch), `unknown` when the target exposes no start time.
 */
export const COUNTER_RESET_RESTARTS = ['true', 'false', 'unknown'] as const;
/** A value of `tidewatch_counter_resets_total{restart}`. */
export type CounterResetRestart = (typeof COUNTER_RESET_RESTARTS)[number];
/**
 * Why the sidecar is `degraded` (serving, but something an operator must fix): the values of
 * `tidewatch_degraded{reason}` and of `health.reasons` on `/forecast` and `/healthz`.
 * `persist_failed`: the history or model could not be saved (read-only, full or vanished data
 * directory); a restart would lose what was not saved.
 */
export const DEGRADED_REASONS = ['persist_failed'] as const;
/** A degraded-reason code. */
export type DegradedReason = (typeof DEGRADED_REASONS)[number];
/** Files the sidecar persists: the values of `tidewatch_persist_errors_total{file}`. */
export const PERSIST_FILES = ['history', 'model'] as const;
/**
 * Policies of the shadow report (`tidewatch_shadow_*{policy}`): `actual` is what the HPA ran,
 * `predictive` what it would have run with the predicted trigger added.
 */
export const SHADOW_POLICIES = ['actual', 'predictive'] as const;
/** A shadow-report policy. */
export type ShadowPolicy = (typeof SHADOW_POLICIES)[number];
/** The `policy` label of the shadow signals. */
const shadowPolicy = {
  name: 'policy',
  help: '`actual` (what the HPA ran) or `predictive` (what it would have run with the prediction).',
  values: SHADOW_POLICIES,
} as const satisfies SignalLabel;
/** A persisted file. */
export type PersistFile = (typeof PERSIST_FILES)[number];

const metric: SignalLabel = {
  name: 'metric',
  help: 'The forecast load metric (the sidecar config `metric`).',
};
const target: SignalLabel = {
  name: 'target',
  help: 'The scaling target (the sidecar config `target`).',
};

/** The signals, keyed by a stable identifier. */
export const SIGNALS = {
  forecast: {
    name: 'tidewatch_forecast',
    type: 'gauge',
    unit: '',
    help: 'Predicted peak load over the lead time (label horizon) at quantile 0.5 and 0.9; absent while the forecast is stale.',
    labels: [
      metric,
      { name: 'horizon', help: 'The lead time, e.g. `150s`.' },
      { name: 'quantile', help: '`0.5` (p50) or `0.9` (p90).', values: FORECAST_QUANTILES },
    ],
  },
  predictedLoad: {
    name: 'tidewatch_predicted_load',
    type: 'gauge',
    unit: '',
    help: 'What the predicted KEDA/HPA trigger reads, with the same threshold as the actual load: max(p50 peak, target utilisation x p90 peak) over the lead time; absent while stale.',
    labels: [metric, { name: 'horizon', help: 'The lead time, e.g. `150s`.' }],
  },
  recommendedReplicas: {
    name: 'tidewatch_recommended_replicas',
    type: 'gauge',
    unit: 'replicas',
    help: 'Replicas the predicted peak (and the actual load) need; absent while the forecast is stale.',
    labels: [target],
  },
  scalingThreshold: {
    name: 'tidewatch_scaling_threshold',
    type: 'gauge',
    unit: '',
    help: 'Per-replica HPA target that makes an HPA on the actual metric reach the recommended replicas now; absent while stale.',
    labels: [target],
  },
  forecastError: {
    name: 'tidewatch_forecast_error',
    type: 'gauge',
    unit: '',
    help: 'Error of the current model: backtest mase, wape, coverage90 and the live rolling_mase.',
    labels: [
      metric,
      { name: 'model', help: 'The model in use.' },
      { name: 'measure', help: 'The error measure.', values: FORECAST_ERROR_MEASURES },
    ],
  },
  modelInfo: {
    name: 'tidewatch_model_info',
    type: 'gauge',
    unit: '',
    help: 'The model in use (value 1).',
    labels: [metric, { name: 'model', help: 'The model in use.' }],
  },
  forecastAgeSeconds: {
    name: 'tidewatch_forecast_age_seconds',
    type: 'gauge',
    unit: 'seconds',
    help: 'Seconds since the current forecast was made; absent before the first forecast.',
    labels: [],
  },
  sourceErrors: {
    name: 'tidewatch_source_errors_total',
    type: 'counter',
    unit: 'errors',
    help: 'Failed collections per source (scrape:URL or prometheus:URL).',
    labels: [{ name: 'source', help: 'The source, e.g. `scrape:URL` or `prometheus:URL`.' }],
  },
  counterResets: {
    name: 'tidewatch_counter_resets_total',
    type: 'counter',
    unit: 'resets',
    help: 'Counter decreases seen by the scrape source, by source and whether the target restarted (true: its process_start_time_seconds changed; false: it did not, a glitch whose step is skipped; unknown: no start time exposed).',
    labels: [
      { name: 'source', help: 'The source, e.g. `scrape:URL`.' },
      { name: 'restart', help: '`true`, `false` or `unknown`.', values: COUNTER_RESET_RESTARTS },
    ],
  },
  persistErrors: {
    name: 'tidewatch_persist_errors_total',
    type: 'counter',
    unit: 'errors',
    help: 'Failed saves of the history or the model file (read-only, full or vanished data directory).',
    labels: [{ name: 'file', help: '`history` or `model`.', values: PERSIST_FILES }],
  },
  degraded: {
    name: 'tidewatch_degraded',
    type: 'gauge',
    unit: '',
    help: 'One series per reason the sidecar is degraded (value 1), e.g. persist_failed; none while healthy.',
    labels: [{ name: 'reason', help: 'A degraded-reason code.', values: DEGRADED_REASONS }],
  },
  forecastStale: {
    name: 'tidewatch_forecast_stale',
    type: 'gauge',
    unit: '',
    help: 'One series per reason the forecast is not published (value 1); none while it is.',
    labels: [metric, { name: 'reason', help: 'A stale-reason code.', values: STALE_REASONS }],
  },
  historyPoints: {
    name: 'tidewatch_history_points',
    type: 'gauge',
    unit: 'points',
    help: 'Points of history held for the metric (bounded by historyPoints).',
    labels: [metric],
  },
  lastCollectTimestampSeconds: {
    name: 'tidewatch_last_collect_timestamp_seconds',
    type: 'gauge',
    unit: 'seconds',
    help: 'Unix time of the last successful collection; absent before the first.',
    labels: [],
  },
  trainDurationSeconds: {
    name: 'tidewatch_train_duration_seconds',
    type: 'gauge',
    unit: 'seconds',
    help: 'Wall-clock duration of the last training run in this process; absent before the first.',
    labels: [],
  },
  trainRuns: {
    name: 'tidewatch_train_runs_total',
    type: 'counter',
    unit: 'runs',
    help: 'Training runs by outcome (success, failure).',
    labels: [{ name: 'outcome', help: '`success` or `failure`.', values: TRAIN_OUTCOMES }],
  },
  scheduledJobs: {
    name: 'tidewatch_scheduled_jobs',
    type: 'gauge',
    unit: 'jobs',
    help: 'Scheduled jobs alive (collect, forecast, retrain).',
    labels: [],
  },
  patchRequests: {
    name: 'tidewatch_patch_requests_total',
    type: 'counter',
    unit: 'requests',
    help: 'Patch-mode applies by result: patched (written), skipped (within the hysteresis), failed (see the log and /forecast); conflict counts writes rejected as lost updates (retried from a fresh read).',
    labels: [target, { name: 'result', help: 'What the apply did.', values: PATCH_RESULTS }],
  },
  patchThreshold: {
    name: 'tidewatch_patch_threshold',
    type: 'gauge',
    unit: '',
    help: 'The threshold patch mode last wrote or found in place, by mode (predicted or reactive = the static capacity x target); absent before the first success.',
    labels: [target, { name: 'mode', help: 'Whose threshold.', values: PATCH_MODES }],
  },
  leader: {
    name: 'tidewatch_leader',
    type: 'gauge',
    unit: '',
    help: 'Leader election: 1 on the replica that holds the Lease (it trains, publishes the scaling signals and patches), 0 on a follower; absent with election disabled.',
    labels: [
      { name: 'identity', help: "This replica's election identity (the pod name by default)." },
    ],
  },
  leaderTransitions: {
    name: 'tidewatch_leader_transitions_total',
    type: 'counter',
    unit: 'transitions',
    help: 'Times this replica became or stopped being the leader; absent with election disabled.',
    labels: [],
  },
  shadowReplicas: {
    name: 'tidewatch_shadow_replicas',
    type: 'gauge',
    unit: 'replicas',
    help: 'Shadow mode: replicas at the last collection under each policy: actual (what the HPA ran, read from Prometheus) and predictive (max(actual, the replicas recommended one lead time earlier)); absent outside shadow mode.',
    labels: [target, shadowPolicy],
  },
  shadowOverloadedPodMinutes: {
    name: 'tidewatch_shadow_overloaded_pod_minutes_total',
    type: 'counter',
    unit: 'pod-minutes',
    help: 'Shadow mode: load above replicas x capacityPerReplica, in pods x minutes, under each policy; actual minus predictive is what prediction would have prevented. Absent outside shadow mode.',
    labels: [target, shadowPolicy],
  },
  shadowReplicaSeconds: {
    name: 'tidewatch_shadow_replica_seconds_total',
    type: 'counter',
    unit: 'replica-seconds',
    help: 'Shadow mode: replicas x seconds each policy ran (or would have run): the cost side of the shadow report. Absent outside shadow mode.',
    labels: [target, shadowPolicy],
  },
  nowcastLoad: {
    name: 'tidewatch_nowcast_load',
    type: 'gauge',
    unit: '',
    help: 'Nowcast: the connections the fleet needs capacity for one lead time ahead, from leading signals (handshake rate above its baseline, clients closed abnormally and expected back), while a wave is under way; tidewatch_predicted_load publishes max(plan, nowcast). Absent when the nowcast adds nothing (scrape source only).',
    labels: [metric],
  },
} as const satisfies Record<string, SignalSpec>;

/** Identifier of a sidecar signal, e.g. `'predictedLoad'`. */
export type SignalKey = keyof typeof SIGNALS;

/** Signal keys in a stable order (the order of `SIGNALS`). */
export const SIGNAL_KEYS = Object.keys(SIGNALS) as SignalKey[];

/** The label names of a signal, in order. */
export function signalLabelNames(key: SignalKey): string[] {
  return SIGNALS[key].labels.map((l: SignalLabel) => l.name);
}
