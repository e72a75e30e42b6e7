// Autoscaling benchmark (issue 14, build item 5): the HPA simulator OUT OF SAMPLE, on sticky
// connections (least-connections balancing) and the configuration deploy/ ships. Per trace:
// reactive, predictive (the HPA fed max(actual, forecast) with the predictor's rolling,
// no-lookahead forecast), predictive + nowcast (the shipped default: a short-horizon wave
// detector on handshakes and abnormal closes) and oracle (a perfect forecast). Overloaded
// pod-minutes, dropped connections, replica-hours, scaling actions, and how much sooner
// capacity is ready than with reactive scaling. Plus injected surges (surges.mjs) scored in
// their episode windows, and the fluid model (perfect rebalancing) next to the old table.
// Traces and their provenance: traces.mjs. Held out of every choice: DEN.
//
//   npm run build && node bench/autoscale/run.mjs [--quick] [--write-docs] [--cache] [--traces LAX,PHX] [--jobs 2]
//
// --jobs N: traces split over N child processes (2 on a 2-core machine halves the wall time).
// --quick: the two tuning airports, their first 56 days (14 warm-up + 42 scored), a dev run.
// --cache: keep rolling predictions in $TMPDIR/tidewatch-autoscale-cache (dev reruns).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';
import { renderSection } from './report.mjs';
import { shippedOptions } from './shipped.mjs';
import { features, oraclePeak, predictions, runPolicies, summary, WARMUP_DAYS } from './sim.mjs';
import { inject, SURGE_KINDS, scoreEpisodes } from './surges.mjs';
import { loadTraces, QUICK_TRACES, TRACES } from './traces.mjs';

const argv = process.argv.slice(2);
const args = new Set(argv);
const quick = args.has('--quick');
const cache = args.has('--cache');
const listArg = argv[argv.indexOf('--traces') + 1];
const names = args.has('--traces')
  ? listArg.split(',')
  : quick
    ? QUICK_TRACES
    : TRACES.map((t) => t.name);

const jobs = args.has('--jobs') ? Number(argv[argv.indexOf('--jobs') + 1]) : 1;
const partFile = args.has('--part') ? argv[argv.indexOf('--part') + 1] : undefined;

const P = await import(pathToFileURL(path.join(ROOT, 'packages/forecast/dist/index.js')).href);
const feats = features(P);
const shipped = await shippedOptions();
const base = shipped.options;
const perPod = base.capacityPerReplica * base.targetUtilization;
const syncS = 15; // the HPA's sync period (the simulator's default, not in the deploy config)
const leadSteps = Math.max(1, Math.ceil(base.leadSeconds / 60 - 1e-9));
const started = performance.now();
console.log(shipped.describe);
console.log(`simulator: ${JSON.stringify(feats)}`);

const split = jobs > 1 && names.length > 1 && !partFile;
const traces = split ? [] : await loadTraces(P, names, perPod);
if (quick)
  for (const t of traces) {
    const n = 56 * 1440;
    t.series = { ...t.series, values: t.series.values.slice(0, n) };
  }

const fmtRow = (trace, label, r) =>
  `${trace.padEnd(8)} ${label.padEnd(34)} overloaded ${r.overloadedPodMinutes.toFixed(0).padStart(7)} pod-min  under ${String(r.underProvisionedMinutes).padStart(7)} min  dropped ${r.droppedConnections.toFixed(0).padStart(7)}  ${r.replicaHours.toFixed(0)} replica-h  ${r.scalingActions} actions  lead ${r.capacityReadyLeadSeconds ? `${r.capacityReadyLeadSeconds.median.toFixed(0)}/${r.capacityReadyLeadSeconds.p10.toFixed(0)} s (${r.capacityReadyLeadSeconds.ramps})` : '-'}  (${(r.ms / 1000).toFixed(1)} s)`;

