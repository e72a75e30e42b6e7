/**
 * The sidecar's HTTP surface: `/metrics`, `/forecast`, `/healthz`, `/readyz` (and the status
 * page, mounted by the app). Every bad request gets a 4xx JSON `{"error": "..."}` that says
 * what was wrong; handlers never throw into express.
 */
import type { StaleReason } from '@tidewatch/conventions';
import type { Express, NextFunction, Request, Response } from 'express';
import type { BandJson } from './band.js';
import type { ServeConfig } from './config.js';
import type { Decision, ForecasterJson } from './engine.js';
import {
  type ForecastPointJson,
  type ForecastView,
  forecastView,
  type HistoryPointJson,
  parseForecastView,
  type ViewJson,
} from './forecast-view.js';
import type { LiveJson } from './live.js';
import type { NowcastJson } from './nowcast.js';
import type { PatchJson } from './patching.js';
import type { HealthJson } from './persist.js';
import type { ShadowJson } from './shadow.js';
import type { Signals } from './signals.js';
import type { WarmingJson } from './warming.js';

export type { HistoryPointJson } from './forecast-view.js';
// Kept here for callers that parsed the history parameter through this module.
export { parseForecastQuery } from './forecast-view.js';

/** The `/forecast` document (docs/sidecar.md; the status page reads it). */
export interface ForecastJson {
  status: 'ok' | 'stale' | 'warming';
  reasons: string[];
  /** The reasons as stable codes (`STALE_REASONS` of `@tidewatch/conventions`), same order. */
  reasonCodes: StaleReason[];
  metric: string;
  source: string;
  /** Seconds. */
  step: number;
  generatedAt: string;
  forecastAgeSeconds: number | null;
  dataAgeSeconds: number | null;
  model: string | null;
  errors: {
    mase: number | null;
    wape: number | null;
    coverage90: number | null;
    rollingMase: number | null;
  };
  /** The history tail, downsampled unless `detail=full` (see `view`); the newest point exact. */
  history: HistoryPointJson[];
  /** The latest forecast, downsampled like `history`. */
  forecast: ForecastPointJson[];
  plan: {
    leadTimeSeconds: number;
    predictedPeak: number | null;
    /** max(p50 peak, target utilisation x p90 peak): what the predicted trigger reads. */
    predictedLoad: number | null;
    reactiveReplicas: number | null;
    recommendedReplicas: number | null;
    threshold: number | null;
    capacityPerReplica: number;
    targetUtilization: number;
  };
  /** Patch mode's state; null when it is off. */
  patch: PatchJson | null;
  /** Live figures from the scraped servers; null with a `prometheus` source or before a scrape. */
  live: LiveJson | null;
  /**
   * The nowcast (docs/sidecar.md "Nowcast"); null when disabled or the source gives no leading figures.
   * Always sent by the sidecar; optional for documents of older sidecars.
   */
  nowcast?: NowcastJson | null;
  /**
   * The sidecar's own health (a failing disk makes it `degraded`). Always sent by the sidecar;
   * optional for documents of older sidecars.
   */
  health?: HealthJson;
  /** How `history` and `forecast` were shaped. Always sent by the sidecar. */
  view?: ViewJson;
  /** Shadow mode's report (`mode: shadow`); absent in active mode. */
  shadow?: ShadowJson;
  /**
   * Leader election: `leader` (trains, publishes the scaling signals, patches), `follower`
   * (collects and serves, publishes no scaling signal) or `standalone` (election off). Always
   * sent by the sidecar; optional for documents of older sidecars.
   */
  role?: RoleJson['role'];
  /** The identity of the leader this replica follows (its own when leading); null when none or standalone. */
  leader?: string | null;
  /**
   * While too little history is held for the first training: points held and needed and the
   * time left (`about 6 h 40 min at one point a minute`). Absent otherwise.
   */
  warming?: WarmingJson;
  /**
   * The live p90 band: the level it is read at (adaptive correction) and its live coverage.
   * Always sent by the sidecar; optional for documents of older sidecars.
   */
  band?: BandJson;
  /**
   * Where the forecasts ran (the forecast worker thread's counters). Always sent by the
   * sidecar; optional for documents of older sidecars.
   */
  forecaster?: ForecasterJson;
}

