// What delivery-lag stamping costs per message (issue 16): `stamp()` on the publishing side,
// and on the delivering side a fan-out through `deliveries().fanOut` against a plain loop,
// for unstamped and stamped messages, with a real prom-client registry behind the metrics.
// In-process micro-benchmark (tinybench); the sockets are counters, so what is measured is
// tidewatch's own work per message and per recipient, not I/O.
//
//   npx turbo run build && node bench/delivery-lag/run.mjs [--recipients N] [--time MS] [--write-docs]
import fs from 'node:fs';
import path from 'node:path';
import { Bench } from 'tinybench';
import { importFromRoot, ROOT } from '../common/resolve.mjs';
import { num, parseArgs } from '../common/util.mjs';

const args = parseArgs(process.argv.slice(2));
const recipients = num(args, 'recipients', 100, { min: 1, integer: true });
const time = num(args, 'time', 1000, { min: 50, integer: true });
const DOC = path.join(ROOT, 'docs/benchmarks.md');

const { Registry } = await importFromRoot('prom-client');
const mw = await import('@tidewatch/middleware');
const broker = await import('@tidewatch/middleware/broker').catch((err) => {
  console.error(`delivery-lag: needs the built middleware (npx turbo run build): ${err.message}`);
  process.exit(1);
});

const metrics = mw.createRealtimeMetrics({ registry: new Registry() });
const out = broker.deliveries(metrics, { transport: 'websocket' });
// Sockets that only count writes: OPEN, as ws reports it.
const sockets = Array.from({ length: recipients }, () => ({ readyState: 1, n: 0 }));
const send = (s) => {
  s.n++;
};
let sink = 0;

const bench = new Bench({ time, warmup: true, warmupTime: 200 });
bench
  .add('message object (baseline)', () => {
    sink += { text: 'hello', room: 'r1' }.text.length;
  })
  .add('stamp(message object)', () => {
    sink += broker.stamp({ text: 'hello', room: 'r1' }).text.length;
  })
  .add(`plain loop to ${recipients} sockets (baseline)`, () => {
    const m = { text: 'hello' };
    for (const s of sockets) if (s.readyState === 1) send(s, m);
  })
  .add(`fanOut, unstamped, ${recipients} sockets`, () => {
    out.fanOut({ text: 'hello' }, sockets, send);
  })
  .add(`fanOut, stamped, ${recipients} sockets`, () => {
    out.fanOut(broker.stamp({ text: 'hello' }), sockets, send);
  });
await bench.run();

const ns = (name) => bench.getTask(name).result.latency.p50 * 1e6;
const rows = bench.tasks.map((t) => [t.name, t.result.latency.p50 * 1e6, t.result.throughput.mean]);
const stampNs = ns('stamp(message object)') - ns('message object (baseline)');
const loop = ns(`plain loop to ${recipients} sockets (baseline)`);
const unstampedPerRecipient = (ns(`fanOut, unstamped, ${recipients} sockets`) - loop) / recipients;
const stampedPerRecipient = (ns(`fanOut, stamped, ${recipients} sockets`) - loop) / recipients;
const fmt = (x, d = 1) =>
  x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const table = [
  '| task | ns per call (median) | calls/s (mean) |',
  '|---|---:|---:|',
  ...rows.map(([n, t, hz]) => `| ${n} | ${fmt(t)} | ${fmt(hz, 0)} |`),
].join('\n');
const notes = [
  `- \`stamp()\` adds ${fmt(stampNs)} ns per published message (\`Date.now()\` and one property).`,
  `- A fan-out through \`deliveries().fanOut\` adds ${fmt(unstampedPerRecipient, 2)} ns per recipient for an unstamped message and ${fmt(stampedPerRecipient, 2)} ns per recipient for a stamped one (one \`delivery_lag_seconds\` observation per recipient, recorded in one step), over a plain loop writing the same ${recipients} sockets; the target of issue 16 is ≤ 0.3 µs (300 ns) of server CPU per message.`,
];
const section = `Reproduce: \`npx turbo run build && node bench/delivery-lag/run.mjs --write-docs\` (in-process, tinybench, ${time} ms per task, ${recipients} counting sockets, Node ${process.version}).\n\n${table}\n\n${notes.join('\n')}\n`;
console.log(section);
if (sink < 0) console.log(sink);

if (args['write-docs']) {
  const start = '<!-- delivery-lag:start -->';
  const end = '<!-- delivery-lag:end -->';
  const doc = fs.readFileSync(DOC, 'utf8');
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i < 0 || j < i) {
    console.error(`delivery-lag: ${DOC} has no ${start} … ${end} section`);
    process.exit(1);
  }
  fs.writeFileSync(DOC, `${doc.slice(0, i + start.length)}\n${section}${doc.slice(j)}`);
  console.log(`wrote ${path.relative(ROOT, DOC)}`);
}
