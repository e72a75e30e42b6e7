/**
 * @tidewatch/predictor: load forecasting for realtime servers. Models (seasonal naive,
 * seasonal profile, Holt-Winters, a brain.js LSTM on seasonal residuals, ensembles) are
 * compared by rolling-origin backtest; forecasts carry p50 and p90.
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
export { type Series, sliceSeries, timeAt } from './series.js';
