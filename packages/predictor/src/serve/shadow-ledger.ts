/**
 * The shadow report's accounting, pure (no clock, no I/O): what the HPA ran next to what the
 * predictive policy would have run, integrated over time.
 *
 * - **Predictive replicas at t** = max(actual replicas at t, the replicas the planner
 *   recommended at t - lead). Pods asked for at s are ready at s + lead (the lead time is
 *   metric lag + pod start + readiness + polling), so the plan that decides the ready pods at t
 *   is the one made one lead time earlier, for the peak over [t - lead, t]; it must be scored
 *   against the load at t, not against the load when it was made. The ledger keeps a small
 *   ring of past recommendations for that lookup. The max: with the predicted trigger added,
 *   the HPA takes the larger of the two triggers, so the fleet never has fewer pods than the
 *   actual-load trigger gave it (a prediction only adds capacity). No recommendation that old
 *   (a fresh start, a stale forecast, which publishes nothing) means predictive = actual.
 *   Conservative: pods a real HPA would keep through its scale-down stabilisation are not
 *   counted, which understates both what prediction covers and what it costs.
 * - **Overloaded pod-minutes** = max(0, load / capacityPerReplica - replicas) x minutes: the
 *   load above full capacity (100 %, not the target utilisation), in pods, over time, like the
 *   simulator's under-provisioning. Prediction would have prevented actual - predictive.
 * - **Replica-seconds** = replicas x seconds: the cost.
 * - **Time**: an observation's figures hold until the next one (sample and hold, as Prometheus
 *   reads a gauge). An interval longer than `maxGapSeconds` (the sidecar was down, the replicas
 *   query failed for long) is not counted at all: nothing is known about it.
 */

/** One observation: the load and the replicas the HPA ran, at one instant. */
export interface ShadowObservation {
  /** Unix ms. */
  atMs: number;
  /** The load (the sidecar's metric, fleet total), in the metric's unit. */
  load: number;
  /** Replicas the HPA ran (kube-state-metrics), >= 0. */
  actualReplicas: number;
}

/** Totals per policy. */
export interface ShadowTotals {
  /** Pod-minutes of load above full capacity. */
  overloadedPodMinutes: { actual: number; predictive: number };
  /** Replicas x seconds. */
  replicaSeconds: { actual: number; predictive: number };
}

/** The figures over a window (the status page's "this week"). */
export interface ShadowWindow extends ShadowTotals {
  /** Window start and end, unix ms (the start is an hour boundary). */
  fromMs: number;
  toMs: number;
  /** Overloaded pod-minutes prediction would have prevented: actual - predictive. */
  preventedPodMinutes: number;
  /** Extra replica-seconds of the predictive policy relative to actual, %; null without cost. */
  extraReplicaPercent: number | null;
}

/** The ledger's state as JSON (persisted with the history). */
export interface ShadowLedgerState {
  totals: ShadowTotals;
  /** The last observation and the predictive replicas decided for it. */
  last: (ShadowObservation & { predictiveReplicas: number }) | null;
  /** Past recommendations, oldest first: `[atMs, replicas or null (none published)]`. */
  ring: Array<[number, number | null]>;
  /** Hourly buckets, oldest first: `[hourStartMs, overActual, overPredictive, secActual, secPredictive]`. */
  buckets: Array<[number, number, number, number, number]>;
}

/** Options of {@link createShadowLedger}. */
export interface ShadowLedgerOptions {
  /** Load one replica carries at 100 %, > 0. */
  capacityPerReplica: number;
  /** The planner's lead time, seconds, >= 0. */
  leadTimeSeconds: number;
  /** Longest interval counted, seconds, > 0. Default 120. */
  maxGapSeconds?: number;
  /** Window of {@link ShadowLedger.window}, ms. Default 7 days. */
  windowMs?: number;
  /** A state to resume from (see {@link ShadowLedger.toJSON}); ignored when malformed. */
  state?: unknown;
}

