/**
 * @tidewatch/predictor: load forecasting and predictive autoscaling for realtime servers.
 * Models (seasonal naive, seasonal profile, Holt-Winters, a brain.js LSTM on seasonal
 * residuals, ensembles) are compared by rolling-origin backtest; forecasts carry p50 and p90.
 * The planner turns them into scaling signals; the HPA simulator replays traces under
 * reactive and predictive policies.
 *
 * @packageDocumentation
 */

export {
  type BacktestOptions,
  type BacktestProgress,
  type BacktestReport,
  backtest,
  type ModelScore,
} from './backtest/backtest.js';
export { type Band, fitBand, pinball, upper } from './backtest/quantiles.js';
export {
  type FittedForecaster,
  type ForecastOptions,
  type ForecastPoint,
  type ForecastResult,
  forecast,
  forecastWith,
} from './forecast.js';
export { HistoryError, type HistoryErrorCode, OptionError } from './history/errors.js';
export {
  createHistoryStore,
  type HistoryStore,
  type HistoryStoreOptions,
  loadHistoryStore,
  type OnCorrupt,
} from './history/store.js';
// k8s (issue 5)
export {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  createPatcher,
  DEFAULT_DEPLOY_CONFIG,
  type DeployConfig,
  DeployConfigError,
  type DeployConfigInput,
  type DeployFile,
  deployConfig,
  deployFiles,
  generateDeployFiles,
  type Manifest,
  type Patcher,
  type PatcherOptions,
  type PatcherStats,
  type PatchKind,
  type PatchResult,
  PREDICTED_EXTERNAL_METRIC,
  PREDICTED_TRIGGER,
  renderDeployFile,
  targetPerReplica,
} from './k8s/index.js';
export { cleanValues, contextFor, type SeasonOptions } from './models/context.js';
export {
  type HoltWintersOptions,
  type HoltWintersParams,
  holtWintersModel,
} from './models/holt-winters.js';
export { type LstmOptions, lstmModel } from './models/lstm.js';
export {
  BASELINES,
  createModels,
  loadModel,
  MODEL_NAMES,
  type ModelName,
  type ModelOptions,
} from './models/registry.js';
export {
  naiveModel,
  type ProfileParams,
  seasonalNaiveModel,
  seasonalProfileModel,
} from './models/seasonal.js';
export { seasonalMae } from './models/stats.js';
export type { FitProgress, Model, ModelContext, ModelJSON } from './models/types.js';
export {
  type AccuracySnapshot,
  type AccuracyTracker,
  type AccuracyTrackerOptions,
  createAccuracyTracker,
} from './planner/accuracy.js';
export {
  createPlanner,
  type LeadTimeOptions,
  type Plan,
  type PlanInput,
  type Planner,
  type PlannerOptions,
  peakOver,
  type StalenessOptions,
} from './planner/planner.js';
export { type Series, sliceSeries, timeAt } from './series.js';
export { createSidecar, type Sidecar, type SidecarOptions } from './serve/app.js';
export {
  ConfigError,
  type ConfigOverride,
  ENV_VARS,
  type EnvVar,
  envOverrides,
  flagOverrides,
  type LoadOptions,
  loadServeConfig,
  PLACEHOLDER_CAPACITY,
  parseServeConfig,
  type ServeConfig,
  type ServeConfigInput,
  type ServeFlags,
} from './serve/config.js';
export { createJsonLogger, type Logger, type LogLevel, silentLogger } from './serve/log.js';
export { statusPageRouter } from './serve/page/index.js';
export type { ForecastJson, HistoryPointJson } from './serve/routes.js';
export {
  createHpa,
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  type Hpa,
  type HpaOptions,
  type HpaPolicy,
  type HpaRules,
} from './simulate/hpa.js';
export { type SimulationOptions, type SimulationResult, simulate } from './simulate/replay.js';
export { type RollingOptions, type RollingResult, rollingPredictions } from './simulate/rolling.js';
export {
  type RunSimulationOptions,
  type RunSimulationResult,
  runSimulation,
  type SimulationPolicy,
} from './simulate/run.js';
export {
  type CounterEvent,
  type CounterRate,
  type CounterSample,
  counterRates,
  createCounterRate,
  type RateResult,
} from './sources/counter-rate.js';
export { SourceError } from './sources/errors.js';
export { type PickedMetric, type PickedSample, pickMetric } from './sources/exposition.js';
export {
  type CsvParseOptions,
  createFileSource,
  type FileSourceOptions,
  parseSeriesCsv,
} from './sources/file.js';
export {
  createPrometheusSource,
  PROMETHEUS_MAX_POINTS,
  type PrometheusSource,
  type PrometheusSourceOptions,
} from './sources/prometheus.js';
export { backoffDelay, type RetryOptions, withRetry } from './sources/retry.js';
export { createScraper, type Scraper, type ScraperOptions } from './sources/scrape.js';
export type { ReadOptions, Source } from './sources/types.js';
export type { WorkerTask } from './worker/protocol.js';
export {
  type BacktestTaskInput,
  type ForecastTaskInput,
  type RunInWorkerOptions,
  runInWorker,
  WorkerTimeoutError,
} from './worker/runner.js';
