/**
 * Counters that go down, scraped from a real HTTP target on a fake clock: a glitch (the start
 * time unchanged), a restart (`process_start_time_seconds` changed) and a target without a
 * start time, with the exact rates appended and the exact `onCounterReset` events.
 */
import { describe, expect, it } from 'vitest';
import { createHistoryStore, type HistoryStore } from '../../src/history/store.js';
import { type CounterResetEvent, createScraper, type Scraper } from '../../src/sources/scrape.js';
import { cleanupAfterEach, hostileTarget } from './helpers.js';
import type { HostileTarget } from './hostile-server.js';

const STEP = 1000;
const T0 = 1_700_000_040_000;
const START = 1_699_990_000; // the target's process start, unix seconds

const defer = cleanupAfterEach();

interface Rig {
  t: HostileTarget;
  s: Scraper;
  store: HistoryStore;
  events: CounterResetEvent[];
  /** Sets the counter (and start time), advances the clock one step and scrapes. */
  step(counter: number, startTimeSeconds?: number): Promise<number>;
  readonly now: number;
}

async function rig(startTimeSeconds: number | undefined): Promise<Rig> {
  const t = await hostileTarget(defer);
  t.state.startTimeSeconds = startTimeSeconds;
  let now = T0 - STEP;
  const store = createHistoryStore({ stepMs: STEP, capacity: 100, maxInterpolateSteps: 0 });
  const events: CounterResetEvent[] = [];
  const s = createScraper({
    urls: [t.metricsUrl],
    metric: 'realtime_messages_total',
    labels: { direction: 'in' },
    kind: 'counter',
    intervalMs: STEP,
    store,
    seriesName: 'mps',
    now: () => now,
    onCounterReset: (e) => {
      events.push(e);
      throw new Error('an observer bug must not matter');
    },
  });
  defer(() => s.stop());
  return {
    t,
    s,
    store,
    events,
    async step(counter, start = t.state.startTimeSeconds) {
      t.state.counter = counter;
      t.state.startTimeSeconds = start;
      now += STEP;
      return s.scrapeOnce();
    },
    get now() {
      return now;
    },
  };
}

const vals = (store: HistoryStore) => Array.from(store.series('mps').values);

/** The event `r`'s scraper reports for its counter going down, as `change` describes it. */
const resetOf = (
  r: Rig,
  change: Pick<CounterResetEvent, 'restart' | 'previous' | 'current' | 'atMs'>,
): CounterResetEvent => ({
  source: `scrape:${r.t.metricsUrl}`,
  ...change,
  labels: { direction: 'in' },
});

describe('scrape source: counters that go down', () => {
  it('a glitch (0.1 % down, same start time): the step is skipped, the next one is normal', async () => {
    const r = await rig(START);
    expect(await r.step(1_000_000)).toBeNaN(); // first sample: no rate yet
    expect(await r.step(1_000_100)).toBe(100);
    // Before: 999,100 / 1 s = 999,100 "messages per second" appended; now nothing.
    expect(await r.step(999_100)).toBeNaN();
    expect(r.events).toEqual([
      resetOf(r, { restart: 'false', previous: 1_000_100, current: 999_100, atMs: r.now }),
    ]);
    expect(await r.step(999_150)).toBe(50); // re-based on 999,100
    expect(vals(r.store)).toEqual([100, NaN, 50]);
    expect(r.s.errors.size).toBe(0);
  });

  it('a restart (start time changed): the counter from 0 since the start time', async () => {
    const r = await rig(START);
    await r.step(5_000);
    expect(await r.step(5_100)).toBe(100);
    // Restarted 250 ms before this scrape, and counted 40 since: 160/s, from 0 at the start.
    const restartedAt = (r.now + STEP - 250) / 1000;
    expect(await r.step(40, restartedAt)).toBe(160);
    expect(r.events).toEqual([
      resetOf(r, { restart: 'true', previous: 5_100, current: 40, atMs: r.now }),
    ]);
    expect(await r.step(140)).toBe(100);
    expect(vals(r.store)).toEqual([100, 160, 100]);
  });

  it('no start time exposed: cannot tell, so the step is skipped (restart unknown)', async () => {
    const r = await rig(undefined);
    await r.step(700);
    expect(await r.step(720)).toBe(20);
    expect(await r.step(30)).toBeNaN();
    expect(await r.step(50)).toBe(20);
    expect(r.events).toEqual([
      resetOf(r, { restart: 'unknown', previous: 720, current: 30, atMs: T0 + 2 * STEP }),
    ]);
    expect(vals(r.store)).toEqual([20, NaN, 20]);
  });

  it('each URL keeps its own start time and counters', async () => {
    const a = await hostileTarget(defer);
    const b = await hostileTarget(defer);
    a.state.startTimeSeconds = START;
    b.state.startTimeSeconds = START + 5;
    let now = T0;
    const events: CounterResetEvent[] = [];
    const s = createScraper({
      urls: [a.metricsUrl, b.metricsUrl],
      metric: 'realtime_messages_total',
      kind: 'counter',
      intervalMs: STEP,
      store: createHistoryStore({ stepMs: STEP, capacity: 10, maxInterpolateSteps: 0 }),
      seriesName: 'mps',
      now: () => now,
      onCounterReset: (e) => events.push(e),
    });
    defer(() => s.stop());
    a.state.counter = 100;
    b.state.counter = 1_000;
    expect(await s.scrapeOnce()).toBeNaN();
    now += STEP;
    a.state.counter = 110;
    b.state.counter = 1_020;
    expect(await s.scrapeOnce()).toBe(30);
    now += STEP;
    // b glitches (its own start time unchanged); a, with a different start time, is fine.
    a.state.counter = 120;
    b.state.counter = 1_019;
    expect(await s.scrapeOnce()).toBeNaN();
    expect(events.map((e) => [e.source, e.restart])).toEqual([[`scrape:${b.metricsUrl}`, 'false']]);
    now += STEP;
    a.state.counter = 130;
    b.state.counter = 1_029;
    expect(await s.scrapeOnce()).toBe(20);
  });
});
