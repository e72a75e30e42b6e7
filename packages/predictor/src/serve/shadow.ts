/**
 * Shadow mode at run time: after every collection, read the replicas the HPA runs from
 * Prometheus (kube-state-metrics), put them next to the planner's recommendation in the
 * ledger (./shadow-ledger.ts), publish the report (`tidewatch_shadow_*`, `/forecast`'s `shadow`
 * block, the status page) and keep the ledger in `dataDir/shadow.json` beside the history, so
 * a week's report survives restarts. Nothing here publishes a scaling signal or patches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_STALE_REASONS, type StaleReason } from '@tidewatch/conventions';
import type { Series } from '@tidewatch/forecast';
import type { Registry } from 'prom-client';
import writeFileAtomic from 'write-file-atomic';
import type { ServeConfig } from './config.js';
import type { Decision } from './engine.js';
import type { Logger } from './log.js';
import { replicasQueryOf, shadowPrometheusOf } from './shadow-config.js';
import { createShadowLedger, type ShadowLedger, type ShadowTotals } from './shadow-ledger.js';
import { createShadowSignals } from './shadow-signals.js';

/** `/forecast`'s `shadow` block (docs/sidecar.md). */
export interface ShadowJson {
  /** The PromQL the actual replicas are read with, and from where. */
  query: string;
  prometheus: string;
  /** The last observation: load, replicas the HPA ran and the predictive replicas for it. */
  last: null | { at: string; load: number; actualReplicas: number; predictiveReplicas: number };
  /** Why the last replicas query failed; null when it worked. */
  error: string | null;
  /** Since the ledger began (persisted with the history). */
  totals: ShadowTotals & { preventedPodMinutes: number };
  /** The last 7 days (whole hours). */
  week: ShadowTotals & {
    from: string;
    to: string;
    preventedPodMinutes: number;
    /** Extra replica-hours of the predictive policy, % of the actual; null before any. */
    extraReplicaPercent: number | null;
  };
}

/** Options of {@link createShadow}. */
export interface ShadowOptions {
  config: ServeConfig;
  /** The planner's lead time, seconds. */
  leadTimeSeconds: number;
  /** The sidecar's metrics registry: the shadow signals are added to it. */
  registry: Registry;
  log: Logger;
  now: () => number;
}

/** See {@link createShadow}. */
export interface Shadow {
  /**
   * One observation after a collection: the replicas query, the ledger, the signals, a save.
   * Never rejects; a failed query is logged, shown in `error`, and the previous figures hold.
   */
  tick(decision: Decision, history: Series | undefined): Promise<void>;
  /** The `/forecast` block at `nowMs`. */
  json(nowMs: number): ShadowJson;
  /** The tick in flight, if any (a shutdown waits on it). */
  readonly inFlight: Promise<void> | undefined;
  /** Aborts the query in flight. */
  abort(): void;
  /** The final write (shutdown). Never rejects. @returns Whether the ledger is on disk (true without a dataDir). */
  flush(): Promise<boolean>;
}

/** The shadow file in `dir`. */
export const shadowFile = (dir: string): string => join(dir, 'shadow.json');

const FORMAT = 'tidewatch-shadow-ledger';

/** The ledger saved in `file`, or undefined (missing or unusable: logged, the report restarts). */
function loadState(file: string | undefined, log: Logger): unknown {
  if (!file) return undefined;
  try {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { format?: unknown; ledger?: unknown };
    if (doc.format !== FORMAT) throw new Error(`not a ${FORMAT} file`);
    log.log('info', 'shadow report loaded', { file });
    return doc.ledger;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      log.log('warn', 'shadow report file unusable: the report starts afresh', { file, error });
    return undefined;
  }
}

/** The newest finite value of `history` (the load the planner saw). */
function newestLoad(history: Series | undefined): number | undefined {
  const v = history?.values;
  if (!v) return undefined;
  for (let k = v.length - 1; k >= 0; k--) if (Number.isFinite(v[k])) return v[k] as number;
  return undefined;
}

/**
 * Reads one number from Prometheus' instant-query API under a deadline of our own.
 * @throws Error naming what was wrong: HTTP status, not JSON, no series, several series, a value
 *   that is not a finite number >= 0, the deadline.
 */
