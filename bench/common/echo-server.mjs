// The server process of an echo benchmark (ws-echo, sio-echo) around its transport: started by
// run.mjs with `child_process.fork` (one fresh process per round, so JIT state, heap growth and
// metric series never leak from one variant or round into the next) and driven over the IPC
// protocol of ./peer.mjs (start / stop / verify / stats / mem / exit). It can also run
// standalone for manual poking: it then prints the URL and exits after --max-seconds.
//
// What a transport brings (see runEchoServer): a listening server, its echo handler counting
// what it echoed, and the variant's instrumentation, each variant with
// - `scrape()`: what a metrics pull costs for this stack (text exposition or OTel collect);
// - `count()`: scraped message totals {in, out}, for the end-of-round accounting check;
// - `counts`: whether `count()` means anything (false for the uninstrumented baseline);
// - optionally `countMetric` (named in the verify reply) and `close()`.
import { performance } from 'node:perf_hooks';
import { serveIpc } from './peer.mjs';
import { num, parseArgs } from './util.mjs';

/**
 * Runs one echo-server variant process.
 *
 * @param {object} options
 * @param {string[]} options.variants - The variants `--variant` may name.
 * @param {(variant: string, args: object) => Promise<{
 *   port: number, url: string, variant: object,
 *   echoed(): number, clients(): number, shutdown(): void,
 *   expectedOut?(echoed: number): number,
 * }>} options.start - Starts the transport's server with the variant's instrumentation
 *   attached and resolves once it listens.
 */
export function runEchoServer({ variants, start }) {
  const args = parseArgs(process.argv.slice(2));
  const variant = args.variant;
  const ipc = typeof process.send === 'function';

  function fatal(message) {
    if (ipc) process.send({ type: 'fatal', message });
    else console.error(message);
    // Let the IPC message flush before exiting; exitCode alone would keep a live server up.
    setTimeout(() => process.exit(1), 50);
  }

  if (!variants.includes(variant)) {
    fatal(`unknown --variant=${variant}; expected one of ${variants.join(', ')}`);
    return;
  }
  main().catch((err) => fatal(`server (${variant}) failed: ${err?.stack ?? err}`));

  async function main() {
    const server = await start(variant, args);
    const v = server.variant;

    // Scrape every second from startup on, so collection cost is part of what the measure
    // window sees (a real Prometheus/OTel pipeline would be pulling continuously).
    const scrapeStats = { count: 0, totalMs: 0, maxMs: 0 };
    let scraping = null;
    let window = null;
    const scrapeTimer = setInterval(() => {
      // A scrape slower than the interval must not pile up concurrent scrapes.
      if (scraping) return;
      const t0 = performance.now();
      scraping = v
        .scrape()
        .then(() => {
          const ms = performance.now() - t0;
          if (window !== null) {
            scrapeStats.count++;
            scrapeStats.totalMs += ms;
            scrapeStats.maxMs = Math.max(scrapeStats.maxMs, ms);
            sampleMemory(window);
          }
        })
        .catch((err) => console.error(`scrape failed (${variant}):`, err))
        .finally(() => {
          scraping = null;
        });
    }, 1000);

    function sampleMemory(w) {
      const m = process.memoryUsage();
      w.rssPeak = Math.max(w.rssPeak, m.rss);
      w.heapUsedPeak = Math.max(w.heapUsedPeak, m.heapUsed);
    }

    const handlers = {
      start() {
        scrapeStats.count = 0;
        scrapeStats.totalMs = 0;
        scrapeStats.maxMs = 0;
        window = {
          t0: performance.now(),
          cpu0: process.cpuUsage(),
          elu0: performance.eventLoopUtilization(),
          echoed0: server.echoed(),
          rssPeak: 0,
          heapUsedPeak: 0,
        };
        return { started: true };
      },
      stop() {
        if (window === null) throw new Error('stop without start');
        const w = window;
        const cpu = process.cpuUsage(w.cpu0);
        const elu = performance.eventLoopUtilization(w.elu0);
        const elapsedMs = performance.now() - w.t0;
        const count = server.echoed() - w.echoed0;
        // Sampled while the client is still loading us: the "under load" footprint.
        sampleMemory(w);
        const m = process.memoryUsage();
        window = null;
        return {
          elapsedMs,
          echoed: count,
          cpuUserUs: cpu.user,
          cpuSystemUs: cpu.system,
          elu: elu.utilization,
          rss: m.rss,
          heapUsed: m.heapUsed,
          rssPeak: w.rssPeak,
          heapUsedPeak: w.heapUsedPeak,
          scrapes: { ...scrapeStats },
        };
      },
      async verify() {
        // After the client has drained and closed: every echoed message must be in the
        // scrape, as received and as sent, or the variant measures less work than it claims.
        const scraped = await v.count();
        const echoed = server.echoed();
        // A broker fanning each message out to several subscribers sends more than it echoes.
        const out = server.expectedOut ? server.expectedOut(echoed) : echoed;
        const ok = v.counts ? scraped.in === echoed && scraped.out === out : true;
        return {
          echoed,
          counts: v.counts,
          scrapedIn: scraped.in,
          scrapedOut: scraped.out,
          ...(v.countMetric !== undefined ? { metric: v.countMetric } : {}),
          ok,
        };
      },
      stats: () => ({ clients: server.clients(), echoed: server.echoed() }),
      async mem() {
        if (typeof global.gc !== 'function') throw new Error('mem needs --expose-gc');
        // Scrape first, so both snapshots come after one: a stack's first collection can
        // allocate lasting state, which must not be counted as per-connection cost.
        await scraping;
        await v.scrape();
        // Twice: the first pass can leave objects that only become unreachable once weak
        // callbacks/finalizers from that pass have run.
        global.gc();
        global.gc();
        return process.memoryUsage();
      },
      exit() {
        clearInterval(scrapeTimer);
        v.close?.();
        server.shutdown();
        setTimeout(() => process.exit(0), 20);
        return { exiting: true };
      },
    };

    if (ipc) {
      // serveIpc also exits when the driver dies: nothing else would ever stop this process.
      serveIpc({ ready: { port: server.port, pid: process.pid }, handlers });
    } else {
      const maxSeconds = num(args, 'max-seconds', 600);
      console.log(`${variant}: ${server.url} (exits after ${maxSeconds} s)`);
      // The listening socket keeps the loop alive forever; a manual run must still end.
      setTimeout(() => process.exit(0), maxSeconds * 1000);
    }
  }
}
