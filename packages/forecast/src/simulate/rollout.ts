/**
 * A Deployment rollout (`strategy: RollingUpdate`) in the sticky simulator: every pod of the
 * old template is replaced, within the bounds `maxSurge` (extra pods above `spec.replicas`)
 * and `maxUnavailable` (ready pods below it), the way the Deployment controller's
 * `rolloutRolling` does at each reconcile:
 * 1. scale the new ReplicaSet up to `spec.replicas`, keeping all pods <= replicas + surge;
 * 2. scale the old ReplicaSets down: first their not-ready pods (at most
 *    all pods - (replicas - unavailable) - new pods not ready yet), then ready ones while more
 *    than replicas - unavailable pods are ready (so with maxUnavailable 0 an old pod goes only
 *    once a new one serves).
 * Terminating pods do not count against the bounds (the controller does not count them
 * either: during a rollout the fleet briefly holds more pods than replicas + surge, and they
 * are paid for). A removed ready pod drains as on scale-down: it keeps its connections for the
 * drain time, then drops what it still holds into the reconnect queue.
 *
 * Simplifications, said here: a scale of `spec.replicas` by the HPA during a rollout goes to
 * the new ReplicaSet (the controller splits it proportionally between the two; the fleet size
 * is the same); a reconcile runs once per HPA sync and repeats while it removes pods (the
 * controller reacts to a pod's readiness within moments, the simulator at the next sync).
 */
import { OptionError } from '../options.js';
import type { Fleet } from './pods.js';

/** A rollout of a new pod template at `atSeconds`. */
export interface RolloutDisruption {
  /** When, seconds from the trace start (applied at the first HPA sync at or after it). */
  atSeconds: number;
  kind: 'rollout';
  /**
   * Pods above `spec.replicas` while rolling: a count (>= 0) or a percentage of replicas,
   * rounded up (`'25%'`). Default `'25%'`, as the generated Deployment (and Kubernetes).
   */
  maxSurge?: number | string;
  /**
   * Ready pods below `spec.replicas` allowed while rolling: a count (>= 0) or a percentage,
   * rounded down. Default 0, as the generated Deployment (a removed pod drops its sockets, so
   * capacity never dips). maxSurge and maxUnavailable may not both be 0.
   */
  maxUnavailable?: number | string;
}

/** The generated Deployment's rolling-update bounds (packages/mixin/src/deploy/manifests.ts). */
export const DEFAULT_ROLLOUT = { maxSurge: '25%', maxUnavailable: 0 } as const;

/** What the rollout may do to the fleet (the sticky simulator's pod operations). */
export interface RolloutPods {
  /** Creates `count` pods of the current revision (start-up delay and node wait included). */
  start(count: number): void;
  /** Deletes pod `i` (at once when not ready, else it drains). */
  retire(i: number): void;
}

/**
 * Checks a rollout's bounds (`disruptions[i]` names it in errors).
 * @throws OptionError naming the field: not a count >= 0 or a `N%`; both 0.
 */
export function checkRollout(field: string, d: RolloutDisruption): void {
  const surge = d.maxSurge ?? DEFAULT_ROLLOUT.maxSurge;
  const unavailable = d.maxUnavailable ?? DEFAULT_ROLLOUT.maxUnavailable;
  for (const [name, v] of [
    ['maxSurge', surge],
    ['maxUnavailable', unavailable],
  ] as const)
    if (!isBound(v))
      throw new OptionError('simulate', `${field}.${name}`, 'an integer >= 0 or "N%"', v);
  if (scaled(surge, 100, true) === 0 && scaled(unavailable, 100, false) === 0)
    throw new OptionError(
      'simulate',
      `${field}.maxUnavailable`,
      'above 0 when maxSurge is 0',
      unavailable,
    );
}

/**
 * The bounds for `replicas` as the controller resolves them (ResolveFenceposts): surge rounds
 * up, unavailable down; when both come out 0, unavailable is 1.
 */
export function rolloutBounds(
  d: RolloutDisruption,
  replicas: number,
): { surge: number; unavailable: number } {
  const surge = scaled(d.maxSurge ?? DEFAULT_ROLLOUT.maxSurge, replicas, true);
  const unavailable = scaled(d.maxUnavailable ?? DEFAULT_ROLLOUT.maxUnavailable, replicas, false);
  return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/**
 * One reconcile of a rollout at `tS` towards `replicas` (see the module comment). Returns
 * false once no pod of an older revision is left (the rollout is complete).
 */
export function stepRollout(
  fleet: Fleet,
  tS: number,
  replicas: number,
  d: RolloutDisruption,
  pods: RolloutPods,
): boolean {
  const { surge, unavailable } = rolloutBounds(d, replicas);
  const minAvailable = replicas - unavailable;
  // Each pass removes at least one pod or stops, so fleet.size bounds the passes.
  for (let pass = 0, limit = fleet.size + replicas + surge + 1; pass < limit; pass++) {
    let c = census(fleet, tS);
    // The HPA shrank spec.replicas below what the rollout holds: old pods go first.
    for (let excess = c.old + c.fresh - (replicas + surge); excess > 0; excess--) {
      const v = fleet.victim(true);
      pods.retire(v >= 0 ? v : fleet.victim());
    }
    c = census(fleet, tS);
    const up = Math.min(replicas - c.fresh, replicas + surge - c.old - c.fresh);
    if (up > 0) pods.start(up);
    c = census(fleet, tS);
    let removed = 0;
    // The controller scales old ReplicaSets down only while this is positive.
    const maxDown = c.old + c.fresh - minAvailable - (c.fresh - c.freshReady);
    if (maxDown > 0) {
      // Not-ready old pods serve nobody: they go first (cleanupUnhealthyReplicas).
      for (let k = 0; k < maxDown; k++) {
        const v = fleet.victim(true);
        if (v < 0 || (fleet.readyAt[v] as number) <= tS) break;
        pods.retire(v);
        removed++;
      }
      // Then old pods while more than minAvailable pods serve (the ReplicaSet picks victims).
      c = census(fleet, tS);
      for (let down = Math.min(c.ready - minAvailable, c.old); down > 0; down--) {
        pods.retire(fleet.victim(true));
        removed++;
      }
    }
    if (census(fleet, tS).old === 0) return false;
    if (removed === 0) return true;
  }
  return census(fleet, tS).old > 0;
}

// One reused record: census() runs a few times per sync during a rollout only.
const counts = { old: 0, fresh: 0, freshReady: 0, ready: 0 };

/** Pods not terminating: of an old revision, of the current one (and ready), ready in all. */
function census(fleet: Fleet, tS: number): typeof counts {
  counts.old = 0;
  counts.fresh = 0;
  counts.freshReady = 0;
  counts.ready = 0;
  for (let i = 0; i < fleet.size; i++) {
    if (fleet.endAt[i] !== Number.POSITIVE_INFINITY) continue;
    const ready = (fleet.readyAt[i] as number) <= tS;
    if (ready) counts.ready++;
    if ((fleet.podRevision[i] as number) < fleet.revision) counts.old++;
    else {
      counts.fresh++;
      if (ready) counts.freshReady++;
    }
  }
  return counts;
}

function isBound(v: unknown): boolean {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0;
  return typeof v === 'string' && /^\d+%$/.test(v);
}

/** A count, or a percentage of `total` rounded up or down (GetScaledValueFromIntOrPercent). */
function scaled(v: number | string, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const x = (Number.parseInt(v, 10) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
