/**
 * Main-thread side of the worker pool of one: {@link runInWorker} runs a forecast or a
 * backtest in a fresh `worker_threads` Worker so that model training (seconds to a minute of
 * synchronous CPU) never blocks the event loop of the CLI or the sidecar.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BacktestProgress } from '../backtest/backtest.js';
import type { Series } from '../series.js';
import type {
  BacktestTaskOptions,
  ForecastTaskOptions,
  TaskResults,
  WireSeries,
  WorkerMessage,
  WorkerRequest,
  WorkerTask,
} from './protocol.js';

/** Input of a forecast task: the series and the {@link forecast} options without callbacks. */
export interface ForecastTaskInput {
  series: Series;
  options: ForecastTaskOptions;
}

/** Input of a backtest task: the series and the {@link backtest} options without callbacks. */
export interface BacktestTaskInput {
  series: Series;
  options: BacktestTaskOptions;
}

/** Input of a `base-runs` task: one group of a backtest's base models ({@link runBaseModels}). */
export interface BaseRunsTaskInput {
  series: Series;
  options: BacktestTaskOptions;
  /** The base models of this group (names). */
  only: readonly string[];
}

/** Options of {@link runInWorker}. */
export interface RunInWorkerOptions {
  /** Progress of origins and of neural training (iterations, error), throttled. */
  onProgress?: (p: BacktestProgress) => void;
  /**
   * Wall-clock budget, ms, counted from the call. Neural training stops early when it runs
   * out (results are still returned); the worker is terminated at budget + `graceMs`.
   * Default: no budget (the LSTM's own 45 s training cap still applies).
   */
  timeBudgetMs?: number;
  /**
   * Extra time after `timeBudgetMs` for the non-neural rest of the work before the worker is
   * killed, ms. Default max(10,000, `timeBudgetMs`): the run takes at most twice its budget.
   */
  graceMs?: number;
  /** Aborts the task: the worker is terminated and the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** Minimum spacing of fit progress messages, ms. Default 100. */
  progressIntervalMs?: number;
  /**
   * For a forecast: select over the base models in two threads, the worker and one it starts
   * ({@link forecastParallel}; same result as one thread, about half the wall time on two
   * cores). Default true; false runs {@link forecast} in the one worker.
   */
  parallel?: boolean;
}

/** Thrown by {@link runInWorker} when the hard time limit (budget + grace) is hit. */
export class WorkerTimeoutError extends Error {
  override readonly name = 'WorkerTimeoutError';
}

/**
 * Runs a forecast, a backtest or a group of base-model runs in a worker thread and resolves
 * with its result. A forecast selects over its base models in two threads (see `parallel`).
 *
 * The series values are transferred, not copied: when `input.series.values` is a
 * `Float64Array` that owns its whole buffer, that buffer is detached after the call (copy
 * it first if you still need it). Other array types are copied into a new Float64Array.
 *
 * The worker is loaded from `worker.js` next to the built module (`dist/`). Run from
 * TypeScript sources (vitest), it loads `packages/forecast/dist/worker.js`, so tests need
 * `npm run build` first.
 *
 * @throws (rejects) the worker's own error with its original message (too little history,
 *   unknown model); {@link WorkerTimeoutError} when budget + grace is exceeded; an
 *   `AbortError` when `signal` aborts; an Error when the worker script is missing or exits
 *   without a result.
 */
