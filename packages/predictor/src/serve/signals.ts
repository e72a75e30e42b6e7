/**
 * The sidecar's `/metrics`: the scaling signals of the signal catalogue (`SIGNALS` of
 * `@tidewatch/conventions`), the sidecar's own health, and prom-client's process metrics, in
 * a Registry of its own. Signals are rewritten from the engine's decision at every scrape. A
 * stale forecast publishes nothing, never 0: its series are removed, and the stale signal's
 * `reason` series say why.
 */
import {
  COUNTER_RESET_RESTARTS,
  type CounterResetRestart,
  type DegradedReason,
  PATCH_RESULTS,
  PERSIST_FILES,
  type PersistFile,
  SIGNALS,
  type SignalKey,
  signalLabelNames,
} from '@tidewatch/conventions';
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
  /** Counts a counter decrease the scrape source saw (`tidewatch_counter_resets_total`). */
  counterReset(source: string, restart: CounterResetRestart): void;
  /**
   * Creates `tidewatch_counter_resets_total` at 0 for every restart value of each source, so
   * `increase()` sees the first reset (call it for sources that read a counter).
   */
  watchCounterResets(sources: readonly string[]): void;
  /** Counts a failed save of `file` (`tidewatch_persist_errors_total`). */
  persistError(file: PersistFile): void;
  /** Creates `tidewatch_persist_errors_total` at 0 for every file (a sidecar with a dataDir). */
  watchPersistence(): void;
  /** Sets `tidewatch_degraded`: one series of value 1 per reason, none while healthy. */
  degraded(reasons: readonly DegradedReason[]): void;
  /** Records a training run. */
  trained(seconds: number, ok: boolean): void;
  /** Records a patch-mode apply (`tidewatch_patch_requests_total`, `tidewatch_patch_threshold`). */
  patched(result: PatchResult, mode: PatchMode): void;
  /**
   * Rewrites every gauge from `decision` and `health`. `publishing` false (a follower under
   * leader election) removes the scaling signals (`tidewatch_forecast`, `_predicted_load`,
   * `_recommended_replicas`, `_scaling_threshold`) and the stale reasons: only the leader
   * speaks for the fleet. Default true.
   */
  update(decision: Decision, health: HealthInfo, publishing?: boolean): void;
  /**
   * Leader election: sets `tidewatch_leader{identity}` (1 leading, 0 following) and counts a
   * transition when `leading` changed since the last call.
   */
  leadership(identity: string, leading: boolean): void;
}

/**
 * Creates the registry and its metrics for `config` (labels `metric` = `config.metric`,
 * `target` = `config.target`; the forecast's `horizon` is the planner's lead time, e.g. `150s`).
 */
