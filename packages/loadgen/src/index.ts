/**
 * `@tidewatch/loadgen`: a trace-driven load generator for realtime servers (WebSocket,
 * Socket.IO, SSE, MQTT, gRPC) with reconnecting clients, and a report a test can compare with the
 * server's `/metrics`.
 * @packageDocumentation
 */
export {
  ArrivalLoop,
  type ArrivalSchedule,
  type Clock,
  poissonSchedule,
  realClock,
  type TraceScheduleOptions,
  traceSchedule,
} from './arrivals.js';
export { backoffDelay } from './backoff.js';
export { LoadgenConfigError } from './errors.js';
export {
  type ExpectedCountsOptions,
  expectedServerCounts,
  readServerCounts,
  SERVER_TRANSPORT_LABEL,
} from './expected.js';
export {
  createLoadGenerator,
  type LoadGenerator,
  type LoadGeneratorEvents,
} from './generator.js';
export { GRPC_ECHO_PATH, grpcEchoHandler, grpcEchoService } from './grpc-echo.js';
export type { LatencySummary } from './latency.js';
export {
  isLoopbackHost,
  type LimitOptions,
  type LoadOptions,
  type MqttQos,
  type RateArrivals,
  type ReconnectOptions,
  type SessionOptions,
  TRANSPORT_NAMES,
  type Trace,
  type TraceArrivals,
  type TransportName,
} from './options.js';
export { createRandom, type Random } from './random.js';
export type { ConnectionCounts, LoadReport } from './report.js';
export {
  type FlightsResolution,
  flightsFixturePath,
  flightsTrace,
  loadTrace,
  parseTraceCsv,
} from './trace.js';

/** Package version. */
export const VERSION = '0.1.0';
