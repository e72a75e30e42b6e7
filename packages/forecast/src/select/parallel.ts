/**
 * Model selection over two threads: the backtest's base models are split into two groups of
 * about equal cost (the LSTM alone against the rest, usually), one group runs in a second
 * worker while this thread runs the other, and the runs are scored together. Fitting is per
 * model and deterministic, so the selection and the forecast are those of the one-thread
 * {@link forecast}, bit for bit (only the reported fit times differ).
 */
import { type BaseRuns, baseModels, runBaseModels, scoreRuns } from '../backtest/backtest.js';
import {
  type ForecastOptions,
  type ForecastResult,
  forecastFrom,
  type Selection,
  select,
} from '../forecast.js';
import { cleanValues, contextFor } from '../models/context.js';
import { createModels } from '../models/registry.js';
import type { Model } from '../models/types.js';
import type { Series } from '../series.js';
import { runInWorker } from '../worker/runner.js';

/** Options of {@link selectInWorkers} beyond the forecast's own. */
export interface ParallelOptions {
  /** Aborts the second worker (it is terminated); the call then rejects. */
  signal?: AbortSignal;
}

/** Relative fitting cost of a base model, for splitting (measured on hourly series). */
function cost(m: Model): number {
  if (m.expensive) return 20;
  if (m.name === 'naive' || m.name.startsWith('seasonal-naive')) return 0.1;
  if (m.name === 'holt-winters') return 3;
  return 1;
}

/**
 * Splits base models into two groups of about equal estimated cost, heaviest first (longest
 * processing time first). The first group is the heavier: the calling thread runs it, so it
 * starts without waiting for a worker to boot.
 */
export function splitBaseModels(models: readonly Model[]): [Model[], Model[]] {
  const groups: [Model[], Model[]] = [[], []];
  const load = [0, 0];
  for (const m of [...models].sort((a, b) => cost(b) - cost(a))) {
    const i = (load[0] as number) <= (load[1] as number) ? 0 : 1;
    groups[i].push(m);
    load[i] = (load[i] as number) + cost(m);
  }
  return groups;
}

/**
 * {@link select} with the base models of an `auto` selection run in two threads: this one
 * and a worker it starts (`dist/worker.js`, so the package must be built). A named model, or
 * a backtest whose second group would hold only naive models, runs in this thread. Blocks
 * this thread while it fits its group: call it from a worker, as {@link runInWorker}'s
 * forecast task does.
 * The second worker is terminated whatever happens (error, abort).
 * @throws (rejects) what {@link select} throws, the worker's error, or an AbortError.
 */
export async function selectInWorkers(
  series: Series,
  options: ForecastOptions,
  parallel: ParallelOptions = {},
): Promise<Selection> {
  parallel.signal?.throwIfAborted();
  const auto = !options.model || options.model === 'auto';
  if (!auto) return select(series, options);
  const bt = { ...options, models: options.candidates };
  const usable = usableBaseModels(series, options);
  const [mine, theirs] = splitBaseModels(usable);
  // A second worker costs its boot (about 0.1 s of CPU): not worth it for the naive models
  // alone (per-minute histories too short for the weekly models leave only those beside one).
  if (theirs.reduce((sum, m) => sum + cost(m), 0) < 1) return select(series, options);
  const controller = new AbortController();
  const onAbort = () => controller.abort(parallel.signal?.reason);
  parallel.signal?.addEventListener('abort', onAbort, { once: true });
  const { onProgress: _progress, deadline, ...wireOptions } = bt;
  // The worker takes the values' buffer: give it a copy (this thread fits from the original).
  const pending = runInWorker(
    'base-runs',
    {
      series: {
        startMs: series.startMs,
        stepMs: series.stepMs,
        values: Float64Array.from(series.values),
      },
      options: wireOptions,
      only: theirs.map((m) => m.name),
    },
    {
      signal: controller.signal,
      ...(deadline !== undefined ? { timeBudgetMs: Math.max(0, deadline - Date.now()) } : {}),
    },
  );
  // A rejection before we await it must not surface as unhandled.
  pending.catch(() => {});
  try {
    const own = runBaseModels(
      series,
      bt,
      mine.map((m) => m.name),
    );
    const other = await pending;
    // Base order, as the one-thread selection lists them.
    const order = new Map(usable.map((m, i) => [m.name, i]));
    const runs: BaseRuns[] = [...own, ...other].sort(
      (a, b) => (order.get(a.model) ?? 0) - (order.get(b.model) ?? 0),
    );
    const { report, outOfSample } = scoreRuns(series, bt, runs);
    return {
      report,
      model: report.selected,
      outOfSample: outOfSample.get(report.selected),
      runs,
    };
  } finally {
    parallel.signal?.removeEventListener('abort', onAbort);
    controller.abort();
  }
}

/**
 * {@link forecast} with the selection over two threads ({@link selectInWorkers}): the same
 * result, bit for bit, in about half the wall time on two cores. Blocks the calling thread
 * while it fits: {@link runInWorker} runs it in a worker for the CLI and the sidecar.
 * @throws (rejects) what {@link forecast} throws, the second worker's error, or an AbortError.
 */
export async function forecastParallel(
  series: Series,
  options: ForecastOptions,
  parallel: ParallelOptions = {},
): Promise<ForecastResult> {
  // As forecast(): with a deadline, selection gets half of what is left.
  const selectDeadline =
    options.deadline === undefined
      ? undefined
      : Date.now() + Math.max(0, options.deadline - Date.now()) / 2;
  const selection = await selectInWorkers(
    series,
    { ...options, deadline: selectDeadline },
    parallel,
  );
  return forecastFrom(series, options, selection);
}

/** The base models the backtest will run: those the history before its first origin allows. */
function usableBaseModels(series: Series, options: ForecastOptions): Model[] {
  const { y } = cleanValues(series.values);
  const h = options.horizon;
  const count = options.origins ?? 7;
  const first = y.length - h - (count - 1) * (options.every ?? h);
  const ctx = contextFor(series, h, options.season);
  const usable = createModels(options.candidates, options.modelOptions).filter(
    (m) => m.minHistory(ctx) <= first,
  );
  return baseModels(usable);
}
