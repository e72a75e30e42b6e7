/**
 * Leader election with real `tidewatch-predictor serve` processes (dist/cli.js; `npx tsup`
 * first), each with its own data dir, against the loopback fake API server of
 * ./fake-lease-api.ts: exactly one leader publishes; kill -9 of the leader hands over within
 * lease duration + retry period (measured on the fake's own log of writes) and the new leader
 * forecasts from the model ConfigMap; a leader cut off from the API steps down before anyone
 * takes over (never two publishing); wall clocks an hour apart still give one writer, and no
 * takeover comes before the lease ran out on the fake's own clock.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeLeaseApi, startFakeLeaseApi, type WriteRecord } from './fake-lease-api.js';
import type { Target } from './serve-target.js';
import {
  logLines,
  request,
  type ServeProcess,
  seededDir,
  startProcessTarget,
  startServe,
  stopProcesses,
  writeServeConfig,
} from './sidecar.js';

const seeded = seededDir('tw-election-');
const { dir, seedFile } = seeded;
/** Short timings so each test stays well under a minute (client-go's rules still hold). */
const LEASE_S = 4;
const RENEW_S = 3;
const RETRY_S = 1.5;
const PREDICTED = 'tidewatch_predicted_load';

let target: Target;
let api: FakeLeaseApi;
beforeAll(async () => {
  target = await startProcessTarget();
  api = await startFakeLeaseApi();
});
afterAll(async () => {
  await stopProcesses(target, seeded);
  await api?.close();
});

/** A preload that moves this process's `Date.now` by `SKEW_MS` (a node with a wrong clock). */
const skewFile = join(dir, 'skew.cjs');
writeFileSync(
  skewFile,
  'const off = Number(process.env.SKEW_MS || 0); const real = Date.now; Date.now = () => real() + off;\n',
);

interface Replica {
  id: string;
  run: ServeProcess;
  url: string;
}

/** Starts replica `id` of fleet `fleet` (its own data dir), optionally with a skewed clock. */
async function startReplica(
  fleet: string,
  id: string,
  options: { modelConfigMap?: boolean; skewMs?: number } = {},
): Promise<Replica> {
  const config = writeServeConfig(dir, `${fleet}-${id}`, {
    seed: { file: seedFile },
    election: {
      enabled: true,
      leaseName: fleet,
      namespace: 'realtime',
      identity: id,
      apiServer: await api.clientUrl(id),
      leaseDurationSeconds: LEASE_S,
      renewDeadlineSeconds: RENEW_S,
      retryPeriodSeconds: RETRY_S,
      ...(options.modelConfigMap ? { modelConfigMap: `${fleet}-model` } : {}),
    },
  });
  const run = startServe(
    ['--config', config, '--scrape', target.metricsUrl, '--data-dir', join(dir, `${fleet}-${id}`)],
    options.skewMs
      ? { NODE_OPTIONS: `--require ${skewFile}`, SKEW_MS: String(options.skewMs) }
      : {},
  );
  return { id, run, url: await run.url };
}

