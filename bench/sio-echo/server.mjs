// Socket.IO echo server for one sio-echo variant. Started by run.mjs with `child_process.fork`
// (one fresh process per round) and driven over the IPC protocol of bench/common/driver.mjs.
// Can also run standalone: `node bench/sio-echo/server.mjs --variant=baseline` prints the URL.
import http from 'node:http';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Server } from 'socket.io';
import { importFromRoot } from '../common/resolve.mjs';
import { EVENT, num, parseArgs, sumPromText, TIDEWATCH_MISSING, VARIANTS } from './common.mjs';

const args = parseArgs(process.argv.slice(2));
const variant = args.variant;
const ipc = typeof process.send === 'function';

function fatal(message) {
  if (ipc) process.send({ type: 'fatal', message });
  else console.error(message);
  // Let the IPC message flush before exiting; exitCode alone would keep a live server up.
  setTimeout(() => process.exit(1), 50);
}

if (!VARIANTS.includes(variant)) {
  fatal(`unknown --variant=${variant}; expected one of ${VARIANTS.join(', ')}`);
} else {
  main().catch((err) => fatal(`server (${variant}) failed: ${err?.stack ?? err}`));
}

async function main() {
  // Counted in every variant (including baseline) so the cost is identical everywhere; it is
  // the ground truth the scraped metrics are checked against.
  let echoed = 0;
  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    // WebSocket only, no long-polling upgrade dance: the same wire path as ws-echo, and the
    // client connects the same way (see client.mjs).
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    httpCompression: false,
  });

  // Instrumentation is attached before the echo handler is registered, the way each stack's
  // documentation shows it (right after creating the Server).
  const v = await setupVariant(variant, io);

  io.on('connection', (socket) => {
    socket.on(EVENT, (data) => {
      socket.emit(EVENT, data);
      echoed++;
    });
  });

  await new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    // The memory phase opens thousands of sockets in bursts; the default backlog (511) would
    // turn a burst into SYN retries and make the phase slow and flaky.
    httpServer.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
  });
  const { port } = httpServer.address();

  // Scrape every second from startup on, so collection cost is part of what the measure
  // window sees (a real Prometheus pipeline would be pulling continuously).
  const scrapeStats = { count: 0, totalMs: 0, maxMs: 0 };
  let scraping = false;
  let window = null;
  const scrapeTimer = setInterval(() => {
    if (scraping) return;
    scraping = true;
    const t0 = performance.now();
    v.scrape()
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
        scraping = false;
      });
  }, 1000);

  function sampleMemory(w) {
    const m = process.memoryUsage();
    w.rssPeak = Math.max(w.rssPeak, m.rss);
    w.heapUsedPeak = Math.max(w.heapUsedPeak, m.heapUsed);
  }

  async function handle(msg) {
    switch (msg.cmd) {
      case 'start': {
        scrapeStats.count = 0;
        scrapeStats.totalMs = 0;
        scrapeStats.maxMs = 0;
        window = {
          t0: performance.now(),
          cpu0: process.cpuUsage(),
          elu0: performance.eventLoopUtilization(),
          echoed0: echoed,
          rssPeak: 0,
          heapUsedPeak: 0,
        };
        return { started: true };
      }
      case 'stop': {
        if (window === null) throw new Error('stop without start');
        const w = window;
        const cpu = process.cpuUsage(w.cpu0);
        const elu = performance.eventLoopUtilization(w.elu0);
        const elapsedMs = performance.now() - w.t0;
        const count = echoed - w.echoed0;
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
      }
      case 'verify': {
        // After the client has drained and disconnected: every echoed event must be in the
        // scrape, as received and as sent, or the variant measures less work than it claims.
        const scraped = await v.count();
        const ok = v.counts ? scraped.in === echoed && scraped.out === echoed : true;
        return {
          echoed,
          counts: v.counts,
          scrapedIn: scraped.in,
          scrapedOut: scraped.out,
          metric: v.countMetric,
          ok,
        };
      }
      case 'stats':
        return { clients: io.of('/').sockets.size, echoed };
      case 'mem': {
        if (typeof global.gc !== 'function') throw new Error('mem needs --expose-gc');
        // Scrape first, so both snapshots come after one (a first collection can allocate
        // lasting state that is not per-connection cost), then gc twice for finalizers.
        while (scraping) await new Promise((r) => setTimeout(r, 5));
        await v.scrape();
        global.gc();
        global.gc();
        return process.memoryUsage();
      }
      case 'exit': {
        clearInterval(scrapeTimer);
        v.close?.();
        io.disconnectSockets(true);
        io.close().catch(() => {});
        setTimeout(() => process.exit(0), 20);
        return { exiting: true };
      }
      default:
        throw new Error(`unknown cmd ${msg.cmd}`);
    }
  }

  if (ipc) {
    process.on('message', (msg) => {
      handle(msg).then(
        (body) => process.send({ type: 'reply', id: msg.id, body }),
        (err) => process.send({ type: 'reply', id: msg.id, error: String(err?.stack ?? err) }),
      );
    });
    process.on('disconnect', () => process.exit(0));
    process.send({ type: 'ready', port, pid: process.pid });
  } else {
    const maxSeconds = num(args, 'max-seconds', 600);
    console.log(`${variant}: http://127.0.0.1:${port} (exits after ${maxSeconds} s)`);
    setTimeout(() => process.exit(0), maxSeconds * 1000);
  }
}

