// Self-check of peers.mjs: runs the four R forecast-package peers on a seeded synthetic hourly
// series (daily + weekly pattern, 1,500 points, 3 origins, h = 24) and on forecast::taylor
// (half-hourly, 3 origins, h = 48); prints MASE (scaled by the in-sample seasonal-naive error
// at the shortest period), p90 coverage and CPU seconds per origin. Exits 1 on any NaN.
//
//   node bench/forecast/test-peers.mjs [--minute]
//
// --minute adds a synthetic per-minute series (21 days, periods 1440 and 10080, h = 60, 2
// origins, recommendedWindow, one AutoARIMA selection then one re-application) to measure the
// per-minute cost; it takes a few minutes.
import { ensurePeers, loadRDataset, PEER_MODELS, recommendedWindow, runPeers } from './peers.mjs';

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded series with a daily and a weekly cycle (periods in steps) and AR(1) noise. */
function synthetic(n, day, seed) {
  const rand = mulberry32(seed);
  const y = new Float64Array(n);
  let e = 0;
  for (let t = 0; t < n; t++) {
    const gauss = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    e = 0.6 * e + 8 * gauss;
    const daily = 60 * Math.sin((2 * Math.PI * t) / day) + 20 * Math.cos((4 * Math.PI * t) / day);
    const weekend = Math.floor(t / day) % 7 >= 5 ? -40 : 0;
    y[t] = 200 + 0.01 * t + daily + weekend + e;
  }
  return y;
}

function score(values, origins, horizon, m, model) {
  let err = 0;
  let count = 0;
  let covered = 0;
  let scaleSum = 0;
  origins.forEach((t, i) => {
    let s = 0;
    for (let j = m; j < t; j++) s += Math.abs(values[j] - values[j - m]);
    const scale = s / (t - m);
    scaleSum += scale;
    for (let k = 0; k < horizon; k++) {
      const actual = values[t + k];
      err += Math.abs(actual - model.p50[i][k]) / scale;
      covered += actual <= model.p90[i][k] ? 1 : 0;
      count++;
    }
  });
  return { mase: err / count, coverage: covered / count, scale: scaleSum / origins.length };
}

const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);

const version = await ensurePeers();
console.log(`R forecast ${version}`);

const taylor = await loadRDataset('forecast', 'taylor');
if (taylor.values.length !== 4032 || String(taylor.msts) !== '48,336') {
  console.error(
    `taylor: expected 4032 points, msts 48,336; got ${taylor.values.length}, ${taylor.msts}`,
  );
  process.exit(1);
}

const jobs = [
  {
    id: 'synthetic-hourly',
    values: synthetic(1500, 24, 17),
    periods: [24, 168],
    origins: [1404, 1428, 1452],
    horizon: 24,
    refitEvery: 2,
  },
  {
    id: 'taylor',
    values: taylor.values,
    periods: taylor.msts,
    origins: [3840, 3888, 3936],
    horizon: 48,
  },
];
if (process.argv.includes('--minute')) {
  const periods = [1440, 10080];
  jobs.push({
    id: 'synthetic-minute',
    values: synthetic(21 * 1440, 1440, 5),
    periods,
    origins: [29_000, 30_000],
    horizon: 60,
    window: recommendedWindow(periods),
    refitEvery: 2,
  });
}

const started = performance.now();
const results = await runPeers(jobs, {
  onProgress: (p) => {
    if (p.done % 12 === 0 || p.done === p.total) {
      console.log(`  progress ${p.done}/${p.total} (${p.id} ${p.model} origin ${p.origin})`);
    }
  },
});
console.log(`runPeers wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);

let bad = 0;
for (const job of jobs) {
  console.log(`\n${job.id}: n=${job.values.length} periods=${job.periods} h=${job.horizon}`);
  console.log('  model      MASE   p90cov  cpu s/origin (selected | re-applied)  wall s/origin');
  for (const name of PEER_MODELS) {
    const r = results[job.id][name];
    const nan = r.p50
      .flat()
      .concat(r.p90.flat())
      .filter((v) => !Number.isFinite(v)).length;
    if (nan > 0) bad++;
    const s = score(job.values, job.origins, job.horizon, Math.round(Math.min(...job.periods)), r);
    const sel = mean(r.cpuSeconds.filter((_, i) => r.refitted[i]));
    const re = mean(r.cpuSeconds.filter((_, i) => !r.refitted[i]));
    console.log(
      `  ${name.padEnd(10)} ${s.mase.toFixed(3)}  ${s.coverage.toFixed(3)}   ${sel.toFixed(2)} | ${Number.isNaN(re) ? '-' : re.toFixed(2)}`.padEnd(
        60,
      ) +
        `${mean(r.seconds).toFixed(2)}${nan ? `  NaN x${nan}` : ''}${r.error ? `  error: ${r.error}` : ''}`,
    );
  }
}
if (bad > 0) {
  console.error(`\n${bad} model(s) returned NaN`);
  process.exit(1);
}
console.log('\nok: no NaN');