/** See {@link createShadowLedger}. */
export interface ShadowLedger {
  /**
   * Records the planner's recommendation made at `atMs` (`null`: nothing published then,
   * e.g. a stale forecast). Call it at every observation, before {@link observe}.
   */
  recommend(atMs: number, replicas: number | null): void;
  /** The predictive replicas at `atMs` for `actualReplicas` (see the module comment). */
  predictiveAt(atMs: number, actualReplicas: number): number;
  /**
   * Accounts the interval since the previous observation (with the previous figures) and
   * makes `o` the current one. An observation older than the previous is ignored.
   * @returns The predictive replicas decided for `o`.
   */
  observe(o: ShadowObservation): number;
  /** Totals since the ledger began (the `_total` counters). */
  totals(): ShadowTotals;
  /** The figures of the hourly buckets within the window ending at `nowMs`. */
  window(nowMs: number): ShadowWindow;
  /** The last observation, if any. */
  last(): ShadowLedgerState['last'];
  /** The state to persist. */
  toJSON(): ShadowLedgerState;
}

const HOUR_MS = 3_600_000;
/** Recommendations kept at most (a 1 s collection and a 15-minute lead: 900). */
const RING_MAX = 10_000;

const zero = (): ShadowTotals => ({
  overloadedPodMinutes: { actual: 0, predictive: 0 },
  replicaSeconds: { actual: 0, predictive: 0 },
});

const finite = (v: unknown, min = 0): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= min;

/** The state when it has the right shape, else undefined (a corrupt file starts afresh). */
function validState(s: unknown): ShadowLedgerState | undefined {
  const x = s as ShadowLedgerState | undefined;
  const t = x?.totals;
  if (
    !t ||
    ![
      t.overloadedPodMinutes?.actual,
      t.overloadedPodMinutes?.predictive,
      t.replicaSeconds?.actual,
      t.replicaSeconds?.predictive,
    ].every((v) => finite(v)) ||
    !Array.isArray(x.ring) ||
    !Array.isArray(x.buckets)
  )
    return undefined;
  const l = x.last;
  if (
    l !== null &&
    !(finite(l?.atMs) && finite(l.load) && finite(l.actualReplicas) && finite(l.predictiveReplicas))
  )
    return undefined;
  const ringOk = x.ring.every(
    (e) => Array.isArray(e) && finite(e[0]) && (e[1] === null || finite(e[1])),
  );
  const bucketsOk = x.buckets.every(
    (b) => Array.isArray(b) && b.length === 5 && b.every((v) => finite(v)),
  );
  return ringOk && bucketsOk ? x : undefined;
}

/**
 * Creates a ledger (see the module comment for what it counts and why).
 * @throws TypeError naming the option for a `capacityPerReplica` not > 0, a
 *   `leadTimeSeconds` not >= 0, a `maxGapSeconds` or `windowMs` not > 0.
 */
