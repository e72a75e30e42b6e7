/**
 * `@tidewatch/predictor`: the predictor sidecar (`tidewatch-predictor serve`: collection,
 * forecasting in worker threads, the planner's scaling signals on `/metrics`, the status page,
 * patch mode) and the `tidewatch-predictor` CLI. The forecasting library it runs on is
 * `@tidewatch/forecast`; the manifests it is deployed with come from `@tidewatch/mixin`.
 *
 * @packageDocumentation
 */

// The forecasting library moved to @tidewatch/forecast; these re-exports keep old imports
// working until 0.2.
export {
  /** @deprecated Import from `@tidewatch/forecast`. */
  type AccuracySnapshot,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type AccuracyTracker,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type AccuracyTrackerOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  BASELINES,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type BacktestOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type BacktestProgress,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type BacktestReport,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type BacktestTaskInput,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Band,
  /** @deprecated Import from `@tidewatch/forecast`. */
  backoffDelay,
  /** @deprecated Import from `@tidewatch/forecast`. */
  backtest,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type CounterEvent,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type CounterRate,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type CounterSample,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type CsvParseOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  cleanValues,
  /** @deprecated Import from `@tidewatch/forecast`. */
  contextFor,
  /** @deprecated Import from `@tidewatch/forecast`. */
  counterRates,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createAccuracyTracker,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createCounterRate,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createFileSource,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createHistoryStore,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createHpa,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createModels,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createPlanner,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createPrometheusSource,
  /** @deprecated Import from `@tidewatch/forecast`. */
  createScraper,
  /** @deprecated Import from `@tidewatch/forecast`. */
  DEFAULT_SCALE_DOWN,
  /** @deprecated Import from `@tidewatch/forecast`. */
  DEFAULT_SCALE_UP,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type FileSourceOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type FitProgress,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type FittedForecaster,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ForecastOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ForecastPoint,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ForecastResult,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ForecastTaskInput,
  /** @deprecated Import from `@tidewatch/forecast`. */
  fitBand,
  /** @deprecated Import from `@tidewatch/forecast`. */
  forecast,
  /** @deprecated Import from `@tidewatch/forecast`. */
  forecastWith,
  /** @deprecated Import from `@tidewatch/forecast`. */
  HistoryError,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HistoryErrorCode,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HistoryStore,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HistoryStoreOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HoltWintersOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HoltWintersParams,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Hpa,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HpaOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HpaPolicy,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type HpaRules,
  /** @deprecated Import from `@tidewatch/forecast`. */
  holtWintersModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type LeadTimeOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type LstmOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  loadHistoryStore,
  /** @deprecated Import from `@tidewatch/forecast`. */
  loadModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  lstmModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  MODEL_NAMES,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Model,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ModelContext,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ModelJSON,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ModelName,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ModelOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ModelScore,
  /** @deprecated Import from `@tidewatch/forecast`. */
  naiveModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type OnCorrupt,
  /** @deprecated Import from `@tidewatch/forecast`. */
  OptionError,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PickedMetric,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PickedSample,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Plan,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PlanInput,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Planner,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PlannerOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  PROMETHEUS_MAX_POINTS,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ProfileParams,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PrometheusSource,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type PrometheusSourceOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  parseSeriesCsv,
  /** @deprecated Import from `@tidewatch/forecast`. */
  peakOver,
  /** @deprecated Import from `@tidewatch/forecast`. */
  pickMetric,
  /** @deprecated Import from `@tidewatch/forecast`. */
  pinball,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RateResult,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ReadOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RetryOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RollingOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RollingResult,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RunInWorkerOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RunSimulationOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type RunSimulationResult,
  /** @deprecated Import from `@tidewatch/forecast`. */
  rollingPredictions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  runInWorker,
  /** @deprecated Import from `@tidewatch/forecast`. */
  runSimulation,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Scraper,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type ScraperOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type SeasonOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Series,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type SimulationOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type SimulationPolicy,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type SimulationResult,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type Source,
  /** @deprecated Import from `@tidewatch/forecast`. */
  SourceError,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type StalenessOptions,
  /** @deprecated Import from `@tidewatch/forecast`. */
  seasonalMae,
  /** @deprecated Import from `@tidewatch/forecast`. */
  seasonalNaiveModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  seasonalProfileModel,
  /** @deprecated Import from `@tidewatch/forecast`. */
  simulate,
  /** @deprecated Import from `@tidewatch/forecast`. */
  sliceSeries,
  /** @deprecated Import from `@tidewatch/forecast`. */
  timeAt,
  /** @deprecated Import from `@tidewatch/forecast`. */
  upper,
  /** @deprecated Import from `@tidewatch/forecast`. */
  type WorkerTask,
  /** @deprecated Import from `@tidewatch/forecast`. */
  WorkerTimeoutError,
  /** @deprecated Import from `@tidewatch/forecast`. */
  withRetry,
} from '@tidewatch/forecast';
// The manifest generator moved to @tidewatch/mixin (entry `@tidewatch/mixin/deploy`).
export {
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  ACTUAL_EXTERNAL_METRIC,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  ACTUAL_TRIGGER,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  DEFAULT_DEPLOY_CONFIG,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  type DeployConfig,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  DeployConfigError,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  type DeployConfigInput,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  type DeployFile,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  deployConfig,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  deployFiles,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  generateDeployFiles,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  type Manifest,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  type PatchKind,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  PREDICTED_EXTERNAL_METRIC,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  PREDICTED_TRIGGER,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  renderDeployFile,
  /** @deprecated Import from `@tidewatch/mixin/deploy`. */
  targetPerReplica,
} from '@tidewatch/mixin/deploy';
export {
  createPatcher,
  type Patcher,
  type PatcherOptions,
  type PatcherStats,
  type PatchResult,
  type PatchStep,
} from './patch/patcher.js';
export {
  createSidecar,
  type Sidecar,
  type SidecarOptions,
} from './serve/app.js';
export type { BandJson } from './serve/band.js';
export {
  ConfigError,
  type ConfigOverride,
  ENV_VARS,
  type EnvVar,
  envOverrides,
  flagOverrides,
  type LoadOptions,
  loadServeConfig,
  type ParseOptions,
  PLACEHOLDER_CAPACITY,
  parseServeConfig,
  type ServeConfig,
  type ServeConfigInput,
  type ServeFlags,
} from './serve/config.js';
export type { ForecasterJson } from './serve/engine.js';
export type { ForecastPointJson, ViewJson } from './serve/forecast-view.js';
export {
  createJsonLogger,
  type Logger,
  type LogLevel,
  silentLogger,
} from './serve/log.js';
export { statusPageRouter } from './serve/page/index.js';
export type { HealthJson } from './serve/persist.js';
export type {
  ForecastJson,
  HistoryPointJson,
} from './serve/routes.js';
export type { ShutdownReport } from './serve/shutdown.js';
export type { WarmingJson } from './serve/warming.js';
export {
  BUILTIN_SOURCE_KINDS,
  builtinSourceRegistry,
  createSourceRegistry,
  DEFAULT_SOURCES,
  type PrometheusSourceConfig,
  prometheusKind,
  type ScrapeSourceConfig,
  type SourceContext,
  type SourceKind,
  type SourceNames,
  type SourceRegistry,
  type SourceSetting,
  scrapeKind,
} from './sources/index.js';
