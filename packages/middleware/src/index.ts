/**
 * `@tidewatch/middleware`: realtime server metrics through prom-client and OpenTelemetry.
 * Adapters live in subpath entries (`@tidewatch/middleware/ws`).
 * @packageDocumentation
 */
export type {
  Aggregation,
  CloseReason,
  HandshakeOutcome,
  LabelSpec,
  MetricKey,
  MetricSpec,
  MetricType,
} from './catalog.js';
export {
  CATALOG,
  CLOSE_REASONS,
  HANDSHAKE_OUTCOMES,
  METRIC_KEYS,
  OVERFLOW_VALUE,
  TRANSPORTS,
} from './catalog.js';
export { renderCatalogMarkdown } from './docs.js';
export type { ErrorCode } from './errors.js';
export { ErrorCodes, TidewatchConfigError } from './errors.js';
export type {
  MetricsAuth,
  MetricsHandlerOptions,
  MetricsRequestHandler,
} from './handler.js';
export { metricsHandler } from './handler.js';
export type {
  CloseOptions,
  ConnectionHandle,
  ConnectionOptions,
  HandshakeHandle,
} from './manual.js';
export type { RealtimeMetrics, RealtimeMetricsOptions, RequestClassifier } from './metrics.js';
export { createRealtimeMetrics } from './metrics.js';
