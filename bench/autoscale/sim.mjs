// One trace's simulations for bench/autoscale, sharing the expensive part: the rolling,
// no-lookahead predictions of a trace are computed once and fed to every replay of it (fluid
// and sticky, with and without the nowcast, the kill and rollout surges); only a flash-crowd
// copy (different demand, which the forecaster then sees in its history) gets its own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capacityReadyLead } from './ramps.mjs';

/** Forecasting model of the predictive policy: the sidecar's default. */
export const MODEL = 'seasonal-profile';
/** History before scoring starts (as the old bench): 14 days. */
export const WARMUP_DAYS = 14;

/** What the simulator build offers (options land while other helpers work). */
export function features(P) {
  return {
    sticky: typeof P.simulateSticky === 'function',
    nowcast: typeof P.createNowcaster === 'function',
    disruptions: typeof P.simulateSticky === 'function',
  };
}

/** Highest actual demand over the next `leadSteps` steps: the oracle's published value. */
export function oraclePeak(values, leadSteps) {
  const n = values.length;
  const peak = new Float64Array(n);
  // Sliding maximum over (i, i + leadSteps] (leadSteps is a few steps: a plain loop is fine).
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 1; k <= leadSteps && i + k < n; k++) m = Math.max(m, values[i + k]);
    peak[i] = m;
  }
  return peak;
}

/**
 * The predictive signal over `series`, optionally cached on disk (--cache) by trace name and
 * a fingerprint of the values, so dev reruns skip the forecasting.
 */
export function predictions(P, series, { leadSteps, targetUtilization, key, cache }) {
  let sum = 0;
  for (let i = 0; i < series.values.length; i += 97) sum += series.values[i] * (i % 13);
  const file =
    cache &&
    path.join(
      os.tmpdir(),
      'tidewatch-autoscale-cache',
      `${key}-${series.values.length}-${leadSteps}-${MODEL}-${sum.toFixed(3)}.f64`,
    );
  if (file && fs.existsSync(file)) {
    const b = fs.readFileSync(file);
    return { signal: new Float64Array(b.buffer, b.byteOffset, b.length / 8), ms: 0, cached: true };
  }
  const day = Math.round(86_400_000 / series.stepMs);
  const t0 = performance.now();
  const r = P.rollingPredictions(series, {
    leadSteps,
    model: MODEL,
    from: WARMUP_DAYS * day,
    targetUtilization,
  });
  const ms = performance.now() - t0;
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, Buffer.from(r.signal.buffer));
  }
  return { signal: r.signal, ms, cached: false };
}

/**
 * Replays one policy. `predicted` is the signal (predictive), the oracle peak, or undefined
 * (reactive). Keeps the per-sync arrays only when `keepTrace`.
 */
export function replay(P, series, base, run) {
  const day = Math.round(86_400_000 / series.stepMs);
  // `rollout` is the Deployment's strategy (a disruption's bounds), not a replay option.
  const { leadSeconds, drainSeconds, rollout: _rollout, ...fluid } = base;
  const opts = { ...fluid, scoreFrom: WARMUP_DAYS * day, trace: true };
  const t0 = performance.now();
  let r;
  if (run.connections === 'sticky') {
    const sticky = { ...opts, lb: 'least-connections', drainSeconds };
    if (run.nowcast) {
      // The simulator tells the nowcaster what the predictive signal already provides for
      // (LeadingSignals.expected), as the sidecar tells it the published plan. Not
      // runSimulation's `nowcast` option: runSimulation recomputes the rolling forecast on every
      // call, which this bench computes once per trace and shares between replays.
      // TIDEWATCH_BENCH_NOWCAST (JSON nowcaster options) is for tuning runs on the tuning traces.
      const tuning = process.env.TIDEWATCH_BENCH_NOWCAST;
      sticky.nowcaster = P.createNowcaster({
        leadSeconds,
        ...(tuning ? JSON.parse(tuning) : {}),
      });
    }
    if (run.disruptions?.length) sticky.disruptions = run.disruptions;
    r = P.simulateSticky(series, sticky, run.predicted);
  } else {
    r = P.simulate(series, opts, run.predicted);
  }
  const ms = performance.now() - t0;
  return { ...r, ms };
}

/** Strips the per-sync arrays for the JSON output. */
export function summary(r) {
  const { trace, ...rest } = r;
  return rest;
}

/**
 * The policies of one (series, connections, disruptions) case: reactive, predictive (and
 * predictive + nowcast where sticky and available), oracle; with the capacity-ready lead of
 * each over reactive. Returns rows with their trace arrays (caller decides what to keep).
 */
export function runPolicies(P, series, base, { connections, signal, peak, disruptions, nowcast }) {
  const policies = [
    ['reactive', undefined, false],
    ['predictive', signal, false],
    ...(nowcast ? [['predictive + nowcast', signal, true]] : []),
    ['oracle', peak, false],
  ];
  const rows = [];
  for (const [policy, predicted, withNowcast] of policies) {
    const r = replay(P, series, base, {
      connections,
      predicted,
      nowcast: withNowcast,
      disruptions,
    });
    rows.push({ ...r, policy, connections });
  }
  const reactive = rows[0];
  for (const row of rows) {
    row.capacityReadyLeadSeconds =
      row === reactive
        ? null
        : capacityReadyLead(reactive.trace, row.trace, base.capacityPerReplica);
  }
  return rows;
}