/**
 * Builds the per-variant instrumentation. Each returns `scrape()` (what one Prometheus pull
 * costs), `count()` (scraped received/sent totals for the end-of-round check) and the name
 * of the metric it checks.
 */
async function setupVariant(name, io) {
  switch (name) {
    case 'baseline':
      return {
        counts: false,
        countMetric: null,
        scrape: async () => '',
        count: async () => ({ in: Number.NaN, out: Number.NaN }),
      };

    case 'tidewatch': {
      // The repository's prom-client (15.x), the one @tidewatch/middleware itself imports;
      // a bare import here would find bench/node_modules/prom-client 14 (see resolve.mjs).
      const { Registry } = await importFromRoot('prom-client');
      let mw;
      let mwSio;
      try {
        // run.mjs passes a private copy of dist (see snapshotTidewatchDist in the driver).
        const dir = args['tidewatch-dist'];
        mw = await import(dir ? pathToFileURL(`${dir}/index.js`).href : '@tidewatch/middleware');
        mwSio = await import(
          dir ? pathToFileURL(`${dir}/socket.io.js`).href : '@tidewatch/middleware/socket.io'
        );
      } catch (err) {
        throw new Error(
          `the tidewatch variant needs the built package (packages/middleware/dist); run ` +
            `\`npx turbo run build\` first. Import failed: ${err?.message ?? err}`,
        );
      }
      if (typeof mwSio.instrumentSocketIo !== 'function') throw new Error(TIDEWATCH_MISSING);
      const registry = new Registry();
      const metrics = mw.createRealtimeMetrics({ registry });
      const detach = mwSio.instrumentSocketIo(io, metrics);
      const scrape = () => registry.metrics();
      const metric = metrics.names.messages;
      return {
        counts: true,
        countMetric: metric,
        scrape,
        count: async () => {
          const text = await scrape();
          return {
            in: sumPromText(text, metric, 'direction="in"'),
            out: sumPromText(text, metric, 'direction="out"'),
          };
        },
        close: typeof detach === 'function' ? detach : undefined,
      };
    }

    case 'socket.io-prometheus': {
      // The plugin as its README uses it: `require('socket.io-prometheus')(io)`. It registers
      // its metrics in the default registry of whatever prom-client it can require, which is
      // bench/node_modules/prom-client 14.2.0 (its peer range is >=10 <15). Resolving
      // prom-client from the plugin's own location gives exactly that instance.
      const require = createRequire(import.meta.url);
      const pluginPath = require.resolve('socket.io-prometheus');
      const promClient = createRequire(pluginPath)('prom-client');
      const plugin = require(pluginPath);
      plugin(io);
      const scrape = () => promClient.register.metrics();
      return {
        counts: true,
        countMetric: 'socket_io_events_received_total / socket_io_events_sent_total',
        scrape,
        count: async () => {
          const text = await scrape();
          return {
            in: sumPromText(text, 'socket_io_events_received_total', `event="${EVENT}"`),
            out: sumPromText(text, 'socket_io_events_sent_total', `event="${EVENT}"`),
          };
        },
      };
    }
    default:
      throw new Error(`unknown variant ${name}`);
  }
}
