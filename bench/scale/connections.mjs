// 10,000 concurrent WebSocket connections against one server, per variant (baseline,
// tidewatch, prom-naive): handshake rate, memory per connection, /metrics scrape time and size
// at N connections, and the exact counts afterwards. README.md (this directory) explains the
// method. Exits 1 when a variant's counts are not exact.
//
//   npm run build && node bench/scale/connections.mjs [--connections 10000] [--write-docs]
import path from 'node:path';
import { num, pollFor } from '../common/util.mjs';
import {
  closeScrapeAgent,
  fmt,
  machineLine,
  pct,
  scrape,
  sumOr0,
  writeDocsSection,
  writeResults,
} from './common.mjs';
import { checkLimits, closeChild, driverCli, pinned, spawnClient, spawnServer } from './proc.mjs';

const ALL = ['baseline', 'tidewatch', 'prom-naive'];
const HELP = `Usage: node bench/scale/connections.mjs [flags]
  --connections N     concurrent connections per variant (default 10000)
  --variants a,b      subset of ${ALL.join(',')} (default: all)
  --scrapes K         sequential /metrics scrapes timed at N connections (default 50)
  --concurrency C     handshakes pending at once (default 256)
  --write-docs        rewrite the scale-connections section of docs/benchmarks.md`;

const { args, fail } = driverCli('scale-connections', HELP);
const cfg = {
  connections: num(args, 'connections', 10_000, { min: 1, integer: true }),
  scrapes: num(args, 'scrapes', 50, { min: 1, integer: true }),
  concurrency: num(args, 'concurrency', 256, { min: 1, integer: true }),
  variants: String(args.variants ?? ALL.join(','))
    .split(',')
    .filter(Boolean),
};
for (const v of cfg.variants) if (!ALL.includes(v)) fail(`unknown variant ${v}`);
// Connections opened and closed before the "before" memory snapshot: they pay for lazy
// compilation and V8's optimised code of the connection path, which is not per-connection cost.
const PRIME = 500;

try {
  checkLimits({ fds: cfg.connections + 1024, ports: cfg.connections + PRIME + 1024 });
} catch (err) {
  fail(err.message);
}

/** What the variant's own metrics say, in one shape (baseline has none). */
function counts(variant, text) {
  if (variant === 'tidewatch') {
    return {
      open: sumOr0(text, 'realtime_connections'),
      opened: sumOr0(text, 'realtime_connections_opened_total'),
      closed: sumOr0(text, 'realtime_connections_closed_total'),
    };
  }
  if (variant === 'prom-naive') {
    return {
      open: sumOr0(text, 'ws_connections'),
      opened: sumOr0(text, 'ws_connections_opened_total'),
      closed: sumOr0(text, 'ws_connections_closed_total'),
    };
  }
  return null;
}

/** Waits until the server holds `n` sockets (it sees opens and closes after the client). */
async function serverHolds(server, n, timeoutMs, what) {
  const truth = await pollFor(
    () => server.request('truth'),
    (t) => t.clients === n,
    { timeoutMs },
  );
  if (truth.clients !== n)
    throw new Error(`timed out waiting for ${what}: the server holds ${truth.clients} sockets`);
}

async function runVariant(variant) {
  const N = cfg.connections;
  const server = spawnServer(variant, 0);
  try {
    const { port } = await server.wait('ready', 20_000);
    const c = spawnClient('client', port, 600, 1);
    await c.wait('ready', 20_000);
    try {
      await c.request('open', 120_000, { n: PRIME, concurrency: cfg.concurrency });
      await c.request('closeAll', 60_000);
      await serverHolds(server, 0, 30_000, 'prime close');
      await scrape(port);
      const before = await server.request('mem');

      const opened = await c.request('open', 300_000, { n: N, concurrency: cfg.concurrency });
      if (opened.failed > 0)
        throw new Error(`${opened.failed} handshakes failed: ${JSON.stringify(opened.failures)}`);
      await serverHolds(server, N, 30_000, `${N} server-side clients`);
      // Scrape before the after-snapshot, as before the before-snapshot: collection state is
      // not per-connection cost.
      const first = await scrape(port);
      const after = await server.request('mem');

      const times = [];
      let bytes = first.bytes;
      let atN = counts(variant, first.text);
      for (let i = 0; i < cfg.scrapes; i++) {
        const s = await scrape(port);
        times.push(s.ms);
        bytes = s.bytes;
        atN = counts(variant, s.text);
      }

      const closed = await c.request('closeAll', 120_000);
      await serverHolds(server, 0, 60_000, 'all closes');
      const truth = await server.request('truth');
      const end = await scrape(port);
      const final = counts(variant, end.text);
      const problems = [];
      if (truth.opened !== N + PRIME)
        problems.push(`server accepted ${truth.opened}, expected ${N + PRIME}`);
      if (final) {
        if (atN.open !== N) problems.push(`gauge at N was ${atN.open}, expected ${N}`);
        if (final.open !== 0) problems.push(`gauge after close is ${final.open}, expected 0`);
        if (final.opened !== N + PRIME)
          problems.push(`opened_total ${final.opened} != ${N + PRIME}`);
        if (final.closed !== N + PRIME)
          problems.push(`closed_total ${final.closed} != ${N + PRIME}`);
      }
      return {
        variant,
        connections: N,
        handshakesPerSecond: (N / opened.ms) * 1000,
        openSeconds: opened.ms / 1000,
        closeSeconds: closed.ms / 1000,
        heapBefore: before.heapUsed,
        heapAfter: after.heapUsed,
        rssBefore: before.rss,
        rssAfter: after.rss,
        heapPerConnection: (after.heapUsed - before.heapUsed) / N,
        rssPerConnection: (after.rss - before.rss) / N,
        scrape:
          variant === 'baseline'
            ? null
            : {
                firstMs: first.ms,
                p50Ms: pct(times, 50),
                p99Ms: pct(times, 99),
                maxMs: Math.max(...times),
                bytes,
              },
        countsAtN: atN,
        countsAfter: final,
        serverTruth: truth,
        exact: problems.length === 0,
        problems,
      };
    } finally {
      await closeChild(c);
    }
  } finally {
    await closeChild(server);
  }
}

