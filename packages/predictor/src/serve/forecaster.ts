/**
 * The sidecar's per-minute forecast in a long-lived worker thread. A forecast is a forward
 * pass (milliseconds for the statistical models, longer for an LSTM on weeks of history), but
 * it runs every minute beside the event loop that answers `/metrics`: a slow one would stall
 * every scrape. One worker per sidecar, started at the first forecast, receives the fitted
 * model once per model change (it keeps it) and then, per forecast, the history (a copy whose
 * buffer is transferred) and answers with the points.
 *
 * Forecasts never stop because of the worker: when it cannot start, crashes or exits, the
 * forecast of that minute runs on the main thread instead, the failure is counted, logged
 * once per outage, and the worker is started again at a later forecast (at once after a
 * first crash, then backing off up to a minute while it keeps crashing). A forecast slower
 * than the timeout terminates the worker (a fresh one serves the next forecast) and fails.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BandAdaptation, FittedForecaster, ForecastPoint, Series } from '@tidewatch/forecast';
import type { Logger } from './log.js';
import { forecastFromFitted } from './reuse.js';

/** A message to the worker: a model to keep, or a forecast with the model kept. */
export type ForecasterRequest =
  | { type: 'model'; modelId: number; fitted: FittedForecaster }
  | {
      type: 'forecast';
      id: number;
      modelId: number;
      series: { startMs: number; stepMs: number; values: Float64Array };
      horizon: number;
      adaptation?: BandAdaptation;
    };

/** A message from the worker: the points of forecast `id`, or why it failed. */
export type ForecasterReply =
  | { type: 'points'; id: number; points: ForecastPoint[] }
  | { type: 'error'; id: number; name: string; message: string; stack?: string };

/** Counters of a {@link Forecaster} since it was created (`/forecast`'s `forecaster`). */
export interface ForecasterStats {
  /** Forecasts the worker answered (points or the model's own error). */
  workerForecasts: number;
  /** Forecasts run on the main thread because the worker could not serve them. */
  mainThreadForecasts: number;
  /** Workers started (1 while the first one lives). */
  workerStarts: number;
  /** Workers that failed to start, crashed or exited on their own. */
  workerCrashes: number;
  /** Forecasts that outlived the timeout (their worker was terminated). */
  workerTimeouts: number;
}

/** Options of {@link createForecaster}. */
export interface ForecasterOptions {
  log: Logger;
  /** A forecast slower than this fails and its worker is terminated, ms. Default 10 000. */
  timeoutMs?: number;
  /** The worker entry. Default: the built `forecaster-worker.js` (see {@link forecasterWorkerUrl}). */
  workerUrl?: URL;
  /** Longest wait before starting a worker again while it keeps crashing, ms. Default 60 000. */
  maxBackoffMs?: number;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
}

/** See {@link createForecaster}. */
export interface Forecaster {
  /**
   * Forecasts `horizon` steps after `series` with `fitted` (as `forecastFromFitted`), in the
   * worker when it can, else on the main thread. One at a time.
   * @throws (rejects) the model's own error (e.g. `retrain needed`); a
   *   {@link ForecastTimeoutError}; a {@link ForecasterStoppedError} after or during `stop()`;
   *   an Error when a forecast is already in flight.
   */
  forecast(
    fitted: FittedForecaster,
    series: Series,
    horizon: number,
    adaptation?: BandAdaptation,
  ): Promise<ForecastPoint[]>;
  /** Whether a forecast is in flight. */
  readonly busy: boolean;
  /** The counters (a copy). */
  stats(): ForecasterStats;
  /**
   * Terminates the worker; a forecast in flight rejects with {@link ForecasterStoppedError}
   * and later calls reject at once. Idempotent, never rejects.
   */
  stop(): Promise<void>;
  /** Like `stop()`, but lets a forecast in flight finish first. Never rejects. */
  close(): Promise<void>;
}

/** A forecast outlived the forecaster's timeout. */
export class ForecastTimeoutError extends Error {
  override readonly name = 'ForecastTimeoutError';
}

/** The forecaster was stopped (shutdown) before or while forecasting. */
export class ForecasterStoppedError extends Error {
  override readonly name = 'ForecasterStoppedError';
}

