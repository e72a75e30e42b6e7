/**
 * The predictor sidecar: an express app with `/metrics` (scaling signals), `/forecast`
 * (JSON for the status page), `/healthz` and `/readyz`, driven by node-cron jobs that collect,
 * forecast and retrain. {@link createSidecar} only builds; `start()` opens the history and
 * model files, listens and schedules; `stop()` undoes all of it and persists.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { createPlanner, type HistoryStore, type Planner } from '@tidewatch/forecast';
import express, { type Express, type Router } from 'express';
import { getTasks } from 'node-cron';
import { createSidecarRole } from '../election/role.js';
import { createPatcher } from '../patch/patcher.js';
import { DEFAULT_SOURCES, type SourceRegistry } from '../sources/index.js';
import { createCollector } from './collector.js';
import { ConfigError, type ServeConfig } from './config.js';
import { dataFiles, loadModel, openStore, prepareDataDir } from './data-dir.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { historyView } from './forecast-view.js';
import { type Jobs, startJobs } from './jobs.js';
import { createLiveStats } from './live.js';
import { createJsonLogger, type Logger } from './log.js';
import { saveModel } from './model-file.js';
import { createSidecarNowcast } from './nowcast.js';
import { statusPageRouter } from './page/index.js';
import { createPatchLoop } from './patching.js';
import { createPersistence, HEALTHY, type Persistence } from './persist.js';
import { mountFallbacks, mountRoutes } from './routes.js';
import { seedHistory } from './seed.js';
import { createShadow, type Shadow } from './shadow.js';
import { DEFAULT_SHUTDOWN_TIMEOUT_SECONDS, runShutdown, type ShutdownReport } from './shutdown.js';
import { createSignals } from './signals.js';

/** Options of {@link createSidecar}. */
export interface SidecarOptions {
  /** Where log lines go. Default: JSON lines on stderr. */
  log?: Logger;
  /** The clock, unix ms. Default `Date.now`. */
  now?: () => number;
  /** The status page's router (`statusPageRouter()` of `./page/index.js`), mounted at `/`. */
  pageRouter?: Router;
  /** Replaces the worker-thread training (tests of the HTTP layer). */
  train?: EngineOptions['train'];
  /** The forecast worker's entry (tests). Default: the built `forecaster-worker.js`. */
  forecastWorkerUrl?: URL;
  /**
   * The source kinds; must be the registry the config was parsed with. Default: the shipped
   * ones (`scrape`, `prometheus`).
   */
  sources?: SourceRegistry;
  /**
   * The cluster patch mode talks to. Default: `loadFromDefault()` on the first apply (in a pod:
   * the service account). Only read when `config.patch.enabled`.
   */
  kubeConfig?: KubeConfig;
  /**
   * The shutdown deadline, ms (> 0). Default: `config.shutdownTimeoutSeconds` (15 s).
   * See `./shutdown.ts` for its phases.
   */
  shutdownTimeoutMs?: number;
}

/** A sidecar instance. */
export interface Sidecar {
  /** The express app (routes are mounted; nothing listens until `start()`). */
  readonly app: Express;
  /**
   * Opens the data files (creating `dataDir`), seeds an empty history, listens, collects
   * once, forecasts (or starts training) and schedules the jobs.
   * @returns The base URL, e.g. `http://127.0.0.1:9464`.
   * @throws (rejects) HistoryError `incompatible-file` (history written with another step),
   *   ConfigError for a bad seed file, a listen error (port in use), or an Error when
   *   `stop()` was called before the start completed.
   */
  start(): Promise<{ url: string }>;
  /**
   * Stops within the shutdown deadline: no new work, in-flight work aborted at half the
   * deadline, the history and model written, the server closed. Idempotent (every call gets
   * the same report). Never rejects.
   * @returns How it went: `clean` false when the deadline forced the end or the final write failed.
   */
  stop(): Promise<ShutdownReport>;
}

/** A model older than this is retrained at start (the daily retrain may have been missed). */
const MODEL_MAX_AGE_MS = 86_400_000;

/** The shutdown deadline of `config` (read loosely: older configs have no such field), ms. */
function shutdownTimeoutOf(config: ServeConfig): number {
  const seconds = (config as { shutdownTimeoutSeconds?: unknown }).shutdownTimeoutSeconds;
  return (
    (typeof seconds === 'number' && seconds > 0 ? seconds : DEFAULT_SHUTDOWN_TIMEOUT_SECONDS) * 1000
  );
}

