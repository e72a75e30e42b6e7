/**
 * The predictor sidecar: an express app with `/metrics` (scaling signals), `/forecast`
 * (JSON for the status page), `/healthz` and `/readyz`, driven by node-cron jobs that collect,
 * forecast and retrain. {@link createSidecar} only builds; `start()` opens the history and
 * model files, listens and schedules; `stop()` undoes all of it and persists.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  createHistoryStore,
  createPlanner,
  HistoryError,
  type HistoryStore,
  type Planner,
  timeAt,
} from '@tidewatch/forecast';
import express, { type Express, type Router } from 'express';
import { getTasks } from 'node-cron';
import { createPatcher } from '../patch/patcher.js';
import { DEFAULT_SOURCES, type SourceRegistry } from '../sources/index.js';
import { createCollector } from './collector.js';
import { ConfigError, type ServeConfig } from './config.js';
import { createEngine, type Engine, type EngineOptions } from './engine.js';
import { type Jobs, startJobs } from './jobs.js';
import { createLiveStats } from './live.js';
import { createJsonLogger, type Logger } from './log.js';
import { loadSavedModel, type SavedModel, saveModel } from './model-file.js';
import { statusPageRouter } from './page/index.js';
import { createPatchLoop } from './patching.js';
import { type HistoryPointJson, mountFallbacks, mountRoutes } from './routes.js';
import { seedHistory } from './seed.js';
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
   *   ConfigError for a bad seed file, or a listen error (port in use).
   */
  start(): Promise<{ url: string }>;
  /** Stops the jobs and a running training, persists history and model, closes the server. Idempotent. */
  stop(): Promise<void>;
}

/** A model older than this is retrained at start (the daily retrain may have been missed). */
const MODEL_MAX_AGE_MS = 86_400_000;

/**
 * Builds a sidecar for a validated configuration (see `loadServeConfig`). No I/O happens
 * until `start()`.
 * @throws ConfigError when the planner rejects its options.
 */
