// Driver shared by the side-by-side benchmarks (bench/ws-echo, bench/sio-echo): runs every
// variant in interleaved rounds, then the memory-per-connection phase, and reports medians
// and paired ratios vs the baseline. Each benchmark's run.mjs only describes itself (a spec:
// variants, server/client scripts, docs markers, package list) and calls runBenchmark().
// bench/ws-echo/README.md explains the method; the server and client scripts of a benchmark
// speak the IPC protocol documented at runRound()/runMemory() below.
import { fork, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Peer } from './peer.mjs';
import { installedVersion, ROOT as root } from './resolve.mjs';
import { median, minMax, num, parseArgs, pollFor } from './util.mjs';

/**
 * @typedef {object} BenchSpec
 * @property {string} name            e.g. 'ws-echo'; docs markers, results file, log prefix
 * @property {string} dir             directory holding server.mjs and client.mjs
 * @property {string[]} variants      all variants, baseline first
 * @property {string} baseline        the variant ratios are taken against
 * @property {(port: number) => string} url   what the client connects to
 * @property {{variant: string, files: string[], check?: (mods: object) => string | null}} [tidewatch]
 *           the variant that needs the built middleware, the dist files it imports, and an
 *           optional check of the imported modules (returns an error message or null)
 * @property {[string, string, string][]} packages   [label, dir relative to root, package]
 * @property {(cfg: object) => string} payload       "64 B binary" etc. for the docs Load line
 * @property {string} sizeHelp        meaning of --size in --help
 * @property {string} docHeader       docs/benchmarks.md to start from if it does not exist
 * @property {(summary: object[], ctx: {cfg: object, runs: object[], quietPct: number}) => string[]} [extraNotes]
 *           benchmark-specific notes (runs: the successful rounds)
 * @property {Record<string, {default: number, min?: number, help: string}>} [flags]
 *           benchmark-specific integer flags (e.g. mqtt-echo's `fanout`), read into
 *           `cfg.extra` and passed to the server and the load-mode client as `--name=value`
 */

const DOC = path.join(root, 'docs/benchmarks.md');

