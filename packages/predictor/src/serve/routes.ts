/**
 * The sidecar's HTTP surface: `/metrics`, `/forecast`, `/healthz`, `/readyz` (and the status
 * page, mounted by the app). Every bad request gets a 4xx JSON `{"error": "..."}` that says
 * what was wrong; handlers never throw into express.
 */
import type { StaleReason } from '@tidewatch/conventions';
import type { Express, NextFunction, Request, Response } from 'express';
import type { ServeConfig } from './config.js';
import type { Decision } from './engine.js';
import type { LiveJson } from './live.js';
import type { PatchJson } from './patching.js';
import type { Signals } from './signals.js';

/** One point of `/forecast`'s history (`null` = no data that step). */
export interface HistoryPointJson {
  timestamp: string;
  value: number | null;
}

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
  history: HistoryPointJson[];
  forecast: Array<{ timestamp: string; p50: number; p90: number }>;
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
  /** The decision now, or `undefined` while starting. */
  decide(): { decision: Decision; history(minutes: number): HistoryPointJson[] } | undefined;
  /** Refreshes the gauges before a scrape; false while starting. */
  refreshSignals(): boolean;
}

const HISTORY_ERROR = (got: unknown) =>
  `history must be an integer number of minutes from 1 to 10080, got ${JSON.stringify(got)}`;

/**
 * Parses `/forecast`'s query: only `history` (minutes, 1..10080, once).
 * @returns The minutes (`fallback` when absent) or an error message for a 400.
 */
export function parseForecastQuery(
  query: Record<string, unknown>,
  fallback: number,
): { minutes: number } | { error: string } {
  for (const key of Object.keys(query))
    if (key !== 'history')
      return { error: `unknown query parameter ${JSON.stringify(key)} (known: history)` };
  const raw = query.history;
  if (raw === undefined) return { minutes: fallback };
  if (Array.isArray(raw)) return { error: 'history must be given once' };
  if (typeof raw !== 'string' || !/^\d{1,5}$/.test(raw)) return { error: HISTORY_ERROR(raw) };
  const minutes = Number(raw);
  if (minutes < 1 || minutes > 10_080) return { error: HISTORY_ERROR(raw) };
  return { minutes };
}

/** Renders the `/forecast` document from a decision. */
export function forecastJson(
  decision: Decision,
  history: HistoryPointJson[],
  config: ServeConfig,
  sourceName: string,
  extras: { patch?: PatchJson | null; live?: LiveJson | null } = {},
): ForecastJson {
  const { plan, model } = decision;
  const num = (v: number | null | undefined) =>
    v !== undefined && v !== null && Number.isFinite(v) ? v : null;
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
    forecast: (decision.forecast?.points ?? []).map((p) => ({
      timestamp: p.timestamp,
      p50: p.p50,
      p90: p.p90,
    })),
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
  };
}

const ENDPOINTS = ['/', '/forecast', '/metrics', '/healthz', '/readyz'];

/** Mounts the JSON and metrics endpoints on `app`. */
export function mountRoutes(app: Express, ctx: RouteContext): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });

  app.get('/readyz', (_req, res) => {
    const now = ctx.decide();
    if (!now) {
      res.status(503).json({ ready: false, reason: 'starting' });
      return;
    }
    const { decision } = now;
    if (decision.forecast === undefined) {
      res
        .status(503)
        .json({ ready: false, reason: decision.reasons.join('; ') || 'no forecast yet' });
      return;
    }
    res.json({ ready: true, status: decision.status });
  });

  app.get('/forecast', (req, res) => {
    const q = parseForecastQuery(req.query as Record<string, unknown>, ctx.config.historyMinutes);
    if ('error' in q) {
      res.status(400).json({ error: q.error });
      return;
    }
    const now = ctx.decide();
    if (!now) {
      res.status(503).json({ error: 'the sidecar is starting' });
      return;
    }
    const history = now.history(q.minutes);
    res.set('cache-control', 'no-store').json(
      forecastJson(now.decision, history, ctx.config, ctx.sourceName, {
        patch: ctx.patch(),
        live: ctx.live(),
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
