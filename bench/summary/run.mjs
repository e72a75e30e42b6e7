// The summary of every benchmark: one table that puts each figure beside the uninstrumented
// baseline and the peer, with the command that reproduces it, and two SVG charts. Reads the raw
// results the benchmarks write (bench/results/*.json, gitignored); a missing file makes its rows
// say "not run" — never an invented number.
//
//   node bench/summary/run.mjs [--write-docs] [--autoscale FILE]
//
// --autoscale FILE: read the autoscale results from FILE instead of bench/results/autoscale.json
// (to check a dev run, e.g. $TMPDIR/tidewatch-autoscale-dev.json; not with --write-docs).
import fs from 'node:fs';
import path from 'node:path';
import { autoscaleChartGroups, autoscaleRows } from '../autoscale/summary.mjs';
import { ROOT } from '../common/resolve.mjs';
import { COLORS, svgDocument } from './svg.mjs';

const RESULTS = path.join(ROOT, 'bench/results');
const DOC = path.join(ROOT, 'docs/benchmarks.md');
const argv = process.argv.slice(2);
const write = argv.includes('--write-docs');
const autoscaleFile = argv.includes('--autoscale')
  ? argv[argv.indexOf('--autoscale') + 1]
  : undefined;
if (argv.includes('--autoscale') && (!autoscaleFile || autoscaleFile.startsWith('--'))) {
  console.error('summary: --autoscale needs a results file');
  process.exit(2);
}
if (autoscaleFile && write) {
  // The docs carry the committed results only: a dev file would publish a dev run.
  console.error('summary: --autoscale is for checking a dev run; not with --write-docs');
  process.exit(2);
}

