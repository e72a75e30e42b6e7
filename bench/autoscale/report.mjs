// The docs/benchmarks.md autoscale section, from a run's results (run.mjs).
import os from 'node:os';
import { BENCH_MAX_REPLICAS } from './shipped.mjs';
import { SHIPPED_POLICY } from './summary.mjs';
import { FLASH, WINDOW_MIN } from './surges.mjs';
import { AIRPORT_WINDOW_MIN, PEAK_PODS } from './traces.mjs';

const fmt = (v, d = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : '—';
const pct = (a, b, d = 1) => {
  if (!(b > 0)) return a > 0 ? 'n/a' : '—';
  const v = (100 * (a - b)) / b;
  return `${v >= 0 ? '+' : ''}${fmt(v, d)} %`;
};
const met = (ok) => (ok ? 'met' : '**missed**');

function perTraceTable(rows, connections, setting) {
  const out = [
    '| trace | policy | overloaded pod-min | vs reactive | under-provisioned min | dropped connections | replica-hours | vs reactive | scaling actions | capacity ready sooner: median / p10 s (ramps) | hottest pod p99 |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows.filter((x) => x.connections === connections && x.setting === setting)) {
    const ref = rows.find(
      (x) =>
        x.trace === r.trace &&
        x.connections === connections &&
        x.setting === setting &&
        x.policy === 'reactive',
    );
    const lead = r.capacityReadyLeadSeconds;
    out.push(
      `| ${r.trace} | ${r.policy} | ${fmt(r.overloadedPodMinutes, 1)} | ${r === ref ? '—' : pct(r.overloadedPodMinutes, ref.overloadedPodMinutes)} | ${fmt(r.underProvisionedMinutes, 2)} | ${fmt(r.droppedConnections)} | ${fmt(r.replicaHours)} | ${r === ref ? '—' : pct(r.replicaHours, ref.replicaHours, 2)} | ${fmt(r.scalingActions)} | ${lead ? `${fmt(lead.median)} / ${fmt(lead.p10)} (${fmt(lead.ramps)})` : '—'} | ${fmt(r.hottestPodUtilisationP99, 2)} |`,
    );
  }
  return out;
}

function targetRows(rows, connections) {
  const out = [
    '| trace | policy | overloaded pod-min cut ≥ 90 % | replica-hours ≤ +8 % | within 3 points of the oracle | fewer scaling actions |',
    '|---|---|---|---|---|---|',
  ];
  const traces = [...new Set(rows.map((r) => r.trace))];
  for (const trace of traces) {
    const at = (policy) =>
      rows.find(
        (r) =>
          r.trace === trace &&
          r.connections === connections &&
          r.setting === 'shipped' &&
          r.policy === policy,
      );
    const ref = at('reactive');
    const oracle = at('oracle');
    if (!ref || !oracle) continue;
    for (const policy of ['predictive', SHIPPED_POLICY]) {
      const p = at(policy);
      if (!p) continue;
      const cut =
        ref.overloadedPodMinutes > 0
          ? 100 * (1 - p.overloadedPodMinutes / ref.overloadedPodMinutes)
          : Number.NaN;
      const cost = 100 * (p.replicaHours / ref.replicaHours - 1);
      const oCost = 100 * (oracle.replicaHours / ref.replicaHours - 1);
      out.push(
        `| ${trace} | ${policy} | ${fmt(cut, 1)} % (${met(cut >= 90)}) | ${cost >= 0 ? '+' : ''}${fmt(cost, 2)} % (${met(cost <= 8)}) | ${fmt(cost - oCost, 2)} points (${met(cost - oCost <= 3)}) | ${fmt(p.scalingActions)} vs ${fmt(ref.scalingActions)} (${met(p.scalingActions < ref.scalingActions)}) |`,
      );
    }
  }
  return out;
}

/** The surge target: vacuous when reactive scaling overloads nothing in the windows. */
function judgeSurge(reactive, shippedRow, cut) {
  if (!shippedRow) return 'n/a';
  if (!(reactive.overloadedPodMinutes > 0)) return 'n/a: no overload under reactive';
  return `${fmt(cut, 1)} % (${met(cut >= 50)})`;
}

function surgeTable(surges) {
  const out = [
    '| trace | surge | episodes | reactive | predictive | predictive + nowcast | oracle | cut, predictive | cut, + nowcast (target ≥ 50 %) | pod-minutes paid in the windows, + nowcast vs reactive |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const keys = [...new Set(surges.map((s) => `${s.trace}|${s.kind}`))];
  const totals = {};
  for (const key of keys) {
    const [trace, kind] = key.split('|');
    const at = (policy) =>
      surges.find((s) => s.trace === trace && s.kind === kind && s.policy === policy);
    const r = at('reactive');
    const p = at('predictive');
    const n = at(SHIPPED_POLICY);
    const o = at('oracle');
    const cut = (x) =>
      x && r.overloadedPodMinutes > 0
        ? 100 * (1 - x.overloadedPodMinutes / r.overloadedPodMinutes)
        : Number.NaN;
    if (!totals[kind]) totals[kind] = { r: 0, p: 0, n: 0, o: 0, e: 0, pr: 0, pn: 0 };
    const t = totals[kind];
    t.r += r.overloadedPodMinutes;
    t.p += p?.overloadedPodMinutes ?? 0;
    t.n += n?.overloadedPodMinutes ?? 0;
    t.o += o?.overloadedPodMinutes ?? 0;
    t.e += r.episodes;
    t.pr += r.podMinutes;
    t.pn += n?.podMinutes ?? 0;
    out.push(
      `| ${trace} | ${kind} | ${r.episodes} | ${fmt(r.overloadedPodMinutes, 1)} | ${fmt(p?.overloadedPodMinutes, 1)} | ${fmt(n?.overloadedPodMinutes, 1)} | ${fmt(o?.overloadedPodMinutes, 1)} | ${fmt(cut(p), 1)} % | ${judgeSurge(r, n, cut(n))} | ${n ? pct(n.podMinutes, r.podMinutes) : '—'} |`,
    );
  }
  for (const [kind, t] of Object.entries(totals)) {
    const cp = t.r > 0 ? 100 * (1 - t.p / t.r) : Number.NaN;
    const cn = t.r > 0 ? 100 * (1 - t.n / t.r) : Number.NaN;
    out.push(
      `| **all traces** | ${kind} | ${t.e} | ${fmt(t.r, 1)} | ${fmt(t.p, 1)} | ${fmt(t.n, 1)} | ${fmt(t.o, 1)} | ${fmt(cp, 1)} % | ${t.r > 0 ? `${fmt(cn, 1)} % (${met(cn >= 50)})` : 'n/a: no overload under reactive'} | ${pct(t.pn, t.pr)} |`,
    );
  }
  return out;
}

/** One line: the replica-hours range of each predictive variant over reactive across traces. */
function costSpread(rows, connections) {
  const out = [];
  for (const policy of ['predictive', SHIPPED_POLICY, 'oracle']) {
    const costs = [];
    for (const r of rows.filter(
      (x) => x.connections === connections && x.setting === 'shipped' && x.policy === policy,
    )) {
      const ref = rows.find(
        (x) =>
          x.trace === r.trace &&
          x.connections === connections &&
          x.setting === 'shipped' &&
          x.policy === 'reactive',
      );
      costs.push(100 * (r.replicaHours / ref.replicaHours - 1));
    }
    if (costs.length > 0)
      out.push(
        `- ${policy}: replica-hours ${fmt(Math.min(...costs), 1)} % to ${fmt(Math.max(...costs), 1)} % over reactive across the traces.`,
      );
  }
  return out;
}

const FLATTERS = [
  '**What flatters the predictive policy.** Every trace is an airline timetable: the same departures at the same minute week after week (holidays aside), the best case for a weekly seasonal profile; the airports differ from the tuned fixture in shape, not in kind (no bike-share, taxi or request-log series ships in an installed package). The predicted trigger never goes missing: no sidecar restart, leader hand-over, Prometheus outage or backfill gap in six months. Demand is a 30-minute rolling sum, so ramps are gradual by construction. Pods start in exactly 90 s (no start-up jitter, no node to provision), so a plan made one lead time ahead is never late because of the cluster.',
  '',
  "**What flatters reactive scaling.** The shipped lead parts are short (90 s to ready, metric 30 s old): slower chains (node provisioning, image pulls, a slower adapter) widen reactive's gap and not the forecast's. Least-connections balancing sends every new and reconnecting client to the emptiest pod; round-robin would overload hot pods more while the fleet catches up. Overload counts only above 100 % of a pod: latency between 70 % and 100 %, and the handshake cost of a reconnect wave, are not scored. One pod killed at a 40-pod peak is absorbed by the 30 % headroom of the 0.7 target, so the kill surge shows nothing for any policy (it would at 5 to 10 pods). The rollout keeps capacity (maxUnavailable 0, surge pods first) and drains retired pods for the full drain time, then drops what they still hold in one go at the end (a server spreads its closes over the drain: the real reconnect wave is less concentrated), and the simulator's Deployment reacts to a new pod's readiness at the next HPA sync rather than within moments.",
  '',
  "**The nowcast** (the third metric, on by default in the sidecar) is what answers a flash crowd: the forecast alone cannot see one coming. It is told what the forecast already provides for (a ramp the forecast foresaw does not fire it) and fires only on a wave that has held for 30 s and adds at least 40 % of the connections (and 1,000) within the lead time. Those defaults were chosen on LAX and PHX only (a 60 s hold cost 1-1.4 points less replica-hours but cut the flash crowds' overloaded pod-minutes by 47 % instead of 73 % there): the other airports' figures are out of sample. What it still costs comes from the reconnect waves and the few ramps it does fire on, each held by the shipped 30-minute scale-down stabilisation. The sidecar runs it with either source (the `prometheus` source reads the leading signals with instant queries; docs/sidecar.md#nowcast).",
];

/** Renders the section between the autoscale markers. */
export function renderSection({ results, shipped, quick, feats, names, warmupDays }) {
  const minutes = Math.ceil(results.timing.totalSeconds / 60);
  const held = results.traces.find((t) => t.heldOut);
  const lines = [
    `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}${quick ? ' (--quick dev run)' : ''}, ${minutes} min. Reproduce: \`npm run build && node bench/autoscale/run.mjs --jobs 2 --write-docs\` (traces ${names.join(', ')}; \`--quick\` for a 2-trace dev run). Per-run JSON: \`bench/results/autoscale.json\`.`,
    '',
    `**Configuration: what \`deploy/\` ships.** ${shipped.describe}. maxReplicas is the one field changed: the shipped 50 is an example an operator sizes to their fleet, and a x3 flash crowd on a 40-pod peak needs 120 pods, so every trace runs with maxReplicas ${BENCH_MAX_REPLICAS}. Sticky connections: least-connections balancing, mean connection lifetime 900 s (the simulator's default: the traces give totals only), drain ${shipped.options.drainSeconds} s, reconnects with 1 s jitter doubling to 30 s. Every policy is scored after a ${warmupDays}-day warm-up. The predictive policy is the sidecar's default (seasonal-profile, refitted daily on the last 4 weeks, forecasting every minute from the history up to that minute only, publishing max(p50 peak, 0.7 x p90 peak) over the ${shipped.options.leadSeconds} s lead); "+ nowcast" adds the nowcaster (\`createNowcaster\`, defaults) as a third HPA metric, as the sidecar ships it (\`nowcast.enabled\` defaults to true). The oracle publishes the true peak over the lead.`,
    '',
    '**Traces** (read at run time from npm packages already installed; nothing downloaded): vega-datasets `data/flights-3m.parquet` (3,000,000 US domestic flights, Jan-Jun 2001, per-minute departure time and origin airport), read with hyparquet. Per airport: departures per minute, zero-filled (260,640 minutes), then one rule for every airport: ' +
      `demand = k x departures in the last ${AIRPORT_WINDOW_MIN} minutes, k set so the trace's peak needs exactly ${PEAK_PODS} pods at the target (a passenger app holding a connection for the half hour before a flight). ORD, ATL and DFW are left out: bench/forecast scores them as its unseen series. ` +
      'The flights fixture keeps the old rule (20 x the rolling 5-minute sum of all departures, peaking near 14 pods) so its rows compare with the old table; it is the trace every earlier design choice (the p50/p90 signal rule, the holdout origins) was tuned on, so it is not out of sample.',
    '',
    '| trace | role | rule | flights | peak pods at target | mean pods | days |',
    '|---|---|---|---|---|---|---|',
    ...results.traces.map(
      (t) =>
        `| ${t.name}${t.heldOut ? ' (held out)' : ''} | ${t.role} | ${t.rule} | ${t.flights === null ? 'all' : fmt(t.flights)} | ${fmt(t.peakPods, 1)} | ${fmt(t.meanPods, 1)} | ${fmt(t.days, 0)} |`,
    ),
    '',
    held
      ? `**Held out: ${held.name}.** Every choice of this bench (the ${AIRPORT_WINDOW_MIN}-minute window, the 40-pod scaling, the ramp definition, the surge shapes and placement) was made looking at LAX and PHX only; ${held.name} was first loaded in this run, and no number above or below was tuned after it.`
      : '**Held out: DEN** (not in this run).',
    '',
  ];
  if (feats.sticky) {
    lines.push(
      '### Sticky connections, shipped configuration',
      '',
      ...perTraceTable(results.rows, 'sticky', 'shipped'),
      '',
      "Overloaded pod-minutes: the sum over pods of the minutes each held more than 500 connections (terminating pods included). Under-provisioned minutes: fleet load above ready capacity, as if connections rebalanced. Dropped connections: closed by a pod going away at the end of its drain. Capacity ready sooner: over the ramps (demand crossing a multiple of one pod's 500 connections upward, having been one pod lower within the previous 30 minutes), the time ready capacity first covered the level (the start of the unbroken stretch covering the crossing, looked for up to 30 minutes back) under reactive scaling minus under the policy, seconds; > 0 is sooner; p10 is the worst tenth. A published design for LSTM-driven scaling claims capacity 23 s sooner than reactive; that is its claim, not measured here.",
      '',
    );
  }
  lines.push(
    '### Fluid model (perfect rebalancing), for comparison with the old table',
    '',
    ...perTraceTable(results.rows, 'fluid', 'shipped'),
    ...(results.rows.some((r) => r.setting === 'review timing')
      ? [
          '',
          "The review's rerun of the flights fixture, fluid model, shipped HPA behaviour with the old bench's timings (pods ready 120 s, metric 60 s old, lead 195 s; the review measured reactive 948 under-provisioned minutes, predictive 0 at +2.7 %, oracle +1.3 %):",
          '',
          ...perTraceTable(results.rows, 'fluid', 'review timing'),
        ]
      : []),
    '',
    `### Injected surges (${feats.sticky ? 'sticky' : 'fluid'}), overloaded pod-minutes within the episode windows`,
    '',
    `Each kind in its own copy of each airport trace, one episode every 9th day from day 21 (${results.surges[0]?.episodes ?? 0} per trace and kind in this run). flash: demand x${FLASH.factor} arriving over ${FLASH.rampMin} minutes, held ${FLASH.holdMin}, decaying over ${FLASH.decayMin}, onset at a seeded random minute 10:00-20:00, window ${WINDOW_MIN.flash} min (the forecaster sees past flash crowds in its history, as it would live). kill: the busiest ready pod lost at the day's demand peak (the simulator's \`kill-pod\`: its connections reconnect onto the others, a replacement starts), window ${WINDOW_MIN.kill} min. rollout: a new pod template rolled out (the simulator's \`rollout\` disruption) within the generated Deployment's bounds, maxSurge ${shipped.options.rollout.maxSurge} and maxUnavailable ${shipped.options.rollout.maxUnavailable}: new pods first, an old pod retired once a new one serves, a retired pod draining its connections for ${shipped.options.drainSeconds} s and dropping the rest, who reconnect onto the others; onset 10:00-16:00, window ${WINDOW_MIN.rollout} min.`,
    '',
    ...surgeTable(results.surges),
    '',
    `### Targets (issue 14), judged on the ${feats.sticky ? 'sticky' : 'fluid'} runs`,
    '',
    ...targetRows(results.rows, feats.sticky ? 'sticky' : 'fluid'),
    '',
    ...costSpread(results.rows, feats.sticky ? 'sticky' : 'fluid'),
    '',
    ...FLATTERS,
  );
  return lines.join('\n');
}