async function roleOf(r: Replica): Promise<{ role: string; leader: string | null } | undefined> {
  try {
    const res = await request(`${r.url}/healthz`);
    return res.status === 200 ? JSON.parse(res.text) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `r` publishes the predicted load now (`undefined`: it did not answer). */
async function publishes(r: Replica): Promise<boolean | undefined> {
  try {
    const res = await request(`${r.url}/metrics`);
    return res.text.split('\n').some((l) => l.startsWith(`${PREDICTED}{`));
  } catch {
    return undefined;
  }
}

/** Waits until exactly one of `replicas` says it leads and the others follow it. */
async function oneLeader(replicas: Replica[], timeoutMs = 20_000): Promise<Replica> {
  const roles = await pollUntil(
    () => Promise.all(replicas.map(roleOf)),
    (rs) => {
      const leaders = rs.filter((r) => r?.role === 'leader');
      return (
        leaders.length === 1 &&
        rs.every((r) => r?.role === 'leader' || (r?.role === 'follower' && r.leader !== null))
      );
    },
    { timeoutMs, intervalMs: 100, description: 'exactly one leader, the others following it' },
  );
  return replicas[roles.findIndex((r) => r?.role === 'leader')] as Replica;
}

const leaseWrites = (fleet: string): WriteRecord[] =>
  api.writes.filter((w) => w.kind === 'lease' && w.name === fleet && w.status < 300);

/**
 * Changes of holder that came less than a lease duration after the previous holder's last
 * write (by the fake's clock), a release excepted: what a skewed clock would cause.
 */
function earlyTakeovers(fleet: string): string[] {
  const ws = leaseWrites(fleet);
  const out: string[] = [];
  for (let i = 1; i < ws.length; i++) {
    const prev = ws[i - 1] as WriteRecord;
    const cur = ws[i] as WriteRecord;
    if (prev.holder === cur.holder || prev.holder === '' || cur.holder === '') continue;
    if (cur.atMs - prev.atMs < LEASE_S * 1000)
      out.push(
        `${cur.holder} took over ${(cur.atMs - prev.atMs).toFixed(0)} ms after ${prev.holder}'s last write`,
      );
  }
  return out;
}

const stop = async (replicas: Replica[]) => {
  for (const r of replicas) if (r.run.child.exitCode === null) r.run.kill('SIGTERM');
  await Promise.all(replicas.map((r) => r.run.exited));
};

describe('leader election (three serve processes, fake API server)', () => {
  it('one leader publishes; kill -9 hands over within lease + retry, and the new leader forecasts from the stored model', async () => {
    const fleet = 'kill';
    const replicas = await Promise.all(
      ['k0', 'k1', 'k2'].map((id) => startReplica(fleet, id, { modelConfigMap: true })),
    );
    const leader = await oneLeader(replicas);
    const followers = replicas.filter((r) => r !== leader);
    // The leader trains, forecasts, publishes and stores its model; followers publish nothing.
    await pollUntil(() => publishes(leader), Boolean, {
      timeoutMs: 40_000,
      description: 'the leader to publish the predicted load',
    });
    await pollUntil(
      async () => api.writes.filter((w) => w.kind === 'configmap' && w.status < 300),
      (ws) => ws.length > 0,
      { timeoutMs: 10_000, description: 'the model ConfigMap written' },
    );
    const stored = api.writes.find((w) => w.kind === 'configmap' && w.status < 300);
    expect(stored?.client).toBe(leader.id);
    for (const f of followers) {
      expect(await publishes(f)).toBe(false);
      const m = (await request(`${f.url}/metrics`)).text;
      expect(m).toContain(`tidewatch_leader{identity="${f.id}"} 0`);
      const doc = JSON.parse((await request(`${f.url}/forecast`)).text);
      expect(doc).toMatchObject({ role: 'follower', leader: leader.id });
      // Ready (it serves and collects): a follower must not stall a rollout.
      expect(JSON.parse((await request(`${f.url}/readyz`)).text)).toEqual({
        ready: true,
        status: 'follower',
        leader: leader.id,
      });
    }
    expect((await request(`${leader.url}/metrics`)).text).toContain(
      `tidewatch_leader{identity="${leader.id}"} 1`,
    );

    leader.run.kill('SIGKILL');
    await leader.run.exited;
    const lastByOld = leaseWrites(fleet)
      .filter((w) => w.holder === leader.id)
      .at(-1) as WriteRecord;
    const next = await oneLeader(followers, 15_000);
    const takeover = leaseWrites(fleet).find(
      (w) => w.atMs > lastByOld.atMs && w.holder === next.id,
    ) as WriteRecord;
    const handoverMs = takeover.atMs - lastByOld.atMs;
    expect(handoverMs).toBeLessThanOrEqual((LEASE_S + RETRY_S) * 1000);
    expect(earlyTakeovers(fleet)).toEqual([]);
    // The new leader forecasts from the stored model: no training in that process.
    const sinceTakeover = performance.now();
    await pollUntil(() => publishes(next), Boolean, {
      timeoutMs: 10_000,
      intervalMs: 50,
      description: 'the new leader to publish',
    });
    const publishMs = performance.now() - sinceTakeover;
    const took = logLines(next.run).find((l) => l.msg === 'leader took over');
    expect(took).toMatchObject({ modelFrom: 'configmap', forecast: true });
    const m = (await request(`${next.url}/metrics`)).text;
    expect(m).toContain('tidewatch_train_runs_total{outcome="success"} 0');
    expect(m).toMatch(/tidewatch_leader_transitions_total 1/);
    console.info(
      `handover ${handoverMs.toFixed(0)} ms after the last renew (bound ${(LEASE_S + RETRY_S) * 1000}); takeover -> forecast ${took?.seconds} s; ConfigMap ${stored?.bytes} bytes; published ${publishMs.toFixed(0)} ms after the test saw the new leader`,
    );
    await stop(followers);
  }, 60_000);

  it('a leader cut off from the API steps down before another takes over: never two publishing', async () => {
    const fleet = 'cut';
    const replicas = await Promise.all(['c0', 'c1', 'c2'].map((id) => startReplica(fleet, id)));
    const leader = await oneLeader(replicas);
    await pollUntil(() => publishes(leader), Boolean, {
      timeoutMs: 40_000,
      description: 'the leader to publish',
    });
    await api.cut(leader.id);
    const rounds: string[][] = [];
    let next: Replica | undefined;
    for (let i = 0; i < 200 && !next; i++) {
      const now = await Promise.all(replicas.map(publishes));
      rounds.push(replicas.filter((_, k) => now[k]).map((r) => r.id));
      const other = replicas.find((r, k) => r !== leader && now[k]);
      if (other) next = other;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(next).toBeDefined();
    expect(rounds.filter((r) => r.length > 1)).toEqual([]);
    expect(earlyTakeovers(fleet)).toEqual([]);
    // By the replicas' own logs (one machine, one wall clock): stepped down, then taken over.
    const stepped = logLines(leader.run).find((l) => l.msg === 'stopped leading');
    const became = logLines((next as Replica).run).find((l) => l.msg === 'became leader');
    expect(Date.parse(String(stepped?.time))).toBeLessThan(Date.parse(String(became?.time)));
    // Back on the network, the old leader follows the new one.
    await api.restore(leader.id);
    await pollUntil(
      () => roleOf(leader),
      (r) => r?.role === 'follower' && r.leader === next?.id,
      { timeoutMs: 10_000, description: 'the old leader to follow' },
    );
    expect(await publishes(leader)).toBe(false);
    await stop(replicas);
  }, 60_000);

  it('a leader whose API answers 500, then one whose API answers too slowly, steps down: one publisher at a time', async () => {
    const fleet = 'faults';
    const replicas = await Promise.all(['f0', 'f1'].map((id) => startReplica(fleet, id)));
    const first = await oneLeader(replicas);
    const second = replicas.find((r) => r !== first) as Replica;
    await pollUntil(() => publishes(first), Boolean, {
      timeoutMs: 40_000,
      description: 'the leader to publish',
    });
    /** Polls who publishes until `done`, failing on any round with two. */
    const watch = async (done: (now: (boolean | undefined)[]) => boolean) => {
      for (let i = 0; i < 300; i++) {
        const now = await Promise.all(replicas.map(publishes));
        expect(now.filter(Boolean).length).toBeLessThanOrEqual(1);
        if (done(now)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no handover within 300 rounds');
    };
    api.faults(first.id).fail = 500;
    // The second needs a forecast of its own (it trains after taking over): wait for it.
    await watch((now) => now[replicas.indexOf(second)] === true);
    expect(await roleOf(first)).toMatchObject({ role: 'follower' });
    delete api.faults(first.id).fail;
    // Answers slower than the renew deadline: the second steps down, the first takes over.
    api.faults(second.id).delayMs = (RENEW_S + 1) * 1000;
    await watch((now) => now[replicas.indexOf(first)] === true);
    expect(logLines(second.run).map((l) => l.msg)).toContain('stopped leading');
    api.faults(second.id).delayMs = 0;
    await stop(replicas);
  }, 60_000);

  it('wall clocks an hour apart: still one writer, and no takeover before the lease ran out', async () => {
    const fleet = 'skew';
    const skews = [0, 3_600_000, -3_600_000];
    const replicas = await Promise.all(
      ['s0', 's1', 's2'].map((id, i) => startReplica(fleet, id, { skewMs: skews[i] as number })),
    );
    // On top, the server stores s0's timestamps a day ahead (a renewTime far in the future).
    api.skewClock('s0', 86_400_000);
    const leader = await oneLeader(replicas);
    // The holder's renewTime is an hour (or a day) off for someone; nobody reads it. A replica
    // comparing it with its own wall clock would take over at once (or never).
    const from = performance.now();
    while (performance.now() - from < 2 * LEASE_S * 1000) {
      const roles = await Promise.all(replicas.map(roleOf));
      expect(roles.filter((r) => r?.role === 'leader').length).toBeLessThanOrEqual(1);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(earlyTakeovers(fleet)).toEqual([]);
    const current = await oneLeader(replicas);
    current.run.kill('SIGKILL');
    await current.run.exited;
    const rest = replicas.filter((r) => r !== current);
    const next = await oneLeader(rest, 15_000);
    expect(earlyTakeovers(fleet)).toEqual([]);
    expect(leaseWrites(fleet).at(-1)?.holder).toBe(next.id);
    // SIGTERM: the leader releases the Lease (holder ''), the last replica takes it at once.
    const last = rest.find((r) => r !== next) as Replica;
    next.run.kill('SIGTERM');
    expect((await next.run.exited).code).toBe(0);
    const released = leaseWrites(fleet).find((w) => w.holder === '');
    expect(released?.client).toBe(next.id);
    await oneLeader([last], 10_000);
    const taken = leaseWrites(fleet).find(
      (w) => w.holder === last.id && w.atMs > (released?.atMs ?? 0),
    );
    console.info(
      `first leader ${leader.id}; after a release the next leader wrote the Lease ${((taken?.atMs ?? 0) - (released?.atMs ?? 0)).toFixed(0)} ms later`,
    );
    await stop(rest);
  }, 60_000);
});
