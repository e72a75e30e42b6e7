/**
 * What every forecasting model implements. Models work on plain arrays of values at a fixed
 * step; calendar position comes from {@link ModelContext} so a model never needs timestamps.
 */

/** Facts about the series a model is fitted to. */
export interface ModelContext {
  /** Spacing of the series, milliseconds. */
  readonly stepMs: number;
  /** Unix milliseconds of `y[0]` (for calendar features). */
  readonly startMs: number;
  /** Steps in a day (e.g. 24 hourly, 1440 per minute). May be fractional for odd steps. */
  readonly daySteps: number;
  /** Steps in the season used for weekly models (7 x `daySteps` unless configured). */
  readonly weekSteps: number;
  /**
   * Steps in a year (365.25 days of steps; {@link contextFor} fills it). Models use a yearly
   * season only when the history holds two full years. Absent: no yearly season.
   */
  readonly yearSteps?: number;
  /** Forecast horizon the model is asked for, steps. */
  readonly horizon: number;
  /** Called during long fits (LSTM training) with progress; must not throw. */
  readonly onProgress?: (p: FitProgress) => void;
  /** Wall-clock deadline (`Date.now()` ms) after which training stops early. */
  readonly deadline?: number;
}

/** Progress reported by a fit. */
export interface FitProgress {
  readonly model: string;
  /** Iterations done so far. */
  readonly iterations: number;
  /** Iterations planned. */
  readonly total: number;
  /** The model's training error (its own scale). */
  readonly error: number;
}

/** A model's serialised form: `kind` picks the loader, `params` are its learnt state. */
export interface ModelJSON {
  readonly kind: string;
  readonly name: string;
  readonly params: unknown;
}

/** A forecasting model. */
export interface Model {
  /** Stable name reported by backtests (e.g. `seasonal-naive-weekly`). */
  readonly name: string;
  /** Shortest history (points) the model can fit and forecast from. */
  minHistory(ctx: ModelContext): number;
  /** Learns parameters from `y` (NaN-free). Parameter-free models do nothing. */
  fit(y: Float64Array, ctx: ModelContext): void;
  /**
   * Point forecast (median) of the `h` steps after the end of `y`. `y` may be longer than
   * the series the model was fitted on (rolling origin without refitting).
   */
  predict(y: Float64Array, h: number, ctx: ModelContext): Float64Array;
  /**
   * Costly to fit (a neural network): a backtest fits it once at the first origin and then
   * only forecasts from later origins, as the sidecar does between daily retrains.
   */
  readonly expensive?: boolean;
  /** For a combination: the models whose forecasts it averages (fitted by the caller once). */
  readonly members?: readonly Model[];
  /** Serialisable state; {@link loadModel} rebuilds an identical model from it. */
  toJSON(): ModelJSON;
}