export function createSidecar(config: ServeConfig, options: SidecarOptions = {}): Sidecar {
  const log = options.log ?? createJsonLogger();
  const now = options.now ?? Date.now;
  const planner = makePlanner(config);
  const signals = createSignals(config, planner.leadTimeSeconds);
  const sources = options.sources ?? DEFAULT_SOURCES;
  const kind = sources.require(config.source.kind);
  const live = kind.live
    ? createLiveStats({ prefix: config.live.prefix, windowSeconds: config.live.windowSeconds })
    : undefined;
  const patch = config.patch.enabled
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
  const files = config.dataDir
    ? { history: join(config.dataDir, 'history.json'), model: join(config.dataDir, 'model.json') }
    : undefined;
  const stepMs = config.stepSeconds * 1000;

  let store: HistoryStore | undefined;
  let engine: Engine | undefined;
  let jobs: Jobs | undefined;
  let server: http.Server | undefined;
  const sourceName = kind.names(config.source).name;
  let starting: Promise<{ url: string }> | undefined;
  let stopping: Promise<void> | undefined;
  let persisting: Promise<void> | undefined;
  let persistAgain = false;
  let modelWrite: Promise<void> = Promise.resolve();

  const app = express();
  app.disable('x-powered-by');
  app.use(options.pageRouter ?? statusPageRouter());
  mountRoutes(app, {
    config,
    signals,
    get sourceName() {
      return sourceName;
    },
    patch: () => patch?.json() ?? null,
    live: () => live?.snapshot() ?? null,
    decide() {
      if (!engine || !store) return undefined;
      const decision = engine.evaluate(now());
      return { decision, history: (minutes) => historyTail(minutes, decision.nowMs) };
    },
    refreshSignals() {
      if (!engine || !store) return false;
      const h = engine.history();
      signals.update(engine.evaluate(now()), {
        historyPoints: h ? h.values.length : 0,
        lastCollectMs: engine.lastCollectMs,
        jobs: getTasks().size,
      });
      return true;
    },
  });
  mountFallbacks(app, (error) => log.log('error', 'request failed', { error }));

  function historyTail(minutes: number, nowMs: number): HistoryPointJson[] {
    const h = engine?.history();
    if (!h) return [];
    const fromMs = nowMs - minutes * 60_000;
    const first = Math.max(0, Math.ceil((fromMs - h.startMs) / stepMs));
    const out: HistoryPointJson[] = [];
    for (let i = first; i < h.values.length; i++) {
      const v = h.values[i] as number;
      out.push({
        timestamp: new Date(timeAt(h, i)).toISOString(),
        value: Number.isFinite(v) ? v : null,
      });
    }
    return out;
  }

  /** Persists the history, coalescing requests that arrive while a write runs. */
  function persistHistory(): void {
    if (!files || !store) return;
    if (persisting !== undefined) {
      persistAgain = true;
      return;
    }
    const s = store;
    persisting = (async () => {
      do {
        persistAgain = false;
        try {
          await s.persist();
        } catch (error) {
          log.log('error', 'persisting history failed', { error });
        }
      } while (persistAgain && stopping === undefined);
    })().finally(() => {
      persisting = undefined;
    });
  }

  function persistModel(model: SavedModel): void {
    if (!files) return;
    const file = files.model;
    modelWrite = modelWrite
      .then(() => saveModel(file, model))
      .catch((error: unknown) => log.log('error', 'persisting the model failed', { error }));
  }

  async function doStart(): Promise<{ url: string }> {
    if (config.dataDir) {
      mkdirSync(config.dataDir, { recursive: true });
      removeOrphans(config.dataDir, log);
    } else log.log('warn', 'no dataDir: history and model are kept in memory only');
    if (!config.planner.capacityConfigured)
      log.log(
        'warn',
        `planner.capacityPerReplica is not set: replicas assume the placeholder ${config.planner.capacityPerReplica} per replica`,
      );
    const s = openStore(config, files?.history, log);
    store = s;
    const model = files ? loadModel(files.model, config, log) : undefined;
    if (config.seed) {
      const seeded = seedHistory(s, { ...config.seed, series: config.metric, nowMs: now() });
      if (seeded > 0) {
        log.log('info', 'history seeded', { file: config.seed.file, points: seeded });
        if (files) await s.persist();
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
    });
    for (const name of collector.errorSources) signals.sourceError(name, 0);
    const e = createEngine({
      config,
      store: s,
      collector,
      planner,
      log,
      now,
      ...(model ? { model } : {}),
      ...(options.train ? { train: options.train } : {}),
      events: {
        trained: (seconds, ok) => signals.trained(seconds, ok),
        modelChanged: persistModel,
        historyChanged: persistHistory,
      },
    });
    engine = e;
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
    // Patch mode follows every forecast: the threshold it writes is the one just decided.
    const forecastAndPatch = async () => {
      await e.forecast();
      if (patch && stopping === undefined) await patch.tick(e.evaluate(now()));
    };
    await e.collect();
    await forecastAndPatch();
    jobs = startJobs(
      [
        { name: 'collect', cron: config.schedule.collect, run: () => e.collect() },
        { name: 'forecast', cron: config.schedule.forecast, run: forecastAndPatch },
        { name: 'retrain', cron: config.schedule.retrain, run: () => e.retrain('scheduled') },
      ],
      { log, ...(config.schedule.timezone ? { timezone: config.schedule.timezone } : {}) },
    );
    if (model && now() - model.trainedAtMs > MODEL_MAX_AGE_MS)
      void e.retrain('the saved model is older than a day');
    return { url };
  }

  async function doStop(): Promise<void> {
    await starting?.catch(() => {});
    await jobs?.stop();
    await engine?.stop();
    await persisting;
    if (files && store) {
      try {
        await store.persist();
      } catch (error) {
        log.log('error', 'persisting history at shutdown failed', { error });
      }
    }
    await modelWrite;
    const srv = server;
    if (srv?.listening) {
      const closed = new Promise<void>((resolve) => srv.close(() => resolve()));
      srv.closeIdleConnections();
      // Requests in progress get a moment; then their connections go too.
      const force = setTimeout(() => srv.closeAllConnections(), 2000).unref();
      await closed;
      clearTimeout(force);
    }
    log.log('info', 'stopped');
  }

  return {
    app,
    start() {
      if (stopping !== undefined) return Promise.reject(new Error('the sidecar was stopped'));
      starting ??= doStart();
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

/**
 * Opens the history. A corrupt or unreadable file is moved aside (kept for inspection) and
 * the history starts empty: a sidecar must not crash-loop on it. A file written with another
 * step is an error (discarding it would lose data silently).
 */
function openStore(config: ServeConfig, file: string | undefined, log: Logger): HistoryStore {
  const options = {
    stepMs: config.stepSeconds * 1000,
    capacity: config.historyPoints,
    ...(file ? { file } : {}),
  };
  try {
    return createHistoryStore(options);
  } catch (error) {
    const recoverable =
      file &&
      error instanceof HistoryError &&
      (error.code === 'corrupt-file' || error.code === 'unreadable-file');
    if (!recoverable) throw error;
    const aside = `${file}.corrupt-${Date.now()}`;
    try {
      renameSync(file, aside);
    } catch {
      // Unreadable and unmovable: start empty in memory; persist() will report the problem.
    }
    log.log('error', 'history file unusable: moved aside, starting empty', {
      error,
      movedTo: aside,
    });
    return createHistoryStore(options);
  }
}

/**
 * Deletes temp files a killed writer left (write-file-atomic names them `<file>.<number>`).
 * The sidecar owns its dataDir, so at start nobody else can be writing them.
 */
function removeOrphans(dir: string, log: Logger): void {
  const orphans = readdirSync(dir).filter((f) => /^(history|model)\.json\.\d+$/.test(f));
  for (const f of orphans) rmSync(join(dir, f), { force: true });
  if (orphans.length > 0)
    log.log('info', 'removed temp files of an interrupted write', { files: orphans });
}

/** The saved model, when it fits this configuration; anything else is logged and ignored. */
function loadModel(file: string, config: ServeConfig, log: Logger): SavedModel | undefined {
  let model: SavedModel | undefined;
  try {
    model = loadSavedModel(file);
  } catch (error) {
    log.log('error', 'saved model unusable: it will be retrained', { error });
    return undefined;
  }
  if (!model) return undefined;
  const season = JSON.stringify(config.forecast.season ?? {});
  const why =
    model.metric !== config.metric
      ? `it is for metric ${model.metric}`
      : model.stepMs !== config.stepSeconds * 1000
        ? `it was trained with a step of ${model.stepMs / 1000} s`
        : JSON.stringify(model.fitted.season) !== season
          ? 'it was trained with another forecast.season'
          : undefined;
  if (why) {
    log.log('warn', `saved model ignored: ${why}`);
    return undefined;
  }
  log.log('info', 'saved model loaded', {
    model: model.model,
    trainedAt: new Date(model.trainedAtMs).toISOString(),
  });
  return model;
}
