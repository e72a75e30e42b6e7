// Select-and-forecast wall time (issue 17, "Speed"): `tidewatch-predictor forecast` with
// model auto, i.e. the rolling-origin selection over every candidate plus the final fit, run
// the way the CLI and the sidecar run it (`runInWorker('forecast', ...)`), on 2,000- and
// 5,000-point hourly and per-minute series. Target: under 2 s at 5,000 points on 2 cores.
//
//   node bench/forecast/speed.mjs [--dist <packages/forecast/dist of another build>]
//                                 [--runs 3] [--cli] [--json <file>]
//
// --dist times another build of @tidewatch/forecast (e.g. the one before issue 17, built in a
// `git worktree`), so before and after run on the same machine and series. --cli also times
// the real CLI end to end (node start, CSV, worker) on the current build only: the CLI
// bundle imports @tidewatch/forecast from the workspace, not from --dist.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';

const argv = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : fallback;
};
const dist = path.resolve(flag('--dist', path.join(ROOT, 'packages/forecast/dist')));
const runs = Number(flag('--runs', '3'));
const P = await import(pathToFileURL(path.join(dist, 'index.js')).href);

function readCsv(file) {
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
  const t = (s) => (/^\d+$/.test(s) ? Number(s) * 1000 : Date.parse(s));
  const startMs = t(rows[0].split(',')[0]);
  return {
    startMs,
    stepMs: t(rows[1].split(',')[0]) - startMs,
    values: Float64Array.from(rows, (l) => Number(l.split(',')[1])),
  };
}

/** The last `n` points of `s`. */
function tail(s, n) {
  const from = s.values.length - n;
  return { startMs: s.startMs + from * s.stepMs, stepMs: s.stepMs, values: s.values.slice(from) };
}

/** Seeded hourly series (daily and weekly shape, trend, noise): the fixture has 4,345 points. */
function synthetic(n, seed = 17) {
  let a = seed >>> 0;
  const rnd = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const values = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const day = 1 + 0.6 * Math.sin((2 * Math.PI * (t % 24)) / 24 - 1.2);
    const week = Math.floor(t / 24) % 7 >= 5 ? 0.7 : 1;
    values[t] = Math.round(400 * day * week * (1 + t / 20000) * (0.85 + 0.3 * rnd()));
  }
  return { startMs: Date.parse('2024-01-01T00:00:00Z'), stepMs: 3_600_000, values };
}

const hourly = readCsv(path.join(ROOT, 'packages/predictor/fixtures/flights-2001-hourly.csv'));
const minute = readCsv(path.join(ROOT, 'packages/predictor/fixtures/flights-2001-minutely.csv'));
const cases = [
  { label: 'flights hourly', series: tail(hourly, 2000), horizon: 24 },
  { label: 'flights hourly', series: tail(hourly, 4345), horizon: 24 },
  { label: 'synthetic hourly (seeded)', series: synthetic(5000), horizon: 24 },
  { label: 'flights per minute', series: tail(minute, 2000), horizon: 60 },
  { label: 'flights per minute', series: tail(minute, 5000), horizon: 60 },
  // The sidecar's case: 14 days per minute, horizon 60 (too short for the weekly models).
  { label: 'flights per minute (14 days)', series: tail(minute, 14 * 1440), horizon: 60 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const c of cases) {
  const times = [];
  let result;
  for (let r = 0; r < runs; r++) {
    const series = { ...c.series, values: Float64Array.from(c.series.values) };
    const t0 = performance.now();
    result = await P.runInWorker('forecast', {
      series,
      options: { horizon: c.horizon, model: 'auto' },
    });
    times.push((performance.now() - t0) / 1000);
  }
  const row = {
    series: c.label,
    points: c.series.values.length,
    stepS: c.series.stepMs / 1000,
    horizon: c.horizon,
    candidates: result.backtest?.models.length ?? 0,
    selected: result.model,
    medianS: median(times),
    minS: Math.min(...times),
  };
  rows.push(row);
  console.error(
    `${row.series} n=${row.points}: ${row.medianS.toFixed(2)} s (min ${row.minS.toFixed(2)}) -> ${row.selected}`,
  );
}

let cli;
if (argv.includes('--cli')) {
  const file = path.join(os.tmpdir(), `tw-speed-${process.pid}.csv`);
  const s = synthetic(5000);
  fs.writeFileSync(
    file,
    `timestamp,value\n${Array.from(s.values, (v, i) => `${new Date(s.startMs + i * s.stepMs).toISOString()},${v}`).join('\n')}\n`,
  );
  const bin = path.join(ROOT, 'packages/predictor/bin/tidewatch-predictor.js');
  const times = [];
  try {
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const out = spawnSync(
        process.execPath,
        [bin, 'forecast', '--input', file, '--horizon', '24', '--output', 'json'],
        { encoding: 'utf8' },
      );
      if (out.status !== 0) throw new Error(`CLI failed: ${out.stderr}`);
      times.push((performance.now() - t0) / 1000);
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
  cli = { points: 5000, medianS: median(times), minS: Math.min(...times) };
}

const lines = [
  `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${path.relative(ROOT, dist) || dist}, median of ${runs}. Reproduce: \`node bench/forecast/speed.mjs [--dist <other build>] --cli\`.`,
  '',
  '| series | points | step | horizon | candidates | selected | seconds (median) | min |',
  '|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.series} | ${r.points} | ${r.stepS} s | ${r.horizon} | ${r.candidates} | ${r.selected} | ${r.medianS.toFixed(2)} | ${r.minS.toFixed(2)} |`,
  ),
];
if (cli)
  lines.push(
    '',
    `CLI end to end (\`tidewatch-predictor forecast --horizon 24\`, synthetic hourly, ${cli.points} points, current build): ${cli.medianS.toFixed(2)} s median, ${cli.minS.toFixed(2)} s min.`,
  );
console.log(lines.join('\n'));
const json = flag('--json');
if (json) fs.writeFileSync(json, JSON.stringify({ dist, runs, rows, cli }, null, 2));
