// Churn soak: connections opening and closing continuously for minutes, a share of them dropped
// abruptly (socket destroyed, no close frame), against an instrumented server and an
// uninstrumented one side by side. Afterwards the connections gauge must be exactly 0 and every
// counter exact (vs the server's ground truth and the client's own counts), and the heap flat.
// README.md (this directory) explains the method. Exits 1 when a count is not exact.
//
//   npm run build && node bench/scale/churn.mjs [--minutes 3] [--rate 200] [--write-docs]
import path from 'node:path';
import { num, pollFor } from '../common/util.mjs';
import {
  closeScrapeAgent,
  fmt,
  machineLine,
  scrape,
  slope,
  sumOr0,
  writeDocsSection,
  writeResults,
} from './common.mjs';
import { checkLimits, closeChild, driverCli, spawnClient, spawnServer } from './proc.mjs';

const HELP = `Usage: node bench/scale/churn.mjs [flags]
  --minutes M        soak length (default 3)
  --rate R           connections opened per second, per server (default 200)
  --drop-ratio P     share of sessions destroyed without a close frame (default 0.2)
  --max-concurrent C bound on open client connections (default 2000)
  --sample S         seconds between heap samples (default 10)
  --warmup S         seconds of samples left out of the slope (default 30)
  --write-docs       rewrite the scale-churn section of docs/benchmarks.md`;

const { args, fail } = driverCli('scale-churn', HELP);
const cfg = {
  minutes: num(args, 'minutes', 3, { min: 0.2 }),
  rate: num(args, 'rate', 200, { min: 1 }),
  dropRatio: num(args, 'drop-ratio', 0.2),
  maxConcurrent: num(args, 'max-concurrent', 2000, { min: 1, integer: true }),
  sample: num(args, 'sample', 10, { min: 1 }),
  warmup: num(args, 'warmup', 30),
  minLifeMs: 200,
  maxLifeMs: 2000,
  messages: 3,
};
if (cfg.dropRatio > 1) fail('--drop-ratio must be between 0 and 1');
/** Fitted growth over the measured window under which the heap is called flat. */
const FLAT_BYTES = 1024 * 1024;

try {
  checkLimits({ fds: cfg.maxConcurrent + 1024, ports: 2 * cfg.maxConcurrent + 1024 });
} catch (err) {
  fail(err.message);
}

/** Label value → sum, for one metric of an exposition. */
function byLabel(text, name, label) {
  const out = {};
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const m = re.exec(line);
    const v = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (m && v > 0) out[m[1]] = (out[m[1]] ?? 0) + v;
  }
  return out;
}

async function soak(variant, core) {
  const server = spawnServer(variant, core);
  try {
    const { port } = await server.wait('ready', 20_000);
    const client = spawnClient(
      `client:${variant}`,
      port,
      Math.ceil(cfg.minutes * 60 + 120),
      1 - core,
    );
    try {
      await client.wait('ready', 20_000);
      const t0 = Date.now();
      const samples = [];
      const run = client.request('churn', (cfg.minutes * 60 + 60) * 1000, {
        seconds: cfg.minutes * 60,
        rate: cfg.rate,
        dropRatio: cfg.dropRatio,
        maxConcurrent: cfg.maxConcurrent,
        minLifeMs: cfg.minLifeMs,
        maxLifeMs: cfg.maxLifeMs,
        messages: cfg.messages,
      });
      let done = false;
      const finish = () => {
        done = true;
      };
      run.then(finish, finish);
      while (!done) {
        await Promise.race([run, new Promise((r) => setTimeout(r, cfg.sample * 1000))]);
        if (done) break;
        if (variant !== 'baseline') await scrape(port);
        const m = await server.request('mem');
        samples.push({ seconds: (Date.now() - t0) / 1000, heapUsed: m.heapUsed, rss: m.rss });
      }
      const c = await run;
      // The server sees the last closes after the client: give it 30 s to hold no socket.
      const truth = await pollFor(
        () => server.request('truth'),
        (t) => t.clients === 0,
        { timeoutMs: 30_000 },
      );
      const text = variant === 'baseline' ? '' : (await scrape(port)).text;
      const after = await server.request('mem');
      const problems = [];
      if (truth.clients !== 0) problems.push(`${truth.clients} server-side sockets still open`);
      if (truth.opened !== c.opened)
        problems.push(`server accepted ${truth.opened}, client opened ${c.opened}`);
      if (truth.closed !== truth.opened)
        problems.push(`server closed ${truth.closed} of ${truth.opened}`);
      if (truth.messagesIn !== c.sent)
        problems.push(`server got ${truth.messagesIn} messages, client sent ${c.sent}`);
      if (c.received > truth.messagesOut)
        problems.push(`client received ${c.received} > server sent ${truth.messagesOut}`);
      let metrics = null;
      if (variant === 'tidewatch') {
        metrics = {
          open: sumOr0(text, 'realtime_connections'),
          opened: sumOr0(text, 'realtime_connections_opened_total'),
          closed: sumOr0(text, 'realtime_connections_closed_total'),
          closedByReason: byLabel(text, 'realtime_connections_closed_total', 'reason'),
          messagesIn: sumOr0(text, 'realtime_messages_total', 'direction="in"'),
          messagesOut: sumOr0(text, 'realtime_messages_total', 'direction="out"'),
        };
        if (metrics.open !== 0)
          problems.push(`realtime_connections is ${metrics.open}, expected 0`);
        if (metrics.opened !== truth.opened)
          problems.push(`opened_total ${metrics.opened} != ${truth.opened}`);
        if (metrics.closed !== truth.closed)
          problems.push(`closed_total ${metrics.closed} != ${truth.closed}`);
        if (metrics.messagesIn !== truth.messagesIn)
          problems.push(`messages in ${metrics.messagesIn} != ${truth.messagesIn}`);
        if (metrics.messagesOut !== truth.messagesOut)
          problems.push(`messages out ${metrics.messagesOut} != ${truth.messagesOut}`);
        const abrupt = (metrics.closedByReason.abnormal ?? 0) + (metrics.closedByReason.error ?? 0);
        if (abrupt !== c.dropped)
          problems.push(`abnormal/error closes ${abrupt} != dropped ${c.dropped}`);
      }
      const kept = samples.filter((s) => s.seconds >= cfg.warmup);
      const perMin = slope(
        kept.map((s) => s.seconds / 60),
        kept.map((s) => s.heapUsed),
      );
      const spanMin = kept.length > 1 ? (kept.at(-1).seconds - kept[0].seconds) / 60 : 0;
      const growth = perMin * spanMin;
      const churned = kept.length > 1 ? cfg.rate * spanMin * 60 : 0;
      return {
        variant,
        client: c,
        serverTruth: truth,
        metrics,
        samples,
        heapAfter: after.heapUsed,
        heapSlopeBytesPerMin: perMin,
        heapGrowthBytes: growth,
        heapGrowthPerConnection: churned > 0 ? growth / churned : Number.NaN,
        flat: Number.isFinite(growth) && growth < FLAT_BYTES,
        exact: problems.length === 0,
        problems,
      };
    } finally {
      await closeChild(client);
    }
  } finally {
    await closeChild(server);
  }
}