/** @param {BenchSpec} spec */
export async function runBenchmark(spec) {
  const { name, baseline } = spec;
  const VARIANTS = spec.variants;
  const SERVER = path.join(spec.dir, 'server.mjs');
  const CLIENT = path.join(spec.dir, 'client.mjs');
  const DOC_START = `<!-- ${name}:start -->`;
  const DOC_END = `<!-- ${name}:end -->`;
  const tw = spec.tidewatch ?? null;

  const HELP = `Usage: node bench/${name}/run.mjs [flags]
  --rounds R            interleaved rounds (default 5; --quick: 2; 0: memory phase only)
  --connections C       client connections (default 200)
  --inflight K          messages in flight per connection (default 10)
  --size S              ${spec.sizeHelp} (default 64)
  --warmup W            warm-up seconds before measuring (default 1.5)
  --duration D          measured seconds per round (default 5; --quick: 2)
  --variants a,b        subset of ${VARIANTS.join(',')} (default: all)
  --mem-connections N   idle connections in the memory phase (default 2000; 0 skips it)
  --mem-rounds M        memory-phase samples per variant, median reported (default 3)
  --quiet-wait S        total seconds the run may spend waiting for other processes to go
                        quiet before rounds (default 40; at most 5 s per round; 0 disables)
  --quick               shake-out run: 2 rounds of 2 s
  --write-docs          rewrite the ${name} section of docs/benchmarks.md
  --docs FILE           markdown file --write-docs rewrites (default docs/benchmarks.md)
  --out FILE            raw results (default bench/results/${name}.json)
${Object.entries(spec.flags ?? {})
  .map(([k, f]) => `${`  --${k} N`.padEnd(24)}${f.help} (default ${f.default})\n`)
  .join('')}  --dist DIR            middleware build the tidewatch variant imports (default
                        packages/middleware/dist; keep DIR inside the repository)`;

  const argv = process.argv.slice(2);
  const args = parseArgs(argv);
  if (args.help) {
    console.log(HELP);
    process.exit(0);
  }

  function fail(message) {
    console.error(`${name}: ${message}`);
    process.exit(1);
  }

  const quick = args.quick === true;
  const cfg = {
    rounds: num(args, 'rounds', quick ? 2 : 5, { integer: true }),
    connections: num(args, 'connections', 200, { min: 1, integer: true }),
    inflight: num(args, 'inflight', 10, { min: 1, integer: true }),
    size: num(args, 'size', 64, { min: 0, integer: true }),
    warmup: num(args, 'warmup', 1.5),
    duration: num(args, 'duration', quick ? 2 : 5, { min: 0.1 }),
    memConnections: num(args, 'mem-connections', 2000, { integer: true }),
    quietWait: num(args, 'quiet-wait', 40),
    memRounds: num(args, 'mem-rounds', 3, { min: 1, integer: true }),
    extra: Object.fromEntries(
      Object.entries(spec.flags ?? {}).map(([k, f]) => [
        k,
        num(args, k, f.default, { min: f.min ?? 0, integer: true }),
      ]),
    ),
    variants: (typeof args.variants === 'string' ? args.variants : VARIANTS.join(','))
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    writeDocs: args['write-docs'] === true,
    docs: path.resolve(typeof args.docs === 'string' ? args.docs : DOC),
    out: path.resolve(
      typeof args.out === 'string' ? args.out : path.join(root, `bench/results/${name}.json`),
    ),
  };

  // Connections opened before the "before" snapshot. They absorb one-time costs that would
  // otherwise be divided into bytes/connection: lazy compilation and, above all, the optimized
  // code V8 generates once the connection path gets hot (a few hundred KB of heap, i.e. 100+
  // bytes per connection at N=2000 and different from run to run).
  const memPrime = Math.max(50, Math.round(cfg.memConnections / 4));

  for (const v of cfg.variants) {
    if (!VARIANTS.includes(v))
      fail(`unknown variant "${v}"; expected some of ${VARIANTS.join(',')}`);
  }
  const others = () => cfg.variants.filter((x) => x !== tw.variant).join(',');
  if (tw && cfg.variants.includes(tw.variant)) {
    const dist = path.join(root, 'packages/middleware/dist');
    for (const f of ['index.js', ...tw.files]) {
      if (!fs.existsSync(path.join(dist, f))) {
        fail(
          `the ${tw.variant} variant needs packages/middleware/dist/${f}, which does not exist.\n` +
            `Build it first (\`npx turbo run build\` or \`npm run build\`), or leave the variant ` +
            `out: --variants ${others()}`,
        );
      }
    }
  }

  /**
   * Copies the built middleware (ESM files only) to a private directory for the whole run.
   * tsup builds with `clean: true`, so a rebuild in another terminal would otherwise delete
   * dist under a running benchmark, or silently swap the code under test between rounds. The
   * copy lives under the repo's gitignored tmp/ so its bare imports (prom-client, ...) still
   * resolve from the root node_modules.
   */
  async function snapshotTidewatchDist() {
    // --dist: a build of the middleware elsewhere (e.g. `npx tsup --out-dir tmp/x` in
    // packages/middleware), to measure a change without touching the shared dist.
    const src = args.dist ? path.resolve(args.dist) : path.join(root, 'packages/middleware/dist');
    const dst = path.join(root, 'tmp', `${name}-dist-${process.pid}`);
    for (let attempt = 1; ; attempt++) {
      let problem = null;
      try {
        fs.rmSync(dst, { recursive: true, force: true });
        fs.mkdirSync(dst, { recursive: true });
        const files = fs
          .readdirSync(src)
          .filter((f) => f.endsWith('.js'))
          .sort();
        const hash = createHash('sha256');
        for (const f of files) {
          const body = fs.readFileSync(path.join(src, f));
          hash.update(f).update(body);
          fs.writeFileSync(path.join(dst, f), body);
        }
        fs.writeFileSync(path.join(dst, 'package.json'), '{ "type": "module" }\n');
        // Importing proves the copy is complete (a build may have been mid-write).
        const mods = {};
        for (const f of ['index.js', ...tw.files]) {
          mods[f] = await import(pathToFileURL(path.join(dst, f)).href);
        }
        problem = tw.check?.(mods) ?? null;
        if (problem === null) {
          return {
            dir: dst,
            sha256: hash.digest('hex').slice(0, 12),
            builtAt: fs.statSync(path.join(src, 'index.js')).mtime.toISOString(),
          };
        }
      } catch (err) {
        if (attempt >= 5) {
          fs.rmSync(dst, { recursive: true, force: true });
          fail(`could not snapshot packages/middleware/dist: ${err.message}`);
        }
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      // The dist imports fine but lacks what the variant needs: not a half-written build.
      fs.rmSync(dst, { recursive: true, force: true });
      fail(`${problem}\nLeave the variant out meanwhile: --variants ${others()}`);
    }
  }

  // The memory phase holds N sockets in the client and N in the server. Node raises its own
  // soft open-file limit to the hard limit at startup (and children inherit that), so the
  // hard limit is the one that matters; checking it here turns a mid-phase EMFILE into a
  // clear error.
  {
    const need = cfg.memConnections + memPrime + cfg.connections + 1024;
    const soft = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
    if (soft !== 'unlimited' && Number(soft) < need) {
      fail(
        `open-file limit for child processes is ${soft} but the memory phase needs ~${need}; ` +
          `raise the hard limit (ulimit -Hn / LimitNOFILE) or pass a smaller --mem-connections`,
      );
    }
  }

  let tidewatchDist = null;
  let quietBudgetMs = cfg.quietWait * 1000;

  /**
   * Before a round, waits (bounded per round and per run) until other processes use less
   * than QUIET_PCT of a core. The closed loop is very sensitive to a third process landing on
   * either pinned core: one stalled side idles the other, so 15% foreign CPU can cost 40% of
   * throughput. Waiting a few seconds for a build or test run to pass is cheaper than a
   * contaminated round; if it does not pass, the round runs anyway and is flagged.
   */
  async function waitForQuiet() {
    const t0 = Date.now();
    const limit = Math.min(5000, quietBudgetMs);
    for (;;) {
      const a = readCpuTimes();
      if (!a) return { waitedMs: 0, otherPct: Number.NaN };
      await new Promise((r) => setTimeout(r, 300));
      const b = readCpuTimes();
      const otherPct = ((b.busyMs - a.busyMs) / 300) * 100;
      const waitedMs = Date.now() - t0;
      if (otherPct < QUIET_PCT || waitedMs >= limit) {
        // Only time spent beyond the first sample counts against the budget.
        quietBudgetMs = Math.max(0, quietBudgetMs - Math.max(0, waitedMs - 300));
        return { waitedMs, otherPct };
      }
    }
  }

  function extraArgs() {
    return Object.entries(cfg.extra).map(([k, v]) => `--${k}=${v}`);
  }

  async function startServer(variant, execArgv = []) {
    const serverArgs = [`--variant=${variant}`, ...extraArgs()];
    if (tw && variant === tw.variant) serverArgs.push(`--tidewatch-dist=${tidewatchDist.dir}`);
    const server = new Peer(`server:${variant}`, spawnPinned(SERVER, serverArgs, 0, execArgv));
    try {
      const ready = await server.wait('ready', 20_000);
      return { server, url: spec.url(ready.port) };
    } catch (err) {
      server.kill();
      throw err;
    }
  }

  /**
   * One measured round. Protocol: the server sends `ready {port}` and answers the requests
   * start / stop / verify / stats / mem / exit; the client (load mode) sends `measure-start`,
   * `measure-stop` and finally `result`.
   */
  async function runRound(variant, round, position) {
    const { server, url } = await startServer(variant);
    let client;
    try {
      client = new Peer(
        'client',
        spawnPinned(
          CLIENT,
          [
            `--url=${url}`,
            `--connections=${cfg.connections}`,
            `--inflight=${cfg.inflight}`,
            `--size=${cfg.size}`,
            `--warmup=${cfg.warmup}`,
            `--duration=${cfg.duration}`,
            ...extraArgs(),
          ],
          1,
        ),
      );
      // The client owns the clock (its window is what msgs/s is computed over); the server's
      // window follows it within one IPC hop, and CPU/msg uses the server's own echo count
      // over its own window, so that hop's skew cancels out.
      let startReq = null;
      let stopReq = null;
      let sys0 = null;
      let sys1 = null;
      let driver0 = null;
      let driverCpu = null;
      client.on('measure-start', () => {
        startReq = server.request('start');
        startReq.catch(() => {});
        sys0 = readCpuTimes();
        driver0 = process.cpuUsage();
      });
      client.on('measure-stop', () => {
        stopReq = server.request('stop');
        stopReq.catch(() => {});
        sys1 = readCpuTimes();
        driverCpu = process.cpuUsage(driver0);
      });
      const { result: c } = await client.wait(
        'result',
        (cfg.warmup + cfg.duration + 40) * 1000,
        undefined,
        'client result',
      );
      if (!startReq || !stopReq) throw new Error('client finished without a measure window');
      await startReq;
      const s = await stopReq;
      await client.stop(5000);
      const verify = await server.request('verify', 10_000);
      const cpuUs = s.cpuUserUs + s.cpuSystemUs;
      let foreignCpuPct = Number.NaN;
      let stealPct = Number.NaN;
      let irqPct = Number.NaN;
      if (sys0 && sys1) {
        const ours =
          (cpuUs +
            (c.clientCpuPct / 100) * c.elapsedMs * 1000 +
            driverCpu.user +
            driverCpu.system) /
          1000;
        foreignCpuPct = Math.max(0, ((sys1.busyMs - sys0.busyMs - ours) / c.elapsedMs) * 100);
        stealPct = ((sys1.stealMs - sys0.stealMs) / c.elapsedMs) * 100;
        irqPct = ((sys1.irqMs - sys0.irqMs) / c.elapsedMs) * 100;
      }
      return {
        variant,
        round,
        position,
        msgsPerSec: c.msgsPerSec,
        rttMs: c.rttMs,
        clientEchoes: c.echoes,
        clientElapsedMs: c.elapsedMs,
        clientCpuPct: c.clientCpuPct,
        clientElu: c.clientElu,
        drained: c.drained,
        badEchoes: c.badEchoes,
        totalSent: c.totalSent,
        totalReceived: c.totalReceived,
        server: s,
        cpuUsPerMsg: cpuUs / s.echoed,
        rssMB: s.rss / 2 ** 20,
        foreignCpuPct,
        stealPct,
        irqPct,
        verify,
      };
    } finally {
      client?.kill();
      await shutdownServer(server);
    }
  }

  /**
   * One memory sample. Protocol: the client (idle mode) opens --prime connections and sends
   * `primed`; on `{cmd: 'more'}` it opens --connections more and sends `connected`; on
   * `{cmd: 'close'}` it closes everything and sends `result`.
   */
  async function runMemory(variant) {
    const n = cfg.memConnections;
    const { server, url } = await startServer(variant, ['--expose-gc']);
    let client;
    try {
      client = new Peer(
        'client:idle',
        spawnPinned(
          CLIENT,
          [`--mode=idle`, `--url=${url}`, `--connections=${n}`, `--prime=${memPrime}`],
          1,
        ),
      );
      await client.wait('primed', 30_000);
      await waitForClients(server, memPrime, 10_000);
      const before = await server.request('mem');
      client.send({ cmd: 'more' });
      await client.wait('connected', 60_000);
      await waitForClients(server, memPrime + n, 30_000);
      const after = await server.request('mem');
      client.send({ cmd: 'close' });
      await client.wait('result', 15_000);
      await client.stop(3000);
      const per = (k) => (after[k] - before[k]) / n;
      return {
        variant,
        connections: n,
        before,
        after,
        heapPerConn: per('heapUsed'),
        arrayBuffersPerConn: per('arrayBuffers'),
        externalPerConn: per('external'),
        rssPerConn: per('rss'),
      };
    } finally {
      client?.kill();
      await shutdownServer(server);
    }
  }

  function machineInfo() {
    const git = (...a) => spawnSync('git', a, { cwd: root, encoding: 'utf8' }).stdout?.trim() ?? '';
    return {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      memGB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      packages: Object.fromEntries(
        spec.packages.map(([label, dir, pkg]) => [label, installedVersion(pkg, dir)]),
      ),
      pinned: pinned ? 'server on core 0, client on core 1 (taskset)' : 'not pinned (no taskset)',
      commit: git('rev-parse', '--short', 'HEAD'),
      dirty: git('status', '--porcelain').length > 0,
      loadavgBefore: os.loadavg(),
      otherCpuPctBefore: otherCpuPct(),
    };
  }

  // ---- summary and formatting ------------------------------------------------------------

  function summarize(runs, memory) {
    const ok = runs.filter((r) => !r.error);
    const byRound = (v, round) => ok.find((r) => r.variant === v && r.round === round);
    const hasBase = cfg.variants.includes(baseline);
    const memOk = memory.filter((m) => !m.error);
    const memOf = (v, k) => median(memOk.filter((m) => m.variant === v).map((m) => m[k]));
    const memDeltas = (v) =>
      memOk
        .filter((m) => m.variant === v)
        .map((m) => {
          const b = memOk.find((x) => x.variant === baseline && x.round === m.round);
          return b ? m.heapPerConn - b.heapPerConn : Number.NaN;
        });
    return cfg.variants.map((v) => {
      const rs = ok.filter((r) => r.variant === v);
      const paired = (f) =>
        hasBase
          ? rs
              .map((r) => {
                const b = byRound(baseline, r.round);
                return b ? f(r, b) : Number.NaN;
              })
              .filter(Number.isFinite)
          : [];
      const tput = rs.map((r) => r.msgsPerSec);
      const ratios = paired((r, b) => r.msgsPerSec / b.msgsPerSec);
      const p99s = rs.map((r) => r.rttMs.p99);
      const p99Ratios = paired((r, b) => r.rttMs.p99 / b.rttMs.p99);
      const cpu = rs.map((r) => r.cpuUsPerMsg);
      const cpuDeltas = paired((r, b) => r.cpuUsPerMsg - b.cpuUsPerMsg);
      const user = rs.map((r) => r.server.cpuUserUs / r.server.echoed);
      return {
        variant: v,
        rounds: rs.length,
        failedRounds: runs.filter((r) => r.variant === v && r.error).length,
        msgsPerSec: { median: median(tput), range: minMax(tput), spreadPct: spreadPct(tput) },
        ratio: { median: median(ratios), range: minMax(ratios) },
        p99Ms: median(p99s),
        p50Ms: median(rs.map((r) => r.rttMs.p50)),
        p99Ratio: median(p99Ratios),
        cpuUsPerMsg: { median: median(cpu), range: minMax(cpu), spreadPct: spreadPct(cpu) },
        cpuDeltaUsPerMsg: median(cpuDeltas),
        userUsPerMsg: { median: median(user), spreadPct: spreadPct(user) },
        userDeltaUsPerMsg: median(
          paired(
            (r, b) => r.server.cpuUserUs / r.server.echoed - b.server.cpuUserUs / b.server.echoed,
          ),
        ),
        rssMB: median(rs.map((r) => r.rssMB)),
        serverElu: median(rs.map((r) => r.server.elu)),
        clientCpuPct: median(rs.map((r) => r.clientCpuPct)),
        scrapeMsMean: median(rs.map((r) => r.server.scrapes.totalMs / r.server.scrapes.count)),
        scrapeMsMax: Math.max(...rs.map((r) => r.server.scrapes.maxMs)),
        countMismatches: rs.filter((r) => !r.verify.ok).length,
        otherCpuPct: median(rs.map((r) => r.foreignCpuPct)),
        otherCpuPctMax: minMax(rs.map((r) => r.foreignCpuPct))[1],
        memSamples: memOk.filter((m) => m.variant === v).length,
        heapPerConn: memOf(v, 'heapPerConn'),
        heapPerConnRange: minMax(memOk.filter((m) => m.variant === v).map((m) => m.heapPerConn)),
        heapDeltaPerConn: median(memDeltas(v)),
        arrayBuffersPerConn: memOf(v, 'arrayBuffersPerConn'),
        rssPerConn: memOf(v, 'rssPerConn'),
      };
    });
  }

  function renderTables(summary) {
    const main = [
      `| variant | msgs/s median (min–max) | ratio vs ${baseline} (min–max) | p99 RTT ms | p99 ratio | server user+sys CPU µs/msg | Δ CPU µs/msg vs ${baseline} | RSS MB | heap bytes/conn (Δ vs ${baseline}) |`,
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const s of summary) {
      const isBase = s.variant === baseline;
      const [lo, hi] = s.msgsPerSec.range;
      const [rlo, rhi] = s.ratio.range;
      main.push(
        `| ${s.variant}${s.failedRounds ? ` (${s.failedRounds} failed)` : ''}${s.countMismatches ? ' ⚠ count mismatch' : ''} ` +
          `| ${int(s.msgsPerSec.median)} (${int(lo)}–${int(hi)}) ` +
          `| ${isBase ? '1.00x' : `${fix(s.ratio.median, 2)}x (${fix(rlo, 2)}–${fix(rhi, 2)})`} ` +
          `| ${fix(s.p99Ms, 2)} | ${isBase ? '1.00x' : `${fix(s.p99Ratio, 2)}x`} ` +
          `| ${fix(s.cpuUsPerMsg.median, 2)} | ${isBase ? '—' : signed(s.cpuDeltaUsPerMsg, 2)} ` +
          `| ${fix(s.rssMB, 0)} ` +
          `| ${int(s.heapPerConn)}${isBase || !Number.isFinite(s.heapDeltaPerConn) ? '' : ` (${signedInt(s.heapDeltaPerConn)})`} |`,
      );
    }
    const details = [
      '| variant | server user CPU µs/msg (Δ) | p50 RTT ms | server event-loop utilization | client CPU % of a core | other processes CPU % (max) | scrape ms mean (max) | heap bytes/conn min–max | RSS bytes/conn |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ];
    for (const s of summary) {
      details.push(
        `| ${s.variant} | ${fix(s.userUsPerMsg.median, 2)}` +
          `${s.variant === baseline ? '' : ` (${signed(s.userDeltaUsPerMsg, 2)})`} ` +
          `| ${fix(s.p50Ms, 2)} | ${fix(s.serverElu, 2)} | ${fix(s.clientCpuPct, 0)} ` +
          `| ${fix(s.otherCpuPct, 0)} (${fix(s.otherCpuPctMax, 0)}) ` +
          `| ${fix(s.scrapeMsMean, 2)} (${fix(s.scrapeMsMax, 1)}) ` +
          `| ${int(s.heapPerConnRange[0])}–${int(s.heapPerConnRange[1])} | ${int(s.rssPerConn)} |`,
      );
    }
    return { main: main.join('\n'), details: details.join('\n') };
  }

  function observations(summary, runs) {
    const notes = [];
    const base = summary.find((s) => s.variant === baseline);
    if (base && base.clientCpuPct >= 90 && base.serverElu < 0.95) {
      notes.push(
        `The client, not the server, limits ${baseline} throughput (client at ${fix(base.clientCpuPct, 0)}% of its core, ` +
          `server event loop ${fix(base.serverElu * 100, 0)}% busy): ${baseline} msgs/s is a lower bound on the ` +
          `server's capacity, so throughput ratios understate overhead; CPU µs/msg does not depend on it.`,
      );
    } else if (base && base.clientCpuPct >= 90) {
      notes.push(
        `Client and server are both near saturation in ${baseline} (client ${fix(base.clientCpuPct, 0)}% of its core, ` +
          `server event loop ${fix(base.serverElu * 100, 0)}% busy); throughput ratios may understate overhead.`,
      );
    }
    const noisy = summary.filter((s) => s.otherCpuPctMax > 15);
    if (noisy.length) {
      notes.push(
        `Other processes used up to ${fix(Math.max(...noisy.map((s) => s.otherCpuPctMax)), 0)}% of a core ` +
          'during some measure windows (see the JSON, `foreignCpuPct` per round); those rounds are ' +
          'slower for reasons unrelated to the variant.',
      );
    }
    for (const s of summary) {
      if (s.countMismatches) {
        notes.push(
          `${s.variant}: scraped message count differed from the echo count in ${s.countMismatches} round(s).`,
        );
      }
      if (s.failedRounds)
        notes.push(`${s.variant}: ${s.failedRounds} round(s) failed (see the JSON).`);
    }
    notes.push(...(spec.extraNotes?.(summary, { cfg, runs, quietPct: QUIET_PCT }) ?? []));
    return notes;
  }

  function noiseParagraph(summary, runs) {
    const noisyRounds = runs.filter((r) => r.foreignCpuPct > QUIET_PCT).length;
    const range = (k) => minMax(summary.map((s) => s[k].spreadPct));
    const [tlo, thi] = range('msgsPerSec');
    const [clo, chi] = range('cpuUsPerMsg');
    const sysShare = median(
      runs.map((r) => r.server.cpuSystemUs / (r.server.cpuUserUs + r.server.cpuSystemUs)),
    );
    return (
      `**Noise.** In this run the per-variant spread (max − min over the ${cfg.rounds} rounds, as a ` +
      `share of the median) was ${fix(tlo, 0)}–${fix(thi, 0)}% for msgs/s and ${fix(clo, 0)}–${fix(chi, 0)}% ` +
      `for server CPU µs/msg; ${noisyRounds} of ${runs.length} measure windows had other processes ` +
      `above ${QUIET_PCT}% of a core. Rounds are interleaved with the variant order rotated, and ` +
      `ratios and Δ columns are medians of per-round paired ratios/differences (so a Δ need not ` +
      `equal the difference of the medians shown), which spreads slow drift of the machine over ` +
      `every variant; still, treat throughput differences under ~10% as within noise. The CPU ` +
      `µs/msg column is the steadier signal: it is the server's own CPU time divided by the echoes ` +
      `it served, so it does not depend on how hard the client managed to push. About ` +
      `${fix(sysShare * 100, 0)}% of that time is kernel time for the loopback socket I/O, the same ` +
      `work in every variant; the user-CPU column in the diagnostics isolates what the ` +
      `instrumentation adds.`
    );
  }

  function commandLine() {
    const rest = argv.filter((a) => a !== '--write-docs');
    return rest.length === 0 ? 'npm run bench' : `node bench/${name}/run.mjs ${argv.join(' ')}`;
  }

  function docsSection(meta, summary, tables, notes, runs) {
    const m = meta.machine;
    const pk = Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const lines = [
      `_Generated by \`bench/${name}/run.mjs\` on ${meta.date.slice(0, 10)}; command: \`${meta.command}\`; ` +
        `total wall time ${fix(meta.wallTimeSec, 0)} s._`,
      '',
      `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memGB} GB, ${m.os}; ${m.pinned}`,
      `- **Software:** Node ${m.node}; ${pk}` +
        (m.tidewatchDist
          ? ` (dist sha256 ${m.tidewatchDist.sha256}, built ${m.tidewatchDist.builtAt})`
          : '') +
        `; commit ${m.commit}${m.dirty ? ' (uncommitted changes)' : ''}`,
      `- **Load:** ${cfg.connections} connections × ${cfg.inflight} messages in flight × ${spec.payload(cfg)}; ` +
        `${cfg.rounds} interleaved rounds of ${cfg.warmup} s warm-up + ${cfg.duration} s measured per variant; ` +
        `every variant scrapes itself once per second. Memory phase: ${cfg.memConnections} idle ` +
        `connections after ${memPrime} priming ones, median of ${cfg.memRounds} samples per variant.`,
      '',
      tables.main,
      '',
      'Diagnostics (medians over rounds):',
      '',
      tables.details,
      '',
      noiseParagraph(summary, runs),
    ];
    for (const n of notes) lines.push('', `> **Note.** ${n}`);
    return lines.join('\n');
  }

  function writeDocs(section) {
    const file = cfg.docs;
    let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : spec.docHeader;
    let i = text.indexOf(DOC_START);
    let j = text.indexOf(DOC_END);
    if (i === -1 || j === -1 || j < i) {
      text = `${text.trimEnd()}\n\n## ${name}\n\n${DOC_START}\n${DOC_END}\n`;
      i = text.indexOf(DOC_START);
      j = text.indexOf(DOC_END);
    }
    const out = `${text.slice(0, i + DOC_START.length)}\n${section}\n${text.slice(j)}`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, out);
  }

  // ---- main ------------------------------------------------------------------------------

  const t0 = Date.now();
  const machine = machineInfo();
  if (tw && cfg.variants.includes(tw.variant)) {
    tidewatchDist = await snapshotTidewatchDist();
    const cleanup = () => {
      fs.rmSync(tidewatchDist.dir, { recursive: true, force: true });
      try {
        fs.rmdirSync(path.dirname(tidewatchDist.dir)); // only if we left it empty
      } catch {}
    };
    process.once('exit', cleanup);
    process.once('SIGINT', () => process.exit(130));
    machine.tidewatchDist = { sha256: tidewatchDist.sha256, builtAt: tidewatchDist.builtAt };
  }
  // Not the load average: that still remembers the previous benchmark run for minutes.
  if (machine.otherCpuPctBefore > 10) {
    console.error(
      `${name}: warning: ${machine.otherCpuPctBefore.toFixed(0)}% of a core busy before start; ` +
        'other work on this machine will add noise (see "other CPU %" per round)',
    );
  }
  const perRound = cfg.warmup + cfg.duration + 1;
  console.log(
    `${name}: ${cfg.variants.join(', ')} | ${cfg.rounds} rounds × (${cfg.warmup}+${cfg.duration}) s | ` +
      `${cfg.connections} conns × ${cfg.inflight} in flight × ${cfg.size} B | ${machine.pinned} | ` +
      `~${Math.ceil((cfg.rounds * cfg.variants.length * perRound) / 60)} min`,
  );
  const pad = Math.max(10, ...cfg.variants.map((v) => v.length));

  const runs = [];
  for (let round = 1; round <= cfg.rounds; round++) {
    // Rotating the order means no variant always runs first (cold page cache, CPU boost
    // state) or right after the most expensive one.
    const k = (round - 1) % cfg.variants.length;
    const order = [...cfg.variants.slice(k), ...cfg.variants.slice(0, k)];
    for (const [position, v] of order.entries()) {
      try {
        const quiet = await waitForQuiet();
        const r = await runRound(v, round, position);
        r.quietWait = quiet;
        runs.push(r);
        const check = r.verify.counts ? (r.verify.ok ? 'counts ok' : 'COUNT MISMATCH') : '';
        console.log(
          `  round ${round} ${v.padEnd(pad)} ${int(r.msgsPerSec).padStart(9)} msg/s  ` +
            `p50 ${fix(r.rttMs.p50, 2)} p99 ${fix(r.rttMs.p99, 2)} ms  ` +
            `${fix(r.cpuUsPerMsg, 2)} µs/msg  srv ELU ${fix(r.server.elu, 2)}  ` +
            `client CPU ${fix(r.clientCpuPct, 0)}%  other CPU ${fix(r.foreignCpuPct, 0)}%  ${check}` +
            (quiet.waitedMs > 1000
              ? `  (waited ${fix(quiet.waitedMs / 1000, 1)} s for quiet)`
              : ''),
        );
        if (r.verify.counts && !r.verify.ok) {
          console.error(
            `\n!!! ${v} round ${round}: scraped in=${r.verify.scrapedIn} out=${r.verify.scrapedOut} ` +
              `but the server echoed ${r.verify.echoed} messages !!!\n`,
          );
        }
        if (!r.drained || r.badEchoes || r.totalSent !== r.totalReceived) {
          console.error(
            `!!! ${v} round ${round}: client sent ${r.totalSent}, received ${r.totalReceived} ` +
              `(drained=${r.drained}, bad echoes=${r.badEchoes})`,
          );
        }
      } catch (err) {
        console.error(`  round ${round} ${v}: FAILED: ${err.message}`);
        runs.push({ variant: v, round, position, error: err.message });
      }
    }
  }

  const memory = [];
  if (cfg.memConnections > 0) {
    console.log(
      `memory phase: ${cfg.memRounds} × ${cfg.memConnections} idle connections per variant ` +
        `(after ${memPrime} priming connections)`,
    );
    // Repeated and rotated like the throughput rounds: a single sample moves by ~±100 B/conn
    // from run to run (GC and JIT timing), which is the size of the differences we report.
    for (let round = 1; round <= cfg.memRounds; round++) {
      const k = (round - 1) % cfg.variants.length;
      for (const v of [...cfg.variants.slice(k), ...cfg.variants.slice(0, k)]) {
        try {
          const m = await runMemory(v);
          m.round = round;
          memory.push(m);
          console.log(
            `  round ${round} ${v.padEnd(pad)} heap ${int(m.heapPerConn)} B/conn, arrayBuffers ` +
              `${int(m.arrayBuffersPerConn)} B/conn, rss ${int(m.rssPerConn)} B/conn`,
          );
        } catch (err) {
          console.error(`  memory round ${round} ${v}: FAILED: ${err.message}`);
          memory.push({ variant: v, round, error: err.message });
        }
      }
    }
  }

  const summary = summarize(runs, memory);
  const tables = renderTables(summary);
  const notes = observations(
    summary,
    runs.filter((r) => !r.error),
  );
  const meta = {
    date: new Date().toISOString(),
    command: commandLine(),
    config: cfg,
    machine: { ...machine, loadavgAfter: os.loadavg() },
    wallTimeSec: (Date.now() - t0) / 1000,
  };

  fs.mkdirSync(path.dirname(cfg.out), { recursive: true });
  fs.writeFileSync(cfg.out, `${JSON.stringify({ meta, summary, runs, memory }, null, 2)}\n`);

  console.log(`\n${tables.main}\n\n${tables.details}\n`);
  for (const n of notes) console.log(`note: ${n}`);
  console.log(
    `\nraw results: ${path.relative(root, cfg.out)}; wall time ${fix(meta.wallTimeSec, 0)} s`,
  );

  if (cfg.writeDocs) {
    writeDocs(
      docsSection(
        meta,
        summary,
        tables,
        notes,
        runs.filter((r) => !r.error),
      ),
    );
    console.log(`updated ${path.relative(root, cfg.docs)}`);
  }

  const bad =
    runs.some((r) => r.error || (r.verify.counts && !r.verify.ok)) || memory.some((m) => m.error);
  if (bad) process.exitCode = 1;
  return { meta, summary, runs, memory };
}

// ---- process plumbing (no per-benchmark state) ---------------------------------------------

const QUIET_PCT = 10;

const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => fs.existsSync(p)) ?? null;
const pinned = taskset !== null && os.cpus().length >= 2;

