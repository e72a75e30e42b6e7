/**
 * The elector's state machine on a controllable clock and an in-memory Lease with real
 * optimistic concurrency: acquire, renew, fencing by resourceVersion, expiry judged on the
 * follower's own clock (skewed wall clocks change nothing), stepping down at the renew
 * deadline before anyone may take over, release on stop, and client-go's timing rules.
 */
import { describe, expect, it } from 'vitest';
import {
  createElector,
  type ElectionTimings,
  type ElectorClock,
  timingProblems,
} from '../../src/election/elector.js';
import type { LeaseLock, LeaseRecord, LeaseResult } from '../../src/election/lease.js';

/** A clock whose time moves only when told; timers fire in order. */
function manualClock(wallOffsetMs = 0) {
  let t = 0;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: ElectorClock = {
    monotonicMs: () => t,
    wallMs: () => 1_800_000_000_000 + t + wallOffsetMs,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: t + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(h) {
      timers.delete(h as number);
    },
  };
  return { clock, now: () => t, timers, set: (v: number) => (t = v), seq: () => seq };
}

/** Lets pending promise callbacks run. */
const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Advances shared time `ms`, firing every due timer of every clock in time order. */
async function advance(clocks: ReturnType<typeof manualClock>[], ms: number): Promise<void> {
  const target = (clocks[0]?.now() ?? 0) + ms;
  await flush();
  for (;;) {
    let next: { c: ReturnType<typeof manualClock>; id: number; at: number } | undefined;
    for (const c of clocks)
      for (const [id, timer] of c.timers)
        if (timer.at <= target && (!next || timer.at < next.at)) next = { c, id, at: timer.at };
    if (!next) break;
    for (const c of clocks) c.set(next.at);
    const timer = next.c.timers.get(next.id);
    next.c.timers.delete(next.id);
    timer?.fn();
    await flush();
  }
  for (const c of clocks) c.set(target);
  await flush();
}

/** One Lease in memory: a version counter, 409 on a stale version; `down` makes a client fail. */
function memoryLease() {
  let object: { record: LeaseRecord; resourceVersion: string } | undefined;
  let version = 0;
  const writes: { holder: string; atMs: number }[] = [];
  const down = new Set<string>();
  const lockFor = (client: string, now: () => number): LeaseLock => {
    const unreachable = (): LeaseResult => ({ status: 'error', message: 'connect ECONNREFUSED' });
    return {
      describe: 'ns/lease',
      async get() {
        if (down.has(client)) return unreachable();
        return object ? { status: 'ok', lease: structuredClone(object) } : { status: 'not-found' };
      },
      async create(record) {
        if (down.has(client)) return unreachable();
        if (object) return { status: 'conflict', message: 'exists' };
        object = { record: { ...record }, resourceVersion: String(++version) };
        writes.push({ holder: record.holderIdentity, atMs: now() });
        return { status: 'ok', lease: structuredClone(object) };
      },
      async update(record, rv) {
        if (down.has(client)) return unreachable();
        if (!object || object.resourceVersion !== rv) return { status: 'conflict', message: '409' };
        object = { record: { ...record }, resourceVersion: String(++version) };
        writes.push({ holder: record.holderIdentity, atMs: now() });
        return { status: 'ok', lease: structuredClone(object) };
      },
    };
  };
  return { lockFor, writes, down, current: () => object };
}

const FAST: ElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

function fleet(n: number, skews: number[] = []) {
  const lease = memoryLease();
  const clocks = Array.from({ length: n }, (_, i) => manualClock(skews[i] ?? 0));
  const events: string[] = [];
  const electors = clocks.map((c, i) =>
    createElector({
      lock: lease.lockFor(`r${i}`, c.now),
      identity: `r${i}`,
      timings: FAST,
      clock: c.clock,
      random: () => 0.5,
      onStartedLeading: () => events.push(`r${i} started`),
      onStoppedLeading: () => events.push(`r${i} stopped`),
    }),
  );
  const leaders = () => electors.filter((e) => e.isLeader()).map((e) => e.identity);
  return { lease, clocks, electors, events, leaders };
}

