/**
 * `@tidewatch/forecast`: load forecasting as a library. Series and the history store,
 * sources (CSV file, Prometheus range queries, `/metrics` scrape), models (seasonal naive,
 * seasonal profile, Holt-Winters, a brain.js LSTM on seasonal residuals, ensembles) compared
 * by rolling-origin backtest, forecasts with p50 and p90, the planner that turns them into
 * scaling signals, the HPA simulator, and a worker-thread runner. No HTTP server, scheduler,
 * schema library or Kubernetes client in its import graph: the sidecar and the CLI live in
 * `@tidewatch/predictor`.
 *
 * @packageDocumentation
 */

export {
  adaptBand,
  adaptedShift,
  type BandAdaptation,
  type BandAdaptationOptions,
  createBandAdaptation,
} from './backtest/adaptation.js';
export {
  type BacktestOptions,
  type BacktestProgress,
  type BacktestReport,
  type BaseRuns,
  backtest,
  type ModelScore,
  type OriginRun,
  type OutOfSample,
  runBaseModels,
  type ScoredBacktest,
  scoreRuns,
} from './backtest/backtest.js';
export {
  BAND_TARGET,
  type Band,
  conformalise,
  conformalQuantile,
  fitBand,
  pinball,
  upper,
} from './backtest/quantiles.js';
export {
  applyCalendar,
  type Calendar,
  type CalendarEffect,
  type CalendarEffectSource,
  type CalendarEffects,
  type CalendarEvent,
  calendarAdjust,
  loadCalendarFile,
  MAX_CALENDAR_BYTES,
  parseCalendar,
} from './calendar/index.js';
export {
  type FittedForecaster,
  type ForecastOptions,
  type ForecastPoint,
  type ForecastResult,
  forecast,
  forecastFrom,
  forecastWith,
  type Selection,
  select,
} from './forecast.js';
export { HistoryError, type HistoryErrorCode } from './history/errors.js';
export {
  decodeHistory,
  encodeHistory,
  HISTORY_FORMAT,
  HISTORY_VERSION,
  type HistorySnapshot,
  type StoredSeries,
} from './history/format.js';
export {
  createHistoryStore,
  type HistoryStore,
  type HistoryStoreOptions,
  loadHistoryStore,
  type OnCorrupt,
} from './history/store.js';
export { cleanValues, contextFor, type SeasonOptions } from './models/context.js';
export {
  DecomposeScratch,
  type DecomposeSettings,
  decompose,
  seasonalPeriods,
} from './models/decompose.js';
export {
  type HoltWintersOptions,
  type HoltWintersParams,
  holtWintersModel,
} from './models/holt-winters.js';
export { LSTM_INSTALL, type LstmOptions, lstmAvailable, lstmModel } from './models/lstm.js';
export { type MstlParams, mstlModel } from './models/mstl.js';
export {
  availableModelNames,
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
  createNowcaster,
  type InspectableNowcaster,
  type LeadingSignals,
  type Nowcaster,
  type NowcastReason,
  type NowcastState,
} from './nowcast/nowcast.js';
export type { NowcastOptions } from './nowcast/options.js';
export { OptionError } from './options.js';
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
export {
  STALE_REASON_MESSAGES,
  type StaleReasonArgs,
  type StaleReasonDetail,
  staleReason,
} from './planner/reasons.js';
export { createRandom, type Random } from './random.js';
export {
  forecastParallel,
  type ParallelOptions,
  selectInWorkers,
  splitBaseModels,
} from './select/parallel.js';
export { type Series, sliceSeries, timeAt } from './series.js';
export {
  LOAD_BALANCER_POLICIES,
  type LoadBalancerPolicy,
} from './simulate/balancer.js';
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
export { DEFAULT_ROLLOUT } from './simulate/rollout.js';
export {
  type ConnectionModel,
  type RunSimulationOptions,
  type RunSimulationResult,
  runSimulation,
  type SimulationPolicy,
} from './simulate/run.js';
export type { SimulationTrace } from './simulate/score.js';
export {
  type Disruption,
  type KillPodDisruption,
  type PodState,
  type RolloutDisruption,
  type StickyOptions,
  simulateSticky,
} from './simulate/sticky.js';
export {
  type CounterDecrease,
  type CounterEvent,
  type CounterRate,
  type CounterSample,
  counterRates,
  createCounterRate,
  type RateResult,
} from './sources/counter-rate.js';
export { failuresOf, SourceError, SourceFailures } from './sources/errors.js';
export {
  type ParsedExposition,
  type PickedMetric,
  type PickedSample,
  parseExposition,
  pickFrom,
  pickMetric,
} from './sources/exposition.js';
export {
  type CsvParseOptions,
  createFileSource,
  type FileSourceOptions,
  parseSeriesCsv,
} from './sources/file.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_POINTS,
  MAX_BODY_BYTES_LIMIT,
} from './sources/limits.js';
export {
  createPrometheusSource,
  PROMETHEUS_MAX_POINTS,
  type PrometheusSource,
  type PrometheusSourceOptions,
} from './sources/prometheus.js';
export {
  type InstantSample,
  type PrometheusInstantOptions,
  prometheusSourceName,
  queryPrometheusInstant,
} from './sources/prometheus-instant.js';
export { backoffDelay, type RetryOptions, withRetry } from './sources/retry.js';
export {
  type CounterResetEvent,
  createScraper,
  createScrapeSource,
  type Scraper,
  type ScraperOptions,
  type ScrapeSource,
  type ScrapeSourceOptions,
} from './sources/scrape.js';
export type { ReadOptions, Source } from './sources/types.js';
export type { WorkerTask } from './worker/protocol.js';
export {
  type BacktestTaskInput,
  type BaseRunsTaskInput,
  type ForecastTaskInput,
  type RunInWorkerOptions,
  runInWorker,
  WorkerTimeoutError,
} from './worker/runner.js';