/**
 * fork() with the child pinned to one core. `execPath` is replaced by taskset and node's
 * path moves into execArgv, so the IPC channel fork sets up (inherited fd + env) survives the
 * extra exec. Pinning server and client apart keeps them from competing for one core and
 * stops the scheduler from migrating the server mid-round, the largest source of run-to-run
 * noise on a 2-core box.
 */
function spawnPinned(script, scriptArgs, core, execArgv = []) {
  const opts = { cwd: root, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] };
  if (pinned) {
    opts.execPath = taskset;
    opts.execArgv = ['-c', String(core), process.execPath, ...execArgv];
  } else {
    opts.execArgv = execArgv;
  }
  return fork(script, scriptArgs, opts);
}

async function shutdownServer(server) {
  try {
    await server.request('exit', 3000);
  } catch {
    // Already dead or wedged: stop() below kills it either way.
  }
  await server.stop(3000);
}

async function waitForClients(server, target, timeoutMs) {
  const { clients } = await pollFor(
    () => server.request('stats'),
    (s) => s.clients === target,
    { timeoutMs, intervalMs: 50 },
  );
  if (clients !== target) throw new Error(`server has ${clients} connections, expected ${target}`);
}

/**
 * System-wide CPU time from /proc/stat (ms), or null off Linux. Subtracting the server's and
 * client's own CPU from the system total over a window gives the CPU that *other* processes
 * used meanwhile: on a shared 2-core box that is the main reason a round is an outlier, and
 * steal time says the same about the hypervisor.
 */