/** Backoff before the n-th consecutive restart (n >= 1): none after a first crash, then 1, 2, 4 ... s. */
function backoffMs(crashes: number, maxMs: number): number {
  return crashes <= 1 ? 0 : Math.min(maxMs, 1000 * 2 ** (crashes - 2));
}

interface Pending {
  readonly id: number;
  readonly timer: NodeJS.Timeout;
  /** Settles the call with the worker's answer (or an error). */
  settle(error: Error | undefined, points?: ForecastPoint[]): void;
  /** The worker is gone: the call runs on the main thread. */
  fallback(): void;
}

/**
 * Creates the forecaster. No thread starts until the first `forecast()`.
 * @throws TypeError naming `timeoutMs` or `maxBackoffMs` when not a number > 0.
 */
export function createForecaster(options: ForecasterOptions): Forecaster {
  const { log } = options;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBackoff = options.maxBackoffMs ?? 60_000;
  for (const [name, v] of [
    ['timeoutMs', timeoutMs],
    ['maxBackoffMs', maxBackoff],
  ] as const)
    if (typeof v !== 'number' || !(v > 0))
      throw new TypeError(`createForecaster: ${name} must be a number > 0, got ${String(v)}`);
  const stats: ForecasterStats = {
    workerForecasts: 0,
    mainThreadForecasts: 0,
    workerStarts: 0,
    workerCrashes: 0,
    workerTimeouts: 0,
  };
  let worker: Worker | undefined;
  let sentModel: FittedForecaster | undefined;
  let modelId = 0;
  let seq = 0;
  let pending: Pending | undefined;
  let inFlight: Promise<unknown> | undefined;
  let crashesInARow = 0;
  let retryAtMs = 0;
  let outage = false;
  let stopped = false;

  /** The worker gone unasked: counted, logged once per outage, the forecast in flight re-run here. */
  function lost(w: Worker | undefined, message: string): void {
    if (w !== undefined && w !== worker) return;
    worker = undefined;
    sentModel = undefined;
    stats.workerCrashes++;
    crashesInARow++;
    retryAtMs = now() + backoffMs(crashesInARow, maxBackoff);
    if (!outage) {
      outage = true;
      log.log('warn', 'forecast worker lost: forecasting on the main thread until it is back', {
        error: message,
      });
    }
    void w?.terminate().catch(() => {});
    pending?.fallback();
  }

  /** The live worker, started when none runs and the backoff allows; undefined otherwise. */
  function ensureWorker(): Worker | undefined {
    if (worker) return worker;
    if (now() < retryAtMs) return undefined;
    let w: Worker;
    try {
      w = new Worker(options.workerUrl ?? forecasterWorkerUrl());
    } catch (error) {
      lost(undefined, (error as Error).message);
      return undefined;
    }
    // The sidecar's server keeps the process up; an idle forecast thread must not.
    w.unref();
    stats.workerStarts++;
    worker = w;
    w.on('message', (reply: ForecasterReply) => {
      if (w !== worker || !pending || reply.id !== pending.id) return;
      stats.workerForecasts++;
      crashesInARow = 0;
      if (outage) {
        outage = false;
        log.log('info', 'forecast worker works again', { crashes: stats.workerCrashes });
      }
      if (reply.type === 'points') pending.settle(undefined, reply.points);
      else pending.settle(replyError(reply));
    });
    w.on('error', (error) => lost(w, error.message));
    w.on('messageerror', (error) => lost(w, error.message));
    w.on('exit', (code) => lost(w, `the forecast worker exited with code ${code}`));
    return w;
  }

  function onMainThread(
    fitted: FittedForecaster,
    series: Series,
    horizon: number,
    adaptation: BandAdaptation | undefined,
  ): ForecastPoint[] {
    stats.mainThreadForecasts++;
    return forecastFromFitted(fitted, series, horizon, adaptation);
  }

  function run(
    fitted: FittedForecaster,
    series: Series,
    horizon: number,
    adaptation: BandAdaptation | undefined,
  ): Promise<ForecastPoint[]> {
    return new Promise((resolve, reject) => {
      const w = ensureWorker();
      if (!w) {
        try {
          resolve(onMainThread(fitted, series, horizon, adaptation));
        } catch (error) {
          reject(error);
        }
        return;
      }
      if (sentModel !== fitted) {
        modelId++;
        w.postMessage({ type: 'model', modelId, fitted } satisfies ForecasterRequest);
        sentModel = fitted;
      }
      const id = ++seq;
      const finish = (error: Error | undefined, points?: ForecastPoint[]) => {
        if (pending?.id !== id) return;
        clearTimeout(pending.timer);
        pending = undefined;
        if (error) reject(error);
        else resolve(points as ForecastPoint[]);
      };
      const timer = setTimeout(() => {
        if (pending?.id !== id) return;
        stats.workerTimeouts++;
        // Terminated on purpose: its exit must not count as a crash.
        worker = undefined;
        sentModel = undefined;
        void w.terminate().catch(() => {});
        log.log('warn', 'forecast timed out: its worker was stopped; a new one serves the next', {
          timeoutSeconds: timeoutMs / 1000,
          timeouts: stats.workerTimeouts,
        });
        finish(
          new ForecastTimeoutError(
            `the forecast took longer than ${timeoutMs / 1000} s and was stopped`,
          ),
        );
      }, timeoutMs).unref();
      pending = {
        id,
        timer,
        settle: finish,
        fallback() {
          if (pending?.id !== id) return;
          try {
            const points = onMainThread(fitted, series, horizon, adaptation);
            finish(undefined, points);
          } catch (error) {
            finish(error as Error);
          }
        },
      };
      // A copy: the store keeps its values; the copy's buffer moves to the worker.
      const values = Float64Array.from(series.values);
      const request: ForecasterRequest = {
        type: 'forecast',
        id,
        modelId,
        series: { startMs: series.startMs, stepMs: series.stepMs, values },
        horizon,
        ...(adaptation !== undefined ? { adaptation } : {}),
      };
      try {
        w.postMessage(request, [values.buffer]);
      } catch (error) {
        // Not cloneable (a bug), or the worker is going: this one runs here.
        lost(w, (error as Error).message);
      }
    });
  }

  async function stop(): Promise<void> {
    stopped = true;
    const w = worker;
    worker = undefined;
    sentModel = undefined;
    pending?.settle(new ForecasterStoppedError('the forecaster was stopped'));
    await w?.terminate().catch(() => {});
  }

  return {
    forecast(fitted, series, horizon, adaptation) {
      if (stopped) return Promise.reject(new ForecasterStoppedError('the forecaster was stopped'));
      if (pending || inFlight) return Promise.reject(new Error('a forecast is already in flight'));
      const p = run(fitted, series, horizon, adaptation);
      inFlight = p;
      void p
        .finally(() => {
          if (inFlight === p) inFlight = undefined;
        })
        .catch(() => {});
      return p;
    },
    get busy() {
      return inFlight !== undefined;
    },
    stats: () => ({ ...stats }),
    stop,
    async close() {
      stopped = true;
      await inFlight?.catch(() => {});
      await stop();
    },
  };
}

/**
 * Where the built worker entry lives: next to this module in `dist/` (bundled into
 * `index.js`, a chunk or `cli.js`, all in `dist/`), or, run from the `.ts` sources (vitest),
 * the package's `dist/forecaster-worker.js` (worker threads cannot load TypeScript on Node 20).
 * @throws Error when the worker has not been built.
 */
export function forecasterWorkerUrl(base: string = import.meta.url): URL {
  const url = /\.[cm]?ts$/.test(new URL(base).pathname)
    ? new URL('../../dist/forecaster-worker.js', base)
    : new URL('./forecaster-worker.js', base);
  if (!existsSync(fileURLToPath(url)))
    throw new Error(
      `forecast worker ${fileURLToPath(url)} not found: build the package (npx tsup)`,
    );
  return url;
}

function replyError(reply: Extract<ForecasterReply, { type: 'error' }>): Error {
  const error = new Error(reply.message);
  error.name = reply.name;
  if (reply.stack) error.stack = reply.stack;
  return error;
}
