// The predictor sidecar's HTTP API under load: a real `tidewatch-predictor serve` process with
// 10,000 points of history (1 s steps), scraping a loopback target every second, hit by a
// bounded keep-alive client on 127.0.0.1. Per endpoint (/metrics, /forecast, /healthz, the
// status page /): requests per second, p50/p99 latency, response size. Then /healthz again
// while a collection is stuck (the target stalls) and while a 300 MB body streams in, with
// the sidecar's peak RSS. `--predictor DIR` runs another built copy of the package (e.g. the
// tree before a change); `--before FILE` puts that run's JSON beside this one.
//
//   node bench/sidecar-http/run.mjs [--predictor DIR] [--out FILE] [--before FILE]
//        [--write-docs] [--duration S] [--max-requests N] [--connections C]
//   node bench/sidecar-http/run.mjs --render FILE [--before FILE] [--write-docs]   (no run)
import { fork, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../common/resolve.mjs';
import { num, parseArgs, percentile, pollFor } from '../common/util.mjs';
import { importTs } from './load-ts.mjs';

const HELP = `node bench/sidecar-http/run.mjs [flags]
  --predictor DIR     predictor package to run (default packages/predictor)
  --out FILE          results JSON (default bench/results/sidecar-http.json)
  --before FILE       a previous run's JSON, shown beside this one
  --write-docs        rewrite the sidecar-http section of docs/benchmarks.md
  --docs FILE         markdown file --write-docs rewrites (default docs/benchmarks.md)
  --duration S        measured seconds per endpoint (default 5)
  --max-requests N    request cap per endpoint (default 20000)
  --connections C     concurrent keep-alive connections (default 8)
  --warmup S          unmeasured seconds before each endpoint (default 1)
  --phases LIST       endpoints,stuck,huge (default all three)
  --render FILE       no run: the section from a saved results JSON`;

const args = parseArgs(process.argv.slice(2));
if (args.help) {
  console.log(HELP);
  process.exit(0);
}
const cfg = {
  predictor: path.resolve(ROOT, args.predictor ?? 'packages/predictor'),
  out: path.resolve(ROOT, args.out ?? 'bench/results/sidecar-http.json'),
  before: args.before ? path.resolve(ROOT, args.before) : undefined,
  docs: path.resolve(ROOT, args.docs ?? 'docs/benchmarks.md'),
  writeDocs: args['write-docs'] === true,
  durationMs: num(args, 'duration', 5, { min: 0.5 }) * 1000,
  maxRequests: num(args, 'max-requests', 20_000, { min: 1, integer: true }),
  connections: num(args, 'connections', 8, { min: 1, integer: true }),
  warmupMs: num(args, 'warmup', 1, { min: 0 }) * 1000,
  phases: new Set(String(args.phases ?? 'endpoints,stuck,huge').split(',')),
  render: args.render ? path.resolve(ROOT, args.render) : undefined,
};
for (const p of cfg.phases)
  if (!['endpoints', 'stuck', 'huge'].includes(p)) throw new Error(`--phases: unknown phase ${p}`);
const HISTORY = 10_000;
/** The scrape deadline of the sidecar under test: how long a stuck collection lasts. */
const SOURCE_TIMEOUT_SECONDS = 10;
const ENDPOINTS = ['/metrics', '/forecast', '/healthz', '/'];

/** Runs every phase against a fresh sidecar; writes and returns the results. */
async function measure() {
  const bin = path.join(cfg.predictor, 'bin/tidewatch-predictor.js');
  if (!fs.existsSync(path.join(cfg.predictor, 'dist/cli.js'))) {
    console.error(`sidecar-http: ${cfg.predictor}/dist/cli.js is missing: build it first`);
    process.exit(1);
  }
  const { FAST_SIDECAR } = await importTs('packages/test-utils/src/sidecar.ts');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tw-bench-sidecar-http-'));
  const children = [];
  process.once('exit', () => {
    for (const c of children) c.kill('SIGKILL');
    fs.rmSync(work, { recursive: true, force: true });
  });
  process.once('SIGINT', () => process.exit(130));

  // ---- the upstream, in its own process -----------------------------------------------------

  const chaosProc = fork(path.join(import.meta.dirname, 'chaos-child.mjs'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(chaosProc);
  const chaosPort = await new Promise((resolve, reject) => {
    chaosProc.once('message', (m) => resolve(m.port));
    chaosProc.once('exit', (code) => reject(new Error(`chaos server exited ${code}`)));
  });
  const setMode = (mode) => chaosProc.send({ mode });
  const chaosStats = () =>
    new Promise((resolve) => {
      chaosProc.once('message', (m) => resolve(m.stats));
      chaosProc.send({ stats: true });
    });

  // ---- the sidecar ---------------------------------------------------------------------------

  /** 10,000 values: the shipped hourly flights trace, repeated (retimed to 1 s steps). */
  function seedCsv() {
    const rows = fs
      .readFileSync(path.join(ROOT, 'packages/predictor/fixtures/flights-2001-hourly.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(',')[1]);
    const t0 = Date.parse('2001-01-01T00:00:00Z');
    const out = ['timestamp,value'];
    for (let k = 0; k < HISTORY; k++)
      out.push(`${new Date(t0 + k * 3_600_000).toISOString()},${rows[k % rows.length]}`);
    return `${out.join('\n')}\n`;
  }
  fs.writeFileSync(path.join(work, 'seed.csv'), seedCsv());
  const config = {
    ...FAST_SIDECAR,
    listen: { host: '127.0.0.1', port: 0 },
    source: {
      kind: 'scrape',
      urls: [`http://127.0.0.1:${chaosPort}/metrics`],
      timeoutSeconds: SOURCE_TIMEOUT_SECONDS,
    },
    historyPoints: 20_000,
    dataDir: path.join(work, 'data'),
    seed: { file: path.join(work, 'seed.csv') },
    // A lead time the 30-step horizon of FAST_SIDECAR covers (as the integration tests set it).
    planner: {
      capacityPerReplica: 100,
      targetUtilization: 0.5,
      lead: { podStartSeconds: 0, readinessSeconds: 0, metricLagSeconds: 0, pollingSeconds: 5 },
    },
  };
  fs.writeFileSync(path.join(work, 'config.json'), JSON.stringify(config, null, 2));
  /** The running sidecar: its process, base URL and the tail of its log. */
  let sidecar;
  /**
   * Starts `serve` on the bench's data dir (a restart loads the saved history and model) and
   * waits until it is ready. Resolves with the process and its URL.
   */
  async function startSidecar() {
    const proc = spawn(
      process.execPath,
      [bin, 'serve', '--config', path.join(work, 'config.json')],
      {
        env: { PATH: process.env.PATH ?? '' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(proc);
    const s = { proc, base: undefined, stderr: '' };
    proc.stderr.setEncoding('utf8').on('data', (c) => {
      s.stderr = (s.stderr + c).slice(-200_000);
    });
    s.base = await pollFor(
      async () => /"msg":"listening"[^\n]*"url":"([^"]+)"/.exec(s.stderr)?.[1],
      (url) => url !== undefined || proc.exitCode !== null,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    if (!s.base) throw new Error(`the sidecar did not start:\n${s.stderr.slice(-3000)}`);
    sidecar = s;
    const ready = await pollFor(
      () => get('/readyz'),
      (r) => r.status === 200 || proc.exitCode !== null,
      { timeoutMs: 300_000, intervalMs: 500 },
    );
    if (ready.status !== 200)
      throw new Error(`the sidecar is not ready:\n${s.stderr.slice(-3000)}`);
    return s;
  }

  /** SIGTERM, SIGKILL after 10 s (a sidecar stuck in a collection may not stop by itself). */
  async function stopSidecar() {
    const { proc } = sidecar;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    const force = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(force);
  }

  const agent = new http.Agent({ keepAlive: true, maxSockets: cfg.connections });
  /** One GET of the sidecar: status, body bytes, latency in ms. Bounded by a 30 s deadline. */
  function get(pathname) {
    return new Promise((resolve) => {
      const t0 = process.hrtime.bigint();
      const req = http.get(`${sidecar.base}${pathname}`, { agent, timeout: 30_000 }, (res) => {
        let bytes = 0;
        res.on('data', (c) => {
          bytes += c.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            bytes,
            ms: Number(process.hrtime.bigint() - t0) / 1e6,
          }),
        );
        res.on('error', () => resolve({ status: 0, bytes, ms: Number.NaN }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ status: 0, bytes: 0, ms: Number.NaN }));
    });
  }

  await startSidecar();

  /** VmRSS / VmHWM of the sidecar, MB; `reset` first sets VmHWM to the current RSS. */
  function memory(reset = false) {
    const { pid } = sidecar.proc;
    if (reset) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1]) / 1024;
    return { rssMb: mb('VmRSS'), hwmMb: mb('VmHWM') };
  }

  /**
   * `connections` closed loops of GET `pathname` for `durationMs` or `maxRequests` requests in
   * all, whichever comes first (after `warmupMs` unmeasured).
   */
  async function load(pathname, { warmupMs = cfg.warmupMs } = {}) {
    const loop = async (until, max, sink) => {
      while (Date.now() < until && sink.length < max) sink.push(await get(pathname));
    };
    const warm = [];
    const warmUntil = Date.now() + warmupMs;
    await Promise.all(Array.from({ length: cfg.connections }, () => loop(warmUntil, 1e9, warm)));
    const results = [];
    const collectionsBefore = (await chaosStats()).requests;
    const t0 = Date.now();
    const until = t0 + cfg.durationMs;
    await Promise.all(
      Array.from({ length: cfg.connections }, () => loop(until, cfg.maxRequests, results)),
    );
    const seconds = (Date.now() - t0) / 1000;
    const collections = (await chaosStats()).requests - collectionsBefore;
    const ok = results.filter((r) => r.status === 200);
    const ms = ok.map((r) => r.ms).sort((a, b) => a - b);
    return {
      requests: results.length,
      errors: results.length - ok.length,
      rps: ok.length / seconds,
      p50Ms: percentile(ms, 50),
      p99Ms: percentile(ms, 99),
      maxMs: ms.at(-1) ?? Number.NaN,
      bytes: ok.length ? Math.round(ok.reduce((s, r) => s + r.bytes, 0) / ok.length) : 0,
      /** Scrapes the sidecar sent meanwhile (one a second when the schedule keeps up). */
      collections,
      seconds,
    };
  }

  // ---- the runs ------------------------------------------------------------------------------

  const cli = fs.readFileSync(path.join(cfg.predictor, 'dist/cli.js'));
  const result = {
    date: new Date().toISOString(),
    machine: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`,
    predictor: cfg.predictor.startsWith(`${ROOT}/`)
      ? path.relative(ROOT, cfg.predictor)
      : cfg.predictor,
    cliSha256: createHash('sha256').update(cli).digest('hex').slice(0, 12),
    settings: {
      history: HISTORY,
      connections: cfg.connections,
      durationMs: cfg.durationMs,
      maxRequests: cfg.maxRequests,
      warmupMs: cfg.warmupMs,
      sourceTimeoutSeconds: SOURCE_TIMEOUT_SECONDS,
    },
    loadAverageBefore: os.loadavg().map((x) => Math.round(x * 100) / 100),
    idleRssMb: memory().rssMb,
    endpoints: {},
    stress: {},
  };
  for (const pathname of cfg.phases.has('endpoints') ? ENDPOINTS : []) {
    result.endpoints[pathname] = await load(pathname);
    report(pathname, result.endpoints[pathname]);
  }

  /**
   * /healthz under load while the upstream is in `mode` (used once per run), from the moment a
   * collection sent a request in it. A sidecar that starts no collection within a minute gets a
   * `note` instead.
   */
  async function healthzDuring(mode) {
    setMode(mode);
    const seen = await pollFor(chaosStats, (s) => s.modeRequests > 0, {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    if (!(seen.modeRequests > 0)) {
      setMode('ok');
      return { note: 'the sidecar started no collection within 60 s' };
    }
    memory(true);
    const r = await load('/healthz', { warmupMs: 0 });
    const m = memory();
    const healed = await chaosStats();
    setMode('ok');
    // Back to normal before the next phase: a request after the heal, answered.
    const after = await pollFor(chaosStats, (s) => s.open === 0 && s.requests > healed.requests, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    return {
      ...r,
      peakRssMb: m.hwmMb,
      ...(after.requests > healed.requests
        ? {}
        : { note: `no collection in the minute after the ${mode} phase` }),
    };
  }
  const STRESS = [
    ['stuck', '/healthz while a collection is stuck', 'stall-silent'],
    ['huge', '/healthz while a 300 MB body streams in', 'huge'],
  ];
  for (const [phase, label, mode] of STRESS) {
    if (!cfg.phases.has(phase)) continue;
    // Each phase on a fresh process (same data dir): what one phase broke must not skew the next.
    await stopSidecar();
    await startSidecar();
    result.stress[label] = await healthzDuring(mode);
    report(`/healthz ${phase}`, result.stress[label]);
  }
  result.finalRssMb = memory().rssMb;

  agent.destroy();
  await stopSidecar();
  chaosProc.disconnect();
  fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
  fs.writeFileSync(cfg.out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${path.relative(ROOT, cfg.out)}`);
  return result;
}

function report(what, r) {
  if (r.note && r.rps === undefined) {
    console.log(`${what.padEnd(16)} ${r.note}`);
    return;
  }
  console.log(
    `${what.padEnd(16)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(1)} ms  ${r.bytes} B  (${r.requests} requests, ${r.errors} errors, ${r.collections} collections${r.peakRssMb ? `, peak RSS ${r.peakRssMb.toFixed(0)} MB` : ''})`,
  );
}

// ---- docs ------------------------------------------------------------------------------------

const result = cfg.render ? JSON.parse(fs.readFileSync(cfg.render, 'utf8')) : await measure();
const { settings } = result;
const before = cfg.before ? JSON.parse(fs.readFileSync(cfg.before, 'utf8')) : undefined;
/** Formatters of one result cell; a missing or noted-only result shows as n/a. */
const measured = (f) => (r) => (r && r.rps !== undefined ? f(r) : 'n/a');
const fmt = {
  rps: measured((r) => r.rps.toFixed(0)),
  p99: measured((r) => `${r.p99Ms < 10 ? r.p99Ms.toFixed(2) : r.p99Ms.toFixed(0)} ms`),
  size: measured((r) => {
    if (r.bytes < 10_000) return `${r.bytes} B`;
    return r.bytes < 10_000_000
      ? `${(r.bytes / 1024).toFixed(1)} KiB`
      : `${(r.bytes / 2 ** 20).toFixed(1)} MiB`;
  }),
  max: measured((r) => `${r.maxMs.toFixed(0)} ms`),
  errors: measured((r) => String(r.errors)),
  collections: measured((r) => `${r.collections} in ${r.seconds.toFixed(0)} s`),
  peak: measured((r) => (r.peakRssMb ? `${r.peakRssMb.toFixed(0)} MB` : 'n/a')),
};
function table(rows, cols) {
  const head = ['', ...cols.flatMap(([name]) => (before ? [`${name} before`, name] : [name]))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const [label, now, was] of rows)
    lines.push(
      `| ${label} | ${cols.flatMap(([, f]) => (before ? [f(was), f(now)] : [f(now)])).join(' | ')} |`,
    );
  return lines.join('\n');
}
const reproduce = [
  result.predictor === 'packages/predictor' ? '' : ` --predictor ${result.predictor}`,
  before ? ` --before ${path.relative(ROOT, cfg.before)}` : '',
].join('');
const lines = [
  `Run ${result.date.slice(0, 10)} on ${result.machine}; sidecar \`${result.predictor}\` (dist/cli.js ${result.cliSha256})${before ? `, before: \`${before.predictor}\` (${before.cliSha256}, run ${before.date.slice(0, 10)})` : ''}. Reproduce: \`npm run build && node bench/sidecar-http/run.mjs${reproduce} --write-docs\`.`,
  '',
  `A real \`tidewatch-predictor serve\` with ${settings.history.toLocaleString('en-US')} points of history (1 s steps, collecting every second from a loopback target, persisting to a data dir), under ${settings.connections} keep-alive connections of a closed-loop client on the same machine: ${settings.durationMs / 1000} s or ${settings.maxRequests.toLocaleString('en-US')} requests per endpoint after ${settings.warmupMs / 1000} s of warm-up. Size is the mean response body; collections are the scrapes the sidecar sent meanwhile (one a second when its schedule keeps up under the load).`,
  '',
  table(
    ENDPOINTS.map((p) => [`\`${p}\``, result.endpoints[p], before?.endpoints[p]]),
    [
      ['req/s', fmt.rps],
      ['p99', fmt.p99],
      ['size', fmt.size],
      ['collections', fmt.collections],
    ],
  ),
  '',
  `\`/healthz\` under the same load while the sidecar's own collection misbehaves (scrape deadline ${settings.sourceTimeoutSeconds} s): the target accepts the request and never answers, or streams a 300 MB body. Peak RSS is the sidecar's VmHWM during the phase.`,
  '',
  table(
    Object.keys(result.stress).map((k) => [k, result.stress[k], before?.stress[k]]),
    [
      ['req/s', fmt.rps],
      ['p99', fmt.p99],
      ['max', fmt.max],
      ['errors', fmt.errors],
      ['collections', fmt.collections],
      ['peak RSS', fmt.peak],
    ],
  ),
];
for (const [label, run] of [
  ['', result],
  ['before: ', before],
])
  for (const [k, r] of Object.entries(run?.stress ?? {}))
    if (r.note) lines.push('', `> **Note.** ${label}${k}: ${r.note}.`);
const section = lines.join('\n');
console.log(`\n${section}`);
if (cfg.writeDocs) {
  // The section between its markers is replaced (appended with a heading the first time).
  const marker = (k) => `<!-- sidecar-http:${k} -->`;
  let doc = fs.readFileSync(cfg.docs, 'utf8');
  if (!doc.includes(marker('start')))
    doc = `${doc.trimEnd()}\n\n## sidecar-http\n\n${marker('start')}\n${marker('end')}\n`;
  const [head, rest] = doc.split(marker('start'));
  const tail = rest.slice(rest.indexOf(marker('end')));
  fs.writeFileSync(cfg.docs, `${head}${marker('start')}\n${section}\n${tail}`);
  console.log(`wrote ${path.relative(ROOT, cfg.docs)} (sidecar-http)`);
}
process.exit(0);
