/**
 * The sidecar's `/metrics`: the scaling signals DESIGN.md fixes, the sidecar's own health,
 * and prom-client's process metrics, in a Registry of its own. Signals are rewritten from
 * the engine's decision at every scrape. A stale forecast publishes nothing, never 0: its
 * series are removed, and `tidewatch_forecast_stale{reason}` says why.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { PatchResult } from '../patch/patcher.js';
import type { ServeConfig } from './config.js';
import type { Decision } from './engine.js';
import type { PatchMode } from './patching.js';

/** Facts besides the decision that `/metrics` shows. */
export interface HealthInfo {
  /** Points held for the metric. */
  historyPoints: number;
  /** Unix ms of the last successful collection, if any. */
  lastCollectMs: number | undefined;
  /** Scheduled jobs alive (constant while running: a leak would show here). */
  jobs: number;
}

/** The sidecar's metrics. */
export interface Signals {
  readonly registry: Registry;
  /** Counts `by` (default 1) failures of `source` (`tidewatch_source_errors_total`); 0 creates the series. */
  sourceError(source: string, by?: number): void;
  /** Records a training run. */
  trained(seconds: number, ok: boolean): void;
  /** Records a patch-mode apply (`tidewatch_patch_requests_total`, `tidewatch_patch_threshold`). */
  patched(result: PatchResult, mode: PatchMode): void;
  /** Rewrites every gauge from `decision` and `health`. */
  update(decision: Decision, health: HealthInfo): void;
}

/**
 * Creates the registry and its metrics for `config` (labels `metric` = `config.metric`,
 * `target` = `config.target`; the forecast's `horizon` is the planner's lead time, e.g. `150s`).
 */
