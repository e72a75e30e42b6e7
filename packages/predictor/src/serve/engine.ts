/**
 * The sidecar's state and its three jobs: collect (source -> history), forecast (the fitted
 * model on the newest history, on the main thread: a forward pass, milliseconds) and train
 * (backtest + fit in a worker thread). {@link Engine.evaluate} turns the state into the
 * planner's decision at one instant; the HTTP layer only renders it.
 */
import type { StaleReason } from '@tidewatch/conventions';
import {
  type AccuracyTracker,
  createAccuracyTracker,
  type ForecastPoint,
  type HistoryStore,
  type Plan,
  type Planner,
  type Series,
  type StaleReasonDetail,
  staleReason,
} from '@tidewatch/forecast';
import type { Collector } from './collector.js';
import type { ServeConfig } from './config.js';
import type { Logger } from './log.js';
import type { SavedModel } from './model-file.js';
import type { NowcastJson } from './nowcast.js';
import { createRetrainBackoff } from './retrain-backoff.js';
import { forecastFromFitted } from './reuse.js';
import { pointsNeeded, type TrainResult, trainModel, usablePoints } from './trainer.js';
import { type WarmingJson, warmingEstimate, withTimeLeft } from './warming.js';

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
}

/** Things the engine reports as they happen (the metrics layer counts them). */
export interface EngineEvents {
  /** A training finished (successfully or not) after `seconds`. */
  trained?(seconds: number, ok: boolean): void;
  /** A new model should be persisted. */
  modelChanged?(model: SavedModel): void;
  /** New steps were stored. */
  historyChanged?(): void;
}

/** Options of {@link createEngine}. */
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
}

/** See {@link createEngine}. */
export interface Engine {
  /** Whether a forecast was ever made in this process (`/readyz`). */
  readonly ready: boolean;
  /** Unix ms of the last collection that did not fail, if any. */
  readonly lastCollectMs: number | undefined;
  /** Collects once, then scores, persists (through events) and triggers training. Never rejects. */
  collect(): Promise<void>;
  /** Forecasts with the current model, or starts the first training when possible. Never rejects. */
  forecast(): Promise<void>;
  /** Retrains now (no-op while a training runs). Never rejects. */
  retrain(reason: string): Promise<void>;
  /** The decision at `nowMs`. */
  evaluate(nowMs: number): Decision;
  /** The history of the metric, or `undefined` when there is none yet. */
  history(): Series | undefined;
  /**
   * Stops taking new work: later `collect`, `forecast` and `retrain` calls do nothing, and a
   * training or collection that finishes is not followed by more. In-flight work goes on.
   */
  halt(): void;
  /** Halts, and aborts the in-flight collection and training (they settle soon after). */
  abort(): void;
  /** Work in flight now, by name (`collection`, `training`), for a shutdown to wait on. */
  running(): Map<string, Promise<unknown>>;
  /** Aborts a running training and waits for in-flight work. */
  stop(): Promise<void>;
  /**
   * Uses `model` from now on (a new leader's takeover: the model the previous leader stored)
   * and forecasts with it at once. No `modelChanged` event: the caller stores it.
   */
  adopt(model: SavedModel): void;
  /** Aborts a running training, if any (a leader that stepped down); the rest goes on. */
  cancelTraining(): void;
}

/** A failed training is retried after this many steps (at least a minute). */
const RETRY_STEPS = 10;
/** Scored points before the rolling MASE may make a forecast stale. */
const MIN_SCORED = 10;

