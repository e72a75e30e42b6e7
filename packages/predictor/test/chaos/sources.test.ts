/**
 * A hostile source, every way production produces one, against real sidecar processes: a
 * scrape target and a Prometheus that stream for ever, send 300 MB (with and without a
 * content-length), stall (after the headers, or before anything), answer HTML, garbage, a
 * duplicate family / two series, a storm of 500s; and a counter that goes down (with the same,
 * a new, or no process start time). One table; per face (scrape gauge, scrape counter,
 * prometheus) one sidecar per source deadline (1 s; 30 s for the size cases), each with a
 * chaos server of its own; each case in turn: the failure is counted and named in the stale
 * reason (a missed deadline or a body over the limit is not retried), /healthz answers 200
 * throughout, the peak memory (VmHWM, reset per case) stays under MEMORY_BOUND_MB; healed, the
 * source recovers with a new point and the forecast is ok. Elapsed times are printed
 * (`[chaos] ...` lines) for the record, never asserted.
 */

import {
  type ChaosMode,
  type ChaosServer,
  pollUntil,
  startChaosServer,
  stopStartedProcesses,
  sumSamples,
} from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededDir } from '../integration/sidecar.js';
import {
  CHAOS_METRICS,
  type ChaosForecast,
  get,
  historySeries,
  launch,
  MEMORY_BOUND_MB,
  prometheusOf,
  report,
  resetPeakMemory,
  type SidecarProcess,
  SOURCE_TIMEOUT_SECONDS,
  scrapeOf,
} from './harness.js';

const TIMED_OUT = new RegExp(`timed out after ${SOURCE_TIMEOUT_SECONDS * 1000} ms`);
const TOO_LARGE = /response too large/;
const NOT_TEXT_FORMAT = /not the Prometheus text format: line 1: /;
/** The counter's rate while healthy, per second, and what a `counter-*` mode drops it to. */
const RATE = 10;
const RESET_TO = 5000;

/** The sidecars of this file: what they read. */
type Face = 'scrape' | 'prometheus' | 'counter';

/**
 * The source deadline of the size cases: far beyond any 16 MiB read, so that only the size
 * limit can end a 300 MB body (with the 1 s deadline of the other cases it would be a race
 * between the two on a busy machine).
 */
const SIZE_DEADLINE_SECONDS = 30;

/** One hostile mode and what each sidecar must make of it. */
interface Case {
  mode: ChaosMode;
  /** `source.timeoutSeconds` of the sidecar it runs against. Default SOURCE_TIMEOUT_SECONDS. */
  deadlineSeconds?: number;
  /** A source failure: the stale reason's detail, per sidecar it runs against. */
  fails?: Partial<Record<Face, RegExp>>;
  /** A counter decrease (the counter sidecar): the `restart` label it is counted under. */
  reset?: 'true' | 'false' | 'unknown';
}

/** THE table. A mode a sidecar is not listed for does not run against it. */
const CASES: Case[] = [
  { mode: 'endless', fails: { scrape: TIMED_OUT, prometheus: TIMED_OUT } },
  {
    mode: 'huge',
    deadlineSeconds: SIZE_DEADLINE_SECONDS,
    fails: { scrape: TOO_LARGE, prometheus: TOO_LARGE },
  },
  {
    mode: 'huge-chunked',
    deadlineSeconds: SIZE_DEADLINE_SECONDS,
    fails: { scrape: TOO_LARGE, prometheus: TOO_LARGE },
  },
  { mode: 'stall-headers', fails: { scrape: TIMED_OUT, prometheus: TIMED_OUT } },
  { mode: 'stall-silent', fails: { scrape: TIMED_OUT, prometheus: TIMED_OUT } },
  { mode: 'html', fails: { scrape: NOT_TEXT_FORMAT, prometheus: /not JSON/ } },
  { mode: 'garbage', fails: { scrape: NOT_TEXT_FORMAT, prometheus: /not JSON/ } },
  {
    mode: 'duplicate',
    fails: {
      scrape: /duplicate metric family realtime_connections/,
      prometheus: /returned 2 series/,
    },
  },
  { mode: 'error500', fails: { scrape: /HTTP 500/, prometheus: /HTTP 500/ } },
  { mode: 'counter-reset', reset: 'false' },
  { mode: 'counter-restart', reset: 'true' },
  { mode: 'counter-reset-nostart', reset: 'unknown' },
];

const work = seededDir('tw-chaos-sources-');
afterAll(async () => {
  await stopStartedProcesses();
  work.remove();
});

const historyPoints = async (s: SidecarProcess) =>
  sumSamples(await s.metricsText(), 'tidewatch_history_points');
const failing = (doc: Pick<ChaosForecast, 'reasonCodes'>) =>
  doc.reasonCodes.includes('source_failing');
/** What a wait needs of /forecast (and shows when it times out): not the whole document. */
const verdict = async (s: SidecarProcess) => {
  const { status, reasons, reasonCodes } = await s.forecast();
  return { status, reasons, reasonCodes };
};