/** A sidecar's place in its fleet (`/forecast` and `/healthz`). */
export interface RoleJson {
  role: 'leader' | 'follower' | 'standalone';
  leader: string | null;
}

/** What the routes read from the running sidecar; `undefined` before `start()`. */
export interface RouteContext {
  config: ServeConfig;
  signals: Signals;
  /** The source's name (`scrape:URL` ...). */
  sourceName: string;
  /** Patch mode's state (null when off). */
  patch(): PatchJson | null;
  /** Live figures (null when none). */
  live(): LiveJson | null;
  /** The sidecar's health (`ok` before start). */
  health(): HealthJson;
  /** Shadow mode's report (null in active mode or before start). */
  shadow?(): ShadowJson | null;
  /** The decision now, or `undefined` while starting. */
  decide():
    | {
        decision: Decision;
        /** The history of the last `minutes`, shaped by `points` (`null` = every point). */
        history(
          minutes: number,
          points: number | null,
        ): { points: HistoryPointJson[]; total: number };
      }
    | undefined;
  /** Refreshes the gauges before a scrape; false while starting. */
  refreshSignals(): boolean;
  /** Its place in the fleet. Default standalone. */
  role?(): RoleJson;
}

/** Renders the `/forecast` document from a decision. */
export function forecastJson(
  decision: Decision,
  history: HistoryPointJson[],
  config: ServeConfig,
  sourceName: string,
  extras: {
    patch?: PatchJson | null;
    live?: LiveJson | null;
    health?: HealthJson;
    /** Shapes the forecast array (every point without it). */
    view?: ForecastView;
    /** Points of the history window before shaping; default `history.length`. */
    historyPoints?: number;
    /** Shadow mode's report; omitted when null. */
    shadow?: ShadowJson | null;
    /** Its place in the fleet (absent: not sent). */
    role?: RoleJson;
  } = {},
): ForecastJson {
  const { plan, model } = decision;
  const num = (v: number | null | undefined) =>
    v !== undefined && v !== null && Number.isFinite(v) ? v : null;
  const shaped = forecastView(decision.forecast?.points ?? [], extras.view?.points ?? null);
  return {
    status: decision.status,
    reasons: decision.reasons,
    reasonCodes: decision.reasonCodes,
    metric: config.metric,
    source: sourceName,
    step: config.stepSeconds,
    generatedAt: new Date(decision.nowMs).toISOString(),
    forecastAgeSeconds: decision.forecastAgeSeconds,
    dataAgeSeconds: decision.dataAgeSeconds,
    model: model?.model ?? null,
    errors: {
      mase: num(model?.scores?.mase),
      wape: num(model?.scores?.wape),
      coverage90: num(model?.scores?.coverage90),
      rollingMase: num(decision.rollingMase),
    },
    history,
    forecast: shaped.points,
    plan: {
      leadTimeSeconds: plan.leadTimeSeconds,
      predictedPeak: num(plan.predictedPeak),
      predictedLoad: num(plan.predictedLoad),
      reactiveReplicas: plan.reactiveReplicas,
      recommendedReplicas: plan.recommendedReplicas,
      threshold: num(plan.threshold),
      capacityPerReplica: config.planner.capacityPerReplica,
      targetUtilization: config.planner.targetUtilization,
    },
    patch: extras.patch ?? null,
    live: extras.live ?? null,
    nowcast: decision.nowcast ?? null,
    ...(extras.health ? { health: extras.health } : {}),
    ...(extras.role ? { role: extras.role.role, leader: extras.role.leader } : {}),
    ...(extras.view
      ? {
          view: {
            detail: extras.view.detail,
            points: extras.view.points,
            historyPoints: extras.historyPoints ?? history.length,
            forecastPoints: shaped.total,
          },
        }
      : {}),
    ...(extras.shadow ? { shadow: extras.shadow } : {}),
    ...(decision.warming ? { warming: decision.warming } : {}),
    ...(decision.band ? { band: decision.band } : {}),
    ...(decision.forecaster ? { forecaster: decision.forecaster } : {}),
  };
}

