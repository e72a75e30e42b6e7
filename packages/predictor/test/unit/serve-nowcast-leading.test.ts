/**
 * The nowcast glue fed by a kind's leading reader (the `prometheus` source's instant queries)
 * instead of live figures: the wrapped engine's collect reads it after a collection that
 * succeeded (never after a failed one), a failure is reported once and feeds nothing (the nowcast goes quiet on stale figures), an
 * abort at shutdown is not a failure, and a reader's "why not" is the nowcast's reason.
 */
import { createPlanner, SourceError } from '@tidewatch/forecast';
import { describe, expect, it } from 'vitest';
import { parseServeConfig } from '../../src/serve/config.js';
import type { Decision, Engine } from '../../src/serve/engine.js';
import { createSidecarNowcast } from '../../src/serve/nowcast.js';
import type { LeadingFigures, LeadingReader } from '../../src/sources/index.js';

const T0 = Date.UTC(2030, 0, 1);
const config = parseServeConfig({
  source: { kind: 'prometheus', url: 'http://127.0.0.1:1' },
  planner: { capacityPerReplica: 100, targetUtilization: 0.5 },
  nowcast: { sustainSeconds: 0, minArrivalConnections: 0 },
});
const planner = createPlanner({
  capacityPerReplica: 100,
  targetUtilization: 0.5,
  maxReplicas: 500,
});

/** An engine whose collect succeeds (or fails: `ok` false) and whose decision is a warming one. */
function fakeEngine(ok = true): Engine {
  let lastCollectMs: number | undefined;
  const decision = (nowMs: number) =>
    ({
      nowMs,
      status: 'warming',
      reasons: [],
      reasonCodes: [],
      plan: { predictedLoad: null, recommendedReplicas: null, threshold: null },
    }) as unknown as Decision;
  return {
    get lastCollectMs() {
      return lastCollectMs;
    },
    collect: async () => {
      if (ok) lastCollectMs = (lastCollectMs ?? T0) + 1;
    },
    evaluate: decision,
    halt() {},
    abort() {},
    running: () => new Map(),
    stop: async () => {},
  } as unknown as Engine;
}

describe('createSidecarNowcast with a leading reader', () => {
  it('feeds what the reader returns, reports a failure once, goes quiet on stale figures', async () => {
    let next: LeadingFigures | Error = new Error('unset');
    const reader: LeadingReader = {
      read: async () => {
        if (next instanceof Error) throw next;
        return next;
      },
    };
    const failures: SourceError[] = [];
    const n = createSidecarNowcast({
      config,
      planner,
      live: undefined,
      leading: { reader, name: 'prometheus:x', onError: (f) => failures.push(f) },
    });
    if (!n) throw new Error('no nowcast');
    const engine = n.wrap(fakeEngine());
    const at = (k: number, connections: number, handshakes: number) => ({
      atMs: T0 + k * 15_000,
      connections,
      handshakesPerSecond: handshakes,
      abnormalClosesPerSecond: 0,
      readyPods: 0,
    });
    for (let k = 2; k <= 10; k++) {
      next = at(k, 1000, 1);
      await engine.collect();
    }
    expect(engine.evaluate(T0 + 10 * 15_000).nowcast?.active).toBe(false);
    next = at(11, 1100, 40);
    await engine.collect();
    const surging = engine.evaluate(T0 + 11 * 15_000);
    expect(surging.nowcast?.active).toBe(true);
    // Warming: the nowcast alone is published while it fires.
    expect(surging.plan.predictedLoad).toBe(surging.nowcast?.load);

    next = new SourceError('prometheus:x', 'HTTP 500');
    await engine.collect();
    expect(failures.map((f) => f.message)).toEqual(['prometheus:x: HTTP 500']);
    // Nothing new was fed: past the data-age limit the nowcast is quiet.
    const later = T0 + 11 * 15_000 + 181_000;
    expect(engine.evaluate(later).nowcast).toEqual({
      active: false,
      load: null,
      reason: 'quiet: the live figures are 181 s old',
    });
  });

  it('an abort at shutdown is not a failure, and the read is shown as running', async () => {
    let started!: () => void;
    const reading = new Promise<void>((resolve) => {
      started = resolve;
    });
    const reader: LeadingReader = {
      read: (signal) =>
        new Promise((_resolve, reject) => {
          started();
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    };
    const failures: SourceError[] = [];
    const n = createSidecarNowcast({
      config,
      planner,
      live: undefined,
      leading: { reader, name: 'prometheus:x', onError: (f) => failures.push(f) },
    });
    const engine = n?.wrap(fakeEngine()) as Engine;
    const collecting = engine.collect();
    await reading;
    expect([...engine.running().keys()]).toEqual(['leading signals']);
    engine.abort();
    await collecting;
    expect(failures).toEqual([]);
    expect([...engine.running().keys()]).toEqual([]);
  });

  it('a failed collection sends no leading round', async () => {
    let reads = 0;
    const reader: LeadingReader = {
      read: async () => {
        reads++;
        return null;
      },
    };
    const leading = { reader, name: 'prometheus:x', onError: () => {} };
    const failing = createSidecarNowcast({ config, planner, live: undefined, leading });
    await failing?.wrap(fakeEngine(false)).collect();
    expect(reads).toBe(0);
    const ok = createSidecarNowcast({ config, planner, live: undefined, leading });
    await ok?.wrap(fakeEngine()).collect();
    expect(reads).toBe(1);
  });

  it("a reader's why-not is the nowcast's reason", () => {
    const n = createSidecarNowcast({
      config,
      planner,
      live: undefined,
      leading: { reader: 'off: no selector', name: 'prometheus:x', onError: () => {} },
    });
    expect(n?.json(T0)).toEqual({ active: false, load: null, reason: 'off: no selector' });
  });
});
