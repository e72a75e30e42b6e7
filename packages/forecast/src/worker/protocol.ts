/**
 * The messages between {@link runInWorker} and the worker entry. Only structured-cloneable
 * data crosses: series values as a transferred Float64Array, options without callbacks.
 */
import type {
  BacktestOptions,
  BacktestProgress,
  BacktestReport,
  BaseRuns,
} from '../backtest/backtest.js';
import type { ForecastOptions, ForecastResult } from '../forecast.js';

/**
 * What a worker can run. `base-runs` is one group of a backtest's base models
 * ({@link runBaseModels} with `only`): the parallel selection runs it in a second worker.
 */
export type WorkerTask = 'forecast' | 'backtest' | 'base-runs';

/** A series as it crosses the thread boundary (values transferred, not copied). */
export interface WireSeries {
  readonly startMs: number;
  readonly stepMs: number;
  readonly values: Float64Array;
}

/** Options a worker task accepts: everything but the callbacks and the deadline the runner sets. */
export type ForecastTaskOptions = Omit<ForecastOptions, 'onProgress' | 'deadline'>;
/** Options a backtest task accepts (see {@link ForecastTaskOptions}). */
export type BacktestTaskOptions = Omit<BacktestOptions, 'onProgress' | 'deadline'>;

/** `workerData` of a worker: the task, its input and the runner's settings. */
export type WorkerRequest =
  | {
      task: 'forecast';
      series: WireSeries;
      options: ForecastTaskOptions;
      deadline?: number;
      progressIntervalMs: number;
      /** Select over base-model groups in two threads (default true). */
      parallel?: boolean;
    }
  | {
      task: 'backtest';
      series: WireSeries;
      options: BacktestTaskOptions;
      deadline?: number;
      progressIntervalMs: number;
    }
  | {
      task: 'base-runs';
      series: WireSeries;
      options: BacktestTaskOptions;
      /** The base models of this group. */
      only: string[];
      deadline?: number;
      progressIntervalMs: number;
    };

/** Results by task. */
export interface TaskResults {
  forecast: ForecastResult;
  backtest: BacktestReport;
  'base-runs': BaseRuns[];
}

/** A message from the worker to the main thread. */
export type WorkerMessage =
  | { type: 'progress'; progress: BacktestProgress }
  | { type: 'result'; result: TaskResults[WorkerTask] }
  | { type: 'error'; name: string; message: string; stack?: string };