const results = { traces: [], rows: [], surges: [], timing: {} };
if (split) {
  // Traces are independent: split them over `jobs` child processes (round-robin in table
  // order) and merge their results in table order.
  const parts = await Promise.all(
    Array.from({ length: Math.min(jobs, names.length) }, (_, j) => {
      const subset = names.filter((_, i) => i % jobs === j);
      const file = path.join(os.tmpdir(), `tidewatch-autoscale-part-${process.pid}-${j}.json`);
      const child = spawn(
        process.execPath,
        [
          fileURLToPath(import.meta.url),
          '--traces',
          subset.join(','),
          '--part',
          file,
          ...(quick ? ['--quick'] : []),
          ...(cache ? ['--cache'] : []),
        ],
        { stdio: ['ignore', 'inherit', 'inherit'] },
      );
      return new Promise((resolve, reject) =>
        child.on('exit', (code) =>
          code === 0
            ? resolve(JSON.parse(fs.readFileSync(file, 'utf8')))
            : reject(new Error(`job ${j} (${subset}) exited ${code}`)),
        ),
      );
    }),
  );
  for (const name of names) {
    const part = parts.find((p) => p.traces.some((t) => t.name === name));
    results.traces.push(...part.traces.filter((t) => t.name === name));
    results.rows.push(...part.rows.filter((r) => r.trace === name));
    results.surges.push(...part.surges.filter((r) => r.trace === name));
  }
}
for (const t of split ? [] : traces) {
  const s = t.series;
  let peak = 0;
  let total = 0;
  for (const v of s.values) {
    peak = Math.max(peak, v);
    total += v;
  }
  results.traces.push({
    name: t.name,
    role: t.role,
    rule: t.rule,
    k: t.k,
    flights: t.flights ?? null,
    heldOut: t.heldOut === true,
    peakPods: peak / perPod,
    meanPods: total / s.values.length / perPod,
    days: s.values.length / 1440,
  });
  const pred = predictions(P, s, {
    leadSteps,
    targetUtilization: base.targetUtilization,
    key: t.name,
    cache,
  });
  console.log(
    `\n${t.name}: ${t.rule}; peak ${(peak / perPod).toFixed(1)} pods; predictions ${(pred.ms / 1000).toFixed(1)} s${pred.cached ? ' (cached)' : ''}`,
  );
  const peakSignal = oraclePeak(s.values, leadSteps);
  const models = feats.sticky ? ['sticky', 'fluid'] : ['fluid'];
  for (const connections of models) {
    const rows = runPolicies(P, s, base, {
      connections,
      signal: pred.signal,
      peak: peakSignal,
      nowcast: connections === 'sticky' && feats.nowcast,
    });
    for (const r of rows) {
      console.log(fmtRow(t.name, `${connections} ${r.policy}`, r));
      results.rows.push({ trace: t.name, setting: 'shipped', ...summary(r) });
    }
  }
  if (t.name === 'flights') {
    // The review's rerun: the old bench's timings (pods ready 120 s, metric 60 s old, lead
    // 195 s) with the shipped HPA behaviour, fluid model (it measured reactive 948
    // under-provisioned minutes, predictive 0 at +2.7 %, oracle +1.3 %).
    const review = { ...base, podReadySeconds: 120, metricLagSeconds: 60, leadSeconds: 195 };
    const steps = Math.ceil(195 / 60);
    const p2 = predictions(P, s, {
      leadSteps: steps,
      targetUtilization: base.targetUtilization,
      key: `${t.name}-review`,
      cache,
    });
    const rows = runPolicies(P, s, review, {
      connections: 'fluid',
      signal: p2.signal,
      peak: oraclePeak(s.values, steps),
      nowcast: false,
    });
    for (const r of rows) {
      console.log(fmtRow(t.name, `review-timing fluid ${r.policy}`, r));
      results.rows.push({ trace: t.name, setting: 'review timing', ...summary(r) });
    }
    continue; // surges are injected into the airport traces only
  }
  for (const kind of SURGE_KINDS) {
    const inj = inject(s, kind, TRACES.findIndex((x) => x.name === t.name) + 1, base.rollout);
    if (!feats.sticky && kind !== 'flash') continue; // pod kills need the sticky simulator
    const sig =
      kind === 'flash'
        ? predictions(P, inj.series, {
            leadSteps,
            targetUtilization: base.targetUtilization,
            key: `${t.name}-flash`,
            cache,
          }).signal
        : pred.signal;
    const pk = kind === 'flash' ? oraclePeak(inj.series.values, leadSteps) : peakSignal;
    const rows = runPolicies(P, inj.series, base, {
      connections: feats.sticky ? 'sticky' : 'fluid',
      signal: sig,
      peak: pk,
      disruptions: inj.events,
      nowcast: feats.sticky && feats.nowcast,
    });
    for (const r of rows) {
      const ep = scoreEpisodes(r.trace, inj.episodes, syncS);
      console.log(
        `${t.name.padEnd(8)} surge ${kind.padEnd(8)} ${r.policy.padEnd(22)} ${ep.episodes} episodes: overloaded ${ep.overloadedPodMinutes.toFixed(1)} pod-min, paid ${ep.podMinutes.toFixed(0)} pod-min; whole trace dropped ${r.droppedConnections.toFixed(0)}`,
      );
      results.surges.push({
        trace: t.name,
        kind,
        policy: r.policy,
        connections: r.connections,
        ...ep,
        droppedConnections: r.droppedConnections,
        reconnects: r.reconnects,
        replicaHours: r.replicaHours,
      });
    }
  }
}
results.timing.totalSeconds = (performance.now() - started) / 1000;
if (partFile) {
  fs.writeFileSync(partFile, JSON.stringify(results));
  process.exit(0);
}
console.log(`\ntotal ${(results.timing.totalSeconds / 60).toFixed(1)} min`);

const section = renderSection({ results, shipped, quick, feats, names, warmupDays: WARMUP_DAYS });
console.log(`\n${section}`);
// The committed results file only with --write-docs on a full run; dev runs go to $TMPDIR.
const publish = args.has('--write-docs') && !quick;
const outDir = publish ? path.join(ROOT, 'bench/results') : os.tmpdir();
const outFile = path.join(outDir, publish ? 'autoscale.json' : 'tidewatch-autoscale-dev.json');
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(
  outFile,
  JSON.stringify({ date: new Date().toISOString(), quick, config: base, ...results }, null, 2),
);
console.log(`results: ${outFile}`);
if (args.has('--write-docs')) {
  if (quick) console.log('--quick: docs not written (a dev run)');
  else {
    const file = path.join(ROOT, 'docs/benchmarks.md');
    let text = fs.readFileSync(file, 'utf8');
    const [a, b] = ['<!-- autoscale:start -->', '<!-- autoscale:end -->'];
    if (!text.includes(a)) text = `${text.trimEnd()}\n\n## autoscale\n\n${a}\n${b}\n`;
    text = `${text.slice(0, text.indexOf(a) + a.length)}\n${section}\n${text.slice(text.indexOf(b))}`;
    fs.writeFileSync(file, text);
    console.log('wrote docs/benchmarks.md (autoscale) and bench/results/autoscale.json');
  }
}
