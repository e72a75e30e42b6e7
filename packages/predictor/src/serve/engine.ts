/**
 * The sidecar's state and its three jobs: collect (source -> history), forecast (the fitted
 * model on the newest history, in a long-lived worker thread: ./forecaster.ts) and train
 * (backtest + fit in a worker thread of its own). {@link Engine.evaluate} turns the state into the
 * planner's decision at one instant; the HTTP layer only renders it.
 */
import {
  type AccuracyTracker,
  createAccuracyTracker,
  type Series,
  type StaleReasonDetail,
  staleReason,
} from '@tidewatch/forecast';
import { createLiveBand } from './band.js';
import type { CurrentForecast, Engine, EngineOptions } from './engine-types.js';
import { createForecaster, ForecasterStoppedError } from './forecaster.js';
import type { SavedModel } from './model-file.js';
import { createRetrainBackoff } from './retrain-backoff.js';
import { pointsNeeded, trainModel, usablePoints } from './trainer.js';
import { type WarmingJson, warmingEstimate, withTimeLeft } from './warming.js';

export type {
  CurrentForecast,
  Decision,
  Engine,
  EngineEvents,
  EngineOptions,
  ForecasterJson,
} from './engine-types.js';

/** A failed training is retried after this many steps (at least a minute). */
const RETRY_STEPS = 10;
/** Scored points before the rolling MASE may make a forecast stale. */
const MIN_SCORED = 10;

/**
 * Creates the engine. Does nothing until its methods are called (the forecast worker starts
 * at the first forecast).
 * @throws ConfigError naming `forecast.bandAdaptation.gamma` when the adaptation rejects it.
 */
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
  // Read loosely: configs built by hand (older callers) have no such block; the defaults apply.
  const band = createLiveBand(
    config.forecast.bandAdaptation ?? { enabled: true, gamma: 0.005 },
    stepMs,
    model?.bandAdaptation,
    Math.max(1, Math.round(planner.leadTimeSeconds / config.stepSeconds)),
  );
  const forecaster =
    options.forecaster ??
    createForecaster({
      log,
      now,
      ...(options.forecastWorkerUrl ? { workerUrl: options.forecastWorkerUrl } : {}),
    });
  let forecasting: Promise<void> | undefined;
  // A model arrived while a forecast ran: forecast again with it once that one is done.
  let forecastAgain = false;
  // Whether the forecast in flight is a scheduled one (only a tick behind a tick is "skipped").
  let forecastingTick = false;
  let skippedForecasts = 0;
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
    for (let step = Math.max(observedThroughStep + 1, firstStep); step < lastStep; step++) {
      const value = s.values[step - firstStep] as number;
      tracker.observe(step * stepMs, value);
      band.observe(step * stepMs, value);
    }
    observedThroughStep = Math.max(observedThroughStep, lastStep - 1);
    if (band.flush() && model) events.bandChanged?.({ ...model, bandAdaptation: band.state });
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

  /**
   * Forecasts now, or, while a forecast runs, returns that one (a new model: forecasts again
   * after it; a tick: counted as skipped). Never rejects.
   */
  function forecastNow(why: 'tick' | 'model'): Promise<void> {
    if (forecasting !== undefined) {
      if (why === 'model') forecastAgain = true;
      else if (forecastingTick) skippedForecasts++;
      return forecasting;
    }
    forecastingTick = why === 'tick';
    const run = (async () => {
      do {
        forecastAgain = false;
        await forecastOnce();
      } while (forecastAgain && !stopped);
    })().finally(() => {
      forecasting = undefined;
    });
    forecasting = track(run);
    return run;
  }

  async function forecastOnce(): Promise<void> {
    const s = history();
    const m = model;
    if (!m || !s) return;
    try {
      const points = await forecaster.forecast(m.fitted, s, horizon, band.adaptation);
      // A forecast of a model replaced meanwhile is not published: the new one is next.
      if (m !== model) return;
      current = { madeAtMs: now(), points };
      band.forecast(points);
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
      if (error instanceof ForecasterStoppedError || m !== model) return;
      forecastFailed((error as Error).message, s);
    }
  }

  /** The band adaptation and the tracker start over with `m` (its saved band, if any). */
  function useModel(m: SavedModel): void {
    model = m;
    tracker = newTracker(model);
    band.reset(m.bandAdaptation);
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
          useModel(result.model);
          nextUsefulPoints = result.nextUsefulPoints;
          lastTrainFailure = undefined;
          const seconds = (now() - started) / 1000;
          log.log('info', 'training finished', {
            model: result.model.model,
            seconds,
            scores: result.model.scores,
          });
          events.trained?.(seconds, true);
          events.modelChanged?.(result.model);
          await forecastNow('model');
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
      if (model) await forecastNow('tick');
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
        band: band.json(),
        forecaster: { ...forecaster.stats(), skippedForecasts },
      };
    },
    history,
    halt() {
      stopped = true;
      // A forecast in flight finishes; then the worker goes.
      void forecaster.close();
    },
    abort() {
      stopped = true;
      trainAbort.abort();
      trainAbort = new AbortController();
      collector.abort();
      void forecaster.stop();
    },
    running() {
      const work = new Map<string, Promise<unknown>>();
      if (collector.inFlight !== undefined) work.set('collection', collector.inFlight);
      if (training !== undefined) work.set('training', training);
      if (forecasting !== undefined) work.set('forecast', forecasting);
      return work;
    },
    adopt(m) {
      if (stopped) return;
      useModel(m);
      nextUsefulPoints = undefined;
      lastTrainFailure = undefined;
      void forecastNow('model');
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
      await Promise.all([collector.stop(), forecaster.stop()]);
      await Promise.allSettled([...inFlight]);
    },
  };
}