export function runInWorker(
  task: 'forecast',
  input: ForecastTaskInput,
  options?: RunInWorkerOptions,
): Promise<TaskResults['forecast']>;
export function runInWorker(
  task: 'backtest',
  input: BacktestTaskInput,
  options?: RunInWorkerOptions,
): Promise<TaskResults['backtest']>;
export function runInWorker(
  task: 'base-runs',
  input: BaseRunsTaskInput,
  options?: RunInWorkerOptions,
): Promise<TaskResults['base-runs']>;
export function runInWorker(
  task: WorkerTask,
  input: ForecastTaskInput | BacktestTaskInput | BaseRunsTaskInput,
  options: RunInWorkerOptions = {},
): Promise<TaskResults[WorkerTask]> {
  return new Promise((resolve, reject) => {
    const { signal, onProgress, timeBudgetMs } = options;
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    let url: URL;
    try {
      url = workerUrl();
    } catch (error) {
      reject(error);
      return;
    }
    const series = toWire(input.series);
    const deadline = timeBudgetMs !== undefined ? Date.now() + timeBudgetMs : undefined;
    const request = {
      task,
      series,
      options: input.options,
      ...(deadline !== undefined ? { deadline } : {}),
      progressIntervalMs: options.progressIntervalMs ?? 100,
      ...('only' in input ? { only: [...input.only] } : {}),
      ...(options.parallel === false ? { parallel: false } : {}),
    } as WorkerRequest;
    // stdout: true keeps anything a library prints in the worker off our stdout (which
    // carries the CLI's result); it is forwarded to stderr instead.
    const worker = new Worker(url, {
      workerData: request,
      transferList: [series.values.buffer as ArrayBuffer],
      stdout: true,
      stderr: true,
    });
    worker.stdout.pipe(process.stderr, { end: false });
    worker.stderr.pipe(process.stderr, { end: false });

    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => finish(abortError(signal as AbortSignal));
    const finish = (error: unknown, result?: TaskResults[WorkerTask]) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      worker.terminate().catch(() => {});
      if (error) reject(error);
      else resolve(result as TaskResults[WorkerTask]);
    };

    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeBudgetMs !== undefined) {
      const grace = options.graceMs ?? Math.max(10_000, timeBudgetMs);
      // Unref'd: the live worker keeps the process up anyway; the timer alone must not.
      timer = setTimeout(() => {
        finish(
          new WorkerTimeoutError(
            `${task} exceeded its time budget of ${seconds(timeBudgetMs)} (+ ${seconds(grace)} grace) and was stopped`,
          ),
        );
      }, timeBudgetMs + grace).unref();
    }
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'progress') {
        if (!settled) callSafely(onProgress, message.progress);
      } else if (message.type === 'result')
        finish(undefined, message.result as TaskResults[WorkerTask]);
      else finish(workerError(message));
    });
    worker.on('error', (error) => finish(error));
    worker.on('messageerror', (error) => finish(error));
    worker.on('exit', (code) =>
      finish(new Error(`${task} worker exited with code ${code} before returning a result`)),
    );
  });
}

/**
 * Where the built worker entry lives: next to this module in `dist/` (the runner may be
 * bundled into a chunk there, which is also in `dist/`), or, when running from the `.ts`
 * sources under vitest, the package's `dist/worker.js` (worker threads cannot load
 * TypeScript on Node 20).
 * @throws Error when the worker has not been built.
 */
export function workerUrl(base: string = import.meta.url): URL {
  const url = /\.[cm]?ts$/.test(new URL(base).pathname)
    ? new URL('../../dist/worker.js', base)
    : new URL('./worker.js', base);
  if (!existsSync(fileURLToPath(url))) {
    throw new Error(
      `worker script ${fileURLToPath(url)} not found: build the package first (npm run build)`,
    );
  }
  return url;
}

/** The series with its values in a transferable Float64Array of their own. */
function toWire(series: Series): WireSeries {
  const v = series.values;
  const own =
    v instanceof Float64Array &&
    v.byteOffset === 0 &&
    v.byteLength === v.buffer.byteLength &&
    v.buffer instanceof ArrayBuffer;
  return { startMs: series.startMs, stepMs: series.stepMs, values: own ? v : Float64Array.from(v) };
}

function workerError(message: Extract<WorkerMessage, { type: 'error' }>): Error {
  const error = new Error(message.message);
  error.name = message.name;
  // Keep the worker's stack: it points at the model code, which is what one debugs.
  if (message.stack) error.stack = message.stack;
  return error;
}

function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  return new DOMException('the worker task was aborted', 'AbortError');
}

function callSafely<T>(fn: ((value: T) => void) | undefined, value: T): void {
  try {
    fn?.(value);
  } catch {
    // A throwing progress callback must not take the task down with it.
  }
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