/**
 * Builds a sidecar for a validated configuration (see `loadServeConfig`). No I/O happens
 * until `start()`.
 * @throws ConfigError when the planner rejects its options; TypeError naming
 *   `shutdownTimeoutMs` when it is not a number > 0.
 */
export function createSidecar(config: ServeConfig, options: SidecarOptions = {}): Sidecar {
  const log = options.log ?? createJsonLogger();
  const now = options.now ?? Date.now;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? shutdownTimeoutOf(config);
  if (typeof shutdownTimeoutMs !== 'number' || !(shutdownTimeoutMs > 0))
    throw new TypeError(
      `createSidecar: shutdownTimeoutMs must be a number > 0, got ${String(shutdownTimeoutMs)}`,
    );
  const planner = makePlanner(config);
  const signals = createSignals(config, planner.leadTimeSeconds);
  const sources = options.sources ?? DEFAULT_SOURCES;
  const kind = sources.require(config.source.kind);
  const live = kind.live
    ? createLiveStats({ prefix: config.live.prefix, windowSeconds: config.live.windowSeconds })
    : undefined;
  // Feeds on the live figures (or the kind's own leading reader, e.g. instant queries to
  // Prometheus) after each collection and raises the published plan (./nowcast.ts).
  const reader = kind.leading?.(config.source, {
    metric: config.metric,
    prefix: config.live.prefix,
    now,
  });
  const nowcast = createSidecarNowcast({
    config,
    planner,
    live,
    ...(reader === undefined
      ? {}
      : {
          leading: {
            reader,
            name: kind.names(config.source).name,
            onError(failure) {
              signals.sourceError(failure.source);
              log.log('warn', 'leading signals failed', {
                source: failure.source,
                error: failure.detail,
              });
            },
          },
        }),
  });
  // Shadow mode never patches (./shadow.ts reports what prediction would have done instead).
  const patching = config.patch.enabled && config.mode !== 'shadow';
  const patch = patching
    ? createPatchLoop({
        config,
        log,
        now,
        createPatcher: (o) =>
          createPatcher({
            ...o,
            ...(options.kubeConfig ? { kubeConfig: options.kubeConfig } : {}),
          }),
        onResult: (result, mode) => signals.patched(result, mode),
      })
    : undefined;
  const files = config.dataDir ? dataFiles(config.dataDir) : undefined;
  const sourceName = kind.names(config.source).name;
  // Leader election (election.enabled): only the leader trains, publishes and patches.
  const role = createSidecarRole({
    config,
    log,
    onModelStoreError: () => signals.persistError('model'),
  });

  let store: HistoryStore | undefined;
  let persistence: Persistence | undefined;
  let engine: Engine | undefined;
  let jobs: Jobs | undefined;
  let server: http.Server | undefined;
  let starting: Promise<{ url: string }> | undefined;
  let startSettled = false;
  let stopping: Promise<ShutdownReport> | undefined;
  let patchRun: Promise<void> | undefined;
  let shadow: Shadow | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use(options.pageRouter ?? statusPageRouter());
  mountRoutes(app, {
    config,
    signals,
    sourceName,
    patch: () => patch?.json() ?? null,
    live: () => live?.snapshot() ?? null,
    shadow: () => (shadow ? shadow.json(now()) : null),
    health: () => persistence?.health() ?? HEALTHY,
    role: () => role.json(),
    decide() {
      if (!engine || !store) return undefined;
      const e = engine;
      const decision = e.evaluate(now());
      return {
        decision,
        history: (minutes, points) =>
          historyView(e.history(), decision.nowMs - minutes * 60_000, points),
      };
    },
    refreshSignals() {
      if (!engine || !store) return false;
      const h = engine.history();
      signals.update(
        engine.evaluate(now()),
        {
          historyPoints: h ? h.values.length : 0,
          lastCollectMs: engine.lastCollectMs,
          jobs: getTasks().size,
        },
        role.isLeader(),
      );
      return true;
    },
  });
  mountFallbacks(app, (error) => log.log('error', 'request failed', { error }));

  /** Throws when `stop()` was called meanwhile: a start must not go on scheduling. */
  function stillStarting(): void {
    if (stopping !== undefined) throw new Error('the sidecar was stopped while starting');
  }

  async function doStart(): Promise<{ url: string }> {
    const dirError = config.dataDir ? prepareDataDir(config.dataDir, log) : undefined;
    if (!config.dataDir) log.log('warn', 'no dataDir: history and model are kept in memory only');
    if (!config.planner.capacityConfigured)
      log.log(
        'warn',
        `planner.capacityPerReplica is not set: replicas assume the placeholder ${config.planner.capacityPerReplica} per replica`,
      );
    const s = openStore(config, files?.history, log);
    store = s;
    if (files && config.dataDir) {
      const modelFile = files.model;
      persistence = createPersistence({
        dir: config.dataDir,
        store: s,
        writeModel: (m) => saveModel(modelFile, m),
        log,
        now,
        onError: (file) => signals.persistError(file),
        onHealth: (health) => signals.degraded(health.reasons),
      });
      signals.watchPersistence();
      if (dirError !== undefined) persistence.fail('history', dirError);
    }
    const model = files ? loadModel(files.model, config, log) : undefined;
    if (config.mode === 'shadow') {
      if (config.patch.enabled) log.log('warn', 'mode is shadow: patch mode stays off');
      shadow = createShadow({
        config,
        leadTimeSeconds: planner.leadTimeSeconds,
        registry: signals.registry,
        log,
        now,
      });
    }
    if (config.seed) {
      const seeded = seedHistory(s, { ...config.seed, series: config.metric, nowMs: now() });
      if (seeded > 0) {
        log.log('info', 'history seeded', { file: config.seed.file, points: seeded });
        persistence?.saveHistory();
      }
    }
    const collector = createCollector({
      config,
      store: s,
      sources,
      now,
      ...(live ? { onExposition: live.observe } : {}),
      onError(error) {
        signals.sourceError(error.source);
        log.log('warn', 'collection failed', { source: error.source, error: error.detail });
      },
      onCounterReset(event) {
        signals.counterReset(event.source, event.restart);
        if (event.restart === 'true')
          log.log('info', 'counter reset: the target restarted', { ...event });
        else log.log('warn', 'counter went down without a restart: step skipped', { ...event });
      },
    });
    for (const source of collector.errorSources) signals.sourceError(source, 0);
    // Only a counter can go down; a gauge source would show three series that never move.
    if ((config.source as { type?: unknown }).type === 'counter')
      signals.watchCounterResets(collector.errorSources);
    const created = createEngine({
      config,
      store: s,
      collector,
      planner,
      log,
      now,
      ...(model ? { model } : {}),
      ...(options.train ? { train: options.train } : {}),
      ...(options.forecastWorkerUrl ? { forecastWorkerUrl: options.forecastWorkerUrl } : {}),
      mayTrain: () => role.isLeader(),
      events: {
        trained: (seconds, ok) => signals.trained(seconds, ok),
        modelChanged: (m) => {
          persistence?.saveModel(m);
          void role.storeModel(m);
        },
        historyChanged: () => persistence?.saveHistory(),
        // Written with the history save of the same collection, not by a save of its own.
        bandChanged: (m) => persistence?.updateModel(m),
      },
    });
    const e = nowcast ? nowcast.wrap(created) : created;
    engine = e;
    stillStarting();
    const srv = http.createServer(app);
    server = srv;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(config.listen.port, config.listen.host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    const address = srv.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    log.log('info', 'listening', { url, source: collector.name, model: model?.model ?? null });
    // A fresh sidecar says when it will forecast, not only how many points it lacks.
    const warming = e.evaluate(now()).warming;
    if (warming)
      log.log('info', `warming up: first training in ${warming.timeLeft}`, { ...warming });
    // Patch mode follows every forecast: the threshold it writes is the one just decided.
    const forecastAndPatch = async () => {
      await e.forecast();
      if (patch && stopping === undefined && role.isLeader()) {
        const run = patch.tick(e.evaluate(now()));
        patchRun = run;
        await run.finally(() => {
          if (patchRun === run) patchRun = undefined;
        });
      }
    };
    // Shadow mode observes after every collection: the decision of that instant.
    const collect = async () => {
      await e.collect();
      if (shadow && stopping === undefined) await shadow.tick(e.evaluate(now()), e.history());
    };
    // A new leader forecasts at once: from the model the previous leader stored (when newer
    // than its own), else from its own, else it starts training on the history it collected.
    const takeOver = async () => {
      const since = performance.now();
      const stored = await role.loadModel();
      const own = e.evaluate(now()).model;
      if (stored && role.isLeader() && (!own || stored.trainedAtMs > own.trainedAtMs)) {
        e.adopt(stored);
        persistence?.saveModel(stored);
      }
      await forecastAndPatch();
      const d = e.evaluate(now());
      // The daily retrain may have been missed while nobody led (or by the stored model).
      if (d.model && now() - d.model.trainedAtMs > MODEL_MAX_AGE_MS)
        void e.retrain('the model in use is older than a day');
      log.log('info', 'leader took over', {
        model: d.model?.model ?? null,
        modelFrom: stored && d.model === stored ? 'configmap' : d.model ? 'own' : 'none (training)',
        forecast: d.forecast !== undefined,
        seconds: Math.round(performance.now() - since) / 1000,
      });
    };
    role.start({
      onStartedLeading: () =>
        void takeOver().catch((error) => log.log('error', 'takeover failed', { error })),
      onStoppedLeading: () => e.cancelTraining(),
      onLeadership: (identity, leading) => signals.leadership(identity, leading),
    });
    await e.collect();
    await forecastAndPatch();
    if (shadow) await shadow.tick(e.evaluate(now()), e.history());
    stillStarting();
    jobs = startJobs(
      [
        { name: 'collect', cron: config.schedule.collect, run: collect },
        { name: 'forecast', cron: config.schedule.forecast, run: forecastAndPatch },
        { name: 'retrain', cron: config.schedule.retrain, run: () => e.retrain('scheduled') },
      ],
      { log, ...(config.schedule.timezone ? { timezone: config.schedule.timezone } : {}) },
    );
    if (model && now() - model.trainedAtMs > MODEL_MAX_AGE_MS)
      void e.retrain('the saved model is older than a day');
    return { url };
  }

  function running(): Map<string, Promise<unknown>> {
    const work = new Map<string, Promise<unknown>>();
    if (starting !== undefined && !startSettled) work.set('start', starting);
    for (const [name, p] of engine?.running() ?? []) work.set(name, p);
    if (patchRun !== undefined) work.set('patch', patchRun);
    if (shadow?.inFlight !== undefined) work.set('shadow', shadow.inFlight);
    return work;
  }

  async function doStop(): Promise<ShutdownReport> {
    const report = await runShutdown(
      {
        async halt() {
          await jobs?.halt();
          engine?.halt();
          // Step down first (stop acting for the fleet), then release the lease.
          await role.stop();
        },
        running,
        abort() {
          engine?.abort();
          shadow?.abort();
          // Patch requests have no abort: they end by their own timeout (patch.timeoutSeconds).
        },
        save: async () => {
          const saved = persistence ? await persistence.flush() : true;
          return (await (shadow?.flush() ?? true)) && saved;
        },
        async close(forceAfterMs) {
          const srv = server;
          if (!srv?.listening) return;
          const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
          srv.closeIdleConnections();
          const force = setTimeout(() => srv.closeAllConnections(), forceAfterMs).unref();
          await closed;
          clearTimeout(force);
        },
      },
      { timeoutMs: shutdownTimeoutMs, log, now },
    );
    if (report.clean)
      log.log('info', 'stopped', {
        seconds: report.elapsedMs / 1000,
        ...(report.aborted.length > 0 ? { aborted: report.aborted } : {}),
      });
    return report;
  }

  return {
    app,
    start() {
      if (stopping !== undefined) return Promise.reject(new Error('the sidecar was stopped'));
      if (!starting) {
        starting = doStart();
        starting.then(
          () => {
            startSettled = true;
          },
          () => {
            startSettled = true;
          },
        );
      }
      return starting;
    },
    stop() {
      stopping ??= doStop();
      return stopping;
    },
  };
}

function makePlanner(config: ServeConfig): Planner {
  const p = config.planner;
  try {
    return createPlanner({
      capacityPerReplica: p.capacityPerReplica,
      targetUtilization: p.targetUtilization,
      minReplicas: p.minReplicas,
      maxReplicas: p.maxReplicas,
      ...(p.maxStep !== undefined ? { maxStep: p.maxStep } : {}),
      lead: p.lead,
      staleness: config.staleness,
    });
  } catch (error) {
    throw new ConfigError([`config: planner: ${(error as Error).message}`]);
  }
}