function readCpuTimes() {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f.slice(1, 9).map(Number);
    const tick = 1000 / 100; // USER_HZ is 100 on every mainstream Linux build
    // irq/softirq stay out of "busy": loopback TCP processing for our own traffic lands there
    // (not in any process's CPU time), so counting it would blame our load on others.
    return {
      busyMs: (user + nice + system) * tick,
      irqMs: (irq + softirq) * tick,
      stealMs: steal * tick,
      totalMs: (user + nice + system + idle + iowait + irq + softirq + steal) * tick,
    };
  } catch {
    return null;
  }
}

/** Share of the machine (percent of one core) busy over a short idle sample before we start. */
function otherCpuPct(ms = 1000) {
  const a = readCpuTimes();
  if (!a) return Number.NaN;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const b = readCpuTimes();
  return ((b.busyMs - a.busyMs) / ms) * 100;
}

const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const fix = (x, d) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const signed = (x, d) => (Number.isFinite(x) ? (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(d) : '—');
const signedInt = (x) =>
  Number.isFinite(x) ? (x >= 0 ? '+' : '−') + Math.abs(Math.round(x)).toLocaleString('en-US') : '—';
const spreadPct = (xs) => {
  const [lo, hi] = minMax(xs);
  return ((hi - lo) / median(xs)) * 100;
};

export { fix, int };
