// How the demo maps the flights trace onto one time scale for everyone: the load generator,
// the sidecar's seeded history and its live scrapes.
//
// The trace holds departures per minute (Jan-Jun 2001). The demo plays one trace minute per
// real second (compression 60), so a departure becomes a connection arrival: `value x scale`
// arrivals in that second. Each session lasts an exponential time of mean `meanSeconds`, so
// the expected number of open connections obeys
//     c[t] = c[t-1] * d + a[t],   d = exp(-1 / meanSeconds)
// (each arrival survives k seconds with probability d^k). The seeded history is one random
// realisation of that process over the trace minutes just before the replay starts (arrivals
// exactly as the load generator plays them, each open connection surviving a second with
// probability d), not its expected value: a noise-free seed would teach the models an error
// level that live data, with its Poisson-like wobble, can never meet, and the sidecar would
// call every live forecast stale. So the sidecar sees the weeks "before" the demo on the same
// scale, and with the same noise, as what it will scrape live, one point per second.
// The house's seeded generator, so the seed history is the same on every run.
import fs from 'node:fs';
import path from 'node:path';
import { createRandom } from '@tidewatch/loadgen';

/** Minutes per day and week of the trace, i.e. steps per day and week at one step a second. */
export const DAY_STEPS = 1440;
export const WEEK_STEPS = 10_080;

/**
 * Expected open connections for trace indices [from, to), given arrivals `values[i] x scale`
 * per second and exponential sessions of `meanSeconds`. Starts a week early so the recurrence
 * has settled by `from`.
 */
export function expectedConnections(values, from, to, { scale, meanSeconds }) {
  const d = Math.exp(-1 / meanSeconds);
  let c = 0;
  const out = new Array(to - from);
  for (let i = Math.max(0, from - WEEK_STEPS); i < to; i++) {
    c = c * d + values[i] * scale;
    if (i >= from) out[i - from] = c;
  }
  return out;
}

/**
 * One realisation of the open-connection count for trace indices [from, to): each second,
 * every open connection survives with probability d (binomial, normal approximation above 50
 * connections) and the step's arrivals open, rounded cumulatively as the load generator does.
 */
export function simulatedConnections(values, from, to, { scale, meanSeconds, seed = 7 }) {
  const d = Math.exp(-1 / meanSeconds);
  const random = createRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  let open = 0;
  let cumulative = 0;
  let emitted = 0;
  const out = new Array(to - from);
  for (let i = Math.max(0, from - WEEK_STEPS); i < to; i++) {
    let kept;
    if (open > 50) {
      kept = Math.round(open * d + gauss() * Math.sqrt(open * d * (1 - d)));
      kept = Math.min(open, Math.max(0, kept));
    } else {
      kept = 0;
      for (let k = 0; k < open; k++) if (random() < d) kept++;
    }
    cumulative += values[i] * scale;
    const target = Math.round(cumulative);
    open = kept + (target - emitted);
    emitted = target;
    if (i >= from) out[i - from] = open;
  }
  return out;
}

/**
 * Writes the seed CSV (`timestamp,value`, one point per second ending now) the sidecar loads
 * into its empty history (`seed.retime: true` re-lays the points on its own steps anyway).
 * @returns the file's path
 */
export function writeSeed(
  dir,
  values,
  startAt,
  { seedSteps, scale, meanSeconds, nowMs = Date.now() },
) {
  const series = simulatedConnections(values, startAt - seedSteps, startAt, { scale, meanSeconds });
  const end = Math.floor(nowMs / 1000) - 1;
  const lines = ['timestamp,value'];
  for (let i = 0; i < series.length; i++) {
    lines.push(`${end - (series.length - 1 - i)},${series[i]}`);
  }
  const file = path.join(dir, 'seed.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