/** A sidecar and the chaos server only it reads (a mode must reach no other sidecar). */
interface Rig {
  chaos: ChaosServer;
  sidecar: SidecarProcess;
  /** A case failed on it: the next case gets a fresh sidecar. */
  tainted: boolean;
}

/**
 * The rigs of one face, one per source deadline the cases need, started on first use. A case
 * that failed or killed its sidecar taints it: the next case gets a fresh process on the same
 * data dir (memory a failed case left behind must not fail the cases after it). Every case
 * starts once its source is healthy, and heals it when done.
 */
function faceSetup(face: Face) {
  const rigs = new Map<number, Rig>();
  const metric = face === 'counter' ? 'realtime_messages_total' : 'realtime_connections';
  const start = (chaos: ChaosServer, deadline: number) => {
    const extra = { timeoutSeconds: deadline, ...(face === 'counter' ? { type: 'counter' } : {}) };
    return launch({
      workDir: work.dir,
      name: `${face}-${deadline}s`,
      seedFile: work.seedFile,
      source: face === 'prometheus' ? prometheusOf(chaos, extra) : scrapeOf(chaos, extra),
      settings: { metric },
    });
  };
  /** The rig with `deadline`, with a healthy sidecar, (re)started when needed. */
  async function rig(deadline: number): Promise<Rig> {
    let r = rigs.get(deadline);
    if (!r) {
      const chaos = await startChaosServer({
        metrics: CHAOS_METRICS,
        counterPerSecond: RATE,
        counterResetTo: RESET_TO,
      });
      r = { chaos, sidecar: await start(chaos, deadline), tainted: false };
      rigs.set(deadline, r);
    } else if (r.tainted || !r.sidecar.alive()) {
      report(`${face} ${deadline}s: fresh sidecar after a failed case`, {
        exit: r.sidecar.run.child.exitCode ?? r.sidecar.run.child.signalCode ?? 'running',
      });
      await r.sidecar.stop();
      r.sidecar = await start(r.chaos, deadline);
      r.tainted = false;
    }
    const { sidecar } = r;
    await pollUntil(
      () => verdict(sidecar),
      (doc) => !failing(doc),
      { timeoutMs: 60_000, description: `${face}: a healthy source before the case` },
    );
    return r;
  }
  beforeAll(() => rig(SOURCE_TIMEOUT_SECONDS), 180_000);
  afterAll(async () => {
    for (const r of rigs.values()) {
      await r.sidecar.stop();
      await r.chaos.close();
    }
  });
  /** Runs one case; heals the source whatever happens. */
  async function run(
    deadline: number,
    body: (s: SidecarProcess, chaos: ChaosServer) => Promise<void>,
  ): Promise<void> {
    const r = await rig(deadline);
    try {
      await body(r.sidecar, r.chaos);
    } catch (error) {
      r.tainted = true;
      throw error;
    } finally {
      r.chaos.heal();
    }
  }
  return { metric, run };
}

/** Switches `chaos` to a failing mode and checks what the sidecar makes of it, then heals it. */
async function sourceFailure(
  face: Face,
  mode: ChaosMode,
  why: RegExp,
  s: SidecarProcess,
  chaos: ChaosServer,
): Promise<void> {
  const what = `${face} ${mode}`;
  const errorsBefore = await s.sourceErrors();
  resetPeakMemory(s.pid);
  const healthz: string[] = [];
  const probeHealthz = async () => {
    const r = await get(`${s.url}/healthz`).catch((e: Error) => ({ status: 0, text: e.message }));
    healthz.push(r.status === 200 ? '200' : `${r.status} ${r.text.slice(0, 100)}`);
  };
  const t0 = Date.now();
  chaos.setMode(mode);
  const seen = await pollUntil(
    async () => {
      await probeHealthz();
      return { errors: await s.sourceErrors(), doc: await verdict(s) };
    },
    (v) => v.errors > errorsBefore && failing(v.doc),
    { timeoutMs: 60_000, intervalMs: 200, description: `${what}: counted and source_failing` },
  );
  const countedMs = Date.now() - t0;
  // Stay hostile for three failed collections in all: /healthz must answer throughout.
  await pollUntil(
    async () => {
      await probeHealthz();
      return s.sourceErrors();
    },
    (n) => n >= errorsBefore + 3,
    { timeoutMs: 60_000, intervalMs: 200, description: `${what}: three failed collections` },
  );
  // Requests first: each was a finished (counted) collection or the one in flight, unless a
  // failure was retried (deadline and size failures must not be: retrying only doubles them).
  const requests = chaos.requests(mode);
  const failures = (await s.sourceErrors()) - errorsBefore;
  const peak = s.memory().hwmMb;
  const reason = seen.doc.reasons[seen.doc.reasonCodes.indexOf('source_failing')] ?? '';
  report(what, {
    countedAfterMs: countedMs,
    failures,
    requests,
    peakMb: peak,
    reason: JSON.stringify(reason.slice(0, 160)),
  });
  expect(s.alive()).toBe(true);
  expect(healthz.filter((h) => h !== '200')).toEqual([]);
  expect(reason.startsWith(`source failing: ${s.errorSource}: `)).toBe(true);
  expect(reason).toMatch(why);
  if (why === TIMED_OUT || why === TOO_LARGE) expect(requests).toBeLessThanOrEqual(failures + 1);
  expect(peak).toBeLessThan(MEMORY_BOUND_MB);

  const pointsAtHeal = await historyPoints(s);
  const healAt = Date.now();
  chaos.heal();
  await pollUntil(
    async () => ({
      doc: await verdict(s),
      points: await historyPoints(s),
      lastCollect: sumSamples(await s.metricsText(), 'tidewatch_last_collect_timestamp_seconds'),
    }),
    (v) =>
      !failing(v.doc) &&
      v.doc.status === 'ok' &&
      v.points > pointsAtHeal &&
      v.lastCollect >= Math.floor(healAt / 1000),
    { timeoutMs: 60_000, intervalMs: 200, description: `${what}: recovered after heal` },
  );
  report(`${what} healed`, { recoveredAfterMs: Date.now() - healAt });
}

