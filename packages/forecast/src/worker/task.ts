/**
 * The worker side of a task, free of `worker_threads` so it can be reasoned about (and
 * called) like any function: {@link runTask} runs the synchronous forecast or backtest and
 * reports throttled progress through a callback.
 */
import {
  type BacktestProgress,
  type BacktestReport,
  type BaseRuns,
  backtest,
  runBaseModels,
} from '../backtest/backtest.js';
import { type ForecastResult, forecast } from '../forecast.js';
import { forecastParallel } from '../select/parallel.js';
import type { TaskResults, WorkerRequest, WorkerTask } from './protocol.js';

/**
 * Runs `request` to completion on the calling thread (it blocks: that is why it runs in a
 * worker). Progress goes to `send`, throttled by {@link throttleProgress}.
 * @throws whatever the forecast or backtest throws (too little history, unknown model).
 */
export function runTask(
  request: WorkerRequest,
  send: (p: BacktestProgress) => void,
): ForecastResult | BacktestReport | BaseRuns[] {
  const onProgress = throttleProgress(send, request.progressIntervalMs);
  const common = {
    onProgress,
    ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
  };
  if (request.task === 'forecast')
    return forecast(request.series, { ...request.options, ...common });
  if (request.task === 'backtest')
    return backtest(request.series, { ...request.options, ...common });
  if (request.task === 'base-runs')
    return runBaseModels(request.series, { ...request.options, ...common }, request.only);
  throw new Error(`unknown worker task "${(request as { task: unknown }).task}"`);
}

/**
 * What the worker entry runs: {@link runTask}, except that a forecast selects over its base
 * models in two threads ({@link forecastParallel}: this worker and one it starts) unless the
 * request says `parallel: false`. Same results as {@link runTask}, bit for bit.
 * @throws (rejects) whatever the task throws.
 */
export async function runTaskAsync(
  request: WorkerRequest,
  send: (p: BacktestProgress) => void,
): Promise<TaskResults[WorkerTask]> {
  if (request.task !== 'forecast' || request.parallel === false) return runTask(request, send);
  return forecastParallel(request.series, {
    ...request.options,
    onProgress: throttleProgress(send, request.progressIntervalMs),
    ...(request.deadline !== undefined ? { deadline: request.deadline } : {}),
  });
}

/**
 * Wraps `send` so that LSTM iteration updates (one per training iteration, possibly
 * hundreds a second) are posted at most every `intervalMs`, while changes of origin and the
 * last iteration of a fit always go through: a progress bar then never misses a step that
 * matters and the message channel is not flooded.
 * @param intervalMs minimum spacing of fit updates, ms (0 = no throttling).
 */
export function throttleProgress(
  send: (p: BacktestProgress) => void,
  intervalMs: number,
  now: () => number = Date.now,
): (p: BacktestProgress) => void {
  let last = Number.NEGATIVE_INFINITY;
  let lastKey = '';
  return (p) => {
    const key = `${p.origin}/${p.total}/${p.fit?.model ?? ''}`;
    const t = now();
    const done = !p.fit || p.fit.iterations >= p.fit.total;
    if (key !== lastKey || done || t - last >= intervalMs) {
      last = t;
      lastKey = key;
      send(p);
    }
  };
}