process.stderr.write(
  `scale-churn: ${cfg.minutes} min at ${cfg.rate}/s per server, tidewatch and baseline side by side...\n`,
);
// Side by side in one run: the two soaks share the machine equally (each server on its own
// core, its client on the other), so neither gets a quieter machine than the other.
const results = await Promise.all([soak('tidewatch', 0), soak('baseline', 1)]).catch((err) =>
  fail(err.message),
);
closeScrapeAgent();

const [tw, base] = results;
const lines = [
  machineLine(),
  `Reproduce: \`npm run build && node bench/scale/churn.mjs --write-docs\` (method: [bench/scale/README.md](../bench/scale/README.md)). ` +
    `${cfg.minutes} min, ${cfg.rate} connections/s per server, each living ${cfg.minLifeMs}-${cfg.maxLifeMs} ms with ${cfg.messages} echoed 64 B messages; ` +
    `${fmt(cfg.dropRatio * 100)} % destroyed without a close frame. Heap after two forced GCs every ${cfg.sample} s; slope fitted after ${cfg.warmup} s; "flat" = fitted growth under ${fmt(FLAT_BYTES / 1024)} KiB over the window.`,
  '',
  '| variant | connections | dropped | messages in / out | gauge after | counters | heap slope | heap growth (per conn) | verdict |',
  '|---|--:|--:|--:|--:|---|--:|--:|---|',
];
for (const r of [base, tw]) {
  lines.push(
    `| ${r.variant} | ${fmt(r.client.opened)} | ${fmt(r.client.dropped)} | ${fmt(r.serverTruth.messagesIn)} / ${fmt(r.serverTruth.messagesOut)} | ` +
      `${r.metrics ? fmt(r.metrics.open) : '—'} | ${r.exact ? (r.metrics ? 'exact' : 'ground truth consistent') : r.problems.join('; ')} | ` +
      `${fmt(r.heapSlopeBytesPerMin / 1024, 1)} KiB/min | ${fmt(r.heapGrowthBytes / 1024, 1)} KiB (${fmt(r.heapGrowthPerConnection, 2)} B) | ${r.flat ? 'flat' : 'GROWING'} |`,
  );
}
if (tw.metrics) {
  lines.push(
    '',
    `> tidewatch closes by reason: ${Object.entries(tw.metrics.closedByReason)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(
        ', ',
      )}; the client destroyed ${fmt(tw.client.dropped)} and closed ${fmt(tw.client.closedClean)} cleanly.`,
  );
}
const section = lines.join('\n');
console.log(`\n${section}`);
const file = writeResults('scale-churn', { config: cfg, flatBytes: FLAT_BYTES, results });
console.error(`raw results: ${path.relative(process.cwd(), file)}`);
if (args['write-docs'] === true) writeDocsSection('scale-churn', 'scale: churn soak', section);
process.exit(results.every((r) => r.exact) ? 0 : 1);
