/**
 * The sidecar's nowcast: after every collection the live figures the scraper already computes
 * (connections, handshakes per second, abnormal closes per second) feed a `Nowcaster` from
 * `@tidewatch/forecast`, and every decision the sidecar publishes is raised to the nowcast
 * while one is under way: `tidewatch_predicted_load` = max(plan, nowcast), the recommended
 * replicas and the dynamic threshold follow. Scale-up only: the nowcast never lowers the
 * plan. The nowcaster is told the published plan's load (`expected`), so it fires only for
 * what the forecast did not foresee. While the forecast is stale or warming the nowcast is
 * published alone while it fires (a wave observed live is not a forecast): predicted load =
 * the nowcast, recommended replicas for it; otherwise a stale forecast publishes nothing and
 * the actual-load trigger alone scales as before.
 *
 * Why a separate signal path is not used: the HPA/KEDA already takes the max over the actual
 * and the predicted trigger, so capacity for a surge must arrive through the predicted one;
 * a third trigger would need every deployment's manifests changed.
 *
 * Where the figures come from: a live kind (`scrape`) has them from the expositions it already
 * fetched; a kind with a leading reader (`prometheus`, ../sources/prometheus-leading.ts) sends
 * its instant queries after each collection that succeeded. Both feed
 * {@link SidecarNowcast.observe}. A failed read counts as a source error and feeds nothing (nor
 * does a failed collection, counted already), so the nowcast goes quiet once the
 * figures are older than the data-age limit. Off (reason on `/forecast`) when the forecast
 * metric is not the middleware's connections gauge summed over the whole fleet: the nowcast is
 * in connections.
 */
import { CATALOG } from '@tidewatch/conventions';
import {
  createNowcaster,
  failuresOf,
  type InspectableNowcaster,
  type NowcastState,
  type Planner,
  type SourceError,
} from '@tidewatch/forecast';
import type { LeadingFigures, LeadingReader } from '../sources/index.js';
import { ConfigError, type ServeConfig } from './config.js';
import type { Decision, Engine } from './engine.js';
import type { LiveStats } from './live.js';

/** `/forecast`'s `nowcast` block. */
export interface NowcastJson {
  /** A wave is under way: `load` is published (as max(plan, nowcast)). */
  active: boolean;
  /** Connections the fleet needs capacity for one lead time ahead; null when not active. */
  load: number | null;
  /** Why it fires or not, one line. */
  reason: string;
}

/** See {@link createSidecarNowcast}. */
export interface SidecarNowcast {
  /**
   * Feeds one observation (call after each collection): `figures`, or by default the newest
   * live figures of a live kind. `null`, or figures not newer than the last ones, feed nothing.
   * Never throws.
   */
  observe(figures?: LeadingFigures | null): void;
  /** The nowcast now (inactive once the live figures are older than the data-age limit). */
  json(nowMs: number): NowcastJson;
  /** `decision` with its `nowcast` block and, while the nowcast fires above it, a raised plan. */
  apply(decision: Decision): Decision;
  /**
   * `engine` whose `collect` also feeds the nowcast (reading the leading signals after a
   * collection that succeeded when the kind has a reader) and whose `evaluate` applies it; `halt`, `abort`,
   * `stop` and `running` cover that read too.
   */
  wrap(engine: Engine): Engine;
}

/** Options of {@link createSidecarNowcast}. */
export interface SidecarNowcastOptions {
  config: ServeConfig;
  planner: Planner;
  /** The live figures of a live kind (`scrape`). */
  live: LiveStats | undefined;
  /** Or the kind's own reader of the figures (`SourceKind.leading`, e.g. `prometheus`). */
  leading?: {
    /** The reader, or why the kind has none (the nowcast's reason, e.g. an unknown selector). */
    reader: LeadingReader | string;
    /** The source's name, for a failure that does not name one. */
    name: string;
    /** A failed read, counted like a failed collection. Must not throw. */
    onError(failure: SourceError): void;
  };
}