export function createShadowLedger(options: ShadowLedgerOptions): ShadowLedger {
  const { capacityPerReplica, leadTimeSeconds } = options;
  const maxGapSeconds = options.maxGapSeconds ?? 120;
  const windowMs = options.windowMs ?? 7 * 24 * HOUR_MS;
  const check = (name: string, says: string, ok: boolean) => {
    if (!ok) throw new TypeError(`createShadowLedger: ${name} must be ${says}`);
  };
  check('capacityPerReplica', `a number > 0, got ${capacityPerReplica}`, capacityPerReplica > 0);
  check('leadTimeSeconds', `a number >= 0, got ${leadTimeSeconds}`, finite(leadTimeSeconds));
  check('maxGapSeconds', `a number > 0, got ${maxGapSeconds}`, maxGapSeconds > 0);
  check('windowMs', `a number > 0, got ${windowMs}`, windowMs > 0);
  const leadMs = leadTimeSeconds * 1000;
  const resumed = validState(options.state);
  const totals: ShadowTotals = resumed ? structuredClone(resumed.totals) : zero();
  let last: ShadowLedgerState['last'] = resumed?.last ? { ...resumed.last } : null;
  const ring: Array<[number, number | null]> = resumed ? resumed.ring.map((e) => [e[0], e[1]]) : [];
  const buckets: Array<[number, number, number, number, number]> = resumed
    ? resumed.buckets.map((b) => [...b] as [number, number, number, number, number])
    : [];

  /** The recommendation in force at `atMs`: the newest made at or before `atMs - lead`. */
  function recommendationAt(atMs: number): number | null {
    const due = atMs - leadMs;
    for (let k = ring.length - 1; k >= 0; k--) {
      const [at, replicas] = ring[k] as [number, number | null];
      if (at <= due) return replicas;
    }
    return null;
  }

  function predictiveAt(atMs: number, actualReplicas: number): number {
    const rec = recommendationAt(atMs);
    return rec === null ? actualReplicas : Math.max(actualReplicas, rec);
  }

  function bucketFor(atMs: number): [number, number, number, number, number] {
    const start = Math.floor(atMs / HOUR_MS) * HOUR_MS;
    const newest = buckets.at(-1);
    if (newest && newest[0] === start) return newest;
    const b: [number, number, number, number, number] = [start, 0, 0, 0, 0];
    buckets.push(b);
    // Keep one bucket beyond the window: the window's start hour is partly inside it.
    while ((buckets[0]?.[0] ?? start) < start - windowMs - HOUR_MS) buckets.shift();
    return b;
  }

  return {
    recommend(atMs, replicas) {
      const newest = ring.at(-1);
      if (newest && atMs < newest[0]) return;
      ring.push([atMs, replicas !== null && finite(replicas) ? replicas : null]);
      // Only the newest entry at or before the oldest lookup still to come is needed.
      const due = atMs - leadMs;
      let keepFrom = 0;
      for (let k = ring.length - 1; k >= 0; k--)
        if ((ring[k] as [number, number | null])[0] <= due) {
          keepFrom = k;
          break;
        }
      if (keepFrom > 0) ring.splice(0, keepFrom);
      if (ring.length > RING_MAX) ring.splice(0, ring.length - RING_MAX);
    },
    predictiveAt,
    observe(o) {
      const predictive = predictiveAt(o.atMs, o.actualReplicas);
      if (last && o.atMs < last.atMs) return predictive;
      if (last) {
        const seconds = (o.atMs - last.atMs) / 1000;
        if (seconds > 0 && seconds <= maxGapSeconds) {
          const pods = last.load / capacityPerReplica;
          const overActual = (Math.max(0, pods - last.actualReplicas) * seconds) / 60;
          const overPredictive = (Math.max(0, pods - last.predictiveReplicas) * seconds) / 60;
          const secActual = last.actualReplicas * seconds;
          const secPredictive = last.predictiveReplicas * seconds;
          totals.overloadedPodMinutes.actual += overActual;
          totals.overloadedPodMinutes.predictive += overPredictive;
          totals.replicaSeconds.actual += secActual;
          totals.replicaSeconds.predictive += secPredictive;
          const b = bucketFor(o.atMs);
          b[1] += overActual;
          b[2] += overPredictive;
          b[3] += secActual;
          b[4] += secPredictive;
        }
      }
      last = { ...o, predictiveReplicas: predictive };
      return predictive;
    },
    totals: () => structuredClone(totals),
    window(nowMs) {
      const fromMs = Math.floor((nowMs - windowMs) / HOUR_MS) * HOUR_MS + HOUR_MS;
      const w = zero();
      for (const [start, oa, op, sa, sp] of buckets) {
        if (start < fromMs || start > nowMs) continue;
        w.overloadedPodMinutes.actual += oa;
        w.overloadedPodMinutes.predictive += op;
        w.replicaSeconds.actual += sa;
        w.replicaSeconds.predictive += sp;
      }
      const cost = w.replicaSeconds.actual;
      return {
        ...w,
        fromMs,
        toMs: nowMs,
        preventedPodMinutes: w.overloadedPodMinutes.actual - w.overloadedPodMinutes.predictive,
        extraReplicaPercent: cost > 0 ? ((w.replicaSeconds.predictive - cost) / cost) * 100 : null,
      };
    },
    last: () => (last ? { ...last } : null),
    toJSON: () => ({
      totals: structuredClone(totals),
      last: last ? { ...last } : null,
      ring: ring.map((e) => [e[0], e[1]]),
      buckets: buckets.map((b) => [...b] as [number, number, number, number, number]),
    }),
  };
}
