/**
 * The engine's types (./engine.ts): the decision it makes at an instant, the events it
 * reports, its options and its methods.
 */
import type { StaleReason } from '@tidewatch/conventions';
import type { ForecastPoint, HistoryStore, Plan, Planner, Series } from '@tidewatch/forecast';
import type { BandJson } from './band.js';
import type { Collector } from './collector.js';
import type { ServeConfig } from './config.js';
import type { Forecaster, ForecasterStats } from './forecaster.js';
import type { Logger } from './log.js';
import type { SavedModel } from './model-file.js';
import type { NowcastJson } from './nowcast.js';
import type { TrainResult } from './trainer.js';
import type { WarmingJson } from './warming.js';

/** The current forecast and when it was made. */
export interface CurrentForecast {
  madeAtMs: number;
  points: ForecastPoint[];
}

/** The decision at one instant: what `/metrics` and `/forecast` publish. */
export interface Decision {
  nowMs: number;
  status: 'ok' | 'stale' | 'warming';
  /** Why the forecast is not published (empty when ok). */
  reasons: string[];
  /** The same reasons as stable codes, in the same order. */
  reasonCodes: StaleReason[];
  plan: Plan;
  model: SavedModel | undefined;
  forecast: CurrentForecast | undefined;
  /** Live MASE over the recent window, once enough points were scored. */
  rollingMase: number | undefined;
  /** Seconds since the newest observation / forecast; `null` when there is none. */
  dataAgeSeconds: number | null;
  forecastAgeSeconds: number | null;
  /** The nowcast, when the sidecar runs one (./nowcast.ts sets it; `plan` then includes it). */
  nowcast?: NowcastJson;
  /** While too little history is held for the first training: how much, and the time left. */
  warming?: WarmingJson;
  /** The live p90 band: its adapted level and live coverage (./band.ts). Always set by the engine. */
  band?: BandJson;
  /** Where forecasts ran: the worker thread's counters and the ticks skipped. Always set by the engine. */
  forecaster?: ForecasterJson;
}

/** `/forecast`'s `forecaster`: the forecast thread's counters since the sidecar started. */
export interface ForecasterJson extends ForecasterStats {
  /** Forecast ticks skipped because the previous forecast was still running. */
  skippedForecasts: number;
}

/** Things the engine reports as they happen (the metrics layer counts them). */
export interface EngineEvents {
  /** A training finished (successfully or not) after `seconds`. */
  trained?(seconds: number, ok: boolean): void;
  /** A new model should be persisted. */
  modelChanged?(model: SavedModel): void;
  /** New steps were stored. */
  historyChanged?(): void;
  /**
   * The band adaptation of the current model moved (`model` carries it): persist it with the
   * next history save. Emitted before `historyChanged` of the same collection.
   */
  bandChanged?(model: SavedModel): void;
}

/** Options of `createEngine`. */
export interface EngineOptions {
  config: ServeConfig;
  store: HistoryStore;
  collector: Collector;
  planner: Planner;
  log: Logger;
  /** A model loaded from disk, if any. */
  model?: SavedModel;
  events?: EngineEvents;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
  /** Replaces the worker-thread training (tests). */
  train?: (series: Series, signal: AbortSignal) => Promise<TrainResult>;
  /**
   * Whether this replica may train now (leader election: only the leader does). Default
   * always. Checked before every training starts.
   */
  mayTrain?: () => boolean;
  /** Replaces the forecast worker (tests). Default: `createForecaster` with `forecastWorkerUrl`. */
  forecaster?: Forecaster;
  /** The forecast worker's entry (tests). Default: the built `forecaster-worker.js`. */
  forecastWorkerUrl?: URL;
}

/** See `createEngine`. */
export interface Engine {
  /** Whether a forecast was ever made in this process (`/readyz`). */
  readonly ready: boolean;
  /** Unix ms of the last collection that did not fail, if any. */
  readonly lastCollectMs: number | undefined;
  /** Collects once, then scores, persists (through events) and triggers training. Never rejects. */
  collect(): Promise<void>;
  /**
   * Forecasts with the current model (in the forecast worker), or starts the first training
   * when possible. While a forecast runs, waits for it instead (the skipped tick is counted).
   * Never rejects.
   */
  forecast(): Promise<void>;
  /** Retrains now (no-op while a training runs). Never rejects. */
  retrain(reason: string): Promise<void>;
  /** The decision at `nowMs`. */
  evaluate(nowMs: number): Decision;
  /** The history of the metric, or `undefined` when there is none yet. */
  history(): Series | undefined;
  /**
   * Stops taking new work: later `collect`, `forecast` and `retrain` calls do nothing, and a
   * training or collection that finishes is not followed by more. In-flight work goes on;
   * the forecast worker ends once the forecast in flight (if any) is done.
   */
  halt(): void;
  /**
   * Halts, and aborts the in-flight collection, training and forecast (they settle soon
   * after; the forecast worker is terminated).
   */
  abort(): void;
  /** Work in flight now, by name (`collection`, `training`, `forecast`), for a shutdown to wait on. */
  running(): Map<string, Promise<unknown>>;
  /** Aborts a running training, terminates the forecast worker and waits for in-flight work. */
  stop(): Promise<void>;
  /**
   * Uses `model` from now on (a new leader's takeover: the model the previous leader stored)
   * and forecasts with it at once. No `modelChanged` event: the caller stores it.
   */
  adopt(model: SavedModel): void;
  /** Aborts a running training, if any (a leader that stepped down); the rest goes on. */
  cancelTraining(): void;
}