export function createSignals(config: ServeConfig, leadTimeSeconds: number): Signals {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metric = config.metric;
  const target = config.target;
  const horizon = `${leadTimeSeconds}s`;

  const forecast = new Gauge({
    name: 'tidewatch_forecast',
    help: 'Predicted peak load over the lead time (label horizon) at quantile 0.5 and 0.9; absent while the forecast is stale.',
    labelNames: ['metric', 'horizon', 'quantile'],
    registers,
  });
  const predictedLoad = new Gauge({
    name: 'tidewatch_predicted_load',
    help: 'What the predicted KEDA/HPA trigger reads, with the same threshold as the actual load: max(p50 peak, target utilisation x p90 peak) over the lead time; absent while stale.',
    labelNames: ['metric', 'horizon'],
    registers,
  });
  const replicas = new Gauge({
    name: 'tidewatch_recommended_replicas',
    help: 'Replicas the predicted peak (and the actual load) need; absent while the forecast is stale.',
    labelNames: ['target'],
    registers,
  });
  const threshold = new Gauge({
    name: 'tidewatch_scaling_threshold',
    help: 'Per-replica HPA target that makes an HPA on the actual metric reach the recommended replicas now; absent while stale.',
    labelNames: ['target'],
    registers,
  });
  const error = new Gauge({
    name: 'tidewatch_forecast_error',
    help: 'Error of the current model: backtest mase, wape, coverage90 and the live rolling_mase.',
    labelNames: ['metric', 'model', 'measure'],
    registers,
  });
  const info = new Gauge({
    name: 'tidewatch_model_info',
    help: 'The model in use (value 1).',
    labelNames: ['metric', 'model'],
    registers,
  });
  const age = new Gauge({
    name: 'tidewatch_forecast_age_seconds',
    help: 'Seconds since the current forecast was made; absent before the first forecast.',
    registers,
  });
  const sourceErrors = new Counter({
    name: 'tidewatch_source_errors_total',
    help: 'Failed collections per source (scrape:URL or prometheus:URL).',
    labelNames: ['source'],
    registers,
  });
  const stale = new Gauge({
    name: 'tidewatch_forecast_stale',
    help: 'One series per reason the forecast is not published (value 1); none while it is.',
    labelNames: ['metric', 'reason'],
    registers,
  });
  const points = new Gauge({
    name: 'tidewatch_history_points',
    help: 'Points of history held for the metric (bounded by historyPoints).',
    labelNames: ['metric'],
    registers,
  });
  const lastCollect = new Gauge({
    name: 'tidewatch_last_collect_timestamp_seconds',
    help: 'Unix time of the last successful collection; absent before the first.',
    registers,
  });
  const trainDuration = new Gauge({
    name: 'tidewatch_train_duration_seconds',
    help: 'Wall-clock duration of the last training run in this process; absent before the first.',
    registers,
  });
  const trainRuns = new Counter({
    name: 'tidewatch_train_runs_total',
    help: 'Training runs by outcome (success, failure).',
    labelNames: ['outcome'],
    registers,
  });
  const jobs = new Gauge({
    name: 'tidewatch_scheduled_jobs',
    help: 'Scheduled jobs alive (collect, forecast, retrain).',
    registers,
  });
  const patchRequests = new Counter({
    name: 'tidewatch_patch_requests_total',
    help: 'Patch-mode applies by result: patched (written), skipped (within the hysteresis), failed (see the log and /forecast).',
    labelNames: ['target', 'result'],
    registers,
  });
  const patchThreshold = new Gauge({
    name: 'tidewatch_patch_threshold',
    help: 'The threshold patch mode last wrote or found in place, by mode (predicted or reactive = the static capacity x target); absent before the first success.',
    labelNames: ['target', 'mode'],
    registers,
  });
  if (config.patch.enabled)
    for (const result of ['patched', 'skipped', 'failed']) patchRequests.inc({ target, result }, 0);
  // Counters start at 0 so rate() sees the first failure.
  for (const outcome of ['success', 'failure']) trainRuns.inc({ outcome }, 0);
  age.remove();
  lastCollect.remove();
  trainDuration.remove();

  return {
    registry,
    sourceError(source, by = 1) {
      sourceErrors.inc({ source }, by);
    },
    trained(seconds, ok) {
      trainRuns.inc({ outcome: ok ? 'success' : 'failure' });
      if (ok) trainDuration.set(seconds);
    },
    patched(result, mode) {
      patchRequests.inc({ target, result: result.status });
      if (result.status === 'failed') return;
      patchThreshold.reset();
      patchThreshold.set(
        { target, mode },
        result.status === 'skipped' ? result.current : result.value,
      );
    },
    update(decision, health) {
      const { plan } = decision;
      forecast.reset();
      predictedLoad.reset();
      replicas.reset();
      threshold.reset();
      stale.reset();
      if (
        decision.status === 'ok' &&
        plan.predictedPeak !== null &&
        plan.predictedPeakP50 !== null
      ) {
        forecast.set({ metric, horizon, quantile: '0.5' }, plan.predictedPeakP50);
        forecast.set({ metric, horizon, quantile: '0.9' }, plan.predictedPeak);
        if (plan.predictedLoad !== null) predictedLoad.set({ metric, horizon }, plan.predictedLoad);
        if (plan.recommendedReplicas !== null) replicas.set({ target }, plan.recommendedReplicas);
        if (plan.threshold !== null) threshold.set({ target }, plan.threshold);
      } else {
        for (const code of new Set(decision.reasonCodes)) stale.set({ metric, reason: code }, 1);
      }
      error.reset();
      info.reset();
      const model = decision.model;
      if (model) {
        info.set({ metric, model: model.model }, 1);
        const measures: Record<string, number | undefined> = {
          mase: model.scores?.mase,
          wape: model.scores?.wape,
          coverage90: model.scores?.coverage90,
          rolling_mase: decision.rollingMase,
        };
        for (const [measure, value] of Object.entries(measures))
          if (value !== undefined && Number.isFinite(value))
            error.set({ metric, model: model.model, measure }, value);
      }
      if (decision.forecastAgeSeconds === null) age.remove();
      else age.set(decision.forecastAgeSeconds);
      points.set({ metric }, health.historyPoints);
      if (health.lastCollectMs === undefined) lastCollect.remove();
      else lastCollect.set(health.lastCollectMs / 1000);
      jobs.set(health.jobs);
    },
  };
}
