// Surprises injected into a copy of a trace (issue 14, build item 4): none of them is in any
// forecast. Each kind is injected into its own copy, as a series of episodes spread over the
// scored months, so episodes of one kind never overlap and each is scored in its own window.
//
// - flash: demand x3 arriving within 5 minutes (linear ramp), held 10 minutes, decaying back
//   to x1 over 30 minutes. Onset at a seeded random minute between 10:00 and 20:00.
// - kill: one ready pod killed at the day's demand peak: the sticky simulator's `kill-pod`
//   disruption (the ready pod holding the most connections is lost, its connections drop and
//   reconnect with backoff onto the others, the ReplicaSet starts a replacement).
// - rollout: a new pod template rolled out: the sticky simulator's `rollout` disruption within
//   the generated Deployment's bounds (maxSurge 25 %, maxUnavailable 0, read by shipped.mjs
//   from the manifest): new pods are added first, an old pod is retired only once a new one
//   serves, and a retired pod keeps its connections for the drain time, then drops the rest,
//   who reconnect onto the others. Onset at a seeded random minute between 10:00 and 16:00.
//
// Episodes: every 9th day from day 21 (days 21, 30, ..., 174: 18 per kind, walking through
// the weekdays since 9 = 7 + 2), i.e. after the 14-day warm-up and a week of scored history.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';

// The house's seeded generator (mulberry32), so every run injects the same episodes.
const { createRandom } = await import(
  pathToFileURL(path.join(ROOT, 'packages/forecast/dist/index.js')).href
);

export const SURGE_KINDS = ['flash', 'kill', 'rollout'];
/** Episode window scored, minutes from onset. */
export const WINDOW_MIN = { flash: 60, kill: 30, rollout: 45 };
export const FLASH = { factor: 3, rampMin: 5, holdMin: 10, decayMin: 30 };
const FIRST_DAY = 21;
const EVERY_DAYS = 9;

/** Multiplier of the flash crowd `k` minutes after onset (1 outside the episode). */
export function flashFactor(k) {
  const { factor, rampMin, holdMin, decayMin } = FLASH;
  if (k < 0) return 1;
  if (k < rampMin) return 1 + ((factor - 1) * (k + 1)) / rampMin;
  if (k < rampMin + holdMin) return factor;
  if (k < rampMin + holdMin + decayMin)
    return factor - ((factor - 1) * (k - rampMin - holdMin + 1)) / decayMin;
  return 1;
}

/**
 * Episode onsets (step indices) for one kind on a per-minute trace.
 * @param series per-minute demand
 * @param kind one of SURGE_KINDS
 * @param seed PRNG seed (a trace's own, so traces differ)
 */
export function onsets(series, kind, seed) {
  const day = Math.round(86_400_000 / series.stepMs);
  const n = series.values.length;
  const next = createRandom(seed * 7919 + SURGE_KINDS.indexOf(kind));
  const out = [];
  for (let d = FIRST_DAY; (d + 1) * day <= n; d += EVERY_DAYS) {
    if (kind === 'kill') {
      // The day's peak minute: a pod lost when it hurts most.
      let best = d * day;
      for (let i = d * day; i < (d + 1) * day; i++)
        if (series.values[i] > series.values[best]) best = i;
      out.push(best);
    } else {
      const [from, to] = kind === 'flash' ? [10, 20] : [10, 16];
      out.push(d * day + Math.floor((from + (to - from) * next()) * 60));
    }
  }
  return out;
}

/**
 * A surged copy of `series`: for `flash` new demand values; for `kill` and `rollout` the same
 * demand and the sticky simulator's disruptions. Returns the episodes' scored windows.
 * @param series per-minute demand
 * @param kind one of SURGE_KINDS
 * @param seed PRNG seed (a trace's own, so traces differ)
 * @param rollout the Deployment's `{ maxSurge, maxUnavailable }` (shipped.mjs), for `rollout`
 * @returns {{ kind, series, events, episodes: Array<{ fromS, toS, onset }> }} (seconds)
 */
export function inject(series, kind, seed, rollout) {
  const stepS = series.stepMs / 1000;
  const starts = onsets(series, kind, seed);
  const values = Float64Array.from(series.values);
  const events = [];
  for (const i0 of starts) {
    if (kind === 'flash') {
      const len = FLASH.rampMin + FLASH.holdMin + FLASH.decayMin;
      for (let k = 0; k < len && i0 + k < values.length; k++) values[i0 + k] *= flashFactor(k);
    } else if (kind === 'kill') {
      events.push({ kind: 'kill-pod', atSeconds: i0 * stepS });
    } else {
      events.push({
        kind: 'rollout',
        atSeconds: i0 * stepS,
        maxSurge: rollout.maxSurge,
        maxUnavailable: rollout.maxUnavailable,
      });
    }
  }
  const episodes = starts.map((i0) => ({
    onset: i0,
    fromS: i0 * stepS,
    toS: (i0 + WINDOW_MIN[kind]) * stepS,
  }));
  return {
    kind,
    series: { startMs: series.startMs, stepMs: series.stepMs, values },
    events,
    episodes,
  };
}

/**
 * Sums per-sync trace arrays over the episode windows.
 * @param trace the simulator's per-sync arrays (timeS, overloadedPods, replicasDesired, ...)
 * @param episodes from {@link inject}
 * @param syncS HPA sync period, seconds
 * @returns overloaded pod-minutes and pod-minutes paid within the windows
 */
export function scoreEpisodes(trace, episodes, syncS) {
  let overloaded = 0;
  let paid = 0;
  let e = 0;
  const t = trace.timeS;
  for (let i = 0; i < t.length && e < episodes.length; i++) {
    while (e < episodes.length && t[i] >= episodes[e].toS) e++;
    if (e >= episodes.length) break;
    if (t[i] < episodes[e].fromS) continue;
    overloaded += (trace.overloadedPods[i] * syncS) / 60;
    paid += (trace.replicasDesired[i] * syncS) / 60;
  }
  return { overloadedPodMinutes: overloaded, podMinutes: paid, episodes: episodes.length };
}
