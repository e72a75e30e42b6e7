/**
 * `@tidewatch/conventions`: the contracts every tidewatch package spells, as data. The
 * `realtime_*` metric catalogue the middleware exports, the `tidewatch_*` signals the
 * predictor sidecar serves, the stale-reason codes, and the trigger and external-metric names
 * the manifests and patch mode share. No dependencies and no work at import time, like
 * OpenTelemetry's semantic-conventions package: outside this package no source file spells a
 * metric name.
 * @packageDocumentation
 */
export {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  type DeploySourceKind,
  PATCH_KINDS,
  type PatchKind,
  PREDICTED_EXTERNAL_METRIC,
  PREDICTED_TRIGGER,
  SOURCE_SCOPES,
  type SourceScope,
} from './autoscaling.js';
export {
  type Aggregation,
  CATALOG,
  CLOSE_REASONS,
  type CloseReason,
  DEFAULT_PREFIX,
  HANDSHAKE_OUTCOMES,
  type HandshakeOutcome,
  type LabelSpec,
  METRIC_KEYS,
  type MetricKey,
  type MetricSpec,
  type MetricType,
  metricName,
  OTHER_ROOM,
  OVERFLOW_VALUE,
  TRANSPORTS,
} from './metrics.js';
export { formatQuantity, parseQuantity } from './quantity.js';
export {
  AGE_STALE_REASONS,
  COUNTER_RESET_RESTARTS,
  type CounterResetRestart,
  DATA_STALE_REASONS,
  DEGRADED_REASONS,
  type DegradedReason,
  FORECAST_ERROR_MEASURES,
  FORECAST_QUANTILES,
  FORECAST_STALE_REASONS,
  PATCH_MODES,
  PATCH_RESULTS,
  PERSIST_FILES,
  type PersistFile,
  SHADOW_POLICIES,
  type ShadowPolicy,
  SIGNAL_KEYS,
  SIGNAL_PREFIX,
  SIGNALS,
  type SignalKey,
  type SignalLabel,
  type SignalSpec,
  STALE_REASONS,
  type StaleReason,
  signalLabelNames,
  TRAIN_OUTCOMES,
} from './signals.js';
