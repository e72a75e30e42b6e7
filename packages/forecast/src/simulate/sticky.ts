/**
 * The connection-aware replay: long-lived connections (WebSockets) stay on the pod that took
 * them. A balancer places new connections on the ready pods only; a new pod fills only with
 * new connections; a pod removed on scale-down stops taking connections, keeps its clients
 * for the drain time, then drops the rest, who reconnect with backoff and jitter onto the
 * ready pods. The HPA is the same as the fluid replay's ({@link simulate}).
 *
 * The model, per HPA sync of `dt` seconds (the sync period), in this order:
 * 1. HPA sync on the lagged metrics (fleet connections on pods as read at the last sync at
 *    or before t - metricLag, at least one sync old; the prediction; the nowcast); scale-up adds pods that serve after podReadySeconds x
 *    (1 + jitter x u), u uniform in [-1, 1] from the seeded generator (+ nodeProvisionSeconds
 *    for a pod beyond the node slots); scale-down deletes a not-ready pod at once, else marks
 *    the most recently ready pod terminating until t + drainSeconds. Then `disruptions`:
 *    a kill-pod drops the hottest ready pod; a rollout replaces every pod within maxSurge /
 *    maxUnavailable (see rollout.ts; while it runs it, not step 1, creates and deletes pods).
 * 2. Pods whose drain has ended go; their connections are dropped and queued to reconnect.
 * 3. Departures: every pod loses load x min(1, dt / meanLifetimeSeconds) (the first-order
 *    step of exponential lifetimes with that mean: the expected share of connections ending
 *    within dt).
 * 4. Reconnects due now are placed on the ready pods by the balancer.
 * 5. Arrivals = demand(t) - connections on pods - clients waiting to reconnect, placed by the
 *    balancer; when negative (demand falls faster than departures), that many more leave,
 *    in proportion, from every pod and from the waiting clients.
 * So the fleet's connections plus the waiting clients equal the trace's demand at every
 * sync. Connections are fractional numbers per pod (the departures are a share of each pod's
 * count; rounding would bias small pods, and the trace is a scaled stand-in anyway).
 */
import { intOption, numberOption, OptionError } from '../options.js';
import { createRandom } from '../random.js';
import type { Series } from '../series.js';
import { LOAD_BALANCER_POLICIES, type LoadBalancerPolicy, place } from './balancer.js';
import { createHpa } from './hpa.js';
import type { Nowcaster } from './nowcaster-port.js';
import { Fleet, NodeSlots, ReconnectQueue } from './pods.js';
import { checkSimulationOptions, type SimulationOptions } from './replay.js';
import { checkRollout, type RolloutDisruption, stepRollout } from './rollout.js';
import { type ScoredSync, Scorer, type SimulationResult } from './score.js';

export type { RolloutDisruption } from './rollout.js';

const OWNER = 'simulate';

/**
 * The ready pod holding the most connections is lost at `atSeconds` (all its connections drop
 * and reconnect; its ReplicaSet starts a replacement, ready after the start-up delay).
 */
export interface KillPodDisruption {
  /** When, seconds from the trace start (applied at the first HPA sync at or after it). */
  atSeconds: number;
  kind: 'kill-pod';
}

/**
 * Something that happens to the fleet at a given time (surge episodes for benchmarks): a
 * pod lost ({@link KillPodDisruption}) or a rollout replacing every pod
 * ({@link RolloutDisruption}).
 */
export type Disruption = KillPodDisruption | RolloutDisruption;

/** Options of the sticky replay, on top of {@link SimulationOptions}. */
export interface StickyOptions {
  /** How new connections are spread over ready pods. Default `round-robin`. */
  lb?: LoadBalancerPolicy;
  /** Mean connection lifetime, seconds (> 0, at most the trace's length). Default 900. */
  meanLifetimeSeconds?: number;
  /**
   * A terminating pod keeps its connections (and is paid for) this long, then drops what is
   * left, seconds (>= 0). Default 30 (Kubernetes' default terminationGracePeriodSeconds).
   */
  drainSeconds?: number;
  /** Spread of the pod start-up delay, a share in [0, 1): ready after S x (1 + j x u), u in [-1, 1]. Default 0. */
  podReadyJitter?: number;
  /** Extra wait of a pod created beyond the node slots (a node being provisioned), seconds. Default 0. */
  nodeProvisionSeconds?: number;
  /**
   * Nodes idle this long are removed (the cluster autoscaler's scale-down-unneeded-time), so
   * the node slots are the most pods seen over this trailing window, seconds; Infinity: nodes
   * are never removed. Default 600.
   */
  nodeScaleDownSeconds?: number;
  /** Jitter window of a dropped client's first reconnect attempt, seconds (> 0). Default 1. */
  reconnectDelaySeconds?: number;
  /** The window doubles per failed attempt (no ready pod) up to this, seconds. Default 30. */
  reconnectMaxDelaySeconds?: number;
  /** Seed of the generator (start-up jitter, `random` balancer). Default 1. */
  seed?: number;
  /**
   * Fed the lagged leading signals at every HPA sync; its answer (connections to have
   * capacity for; NaN = nothing) is one more HPA metric, so it can only add replicas. One
   * instance per run: it keeps state.
   */
  nowcaster?: Nowcaster;
  /** Pod losses and rollouts to inject (any order). Default none. */
  disruptions?: readonly Disruption[];
  /**
   * Called at every sync (scored or not) with each pod's state, in creation order, for tests
   * and plots (allocates per call: leave it unset for long runs).
   */
  onPods?: (timeS: number, pods: PodState[]) => void;
}

