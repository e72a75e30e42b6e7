/**
 * Test helpers for tidewatch's integration tests: a real Prometheus server per test, the real
 * `promtool`, headless Chromium, built CLIs as child processes, local HTTP servers, fixtures,
 * sidecar settings, and waits on conditions. Consumed as TypeScript source by vitest (no build
 * step).
 *
 * @packageDocumentation
 */

export { binaryEnvVar, requireBinary } from './binaries.js';
export * from './chaos.js';
export { type ChromiumHandle, launchChromium } from './chromium.js';
export { parseSamples, sumSamples } from './exposition.js';
export { type FixtureSeries, fixturePath, flightsHourly, head, hourlyCsv } from './fixtures.js';
export { freePort } from './free-port.js';
export { type HttpServerHandle, startHttpServer } from './http-server.js';
export { type PollOptions, pollUntil, withTimeout } from './poll.js';
export {
  type CliExit,
  type CliOptions,
  type CliOutput,
  type CliProcess,
  type CliRun,
  runCli,
  startCli,
  stopStartedProcesses,
  type WaitForOutputOptions,
} from './process.js';
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
export { seededRandom } from './random.js';
export { type RedisHandle, type StartRedisOptions, startRedis } from './redis.js';
export { FAST_SIDECAR } from './sidecar.js';
