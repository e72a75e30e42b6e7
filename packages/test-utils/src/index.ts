/**
 * Test helpers for tidewatch's integration tests: a real Prometheus server per test, the real
 * `promtool`, and small utilities. Consumed as TypeScript source by vitest (no build step).
 *
 * @packageDocumentation
 */

export { binaryEnvVar, requireBinary } from './binaries.js';
export { type ChromiumHandle, launchChromium } from './chromium.js';
export { type FixtureSeries, fixturePath, flightsHourly, head } from './fixtures.js';
export { freePort } from './free-port.js';
export { type PollOptions, pollUntil } from './poll.js';
export {
  type InstantSample,
  PrometheusApiError,
  type PrometheusHandle,
  type PrometheusTarget,
  type QueryRangeOptions,
  type RangeSeries,
  type StartPrometheusOptions,
  startPrometheus,
  type WaitForOptions,
} from './prometheus.js';
export {
  type PrometheusConfigOptions,
  renderPrometheusConfig,
  type ScrapeTarget,
} from './prometheus-config.js';
export { type PromtoolOptions, type PromtoolResult, promtool } from './promtool.js';