/** One pod as {@link StickyOptions.onPods} reports it. */
export interface PodState {
  /** Connections on the pod (fractional). */
  connections: number;
  /** Serving new connections. */
  ready: boolean;
  /** Removed by scale-down, draining. */
  terminating: boolean;
}

/**
 * Replays `demand` (connections wanted per step, linear between points) with sticky connections
 * through a Kubernetes HPA fed the actual load, `predicted` (as {@link simulate}) and the
 * nowcast; see the module comment for the model. Deterministic for a given seed.
 * @throws OptionError naming the field (also when meanLifetimeSeconds exceeds the trace);
 *   Error when `predicted` has another length.
 */
export function simulateSticky(
  demand: Series,
  options: SimulationOptions & StickyOptions,
  predicted?: ArrayLike<number>,
): SimulationResult {
  const { capacity, target, readyS, lagS, scoreFrom } = checkSimulationOptions(
    demand,
    options,
    predicted,
  );
  const n = demand.values.length;
  const stepS = demand.stepMs / 1000;
  const endS = n * stepS;
  const lb = options.lb ?? 'round-robin';
  if (!LOAD_BALANCER_POLICIES.includes(lb))
    throw new OptionError(OWNER, 'lb', LOAD_BALANCER_POLICIES.map((p) => `"${p}"`).join(', '), lb);
  const seconds = (field: string, value: unknown, def: number, positive = false) =>
    numberOption(OWNER, field, value, {
      default: def,
      min: 0,
      exclusive: positive,
      unit: 'seconds',
    });
  const lifetimeS = seconds('meanLifetimeSeconds', options.meanLifetimeSeconds, 900, true);
  if (lifetimeS > endS)
    throw new OptionError(
      OWNER,
      'meanLifetimeSeconds',
      `at most the trace's length (${endS} s)`,
      lifetimeS,
    );
  const drainS = seconds('drainSeconds', options.drainSeconds, 30);
  const jitter = numberOption(OWNER, 'podReadyJitter', options.podReadyJitter, {
    default: 0,
    min: 0,
  });
  if (jitter >= 1) throw new OptionError(OWNER, 'podReadyJitter', 'in [0, 1)', jitter);
  const nodeS = seconds('nodeProvisionSeconds', options.nodeProvisionSeconds, 0);
  const nodeIdleS =
    options.nodeScaleDownSeconds === Number.POSITIVE_INFINITY
      ? Number.POSITIVE_INFINITY
      : seconds('nodeScaleDownSeconds', options.nodeScaleDownSeconds, 600);
  const baseDelayS = seconds('reconnectDelaySeconds', options.reconnectDelaySeconds, 1, true);
  const maxDelayS = seconds('reconnectMaxDelaySeconds', options.reconnectMaxDelaySeconds, 30, true);
  if (maxDelayS < baseDelayS)
    throw new OptionError(
      OWNER,
      'reconnectMaxDelaySeconds',
      `>= reconnectDelaySeconds (${baseDelayS})`,
      maxDelayS,
    );
  const seed = intOption(OWNER, 'seed', options.seed, { default: 1, min: 0, max: 2 ** 32 - 1 });
  const disruptions = [...(options.disruptions ?? [])].sort((a, b) => a.atSeconds - b.atSeconds);
  disruptions.forEach((d, i) => {
    if (d?.kind !== 'kill-pod' && d?.kind !== 'rollout')
      throw new OptionError(
        OWNER,
        `disruptions[${i}].kind`,
        '"kill-pod" or "rollout"',
        (d as { kind?: unknown } | undefined)?.kind,
      );
    numberOption(OWNER, `disruptions[${i}].atSeconds`, d.atSeconds, { default: 0, min: 0 });
    if (d.kind === 'rollout') checkRollout(`disruptions[${i}]`, d);
  });
  const nowcaster = options.nowcaster;
  if (nowcaster !== undefined && typeof nowcaster?.observe !== 'function')
    throw new OptionError(OWNER, 'nowcaster', 'an object with observe()', nowcaster);

  const hpa = createHpa({ ...options.hpa, averageValue: capacity * target });
  const dt = hpa.syncPeriodSeconds;
  const departShare = Math.min(1, dt / lifetimeS);
  const random = createRandom(seed);
  const startDelay = () => (jitter > 0 ? readyS * (1 + jitter * (2 * random() - 1)) : readyS);
  const at = (values: ArrayLike<number>, tS: number): number => {
    const i = Math.floor(tS / stepS + 1e-9);
    return i >= 0 && i < n ? (values[i] as number) : Number.NaN;
  };
  // Demand between two points of the trace is interpolated linearly (held where the next is
  // missing): a per-minute trace held for four 15 s syncs would bring a whole minute's new
  // clients in one burst of handshakes, which the nowcaster would rightly read as a surge.
  const between = (values: ArrayLike<number>, tS: number): number => {
    const x = tS / stepS;
    const i = Math.floor(x + 1e-9);
    if (i < 0 || i >= n) return Number.NaN;
    const v = values[i] as number;
    const frac = x - i;
    const next = i + 1 < n ? (values[i + 1] as number) : Number.NaN;
    return frac > 1e-9 && Number.isFinite(next) && Number.isFinite(v) ? v + frac * (next - v) : v;
  };

  const fleet = new Fleet();
  for (let i = 0; i < hpa.replicas; i++) fleet.add(Number.NEGATIVE_INFINITY);
  const queue = new ReconnectQueue(dt, baseDelayS, maxDelayS);
  // Nodes for minReplicas always exist; above that they follow the recent fleet.
  const nodes = new NodeSlots(nodeIdleS, options.hpa?.minReplicas ?? 1);
  // What the HPA and the nowcaster see lags by metricLag: a ring of the last syncs' readings.
  const ringSize = Math.ceil(lagS / dt) + 2;
  const seenConnections = new Float64Array(ringSize);
  const seenHandshakes = new Float64Array(ringSize);
  const seenDrops = new Float64Array(ringSize);
  const seenReady = new Float64Array(ringSize);
  const scorer = new Scorer(capacity, dt, options.trace === true);
  const scoreFromS = scoreFrom * stepS;
  const metrics: number[] = [];
  let nextDisruption = 0;
  let maxReplicas = hpa.replicas;
  let dropped = 0;
  let reconnects = 0;
  let wanted = 0;
  let tS = 0;
  // The rollout under way (undefined when none): it owns pod creation and deletion.
  let rollout: RolloutDisruption | undefined;
  // One record reused for every scored sync (no allocation per step on long runs).
  const sync: ScoredSync = {
    timeS: 0,
    load: 0,
    ready: 0,
    paidPods: 0,
    desired: 0,
    scaled: false,
    overloadedPods: 0,
    hottest: 0,
  };
  const pods = {
    /** `count` new pods; the first that fit on the nodes of this sync start at once. */
    start(count: number): void {
      // Node slots are counted before this sync's pods: the first `room` new pods fit.
      const room = nodeS > 0 ? nodes.capacity(tS) - fleet.size : Number.POSITIVE_INFINITY;
      for (let k = 0; k < count; k++) fleet.add(tS + startDelay() + (k >= room ? nodeS : 0));
    },
    /** A pod not yet ready is deleted at once, a ready one drains. */
    retire(i: number): void {
      if ((fleet.readyAt[i] as number) > tS) fleet.remove(i);
      else fleet.endAt[i] = tS + drainS;
    },
  };

  const drop = (tick: number, i: number): number => {
    const lost = fleet.load[i] as number;
    queue.schedule(tick, lost);
    fleet.remove(i);
    return lost;
  };

  for (let tick = 0; tick * dt < endS; tick++) {
    tS = tick * dt;
    // 1. The HPA on what it can see.
    metrics.length = 0;
    // Readings are taken at the end of a sync, so the newest the HPA can see is the previous one.
    const seen = Math.min(tick - 1, Math.floor((tS - lagS) / dt + 1e-9));
    if (seen >= 0) {
      const slot = seen % ringSize;
      metrics.push(seenConnections[slot] as number);
      if (nowcaster)
        metrics.push(
          nowcaster.observe({
            timeS: seen * dt,
            connections: seenConnections[slot] as number,
            handshakesPerSecond: seenHandshakes[slot] as number,
            abnormalClosesPerSecond: seenDrops[slot] as number,
            readyPods: seenReady[slot] as number,
            // What the forecast already provides for, as the sidecar tells the nowcaster its
            // published plan: a ramp the forecast foresaw does not fire it.
            ...(predicted ? { expected: at(predicted, seen * dt) } : {}),
          }),
        );
    }
    if (predicted) metrics.push(at(predicted, tS - lagS));
    const before = hpa.replicas;
    const after = hpa.sync(tS, metrics);
    maxReplicas = Math.max(maxReplicas, after);
    if (rollout === undefined) {
      const active = fleet.active();
      if (after > active) pods.start(after - active);
      else for (let k = 0; k < active - after; k++) pods.retire(fleet.victim());
    }
    let droppedNow = 0;
    while (
      nextDisruption < disruptions.length &&
      (disruptions[nextDisruption] as Disruption).atSeconds <= tS
    ) {
      const d = disruptions[nextDisruption++] as Disruption;
      if (d.kind === 'rollout') {
        // A new template: every pod not terminating is now the old ReplicaSet's (a rollout
        // during a rollout replaces the half-new pods too, as a second edit does).
        fleet.revision++;
        rollout = d;
        continue;
      }
      let hot = -1;
      const count = fleet.readyPods(tS);
      for (let k = 0; k < count; k++) {
        const i = fleet.ready[k] as number;
        if (hot < 0 || (fleet.load[i] as number) > (fleet.load[hot] as number)) hot = i;
      }
      if (hot < 0) continue;
      const revision = fleet.podRevision[hot] as number;
      droppedNow += drop(tick, hot);
      fleet.add(tS + startDelay(), revision);
    }
    if (rollout !== undefined && !stepRollout(fleet, tS, after, rollout, pods)) rollout = undefined;
    // 2. Drains that end now.
    for (let i = fleet.size - 1; i >= 0; i--)
      if ((fleet.endAt[i] as number) <= tS) droppedNow += drop(tick, i);
    // 3. Departures.
    const load = fleet.load;
    for (let i = 0; i < fleet.size; i++) load[i] = (load[i] as number) * (1 - departShare);
    // 4. Reconnects.
    const readyCount = fleet.readyPods(tS);
    const back = queue.take(tick, readyCount > 0);
    place(lb, load, fleet.ready, readyCount, back, random);
    // 5. Arrivals (or extra departures) so that connections + waiting clients = demand.
    const d = between(demand.values, tS);
    if (Number.isFinite(d)) wanted = d;
    const onPods = fleet.connections();
    const gap = wanted - onPods - queue.waiting;
    let arrived = 0;
    if (gap > 0) {
      if (readyCount > 0) {
        place(lb, load, fleet.ready, readyCount, gap, random);
        arrived = gap;
      } else queue.schedule(tick, gap, 1);
    } else if (gap < 0) {
      const keep = 1 + gap / (onPods + queue.waiting);
      for (let i = 0; i < fleet.size; i++) load[i] = (load[i] as number) * keep;
      queue.cancel(queue.waiting * (1 - keep));
    }
    // What /metrics would show for this sync.
    const slot = tick % ringSize;
    // As an external metric reaches the HPA: a quantity in milli-units (which also keeps
    // float noise such as 200.00000000000003 from asking for a third pod).
    seenConnections[slot] = Math.round(fleet.connections() * 1000) / 1000;
    seenHandshakes[slot] = (arrived + back) / dt;
    seenDrops[slot] = droppedNow / dt;
    seenReady[slot] = readyCount;
    nodes.record(tS, fleet.size);
    if (options.onPods) {
      const pods: PodState[] = [];
      for (let i = 0; i < fleet.size; i++)
        pods.push({
          connections: load[i] as number,
          ready: (fleet.readyAt[i] as number) <= tS && fleet.endAt[i] === Number.POSITIVE_INFINITY,
          terminating: fleet.endAt[i] !== Number.POSITIVE_INFINITY,
        });
      options.onPods(tS, pods);
    }
    if (tS < scoreFromS) continue;
    dropped += droppedNow;
    reconnects += back;
    let overloaded = 0;
    let hottest = 0;
    for (let i = 0; i < fleet.size; i++) {
      const v = load[i] as number;
      if (v > capacity * (1 + 1e-12)) overloaded++;
      if (v > hottest) hottest = v;
    }
    sync.timeS = tS;
    sync.load = d;
    sync.ready = readyCount;
    sync.paidPods = fleet.size;
    sync.desired = after;
    sync.scaled = after !== before;
    sync.overloadedPods = overloaded;
    sync.hottest = hottest / capacity;
    scorer.add(sync);
  }
  return scorer.result(
    { policy: predicted ? 'predictive' : 'reactive', connections: 'sticky', maxReplicas },
    dropped,
    reconnects,
  );
}