/**
 * Creates the sidecar's nowcast, or `undefined` when it is disabled or the source can give no
 * leading figures (neither `live` nor `leading`).
 * @throws ConfigError naming the field when `createNowcaster` rejects an option (e.g.
 *   `nowcast.longWindowSeconds` not above `nowcast.shortWindowSeconds`).
 */
export function createSidecarNowcast(options: SidecarNowcastOptions): SidecarNowcast | undefined {
  const { config, planner, live, leading } = options;
  const settings = config.nowcast;
  if (!settings?.enabled || (!live && !leading)) return undefined;
  const reader = typeof leading?.reader === 'object' ? leading.reader : undefined;
  const { enabled: _, ...tuning } = settings;
  let nowcaster: InspectableNowcaster;
  try {
    nowcaster = createNowcaster({ ...tuning, leadSeconds: planner.leadTimeSeconds });
  } catch (error) {
    // `createNowcaster: longWindowSeconds must be ...` -> `config: nowcast.longWindowSeconds ...`
    const message = (error as Error).message.replace(/^createNowcaster: /, 'nowcast.');
    throw new ConfigError([`config: ${message}`]);
  }
  const source = config.source as { kind: string; labels?: Record<string, string>; type?: string };
  // The nowcast is in connections: it may only raise a forecast of the fleet's connections.
  const connectionsMetric = `${config.live.prefix}${CATALOG.connections.name}`;
  const offBecause =
    config.metric !== connectionsMetric
      ? `off: the forecast metric ${config.metric} is not ${connectionsMetric}`
      : Object.keys(source.labels ?? {}).length > 0
        ? 'off: the source sums a subset of the connections (source.labels)'
        : source.type === 'counter'
          ? 'off: the source reads a counter, not the connections gauge'
          : typeof leading?.reader === 'string'
            ? leading.reader
            : undefined;
  const maxAgeMs = (config.staleness.maxDataAgeSeconds ?? 180) * 1000;
  const targets = (config.source as { urls?: readonly string[] }).urls?.length ?? 0;
  let lastAtMs: number | undefined;
  let lastConnections = 0;
  // The published plan's load (connections at now + lead) as of the latest decision.
  let expected: number | undefined;

  // The leading read in flight (wrap's collect), and what aborts it at shutdown.
  let halted = false;
  let readAbort = new AbortController();
  let reading: Promise<LeadingFigures | null> | undefined;

  /** The live kind's figures now, or null while one is unknown (too few scrapes). */
  function liveFigures(): LeadingFigures | null {
    const snap = live?.snapshot();
    if (!snap || snap.connections === null || snap.handshakesPerSecond === null) return null;
    return {
      atMs: Date.parse(snap.at),
      connections: snap.connections,
      handshakesPerSecond: snap.handshakesPerSecond,
      abnormalClosesPerSecond: snap.abnormalClosesPerSecond ?? 0,
      readyPods: targets,
    };
  }

  /** The reader's figures, null after a failure (counted) or an abort; never rejects. */
  function readLeading(): Promise<LeadingFigures | null> | undefined {
    if (offBecause || !reader || !leading || halted) return undefined;
    const { signal } = readAbort;
    return reader.read(signal).catch((error: unknown) => {
      if (!signal.aborted) for (const f of failuresOf(error, leading.name)) leading.onError(f);
      return null;
    });
  }

  // The one path both kinds' figures take into the nowcaster.
  function observe(figures: LeadingFigures | null = liveFigures()): void {
    if (offBecause || !figures) return;
    const { atMs } = figures;
    if (lastAtMs !== undefined && atMs <= lastAtMs) return;
    lastAtMs = atMs;
    lastConnections = figures.connections;
    nowcaster.observe({
      timeS: atMs / 1000,
      connections: figures.connections,
      handshakesPerSecond: figures.handshakesPerSecond,
      abnormalClosesPerSecond: figures.abnormalClosesPerSecond,
      readyPods: figures.readyPods,
      ...(expected !== undefined ? { expected } : {}),
    });
  }

  function json(nowMs: number): NowcastJson {
    if (offBecause) return { active: false, load: null, reason: offBecause };
    if (lastAtMs === undefined)
      return { active: false, load: null, reason: 'quiet: waiting for two scrapes' };
    if (nowMs - lastAtMs > maxAgeMs)
      return {
        active: false,
        load: null,
        reason: `quiet: the live figures are ${Math.round((nowMs - lastAtMs) / 1000)} s old`,
      };
    const s = nowcaster.state();
    return { active: s.active, load: s.active ? s.load : null, reason: explain(s) };
  }

  function apply(decision: Decision): Decision {
    const block = json(decision.nowMs);
    const out: Decision = { ...decision, nowcast: block };
    const { plan } = decision;
    // What the published forecast already provides for: the next observation is judged
    // against it, so a ramp the forecast foresaw never fires the nowcast.
    expected =
      decision.status === 'ok' && plan.predictedLoad !== null ? plan.predictedLoad : undefined;
    if (!block.active || block.load === null) return out;
    const load = block.load;
    if (decision.status !== 'ok') {
      // A wave observed live is not a forecast: while the forecast is stale or warming the
      // nowcast alone is published (signals.ts publishes the load and the replicas of a
      // non-ok decision only while its nowcast fires); the threshold stays the static one.
      return {
        ...out,
        plan: { ...plan, predictedLoad: load, recommendedReplicas: planner.replicasFor(load) },
      };
    }
    if (plan.predictedLoad === null || load <= plan.predictedLoad) return out;
    const recommended = Math.max(plan.recommendedReplicas ?? 0, planner.replicasFor(load));
    // The same rule as the planner's threshold (target x actual / load), never above the plan's.
    const threshold =
      plan.threshold !== null && lastConnections > 0
        ? Math.min(plan.threshold, (planner.targetPerReplica * lastConnections) / load)
        : plan.threshold;
    return {
      ...out,
      plan: { ...plan, predictedLoad: load, recommendedReplicas: recommended, threshold },
    };
  }

  return {
    observe,
    json,
    apply,
    wrap(engine) {
      const collect = async () => {
        const before = engine.lastCollectMs;
        await engine.collect();
        // The leading round follows a collection that succeeded only: when the source failed
        // (Prometheus down, slow or answering garbage) that is counted once, and a struggling
        // server is not sent three more requests per collection.
        const pending = engine.lastCollectMs !== before ? readLeading() : undefined;
        reading = pending;
        // undefined without a reader: observe() then reads the live figures.
        const figures = await pending;
        if (reading === pending) reading = undefined;
        observe(figures);
      };
      const own: Partial<Engine> = {
        collect,
        evaluate: (nowMs: number) => apply(engine.evaluate(nowMs)),
        halt() {
          halted = true;
          engine.halt();
        },
        abort() {
          halted = true;
          readAbort.abort();
          readAbort = new AbortController();
          engine.abort();
        },
        running() {
          const work = engine.running();
          if (reading) work.set('leading signals', reading);
          return work;
        },
        async stop() {
          halted = true;
          readAbort.abort();
          readAbort = new AbortController();
          await Promise.all([engine.stop(), reading]);
        },
      };
      // A proxy rather than a copy: the engine's getters (ready, lastCollectMs) stay live and
      // members added to Engine later pass through untouched.
      return new Proxy(engine, {
        get(target, prop, receiver) {
          if (Object.hasOwn(own, prop)) return own[prop as keyof Engine];
          return Reflect.get(target, prop, receiver);
        },
      });
    },
  };
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/** One line for the status page: what the nowcaster saw. */
function explain(s: NowcastState): string {
  const arrivals = `${fmt(s.shortRatePerSecond)} new handshakes/s against a baseline of ${fmt(s.baselineRatePerSecond)}/s`;
  const back = `${fmt(s.pendingReconnects)} clients closed abnormally and expected back`;
  switch (s.reason) {
    case 'arrivals':
      return `arrivals: ${arrivals}`;
    case 'reconnects':
      return `reconnects: ${back}`;
    case 'arrivals+reconnects':
      return `arrivals and reconnects: ${arrivals}; ${back}`;
    case 'decaying':
      return 'decaying: the wave has stopped growing; the level falls as the connections catch up';
    default:
      return `quiet: ${arrivals}`;
  }
}