const missing = [];
function load(name, override) {
  const file = override ?? path.join(RESULTS, `${name}.json`);
  if (!fs.existsSync(file)) {
    missing.push(name);
    return null;
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

const fmt = (x, d = 0) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : 'not run';
const ratio = (a, b, d = 2) =>
  Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${fmt(a / b, d)}x` : '—';
const signed = (x, d = 0) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${fmt(x, d)}` : 'not run');

const wsEcho = load('ws-echo');
const sioEcho = load('sio-echo');
const forecast = load('forecast');
const autoscale = load('autoscale', autoscaleFile);
const conns = load('scale-connections');
const churn = load('scale-churn');

const echoVariant = (r, v) => r?.summary.find((s) => s.variant === v) ?? null;
const CMD = {
  ws: '`node bench/ws-echo/run.mjs --write-docs`',
  sio: '`node bench/sio-echo/run.mjs --write-docs`',
  conns: '`node bench/scale/connections.mjs --write-docs`',
  churn: '`node bench/scale/churn.mjs --write-docs`',
  forecast: '`node bench/forecast/run.mjs --write-docs`',
  autoscale: '`node bench/autoscale/run.mjs --write-docs`',
};

const rows = [];
const row = (figure, tw, base, peer, r, cmd) =>
  rows.push(`| ${figure} | ${tw} | ${base} | ${peer} | ${r} | ${cmd} |`);

// --- overhead ------------------------------------------------------------------------------
{
  const b = echoVariant(wsEcho, 'baseline');
  const t = echoVariant(wsEcho, 'tidewatch');
  const p = echoVariant(wsEcho, 'prom-naive');
  const o = echoVariant(wsEcho, 'otel-sdk');
  row(
    '`ws` echo throughput (msgs/s, ratio to baseline)',
    t ? `${fmt(t.msgsPerSec.median)} (${fmt(t.ratio.median, 3)}x)` : 'not run',
    b ? fmt(b.msgsPerSec.median) : 'not run',
    p
      ? `prom-client by hand ${fmt(p.ratio.median, 3)}x; OTel SDK ${fmt(o?.ratio.median, 3)}x`
      : 'not run',
    t && p ? `${ratio(t.ratio.median, p.ratio.median)} the hand-written peer` : '—',
    CMD.ws,
  );
  row(
    '`ws` echo server CPU per message (µs, added vs baseline)',
    t ? `${fmt(t.cpuUsPerMsg.median, 2)} (${signed(t.cpuDeltaUsPerMsg, 2)})` : 'not run',
    b ? fmt(b.cpuUsPerMsg.median, 2) : 'not run',
    p
      ? `${fmt(p.cpuUsPerMsg.median, 2)} (${signed(p.cpuDeltaUsPerMsg, 2)}); OTel ${fmt(o?.cpuUsPerMsg.median, 2)}`
      : 'not run',
    t && b ? ratio(t.cpuUsPerMsg.median, b.cpuUsPerMsg.median) : '—',
    CMD.ws,
  );
  row(
    '`ws` heap per idle connection (bytes, 2,000 connections)',
    t ? `${fmt(t.heapPerConn)} (${signed(t.heapDeltaPerConn)})` : 'not run',
    b ? fmt(b.heapPerConn) : 'not run',
    p ? `${fmt(p.heapPerConn)} (${signed(p.heapDeltaPerConn)})` : 'not run',
    t && b ? ratio(t.heapPerConn, b.heapPerConn) : '—',
    CMD.ws,
  );
  const sb = echoVariant(sioEcho, 'baseline');
  const st = echoVariant(sioEcho, 'tidewatch');
  const sp = echoVariant(sioEcho, 'socket.io-prometheus');
  row(
    'Socket.IO echo throughput (msgs/s, ratio to baseline)',
    st ? `${fmt(st.msgsPerSec.median)} (${fmt(st.ratio.median, 3)}x)` : 'not run',
    sb ? fmt(sb.msgsPerSec.median) : 'not run',
    sp ? `socket.io-prometheus ${fmt(sp.ratio.median, 3)}x` : 'not run',
    st && sp ? `${ratio(st.ratio.median, sp.ratio.median)} the plugin` : '—',
    CMD.sio,
  );
  row(
    'Socket.IO server CPU per message (µs, added vs baseline)',
    st ? `${fmt(st.cpuUsPerMsg.median, 2)} (${signed(st.cpuDeltaUsPerMsg, 2)})` : 'not run',
    sb ? fmt(sb.cpuUsPerMsg.median, 2) : 'not run',
    sp ? `${fmt(sp.cpuUsPerMsg.median, 2)} (${signed(sp.cpuDeltaUsPerMsg, 2)})` : 'not run',
    st && sb ? ratio(st.cpuUsPerMsg.median, sb.cpuUsPerMsg.median) : '—',
    CMD.sio,
  );
  row(
    'Socket.IO heap per idle connection (bytes)',
    st ? `${fmt(st.heapPerConn)} (${signed(st.heapDeltaPerConn)})` : 'not run',
    sb ? fmt(sb.heapPerConn) : 'not run',
    sp ? `${fmt(sp.heapPerConn)} (${signed(sp.heapDeltaPerConn)})` : 'not run',
    st && sb ? ratio(st.heapPerConn, sb.heapPerConn) : '—',
    CMD.sio,
  );
}

// --- scale ---------------------------------------------------------------------------------
{
  const v = (n) => conns?.results.find((r) => r.variant === n) ?? null;
  const [b, t, p] = [v('baseline'), v('tidewatch'), v('prom-naive')];
  const n = conns ? fmt(conns.config.connections) : '10,000';
  row(
    `Handshakes/s opening ${n} connections`,
    t ? fmt(t.handshakesPerSecond) : 'not run',
    b ? fmt(b.handshakesPerSecond) : 'not run',
    p ? `prom-client by hand ${fmt(p.handshakesPerSecond)}` : 'not run',
    t && b ? ratio(t.handshakesPerSecond, b.handshakesPerSecond) : '—',
    CMD.conns,
  );
  row(
    `Heap per connection at ${n} (bytes, added vs baseline)`,
    t
      ? `${fmt(t.heapPerConnection)} (${signed(t.heapPerConnection - (b?.heapPerConnection ?? Number.NaN))})`
      : 'not run',
    b ? fmt(b.heapPerConnection) : 'not run',
    p
      ? `${fmt(p.heapPerConnection)} (${signed(p.heapPerConnection - (b?.heapPerConnection ?? Number.NaN))})`
      : 'not run',
    t && b ? ratio(t.heapPerConnection, b.heapPerConnection) : '—',
    CMD.conns,
  );
  row(
    `\`/metrics\` scrape at ${n} connections (p50 / p99 ms; size)`,
    t?.scrape
      ? `${fmt(t.scrape.p50Ms, 1)} / ${fmt(t.scrape.p99Ms, 1)}; ${fmt(t.scrape.bytes / 1024, 1)} KiB`
      : 'not run',
    'target p99 < 25 ms',
    p?.scrape
      ? `${fmt(p.scrape.p50Ms, 1)} / ${fmt(p.scrape.p99Ms, 1)}; ${fmt(p.scrape.bytes / 1024, 1)} KiB (6 metrics)`
      : 'not run',
    t?.scrape ? (t.scrape.p99Ms < 25 ? 'met' : 'missed') : '—',
    CMD.conns,
  );
  row(
    `Counts after closing ${n} connections`,
    t ? (t.exact ? 'exact (gauge 0)' : 'NOT EXACT') : 'not run',
    '—',
    p ? (p.exact ? 'exact' : 'NOT EXACT') : 'not run',
    '—',
    CMD.conns,
  );
  const c = (name) => churn?.results.find((r) => r.variant === name) ?? null;
  const [ct, cb] = [c('tidewatch'), c('baseline')];
  row(
    `Churn soak${churn ? ` (${fmt(churn.config.minutes)} min, ${fmt(ct?.client.opened)} connections, ${fmt(churn.config.dropRatio * 100)} % dropped)` : ''}: heap growth per connection (bytes)`,
    ct
      ? `${fmt(ct.heapGrowthPerConnection, 2)} (${ct.flat ? 'flat' : 'growing'}; counters ${ct.exact ? 'exact, gauge 0' : 'NOT EXACT'})`
      : 'not run',
    cb ? `${fmt(cb.heapGrowthPerConnection, 2)} (${cb.flat ? 'flat' : 'growing'})` : 'not run',
    '—',
    '—',
    CMD.churn,
  );
}

// --- forecast ------------------------------------------------------------------------------
for (const r of forecast?.rows ?? []) {
  const snaive = r.models
    .filter((m) => m.model.startsWith('seasonal-naive'))
    .sort((a, b) => a.mase - b.mase)[0];
  row(
    `Forecast MASE (lower is better): ${r.label}`,
    `${fmt(r.selected.mase, 3)} (${r.selectedModel})`,
    snaive ? `${fmt(snaive.mase, 3)} (${snaive.model})` : '—',
    `${fmt(r.bestBaseline.mase, 3)} (${r.bestBaseline.model})`,
    ratio(r.selected.mase, r.bestBaseline.mase),
    CMD.forecast,
  );
}
if (!forecast) row('Forecast MASE', 'not run', 'not run', 'not run', '—', CMD.forecast);

// --- autoscale -----------------------------------------------------------------------------
for (const r of autoscaleRows(autoscale, { fmt, signed }))
  row(r.figure, r.tidewatch, r.baseline, r.peer, r.ratio, CMD.autoscale);
if (!autoscale) row('Autoscale', 'not run', 'not run', 'not run', '—', CMD.autoscale);

// --- charts --------------------------------------------------------------------------------
const overheadSvg = svgDocument({
  title: 'Instrumentation overhead (echo servers under closed-loop load)',
  desc: 'Throughput relative to the uninstrumented server and server CPU microseconds added per message, for tidewatch and the peers, on ws and Socket.IO.',
  panels: [
    {
      title: 'Throughput vs baseline (higher is better)',
      axis: 'messages/s relative to the uninstrumented server',
      ref: { value: 1, label: 'baseline 1.0' },
      format: (v) => `${v.toFixed(3)}x`,
      groups: [
        {
          label: 'ws 8',
          bars: [
            {
              label: 'tidewatch',
              value: echoVariant(wsEcho, 'tidewatch')?.ratio.median ?? Number.NaN,
              color: COLORS.tidewatch,
            },
            {
              label: 'prom-client by hand',
              value: echoVariant(wsEcho, 'prom-naive')?.ratio.median ?? Number.NaN,
              color: COLORS.peer,
            },
            {
              label: 'OpenTelemetry SDK',
              value: echoVariant(wsEcho, 'otel-sdk')?.ratio.median ?? Number.NaN,
              color: COLORS.peer2,
            },
          ],
        },
        {
          label: 'Socket.IO 4.8',
          bars: [
            {
              label: 'tidewatch',
              value: echoVariant(sioEcho, 'tidewatch')?.ratio.median ?? Number.NaN,
              color: COLORS.tidewatch,
            },
            {
              label: 'socket.io-prometheus',
              value: echoVariant(sioEcho, 'socket.io-prometheus')?.ratio.median ?? Number.NaN,
              color: COLORS.peer,
            },
          ],
        },
      ],
    },
    {
      title: 'Server CPU added per message (lower is better)',
      axis: 'µs per message over the uninstrumented server (negative drawn as 0)',
      format: (v) => `${v.toFixed(2)} µs`,
      groups: [
        {
          label: 'ws 8',
          bars: [
            cpuBar(echoVariant(wsEcho, 'tidewatch'), 'tidewatch', COLORS.tidewatch),
            cpuBar(echoVariant(wsEcho, 'prom-naive'), 'prom-client by hand', COLORS.peer),
            cpuBar(echoVariant(wsEcho, 'otel-sdk'), 'OpenTelemetry SDK', COLORS.peer2),
          ],
        },
        {
          label: 'Socket.IO 4.8',
          bars: [
            cpuBar(echoVariant(sioEcho, 'tidewatch'), 'tidewatch', COLORS.tidewatch),
            cpuBar(
              echoVariant(sioEcho, 'socket.io-prometheus'),
              'socket.io-prometheus',
              COLORS.peer,
            ),
          ],
        },
      ],
    },
  ],
});

function cpuBar(s, label, color) {
  const v = s?.cpuDeltaUsPerMsg ?? Number.NaN;
  return {
    label,
    value: v,
    color,
    text: Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(2)} µs` : undefined,
  };
}

const forecastGroups = (forecast?.rows ?? []).map((r) => {
  const snaive = r.models
    .filter((m) => m.model.startsWith('seasonal-naive'))
    .sort((a, b) => a.mase - b.mase)[0];
  return {
    label: r.label.replace(/ \(reference protocol\)/, '').slice(0, 60),
    bars: [
      {
        label: `selected (${shortModel(r.selectedModel)})`,
        value: r.selected.mase,
        color: COLORS.tidewatch,
      },
      {
        label: 'Holt-Winters',
        value: r.models.find((m) => m.model === 'holt-winters')?.mase ?? Number.NaN,
        color: COLORS.peer,
      },
      {
        label: snaive?.model ?? 'seasonal naive',
        value: snaive?.mase ?? Number.NaN,
        color: COLORS.baseline,
      },
    ],
  };
});
function shortModel(m) {
  return m
    .replace('ensemble:', 'ens: ')
    .replace('holt-winters', 'HW')
    .replace('seasonal-profile', 'profile');
}
const autoscaleGroups = autoscaleChartGroups(autoscale, { fmt, COLORS });
const forecastSvg = svgDocument({
  title: 'Forecast accuracy and what it buys the autoscaler',
  desc: 'Left: MASE of the backtest-selected model, Holt-Winters and the best seasonal naive per series. Right: overloaded pod-minutes (sticky connections, the shipped deploy configuration) as a share of reactive scaling, for tidewatch predictive scaling and a perfect forecast, on the flights fixture the design was tuned on, the airport traces and the held-out airport.',
  panelWidth: 560,
  panels: [
    {
      title: 'Forecast error, MASE (lower is better)',
      axis: 'mean absolute scaled error (1 = in-sample naive)',
      format: (v) => v.toFixed(3),
      groups: forecastGroups.length
        ? forecastGroups
        : [{ label: 'forecast', bars: [{ label: 'not run', value: Number.NaN }] }],
    },
    {
      title: 'Overloaded pod-minutes vs reactive (lower is better)',
      axis: '% of reactive HPA; pod-minutes above capacity, Jan-Jun 2001 traces',
      ref: { value: 100, label: 'reactive 100 %' },
      format: (v) => `${fmt(v, 1)} %`,
      groups: autoscaleGroups.length
        ? autoscaleGroups
        : [{ label: 'autoscale', bars: [{ label: 'not run', value: Number.NaN }] }],
    },
  ],
});

const section = [
  'Every figure beside the uninstrumented baseline and the peer it is judged against; each links to the run that produced it (sections below). Regenerate after the benchmarks with `node bench/summary/run.mjs --write-docs` (`npm run bench` runs everything, ~20 min).',
  '',
  '| figure | tidewatch | baseline | peer | ratio | command |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
  '![Bar charts: echo throughput relative to the uninstrumented server and CPU microseconds added per message, tidewatch versus prom-client by hand, the OpenTelemetry SDK and socket.io-prometheus](images/bench-overhead.svg)',
  '',
  '![Bar charts: forecast MASE of the selected model versus Holt-Winters and seasonal naive per series, and overloaded pod-minutes of predictive and perfect-forecast autoscaling as a share of reactive, per trace group](images/bench-forecast.svg)',
  missing.length ? `\n> Not run when this summary was generated: ${missing.join(', ')}.` : '',
].join('\n');

console.log(section);
if (missing.length)
  console.error(`summary: no results for ${missing.join(', ')} (rows say "not run")`);
if (write) {
  fs.mkdirSync(path.join(ROOT, 'docs/images'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'docs/images/bench-overhead.svg'), overheadSvg);
  fs.writeFileSync(path.join(ROOT, 'docs/images/bench-forecast.svg'), forecastSvg);
  const a = '<!-- summary:start -->';
  const b = '<!-- summary:end -->';
  let text = fs.readFileSync(DOC, 'utf8');
  if (!text.includes(a)) {
    const at = text.indexOf('\n## ');
    const block = `\n## Summary\n\n${a}\n${b}\n`;
    text =
      at === -1 ? `${text.trimEnd()}\n${block}` : `${text.slice(0, at)}\n${block}${text.slice(at)}`;
  }
  text = `${text.slice(0, text.indexOf(a) + a.length)}\n${section}\n${text.slice(text.indexOf(b))}`;
  fs.writeFileSync(DOC, text);
  console.error(
    'summary: wrote docs/benchmarks.md (summary), docs/images/bench-overhead.svg, docs/images/bench-forecast.svg',
  );
}
