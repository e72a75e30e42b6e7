/**
 * Leader election on a Lease, after client-go's `tools/leaderelection` (our own code, same
 * rules): every replica tries to acquire or renew every retry period; the lease is held while
 * its holder keeps writing it; writes are fenced by `resourceVersion` (see ./lease.ts).
 *
 * Time, and why clock skew is harmless: nobody compares the holder's `renewTime` with their
 * own wall clock. A follower judges expiry on its OWN monotonic clock, from the moment it
 * last saw the record change (`observedAt`): the lease is free once it has seen no change for
 * `leaseDurationSeconds`. The leader counts on its own monotonic clock from the moment it SENT
 * its last successful renew (`renewSentAt`), which is before the server stored it, which is
 * before any follower could see it. It stops acting as leader at `renewSentAt + renewDeadline`
 * unless a renew succeeded meanwhile, while no follower takes over before
 * `observedAt + leaseDuration >= renewSentAt + leaseDuration`. The gap (lease duration minus
 * renew deadline, 5 s by default) absorbs clock-rate differences and a busy event loop: never
 * two writers, whatever the wall clocks say.
 */
import type { Logger } from '../serve/log.js';
import {
  type LeaseLock,
  type LeaseRecord,
  type LeaseResult,
  microTime,
  type ObservedLease,
} from './lease.js';

/** The message of a result that is not `ok`. */
const problem = (r: LeaseResult): string =>
  r.status === 'error' || r.status === 'conflict' ? r.message : r.status;

/** client-go's `JitterFactor`: the renew deadline must exceed the retry period times this. */
export const JITTER_FACTOR = 1.2;

/** The three durations of an election, ms. */
export interface ElectionTimings {
  /** How long followers wait, on their own clock, after the last change they saw. Default 15 s. */
  leaseDurationMs: number;
  /** How long the leader goes on without a successful renew before it stops leading. Default 10 s. */
  renewDeadlineMs: number;
  /** How often every replica tries to acquire or renew. Default 2 s. */
  retryPeriodMs: number;
}

/** The defaults: client-go's (15 s, 10 s, 2 s). */
export const DEFAULT_TIMINGS: Readonly<ElectionTimings> = Object.freeze({
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
});

/**
 * What is wrong with `t`, as client-go checks it (empty when valid): lease duration >
 * renew deadline > retry period x {@link JITTER_FACTOR}, all > 0.
 */
export function timingProblems(t: ElectionTimings): string[] {
  const out: string[] = [];
  if (!(t.leaseDurationMs > t.renewDeadlineMs))
    out.push('leaseDurationSeconds must be greater than renewDeadlineSeconds');
  if (!(t.renewDeadlineMs > JITTER_FACTOR * t.retryPeriodMs))
    out.push(`renewDeadlineSeconds must be greater than retryPeriodSeconds x ${JITTER_FACTOR}`);
  for (const [name, v] of [
    ['leaseDurationSeconds', t.leaseDurationMs],
    ['renewDeadlineSeconds', t.renewDeadlineMs],
    ['retryPeriodSeconds', t.retryPeriodMs],
  ] as const)
    if (!(v > 0)) out.push(`${name} must be greater than zero`);
  return out;
}