describe('elector', () => {
  it('rejects timings against client-go rules', () => {
    expect(
      timingProblems({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }),
    ).toEqual(['leaseDurationSeconds must be greater than renewDeadlineSeconds']);
    expect(
      timingProblems({ leaseDurationMs: 15_000, renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }),
    ).toEqual(['renewDeadlineSeconds must be greater than retryPeriodSeconds x 1.2']);
    expect(timingProblems(FAST)).toEqual([]);
    expect(() =>
      createElector({ lock: memoryLease().lockFor('a', () => 0), identity: '', timings: FAST }),
    ).toThrow(/identity/);
  });

  it('exactly one of three acquires; the others follow it and keep trying', async () => {
    const f = fleet(3);
    for (const e of f.electors) e.start();
    await advance(f.clocks, 30_000);
    expect(f.leaders()).toEqual(['r0']);
    expect(f.electors[1]?.state()).toMatchObject({ role: 'follower', leader: 'r0', epoch: null });
    expect(f.electors[0]?.state()).toMatchObject({ role: 'leader', leader: 'r0', epoch: 0 });
    // The leader renews every retry period; followers never wrote.
    expect(new Set(f.lease.writes.map((w) => w.holder))).toEqual(new Set(['r0']));
    expect(f.lease.writes.length).toBeGreaterThanOrEqual(14);
    for (const e of f.electors) await e.stop();
  });

  it('a leader that dies is replaced after the lease duration on the followers own clocks', async () => {
    const f = fleet(3);
    for (const e of f.electors) e.start();
    await advance(f.clocks, 5_000);
    // Kill r0: its timers stop firing (no more renewals), it never steps down by itself.
    f.clocks[0]?.timers.clear();
    const lastWrite = f.lease.writes.at(-1)?.atMs as number;
    await advance(f.clocks.slice(1), 30_000);
    const takeover = f.lease.writes.find((w) => w.holder !== 'r0');
    expect(takeover).toBeDefined();
    const gap = (takeover?.atMs as number) - lastWrite;
    expect(gap).toBeGreaterThanOrEqual(FAST.leaseDurationMs);
    expect(gap).toBeLessThanOrEqual(FAST.leaseDurationMs + FAST.retryPeriodMs);
    expect(f.electors.slice(1).filter((e) => e.isLeader())).toHaveLength(1);
    expect(f.lease.current()?.record.leaseTransitions).toBe(1);
  });

  it('a leader cut off from the API stops leading at the renew deadline, before anyone takes over', async () => {
    const f = fleet(3);
    for (const e of f.electors) e.start();
    await advance(f.clocks, 5_000);
    f.lease.down.add('r0');
    const lastWrite = f.lease.writes.at(-1)?.atMs as number;
    let stoppedAt: number | undefined;
    let twoAtOnce = false;
    for (let step = 0; step < 300; step++) {
      await advance(f.clocks, 100);
      if (stoppedAt === undefined && !f.electors[0]?.isLeader()) stoppedAt = f.clocks[0]?.now();
      if (f.leaders().length > 1) twoAtOnce = true;
    }
    expect(twoAtOnce).toBe(false);
    expect(stoppedAt).toBeDefined();
    expect((stoppedAt as number) - lastWrite).toBeLessThanOrEqual(FAST.renewDeadlineMs);
    const takeover = f.lease.writes.find((w) => w.holder !== 'r0');
    expect(takeover?.atMs).toBeGreaterThan(stoppedAt as number);
    expect(f.events).toContain('r0 stopped');
    // Back online, r0 follows the new leader.
    f.lease.down.delete('r0');
    await advance(f.clocks, 5_000);
    expect(f.leaders()).toHaveLength(1);
    expect(f.electors[0]?.state().role).toBe('follower');
    expect(f.electors[0]?.state().transitions).toBe(2);
  });

  it('wall clocks hours apart change nothing: expiry is judged on each follower own clock', async () => {
    // r1 is an hour ahead, r2 an hour behind: renewTime means nothing to anyone.
    const f = fleet(3, [0, 3_600_000, -3_600_000]);
    for (const e of f.electors) e.start();
    for (let step = 0; step < 200; step++) {
      await advance(f.clocks, 100);
      expect(f.leaders().length).toBeLessThanOrEqual(1);
    }
    expect(f.leaders()).toEqual(['r0']);
    expect(new Set(f.lease.writes.map((w) => w.holder))).toEqual(new Set(['r0']));
  });

  it('a write computed from a stale version loses (409): two candidates, one winner', async () => {
    const lease = memoryLease();
    const c = manualClock();
    const [a, b] = ['a', 'b'].map((id) =>
      createElector({
        lock: lease.lockFor(id, c.now),
        identity: id,
        timings: FAST,
        clock: c.clock,
      }),
    );
    const results = await Promise.all([a?.tryAcquireOrRenew(), b?.tryAcquireOrRenew()]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect([a, b].filter((e) => e?.isLeader())).toHaveLength(1);
  });

  it('stop releases the lease so a follower takes it at its next retry', async () => {
    const f = fleet(2);
    for (const e of f.electors) e.start();
    await advance(f.clocks, 5_000);
    await f.electors[0]?.stop();
    expect(f.lease.current()?.record.holderIdentity).toBe('');
    await advance(f.clocks.slice(1), FAST.retryPeriodMs);
    expect(f.electors[1]?.isLeader()).toBe(true);
  });
});