export function createSignals(config: ServeConfig, leadTimeSeconds: number): Signals {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Every name, help and label set comes from the signal catalogue.
  const spec = (key: SignalKey) => ({
    name: SIGNALS[key].name,
    help: SIGNALS[key].help,
    labelNames: signalLabelNames(key),
    registers,
  });
  const gauge = (key: SignalKey) => new Gauge(spec(key));
  const counter = (key: SignalKey) => new Counter(spec(key));
  const metric = config.metric;
  const target = config.target;
  const horizon = `${leadTimeSeconds}s`;
  // Shadow mode publishes no scaling signal (the forecast and its quality still show).
  const scaling = config.mode !== 'shadow';

  const forecast = gauge('forecast');
  const predictedLoad = gauge('predictedLoad');
  const replicas = gauge('recommendedReplicas');
  const threshold = gauge('scalingThreshold');
  const error = gauge('forecastError');
  const info = gauge('modelInfo');
  const age = gauge('forecastAgeSeconds');
  const sourceErrors = counter('sourceErrors');
  const counterResets = counter('counterResets');
  const persistErrors = counter('persistErrors');
  const degraded = gauge('degraded');
  const stale = gauge('forecastStale');
  const points = gauge('historyPoints');
  const lastCollect = gauge('lastCollectTimestampSeconds');
  const trainDuration = gauge('trainDurationSeconds');
  const trainRuns = counter('trainRuns');
  const jobs = gauge('scheduledJobs');
  const patchRequests = counter('patchRequests');
  const patchThreshold = gauge('patchThreshold');
  const nowcastLoad = gauge('nowcastLoad');
  // Only with election enabled: a standalone sidecar shows today's signals, nothing more.
  const electing = (config as { election?: { enabled?: boolean } }).election?.enabled === true;
  const leader = electing ? gauge('leader') : undefined;
  const leaderTransitions = electing ? counter('leaderTransitions') : undefined;
  leaderTransitions?.inc(0);
  let wasLeading = false;
  if (config.patch.enabled)
    for (const result of PATCH_RESULTS) patchRequests.inc({ target, result }, 0);
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
    counterReset(source, restart) {
      counterResets.inc({ source, restart });
    },
    watchCounterResets(sources) {
      for (const source of sources)
        for (const restart of COUNTER_RESET_RESTARTS) counterResets.inc({ source, restart }, 0);
    },
    persistError(file) {
      persistErrors.inc({ file });
    },
    watchPersistence() {
      for (const file of PERSIST_FILES) persistErrors.inc({ file }, 0);
    },
    degraded(reasons) {
      degraded.reset();
      for (const reason of new Set(reasons)) degraded.set({ reason }, 1);
    },
    trained(seconds, ok) {
      trainRuns.inc({ outcome: ok ? 'success' : 'failure' });
      if (ok) trainDuration.set(seconds);
    },
    patched(result, mode) {
      patchRequests.inc({ target, result: result.status });
      if (result.conflicts) patchRequests.inc({ target, result: 'conflict' }, result.conflicts);
      if (result.status === 'failed') return;
      patchThreshold.reset();
      patchThreshold.set(
        { target, mode },
        result.status === 'skipped' ? result.current : result.value,
      );
    },
    leadership(identity, leading) {
      if (!leader) return;
      leader.reset();
      leader.set({ identity }, leading ? 1 : 0);
      if (leading !== wasLeading) leaderTransitions?.inc();
      wasLeading = leading;
    },
    update(decision, health, publishing = true) {
      const { plan } = decision;
      forecast.reset();
      predictedLoad.reset();
      replicas.reset();
      threshold.reset();
      stale.reset();
      if (!publishing) {
        // A follower: the leader publishes for the fleet.
      } else if (
        decision.status === 'ok' &&
        plan.predictedPeak !== null &&
        plan.predictedPeakP50 !== null
      ) {
        forecast.set({ metric, horizon, quantile: '0.5' }, plan.predictedPeakP50);
        forecast.set({ metric, horizon, quantile: '0.9' }, plan.predictedPeak);
        if (scaling && plan.predictedLoad !== null)
          predictedLoad.set({ metric, horizon }, plan.predictedLoad);
        if (scaling && plan.recommendedReplicas !== null)
          replicas.set({ target }, plan.recommendedReplicas);
        if (scaling && plan.threshold !== null) threshold.set({ target }, plan.threshold);
      } else {
        for (const code of new Set(decision.reasonCodes)) stale.set({ metric, reason: code }, 1);
        // A stale or warming forecast publishes nothing, except a nowcast that fires
        // (./nowcast.ts set the plan to it): a wave observed live, scale-up only.
        if (scaling && decision.nowcast?.active && plan.predictedLoad !== null) {
          predictedLoad.set({ metric, horizon }, plan.predictedLoad);
          if (plan.recommendedReplicas !== null) replicas.set({ target }, plan.recommendedReplicas);
        }
      }
      // The nowcast (./nowcast.ts) while it fires; the leader's alone, like the scaling signals.
      nowcastLoad.reset();
      if (publishing && decision.nowcast?.active && decision.nowcast.load !== null)
        nowcastLoad.set({ metric }, decision.nowcast.load);
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