/** The clock and timers the elector runs on (tests pass a controllable one). */
export interface ElectorClock {
  /** A monotonic clock, ms (default `performance.now`): all expiry decisions. */
  monotonicMs(): number;
  /** The wall clock, unix ms (default `Date.now`): only the timestamps written for people. */
  wallMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const SYSTEM_CLOCK: ElectorClock = {
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Options of {@link createElector}. */
export interface ElectorOptions {
  lock: LeaseLock;
  /** This replica's identity (unique in the fleet: the pod name). */
  identity: string;
  /** Default {@link DEFAULT_TIMINGS}. */
  timings?: ElectionTimings;
  clock?: ElectorClock;
  /** In [0, 1). Default `Math.random`. */
  random?: () => number;
  log?: Logger;
  /** This replica just became the leader (train, publish, patch from now on). Must not throw. */
  onStartedLeading?(): void;
  /** This replica must stop acting as leader NOW. Must not throw. */
  onStoppedLeading?(reason: string): void;
  /** The holder seen on the Lease changed (`null`: nobody holds it). Must not throw. */
  onNewLeader?(identity: string | null): void;
}

/** The election as `/forecast`, `/healthz` and the page show it. */
export interface ElectionState {
  role: 'leader' | 'follower';
  identity: string;
  /** Who holds the lease as last seen (this replica when leading); `null` when nobody. */
  leader: string | null;
  /** Times this replica became or stopped being the leader. */
  transitions: number;
  /** The Lease's `leaseTransitions` when this replica took it (the fencing epoch). */
  epoch: number | null;
  /** The last failure to talk to the API server, cleared by the next success. */
  lastError: string | null;
}

/** See {@link createElector}. */
export interface Elector {
  readonly identity: string;
  /** Whether this replica may act as leader now. */
  isLeader(): boolean;
  state(): ElectionState;
  /** Starts the acquire/renew loop (idempotent). */
  start(): void;
  /** One acquire-or-renew attempt (the loop's body; tests drive it). Never rejects. */
  tryAcquireOrRenew(): Promise<boolean>;
  /**
   * Stops the loop; a leader stops leading at once and releases the lease (holder `''`, one
   * write of at most `releaseTimeoutMs`, default 2 s) so a follower takes over without waiting
   * out the lease. Never rejects.
   */
  stop(releaseTimeoutMs?: number): Promise<void>;
}

/**
 * Creates an elector. Nothing is sent until `start()` or `tryAcquireOrRenew()`.
 * @throws TypeError when the timings break client-go's rules (see {@link timingProblems}) or
 *   the identity is empty.
 */
export function createElector(options: ElectorOptions): Elector {
  const { lock, identity, log } = options;
  const t = options.timings ?? DEFAULT_TIMINGS;
  const problems = timingProblems(t);
  if (problems.length > 0) throw new TypeError(`createElector: ${problems.join('; ')}`);
  if (!identity) throw new TypeError('createElector: identity must not be empty');
  const clock = options.clock ?? SYSTEM_CLOCK;
  const random = options.random ?? Math.random;
  const leaseSeconds = Math.max(1, Math.round(t.leaseDurationMs / 1000));

  let observed: ObservedLease | undefined;
  let observedAt = 0;
  let leading = false;
  let renewSentAt = 0;
  let deadline: unknown;
  let epoch: number | null = null;
  let transitions = 0;
  let lastError: string | null = null;
  let lastHolder: string | null | undefined;
  let started = false;
  let stopped = false;
  let wake: (() => void) | undefined;
  let sleepTimer: unknown;

  const now = () => clock.monotonicMs();
  /**
   * Leading, checked against the deadline itself rather than only its timer: after a blocked
   * event loop an I/O callback (a scrape) must not see a leader whose deadline passed.
   */
  const leadingNow = () => leading && now() - renewSentAt < t.renewDeadlineMs;

  function observe(lease: ObservedLease): void {
    // Any write changes the resourceVersion: that is the "change" followers time from.
    if (observed?.resourceVersion !== lease.resourceVersion) observedAt = now();
    observed = lease;
    const holder = lease.record.holderIdentity || null;
    if (holder !== lastHolder) {
      lastHolder = holder;
      if (holder !== identity)
        log?.log('info', holder ? 'following the leader' : 'the lease is free', {
          lease: lock.describe,
          leader: holder,
        });
      options.onNewLeader?.(holder);
    }
  }

  /** Whether the observed holder's lease runs on, by this replica's clock. */
  function observedValid(): boolean {
    if (!observed) return false;
    return observedAt + observed.record.leaseDurationSeconds * 1000 > now();
  }

  function stepDown(reason: string): void {
    if (!leading) return;
    leading = false;
    transitions++;
    if (deadline !== undefined) clock.clearTimeout(deadline);
    deadline = undefined;
    log?.log('warn', 'stopped leading', { lease: lock.describe, identity, reason });
    options.onStoppedLeading?.(reason);
  }

  /** A write of ours succeeded; `sentAt` is when its first request left. */
  function wrote(lease: ObservedLease, sentAt: number): boolean {
    observe(lease);
    lastError = null;
    // Too late (the deadline passed while it was in flight) or stopping: the write stands
    // (it is fenced), but acting on it would break the deadline rule.
    if (stopped || now() - sentAt >= t.renewDeadlineMs) {
      stepDown('a renew came back after the renew deadline');
      return false;
    }
    renewSentAt = sentAt;
    if (deadline !== undefined) clock.clearTimeout(deadline);
    deadline = clock.setTimeout(
      () => {
        deadline = undefined;
        stepDown(`no successful renew within renewDeadline (${t.renewDeadlineMs / 1000} s)`);
      },
      renewSentAt + t.renewDeadlineMs - now(),
    );
    if (!leading) {
      leading = true;
      transitions++;
      epoch = lease.record.leaseTransitions;
      log?.log('info', 'became leader', {
        lease: lock.describe,
        identity,
        leaseTransitions: epoch,
      });
      options.onStartedLeading?.();
    }
    return true;
  }

  /** A request's deadline: the leader's never outlives its renew deadline. */
  function timeoutMs(): number {
    return leading
      ? Math.max(1, renewSentAt + t.renewDeadlineMs - now())
      : Math.max(1, t.renewDeadlineMs - t.retryPeriodMs);
  }

  function failed(message: string): false {
    if (message !== lastError)
      log?.log('warn', 'leader election: the API server refused or failed', {
        lease: lock.describe,
        error: message,
      });
    lastError = message;
    return false;
  }

  async function attempt(): Promise<boolean> {
    const sentAt = now();
    const wall = microTime(clock.wallMs());
    const fresh: LeaseRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      acquireTime: wall,
      renewTime: wall,
      leaseTransitions: 0,
    };
    // 1. Fast path: the leader updates the version it last saw.
    if (leading && observed) {
      const r = await lock.update(
        {
          ...fresh,
          acquireTime: observed.record.acquireTime,
          leaseTransitions: observed.record.leaseTransitions,
        },
        observed.resourceVersion,
        timeoutMs(),
      );
      if (r.status === 'ok') return wrote(r.lease, sentAt);
      if (stopped) return false;
    }
    // 2. Read it (create it when there is none).
    const got = await lock.get(timeoutMs());
    if (got.status === 'not-found') {
      const created = await lock.create(fresh, timeoutMs());
      if (created.status === 'ok') return wrote(created.lease, sentAt);
      return created.status === 'conflict' ? false : failed(problem(created));
    }
    if (got.status !== 'ok') return failed(problem(got));
    lastError = null;
    observe(got.lease);
    const record = got.lease.record;
    // 3. Held by another replica whose lease runs on by our clock: not ours.
    if (record.holderIdentity !== '' && record.holderIdentity !== identity) {
      if (leading) stepDown(`the lease is held by ${record.holderIdentity}`);
      if (observedValid()) return false;
    }
    // 4. Take or keep it: an update fenced by the version just read.
    const next: LeaseRecord =
      record.holderIdentity === identity
        ? { ...fresh, acquireTime: record.acquireTime, leaseTransitions: record.leaseTransitions }
        : { ...fresh, leaseTransitions: record.leaseTransitions + 1 };
    const updated = await lock.update(next, got.lease.resourceVersion, timeoutMs());
    if (updated.status === 'ok') return wrote(updated.lease, sentAt);
    // 409: someone wrote since our read (another replica took it): not ours.
    return updated.status === 'conflict' ? false : failed(problem(updated));
  }

  async function tryAcquireOrRenew(): Promise<boolean> {
    if (stopped) return false;
    try {
      return await attempt();
    } catch (error) {
      return failed((error as Error).message);
    }
  }

  /**
   * Followers retry at 50..70 % of the retry period, or right when the lease expires by their
   * clock. client-go jitters upwards (1..2.2 x); we stay below the period so that the last
   * change a follower sees is at most 0.7 x retry old, which keeps a takeover within lease
   * duration + retry period of the dead leader's last renew, with room for the requests. The
   * spread keeps followers off lockstep; the cost is a GET every ~1.2 s per follower.
   */
  function followerWaitMs(): number {
    const jittered = t.retryPeriodMs * (0.5 + 0.2 * random());
    if (!observed || observed.record.holderIdentity === '') return jittered;
    const expiresIn = observedAt + observed.record.leaseDurationSeconds * 1000 - now();
    return expiresIn > 0 && expiresIn < jittered ? expiresIn + 1 : jittered;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      wake = resolve;
      sleepTimer = clock.setTimeout(resolve, ms);
    });
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      await tryAcquireOrRenew();
      if (stopped) break;
      await sleep(leading ? t.retryPeriodMs : followerWaitMs());
    }
  }

  return {
    identity,
    isLeader: leadingNow,
    state() {
      const lead = leadingNow();
      return {
        role: lead ? 'leader' : 'follower',
        identity,
        leader: lead ? identity : observed?.record.holderIdentity || null,
        transitions,
        epoch: lead ? epoch : null,
        lastError,
      };
    },
    start() {
      if (started || stopped) return;
      started = true;
      void loop();
    },
    tryAcquireOrRenew,
    async stop(releaseTimeoutMs = 2000) {
      if (stopped) return;
      stopped = true;
      if (sleepTimer !== undefined) clock.clearTimeout(sleepTimer);
      wake?.();
      const wasLeading = leading;
      stepDown('shutting down');
      if (!wasLeading || !observed) return;
      // Release (client-go's ReleaseOnCancel): holder '' lets a follower take over at its next
      // retry instead of after the lease duration. Fenced: a stale version changes nothing.
      const wall = microTime(clock.wallMs());
      const r = await lock
        .update(
          {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: wall,
            renewTime: wall,
            leaseTransitions: observed.record.leaseTransitions,
          },
          observed.resourceVersion,
          releaseTimeoutMs,
        )
        .catch((error: unknown) => ({ status: 'error' as const, message: String(error) }));
      if (r.status === 'ok') log?.log('info', 'released the lease', { lease: lock.describe });
    },
  };
}