const results = [];
let bad = false;
for (const v of cfg.variants) {
  process.stderr.write(`scale-connections: ${v}, ${fmt(cfg.connections)} connections...\n`);
  const r = await runVariant(v).catch((err) => fail(`${v}: ${err.message}`));
  results.push(r);
  process.stderr.write(
    `  ${fmt(r.handshakesPerSecond)} handshakes/s, heap ${fmt(r.heapPerConnection)} B/conn` +
      (r.scrape ? `, scrape p50 ${fmt(r.scrape.p50Ms, 1)} ms, ${fmt(r.scrape.bytes)} B` : '') +
      `, ${r.exact ? 'exact' : `NOT EXACT: ${r.problems.join('; ')}`}\n`,
  );
  if (!r.exact) bad = true;
}
closeScrapeAgent();

const base = results.find((r) => r.variant === 'baseline');
const lines = [
  machineLine(),
  `Reproduce: \`npm run build && node bench/scale/connections.mjs --write-docs\` (method: [bench/scale/README.md](../bench/scale/README.md)). ` +
    `${fmt(cfg.connections)} idle connections opened by one client process (${cfg.concurrency} handshakes pending at once), ` +
    `${pinned ? 'server and client pinned to separate cores' : 'not pinned'}; memory is heap/RSS after two forced GCs, ` +
    `after ${PRIME} warm-up connections; scrape time is the HTTP round trip of ${cfg.scrapes} sequential \`GET /metrics\`.`,
  '',
  '| variant | handshakes/s | heap B/conn | Δ heap vs baseline | RSS B/conn | scrape p50 / p99 ms | scrape size | counts after close |',
  '|---|--:|--:|--:|--:|--:|--:|---|',
];
for (const r of results) {
  const d = base && r !== base ? r.heapPerConnection - base.heapPerConnection : Number.NaN;
  lines.push(
    `| ${r.variant} | ${fmt(r.handshakesPerSecond)} | ${fmt(r.heapPerConnection)} | ${r === base ? '—' : `${d >= 0 ? '+' : ''}${fmt(d)}`} | ${fmt(r.rssPerConnection)} | ` +
      `${r.scrape ? `${fmt(r.scrape.p50Ms, 1)} / ${fmt(r.scrape.p99Ms, 1)}` : '—'} | ${r.scrape ? `${fmt(r.scrape.bytes)} B` : '—'} | ` +
      `${r.countsAfter ? (r.exact ? `exact (opened ${fmt(r.countsAfter.opened)}, closed ${fmt(r.countsAfter.closed)}, open 0)` : r.problems.join('; ')) : `server saw ${fmt(r.serverTruth.opened)}`} |`,
  );
}
const tw = results.find((r) => r.variant === 'tidewatch');
if (tw?.scrape) {
  lines.push(
    '',
    `> tidewatch \`/metrics\` at ${fmt(cfg.connections)} connections: p50 ${fmt(tw.scrape.p50Ms, 1)} ms, p99 ${fmt(tw.scrape.p99Ms, 1)} ms (target under 25 ms: ${tw.scrape.p99Ms < 25 ? 'met' : 'missed'}); ${fmt(tw.scrape.bytes)} bytes, independent of the connection count (series are per label set, not per connection).`,
  );
}
const section = lines.join('\n');
console.log(`\n${section}`);
const file = writeResults('scale-connections', { config: cfg, prime: PRIME, results });
console.error(`raw results: ${path.relative(process.cwd(), file)}`);
if (args['write-docs'] === true)
  writeDocsSection('scale-connections', 'scale: 10k connections', section);
process.exit(bad ? 1 : 0);
