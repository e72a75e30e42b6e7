/**
 * `@tidewatch/middleware`: realtime server metrics through prom-client and OpenTelemetry.
 * Adapters live in subpath entries (`@tidewatch/middleware/ws`).
 * @packageDocumentation
 */
// The catalogue moved to @tidewatch/conventions; these re-exports keep old imports working.
export type {
  /** @deprecated Import from `@tidewatch/conventions`. */
  Aggregation,
  CloseReason,
  HandshakeOutcome,
  /** @deprecated Import from `@tidewatch/conventions`. */
  LabelSpec,
  /** @deprecated Import from `@tidewatch/conventions`. */
  MetricKey,
  /** @deprecated Import from `@tidewatch/conventions`. */
  MetricSpec,
  /** @deprecated Import from `@tidewatch/conventions`. */
  MetricType,
} from '@tidewatch/conventions';
export {
  /** @deprecated Import from `@tidewatch/conventions`. */
  CATALOG,
  /** @deprecated Import from `@tidewatch/conventions`. */
  CLOSE_REASONS,
  /** @deprecated Import from `@tidewatch/conventions`. */
  HANDSHAKE_OUTCOMES,
  /** @deprecated Import from `@tidewatch/conventions`. */
  METRIC_KEYS,
  /** @deprecated Import from `@tidewatch/conventions`. */
  OVERFLOW_VALUE,
  /** @deprecated Import from `@tidewatch/conventions`. */
  TRANSPORTS,
} from '@tidewatch/conventions';
export { renderCatalogMarkdown } from './docs.js';
export type { ErrorCode } from './errors.js';
export { ErrorCodes, TidewatchConfigError } from './errors.js';
export type {
  MetricsAuth,
  MetricsHandlerOptions,
  MetricsRequestHandler,
} from './handler.js';
export { metricsHandler } from './handler.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
export type {
  CloseOptions,
  ConnectionHandle,
  ConnectionOptions,
  HandshakeHandle,
} from './manual.js';
export type { RoomFigures, RoomsHandle, RoomsSnapshot } from './manual-rooms.js';
export type { RealtimeMetrics, RealtimeMetricsOptions, RequestClassifier } from './metrics.js';
export { createRealtimeMetrics } from './metrics.js';