/** Drops the counter in `mode`; checks it is counted as a reset of `restart`, not a failure. */
async function counterReset(
  mode: ChaosMode,
  restart: 'true' | 'false' | 'unknown',
  s: SidecarProcess,
  chaos: ChaosServer,
  metric: string,
): Promise<void> {
  const resets = async (labels: Record<string, string> = {}) =>
    sumSamples(await s.metricsText(), 'tidewatch_counter_resets_total', labels);
  // The live rate has taken over from the seeded trace: the steps around the reset hold live
  // values only (a gap there is interpolated from its neighbours).
  await pollUntil(
    async () => historySeries(s.historyFile, metric).values.slice(-3),
    (last) => last.length === 3 && last.every((v) => Number.isFinite(v) && v <= 3 * RATE),
    { timeoutMs: 60_000, intervalMs: 200, description: `counter ${mode}: the live rate on disk` },
  );
  const before = { mine: await resets({ restart }), all: await resets() };
  const errorsBefore = await s.sourceErrors();
  const logsBefore = s.logs().length;
  const switchAt = Date.now();
  chaos.setMode(mode);
  await pollUntil(
    () => resets({ restart }),
    (n) => n > before.mine,
    { timeoutMs: 60_000, intervalMs: 200, description: `counter ${mode}: restart="${restart}"` },
  );
  const countedMs = Date.now() - switchAt;
  // Three points from the switch's step on, on disk: the reset step and two after it.
  const after = (h: ReturnType<typeof historySeries>) =>
    h.values.filter((_, i) => h.startMs + (i + 1) * h.stepMs > switchAt);
  const h = await pollUntil(
    async () => historySeries(s.historyFile, metric),
    (x) => after(x).filter(Number.isFinite).length >= 3,
    { timeoutMs: 60_000, intervalMs: 200, description: `counter ${mode}: 3 points after it` },
  );
  const values = after(h).filter(Number.isFinite);
  const warnings = s
    .logs()
    .slice(logsBefore)
    .filter((l) => l.level === 'warn' && l.msg !== 'collection failed');
  report(`counter ${mode}`, {
    countedAfterMs: countedMs,
    valuesAfter: JSON.stringify(values.slice(0, 5).map((v) => Math.round(v))),
  });
  expect(await resets({ restart })).toBe(before.mine + 1);
  expect(await resets()).toBe(before.all + 1);
  expect(await s.sourceErrors()).toBe(errorsBefore);
  expect(failing(await s.forecast())).toBe(false);
  // A counter that went down without a restart is a glitch worth a warning.
  if (restart === 'false') expect(warnings.length).toBeGreaterThanOrEqual(1);
  // A restart is a rate over the reset (the new value counts as the increase: a spike of about
  // RESET_TO per second); without one the step is skipped and no value leaves the normal rate.
  if (restart === 'true') expect(Math.max(...values)).toBeGreaterThan(RESET_TO / 10);
  else expect(Math.max(...values)).toBeLessThanOrEqual(3 * RATE);
}

for (const face of ['scrape', 'prometheus', 'counter'] as const) {
  describe(`${face} source under chaos`, () => {
    const setup = faceSetup(face);
    for (const c of CASES) {
      const why = c.fails?.[face];
      const reset = face === 'counter' ? c.reset : undefined;
      const deadline = c.deadlineSeconds ?? SOURCE_TIMEOUT_SECONDS;
      if (why)
        it(c.mode, () =>
          setup.run(deadline, (s, chaos) => sourceFailure(face, c.mode, why, s, chaos)),
        );
      else if (reset)
        it(c.mode, () =>
          setup.run(deadline, (s, chaos) => counterReset(c.mode, reset, s, chaos, setup.metric)),
        );
    }
  });
}
