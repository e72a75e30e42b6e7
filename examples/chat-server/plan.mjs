// How the demo maps the flights trace onto one time scale for everyone: the load generator,
// the sidecar's seeded history and its live scrapes.
//
// The trace holds departures per minute (Jan-Jun 2001). The demo plays one trace minute per
// real second (compression 60), so a departure becomes a connection arrival: `value x scale`
// arrivals in that second. Each session lasts an exponential time of mean `meanSeconds`, so
// the expected number of open connections obeys
//     c[t] = c[t-1] * d + a[t],   d = exp(-1 / meanSeconds)
// (each arrival survives k seconds with probability d^k). That recurrence, run over the trace
// minutes just before the replay starts, is the seeded history: the sidecar sees the weeks
// "before" the demo on the same scale as what it will scrape live, one point per second.
import fs from 'node:fs';
import path from 'node:path';

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
  const series = expectedConnections(values, startAt - seedSteps, startAt, { scale, meanSeconds });
  const end = Math.floor(nowMs / 1000) - 1;
  const lines = ['timestamp,value'];
  for (let i = 0; i < series.length; i++) {
    lines.push(`${end - (series.length - 1 - i)},${series[i].toFixed(2)}`);
  }
  const file = path.join(dir, 'seed.csv');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
