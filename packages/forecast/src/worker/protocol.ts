/**
 * The messages between {@link runInWorker} and the worker entry. Only structured-cloneable
 * data crosses: series values as a transferred Float64Array, options without callbacks.
 */
import type { BacktestOptions, BacktestProgress, BacktestReport } from '../backtest/backtest.js';
import type { ForecastOptions, ForecastResult } from '../forecast.js';

/** What a worker can run. */
export type WorkerTask = 'forecast' | 'backtest';

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
    }
  | {
      task: 'backtest';
      series: WireSeries;
      options: BacktestTaskOptions;
      deadline?: number;
      progressIntervalMs: number;
    };

/** Results by task. */
export interface TaskResults {
  forecast: ForecastResult;
  backtest: BacktestReport;
}

/** A message from the worker to the main thread. */
export type WorkerMessage =
  | { type: 'progress'; progress: BacktestProgress }
  | { type: 'result'; result: ForecastResult | BacktestReport }
  | { type: 'error'; name: string; message: string; stack?: string };