/** Creates the engine. Does nothing until its methods are called. */
export function createEngine(options: EngineOptions): Engine {
  const { config, store, collector, planner, log, events = {} } = options;
  const now = options.now ?? Date.now;
  const series = config.metric;
  const stepMs = config.stepSeconds * 1000;
  const horizon = config.forecast.horizonSteps;
  const train =
    options.train ?? ((s: Series, signal: AbortSignal) => trainModel(s, config, { signal, now }));
  const window = Math.min(10_000, Math.max(10, Math.round(86_400 / config.stepSeconds)));
  const mayTrain = options.mayTrain ?? (() => true);

  let model = options.model;
  let tracker = newTracker(model);
  let current: CurrentForecast | undefined;
  let everForecast = false;
  let sourceError: string | undefined;
  let actual: { value: number; atMs: number } | undefined;
  let observedThroughStep: number | undefined;
  let training: Promise<void> | undefined;
  let trainingSince: number | undefined;
  let trainAbort = new AbortController();
  let lastTrainFailure: { message: string; atMs: number } | undefined;
  const forecastBackoff = createRetrainBackoff({ stepMs, now });
  let nextUsefulPoints: number | undefined;
  let stopped = false;
  let lastCollectMs: number | undefined;
  const inFlight = new Set<Promise<unknown>>();

  function newTracker(m: SavedModel | undefined): AccuracyTracker {
    return createAccuracyTracker({ stepMs, window, scale: m?.maseScale ?? 1 });
  }

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p)).catch(() => {});
    return p;
  }

  function history(): Series | undefined {
    return store.has(series) ? store.series(series) : undefined;
  }

  /** The newest value and scores of steps completed since the last call. */
  function absorb(s: Series, observedAtMs: number | undefined): void {
    const n = s.values.length;
    for (let k = n - 1; k >= 0; k--) {
      const v = s.values[k] as number;
      if (Number.isFinite(v)) {
        const stepAt = s.startMs + k * stepMs;
        actual = {
          value: v,
          atMs: k === n - 1 && observedAtMs !== undefined ? observedAtMs : stepAt,
        };
        break;
      }
    }
    // The newest step may still change (several samples per step): score only older ones.
    const firstStep = Math.round(s.startMs / stepMs);
    const lastStep = firstStep + n - 1;
    observedThroughStep ??= lastStep - 1;
    for (let step = Math.max(observedThroughStep + 1, firstStep); step < lastStep; step++)
      tracker.observe(step * stepMs, s.values[step - firstStep] as number);
    observedThroughStep = Math.max(observedThroughStep, lastStep - 1);
  }

  // What the loaded history says about "now" before the first collection.
  const loaded = history();
  if (loaded) absorb(loaded, undefined);

  async function collect(): Promise<void> {
    if (stopped) return;
    const before = store.lastTimestamp(series);
    const outcome = await collector.collect();
    if (outcome.status === 'failed') {
      sourceError = outcome.message;
      return;
    }
    sourceError = undefined;
    lastCollectMs = now();
    const s = history();
    if (!s) return;
    absorb(s, collector.lastObservationMs);
    if (store.lastTimestamp(series) !== before) events.historyChanged?.();
    const have = usablePoints(s);
    if (!model && !training && have >= pointsNeeded(config, s) && mayRetry())
      void startTraining('first model');
    else if (model && nextUsefulPoints !== undefined && have >= nextUsefulPoints && !training) {
      nextUsefulPoints = undefined;
      void startTraining('enough history for more candidate models');
    }
  }

  function mayRetry(): boolean {
    return (
      !lastTrainFailure || now() - lastTrainFailure.atMs >= Math.max(60_000, RETRY_STEPS * stepMs)
    );
  }

  function forecastFailed(message: string, s: Series): void {
    // Too short a history to train on: retraining would only fail; the history grows anyway.
    const trainable = usablePoints(s) >= pointsNeeded(config, s);
    const verdict = forecastBackoff.failed(message, trainable && !training);
    if (verdict.log) {
      const next = verdict.retrain
        ? {}
        : trainable
          ? { retrainInSeconds: verdict.retrainInSeconds }
          : { retrainWhenPoints: pointsNeeded(config, s) };
      log.log('warn', verdict.retrain ? 'forecast failed; retraining' : 'forecast failed', {
        error: message,
        failures: verdict.failures,
        ...next,
      });
    }
    if (verdict.retrain) void startTraining(`forecast failed: ${message}`);
  }

  function forecastNow(): void {
    const s = history();
    if (!model || !s) return;
    try {
      const points = forecastFromFitted(model.fitted, s, horizon);
      current = { madeAtMs: now(), points };
      everForecast = true;
      const ended = forecastBackoff.succeeded();
      if (ended > 0) log.log('info', 'forecasting works again', { failures: ended });
      const first = points[0];
      if (first) {
        tracker.forecast(
          Date.parse(first.timestamp),
          points.map((p) => p.p50),
          points.map((p) => p.p90),
        );
      }
    } catch (error) {
      forecastFailed((error as Error).message, s);
    }
  }

  function startTraining(reason: string): Promise<void> {
    if (training || stopped || !mayTrain()) return training ?? Promise.resolve();
    const s = history();
    if (!s) return Promise.resolve();
    const started = now();
    trainingSince = started;
    log.log('info', 'training started', { reason, points: s.values.length });
    const signal = trainAbort.signal;
    training = track(
      (async () => {
        try {
          const result = await train(s, signal);
          if (stopped) return;
          model = result.model;
          nextUsefulPoints = result.nextUsefulPoints;
          lastTrainFailure = undefined;
          tracker = newTracker(model);
          const seconds = (now() - started) / 1000;
          log.log('info', 'training finished', {
            model: model.model,
            seconds,
            scores: model.scores,
          });
          events.trained?.(seconds, true);
          events.modelChanged?.(model);
          forecastNow();
        } catch (error) {
          if (stopped || signal.aborted) return;
          lastTrainFailure = { message: (error as Error).message, atMs: now() };
          log.log('error', 'training failed', { error });
          events.trained?.((now() - started) / 1000, false);
        } finally {
          training = undefined;
          trainingSince = undefined;
        }
      })(),
    );
    return training;
  }

  /** Why there is no model yet; with too little history, also the time left (`warming`). */
  function reasonsWhileWarming(): { reasons: StaleReasonDetail[]; warming?: WarmingJson } {
    if (training && trainingSince !== undefined)
      return { reasons: [staleReason('training', now() - trainingSince)] };
    if (lastTrainFailure)
      return { reasons: [staleReason('training_failed', lastTrainFailure.message)] };
    const s = history();
    const have = s ? usablePoints(s) : 0;
    const need = pointsNeeded(config, s ?? { startMs: 0, stepMs });
    if (have >= need) return { reasons: [] };
    const warming = warmingEstimate(have, need, config.stepSeconds);
    const reason = staleReason('too_little_history', have, need);
    return { reasons: [{ ...reason, message: withTimeLeft(reason.message, warming) }], warming };
  }

  return {
    get ready() {
      return everForecast;
    },
    get lastCollectMs() {
      return lastCollectMs;
    },
    collect: () => track(collect().catch((error) => log.log('error', 'collect failed', { error }))),
    async forecast() {
      if (stopped) return;
      if (model) forecastNow();
      else {
        const s = history();
        if (s && !training && mayRetry() && usablePoints(s) >= pointsNeeded(config, s))
          void startTraining('first model');
      }
    },
    async retrain(reason) {
      const s = history();
      if (stopped || training || !s || usablePoints(s) < pointsNeeded(config, s)) return;
      await startTraining(reason);
    },
    evaluate(nowMs) {
      const snap = tracker.snapshot();
      const rollingMase = snap.count >= MIN_SCORED ? snap.mase : undefined;
      const plan = planner.plan({
        nowMs,
        ...(actual ? { actual: actual.value, actualMs: actual.atMs } : {}),
        ...(current ? { forecast: current } : {}),
        ...(model?.scores ? { modelMase: model.scores.mase } : {}),
        ...(rollingMase !== undefined ? { rollingMase } : {}),
        ...(sourceError ? { sourceError } : {}),
      });
      const reasons = [...plan.reasons];
      const reasonCodes = [...plan.reasonCodes];
      let warming: WarmingJson | undefined;
      if (plan.status !== 'ok') {
        const why: ReturnType<typeof reasonsWhileWarming> = model
          ? { reasons: [] }
          : reasonsWhileWarming();
        const more = why.reasons;
        warming = why.warming;
        const failure = forecastBackoff.failure;
        if (failure !== undefined) more.push(staleReason('forecast_failed', failure));
        for (const r of more) {
          reasons.push(r.message);
          reasonCodes.push(r.code);
        }
      }
      return {
        nowMs,
        status: plan.status === 'ok' ? 'ok' : everForecast ? 'stale' : 'warming',
        reasons,
        reasonCodes,
        plan,
        model,
        forecast: current,
        rollingMase,
        dataAgeSeconds: actual ? (nowMs - actual.atMs) / 1000 : null,
        forecastAgeSeconds: current ? (nowMs - current.madeAtMs) / 1000 : null,
        ...(warming ? { warming } : {}),
      };
    },
    history,
    halt() {
      stopped = true;
    },
    abort() {
      stopped = true;
      trainAbort.abort();
      trainAbort = new AbortController();
      collector.abort();
    },
    running() {
      const work = new Map<string, Promise<unknown>>();
      if (collector.inFlight !== undefined) work.set('collection', collector.inFlight);
      if (training !== undefined) work.set('training', training);
      return work;
    },
    adopt(m) {
      if (stopped) return;
      model = m;
      nextUsefulPoints = undefined;
      lastTrainFailure = undefined;
      tracker = newTracker(model);
      forecastNow();
    },
    cancelTraining() {
      if (!training) return;
      trainAbort.abort();
      trainAbort = new AbortController();
    },
    async stop() {
      stopped = true;
      trainAbort.abort();
      trainAbort = new AbortController();
      await collector.stop();
      await Promise.allSettled([...inFlight]);
    },
  };
}