async function queryReplicas(
  url: string,
  query: string,
  timeoutMs: number,
  bearerToken: string | undefined,
  signal: AbortSignal,
): Promise<number> {
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new Error(`timed out after ${timeoutMs} ms`)),
    timeoutMs,
  ).unref();
  try {
    const res = await fetch(
      `${url.replace(/\/+$/, '')}/api/v1/query?${new URLSearchParams({ query })}`,
      {
        headers: {
          accept: 'application/json',
          ...(bearerToken ? { authorization: `Bearer ${bearerToken}` } : {}),
        },
        signal: controller.signal,
      },
    );
    const text = await res.text();
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`);
    const body = JSON.parse(text) as {
      status?: string;
      data?: { resultType?: string; result?: unknown };
    };
    if (body.status !== 'success') throw new Error(`status ${String(body.status)}`);
    const r = body.data?.result;
    const sample =
      body.data?.resultType === 'scalar'
        ? (r as unknown[])
        : Array.isArray(r) && r.length === 1
          ? (r[0] as { value?: unknown[] }).value
          : undefined;
    if (sample === undefined)
      throw new Error(
        Array.isArray(r) && r.length === 0
          ? 'no series (check shadow.namespace and shadow.name, or shadow.replicasQuery)'
          : `expected one series, got ${Array.isArray(r) ? r.length : 'none'}`,
      );
    const value = Number(sample?.[1]);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`replicas must be a finite number >= 0, got ${String(sample?.[1])}`);
    return value;
  } catch (error) {
    const reason = controller.signal.aborted ? controller.signal.reason : error;
    throw reason instanceof Error ? reason : new Error(String(reason));
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** Creates shadow mode's runtime for `config` (`mode: shadow`). Reads the saved ledger now. */
export function createShadow(options: ShadowOptions): Shadow {
  const { config, log, now } = options;
  const s = config.shadow;
  const query = replicasQueryOf(s);
  const prometheus = shadowPrometheusOf(config);
  const file = config.dataDir ? shadowFile(config.dataDir) : undefined;
  const ledger: ShadowLedger = createShadowLedger({
    capacityPerReplica: config.planner.capacityPerReplica,
    leadTimeSeconds: options.leadTimeSeconds,
    maxGapSeconds: s.maxGapSeconds,
    state: loadState(file, log),
  });
  const signals = createShadowSignals(options.registry, config.target);
  signals.update(ledger);
  let error: string | null = null;
  let loggedError: { message: string; atMs: number } | undefined;
  let inFlight: Promise<void> | undefined;
  let abort = new AbortController();
  let saving: Promise<boolean> | undefined;
  let again = false;

  async function writeOnce(): Promise<boolean> {
    if (!file) return true;
    try {
      await writeFileAtomic(file, JSON.stringify({ format: FORMAT, ledger: ledger.toJSON() }));
      return true;
    } catch (e) {
      log.log('warn', 'saving the shadow report failed', { file, error: e });
      return false;
    }
  }

  /** Coalesces saves: one write at a time, one more if asked meanwhile. */
  function save(): Promise<boolean> {
    if (saving !== undefined) {
      again = true;
      return saving;
    }
    saving = (async () => {
      let ok: boolean;
      do {
        again = false;
        ok = await writeOnce();
      } while (again);
      return ok;
    })().finally(() => {
      saving = undefined;
    });
    return saving;
  }

  async function tick(decision: Decision, history: Series | undefined): Promise<void> {
    const atMs = decision.nowMs;
    // Only what active mode would have published counts as a recommendation.
    ledger.recommend(atMs, decision.status === 'ok' ? decision.plan.recommendedReplicas : null);
    const codes: readonly StaleReason[] = decision.reasonCodes;
    const load = newestLoad(history);
    if (load === undefined || codes.some((c) => DATA_STALE_REASONS.includes(c))) return;
    let actual: number;
    try {
      actual = await queryReplicas(
        prometheus.url,
        query,
        s.timeoutSeconds * 1000,
        prometheus.bearerToken,
        abort.signal,
      );
      if (error !== null) log.log('info', 'shadow: the replicas query works again', { query });
      error = null;
    } catch (e) {
      error = `${prometheus.url}: ${(e as Error).message}`;
      const t = now();
      if (loggedError?.message !== error || t - loggedError.atMs >= 60_000) {
        loggedError = { message: error, atMs: t };
        log.log('warn', 'shadow: the replicas query failed', { query, error });
      }
      return;
    }
    ledger.observe({ atMs, load, actualReplicas: actual });
    signals.update(ledger);
    void save();
  }

  return {
    tick(decision, history) {
      if (inFlight) return inFlight;
      const run = tick(decision, history)
        .catch((e) => log.log('error', 'shadow tick failed', { error: e }))
        .finally(() => {
          inFlight = undefined;
        });
      inFlight = run;
      return run;
    },
    json(nowMs) {
      const last = ledger.last();
      const totals = ledger.totals();
      const w = ledger.window(nowMs);
      return {
        query,
        prometheus: prometheus.url,
        last: last
          ? {
              at: new Date(last.atMs).toISOString(),
              load: last.load,
              actualReplicas: last.actualReplicas,
              predictiveReplicas: last.predictiveReplicas,
            }
          : null,
        error,
        totals: {
          ...totals,
          preventedPodMinutes:
            totals.overloadedPodMinutes.actual - totals.overloadedPodMinutes.predictive,
        },
        week: {
          overloadedPodMinutes: w.overloadedPodMinutes,
          replicaSeconds: w.replicaSeconds,
          from: new Date(w.fromMs).toISOString(),
          to: new Date(w.toMs).toISOString(),
          preventedPodMinutes: w.preventedPodMinutes,
          extraReplicaPercent: w.extraReplicaPercent,
        },
      };
    },
    get inFlight() {
      return inFlight;
    },
    abort() {
      abort.abort(new Error('aborted: the sidecar is stopping'));
      abort = new AbortController();
    },
    async flush() {
      await saving;
      return writeOnce();
    },
  };
}