const ENDPOINTS = ['/', '/forecast', '/metrics', '/healthz', '/readyz'];

const STANDALONE: RoleJson = { role: 'standalone', leader: null };
const roleOf = (ctx: RouteContext): RoleJson => ctx.role?.() ?? STANDALONE;

/** Mounts the JSON and metrics endpoints on `app`. */
export function mountRoutes(app: Express, ctx: RouteContext): void {
  // Liveness stays 200 while degraded: restarting a pod that cannot write its disk fixes
  // nothing and loses the history held in memory. The health is for people and alerts.
  app.get('/healthz', (_req, res) => {
    res
      .set('cache-control', 'no-store')
      .json({ status: 'alive', health: ctx.health(), ...roleOf(ctx) });
  });

  app.get('/readyz', (_req, res) => {
    const now = ctx.decide();
    if (!now) {
      res.status(503).json({ ready: false, reason: 'starting' });
      return;
    }
    const { decision } = now;
    // A follower is ready: it serves and collects, and the leader forecasts for the fleet. Not
    // ready would stall the rollout of a standalone predictor Deployment for good.
    const role = roleOf(ctx);
    if (role.role === 'follower') {
      res.json({ ready: true, status: 'follower', leader: role.leader });
      return;
    }
    if (decision.forecast === undefined) {
      res.status(503).json({
        ready: false,
        reason: decision.reasons.join('; ') || 'no forecast yet',
        ...(decision.warming ? { warming: decision.warming } : {}),
      });
      return;
    }
    res.json({ ready: true, status: decision.status });
  });

  app.get('/forecast', (req, res) => {
    const view = parseForecastView(req.query as Record<string, unknown>, ctx.config.historyMinutes);
    if ('error' in view) {
      res.status(400).json({ error: view.error });
      return;
    }
    const now = ctx.decide();
    if (!now) {
      res.status(503).json({ error: 'the sidecar is starting', health: ctx.health() });
      return;
    }
    const history = now.history(view.minutes, view.points);
    res.set('cache-control', 'no-store').json(
      forecastJson(now.decision, history.points, ctx.config, ctx.sourceName, {
        patch: ctx.patch(),
        live: ctx.live(),
        health: ctx.health(),
        view,
        historyPoints: history.total,
        shadow: ctx.shadow?.() ?? null,
        role: roleOf(ctx),
      }),
    );
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      ctx.refreshSignals();
      const body = await ctx.signals.registry.metrics();
      res.set('content-type', ctx.signals.registry.contentType).send(body);
    } catch (error) {
      next(error);
    }
  });
}

/** Mounts the 405 (known path, other method), 404 and error handlers: call last. */
export function mountFallbacks(app: Express, log: (error: unknown) => void): void {
  const known = (path: string) =>
    ENDPOINTS.some((e) => e !== '/' && (path === e || path === `${e}/`)) ||
    path === '/' ||
    path.startsWith('/assets/');
  app.use((req: Request, res: Response) => {
    if (known(req.path) && req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .status(405)
        .set('allow', 'GET, HEAD')
        .json({ error: `method ${req.method} is not allowed on ${req.path}; use GET` });
      return;
    }
    res.status(404).json({
      error: `no such endpoint: ${req.method} ${req.path} (endpoints: ${ENDPOINTS.join(', ')})`,
    });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (error as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(status).json({ error: (error as Error).message || 'bad request' });
      return;
    }
    log(error);
    if (!res.headersSent) res.status(500).json({ error: 'internal error (logged)' });
  });
}
