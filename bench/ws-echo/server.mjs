// Echo server for one benchmark variant. Started by run.mjs with `child_process.fork` (one
// fresh process per round, so JIT state, heap growth and metric series never leak from one
// variant or round into the next) and driven over IPC. Can also run standalone for manual
// poking: `node bench/ws-echo/server.mjs --variant=baseline` prints the URL.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import { importFromRoot } from '../common/resolve.mjs';
import { ENDPOINT, num, parseArgs, sumPromSamples, VARIANTS } from './common.mjs';

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

/** Same buckets as tidewatch's message_size_bytes, so histogram work is comparable. */
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

async function main() {
  // Counted in every variant (including baseline) so the cost is identical everywhere; it is
  // the ground truth the scraped metrics are checked against.
  let echoed = 0;
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: ENDPOINT,
    perMessageDeflate: false,
    // The memory phase opens thousands of sockets in bursts; the default backlog (511) would
    // turn a burst into SYN retries and make the phase slow and flaky.
    backlog: 4096,
  });

  // Subscribed before any await: a server given `port` starts listening on its own, and
  // the variants' dynamic imports take long enough for 'listening' to fire unobserved.
  const listening = new Promise((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const v = await setupVariant(variant, wss);

  wss.on('connection', (ws) => {
    v.onConnection?.(ws);
    if (v.onMessage) {
      const onMessage = v.onMessage;
      ws.on('message', (data, isBinary) => {
        onMessage(data);
        ws.send(data, { binary: isBinary });
        echoed++;
      });
    } else {
      ws.on('message', (data, isBinary) => {
        ws.send(data, { binary: isBinary });
        echoed++;
      });
    }
  });

  await listening;
  const { port } = wss.address();

  // Scrape every second from startup on, so collection cost is part of what the measure
  // window sees (a real Prometheus/OTel pipeline would be pulling continuously).
  const scrapeStats = { count: 0, totalMs: 0, maxMs: 0 };
  let scraping = false;
  let window = null;
  const scrapeTimer = setInterval(() => {
    // A scrape slower than the interval must not pile up concurrent scrapes.
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
      }
      case 'verify': {
        // After the client has drained and closed: every counted message must be in the
        // scrape, or the variant is measuring less work than it claims.
        const scraped = await v.count();
        const ok = v.counts ? scraped.in === echoed && scraped.out === echoed : true;
        return { echoed, counts: v.counts, scrapedIn: scraped.in, scrapedOut: scraped.out, ok };
      }
      case 'stats':
        return { clients: wss.clients.size, echoed };
      case 'mem': {
        if (typeof global.gc !== 'function') throw new Error('mem needs --expose-gc');
        // Scrape first, so both snapshots come after one: a stack's first collection can
        // allocate lasting state, which must not be counted as per-connection cost.
        while (scraping) await new Promise((r) => setTimeout(r, 5));
        await v.scrape();
        // Twice: the first pass can leave objects that only become unreachable once weak
        // callbacks/finalizers from that pass have run.
        global.gc();
        global.gc();
        return process.memoryUsage();
      }
      case 'exit': {
        clearInterval(scrapeTimer);
        v.close?.();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
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
    // If the driver dies, nothing else would ever stop this process.
    process.on('disconnect', () => process.exit(0));
    process.send({ type: 'ready', port, pid: process.pid });
  } else {
    const maxSeconds = num(args, 'max-seconds', 600);
    console.log(`${variant}: ws://127.0.0.1:${port}${ENDPOINT} (exits after ${maxSeconds} s)`);
    // The listening socket keeps the loop alive forever; a manual run must still end.
    setTimeout(() => process.exit(0), maxSeconds * 1000);
  }
}

/**
 * Builds the per-variant instrumentation. Each returns:
 * - `scrape()`: what a metrics pull costs for this stack (text exposition or OTel collect);
 * - `count()`: scraped message totals, for the end-of-round accounting check;
 * - optionally `onConnection(ws)` / `onMessage(data)` hooks for the hand-written variants.
 */
async function setupVariant(name, wss) {
  switch (name) {
    case 'baseline':
      return {
        counts: false,
        scrape: async () => '',
        count: async () => ({ in: Number.NaN, out: Number.NaN }),
      };

    case 'tidewatch': {
      const { Registry } = await importFromRoot('prom-client');
      let mw;
      let mwWs;
      try {
        // run.mjs passes a private copy of dist (see snapshotTidewatchDist there).
        const dir = args['tidewatch-dist'];
        mw = await import(dir ? pathToFileURL(`${dir}/index.js`).href : '@tidewatch/middleware');
        mwWs = await import(dir ? pathToFileURL(`${dir}/ws.js`).href : '@tidewatch/middleware/ws');
      } catch (err) {
        throw new Error(
          `the tidewatch variant needs the built package (packages/middleware/dist); run ` +
            `\`npx turbo run build\` first. Import failed: ${err?.message ?? err}`,
        );
      }
      const registry = new Registry();
      const metrics = mw.createRealtimeMetrics({ registry });
      const detach = mwWs.instrumentWs(wss, metrics, { endpoint: ENDPOINT });
      const scrape = () => registry.metrics();
      return {
        counts: true,
        scrape,
        count: async () => {
          const text = await scrape();
          const name = metrics.names.messages;
          return { in: sumPromSamples(text, name, 'in'), out: sumPromSamples(text, name, 'out') };
        },
        close: detach,
      };
    }

    case 'prom-naive': {
      const { Counter, Histogram, Registry } = await importFromRoot('prom-client');
      const registry = new Registry();
      const messagesTotal = new Counter({
        name: 'ws_messages_total',
        help: 'WebSocket messages',
        labelNames: ['direction', 'endpoint'],
        registers: [registry],
      });
      const bytesTotal = new Counter({
        name: 'ws_message_bytes_total',
        help: 'WebSocket message payload bytes',
        labelNames: ['direction', 'endpoint'],
        registers: [registry],
      });
      const sizeHistogram = new Histogram({
        name: 'ws_message_size_bytes',
        help: 'WebSocket message payload size',
        labelNames: ['direction'],
        buckets: SIZE_BUCKETS,
        registers: [registry],
      });
      const scrape = () => registry.metrics();
      // Deliberately the idiomatic hand-rolled style: label objects built per call and a
      // per-socket closure around send. That is the cost users pay today without tidewatch.
      return {
        counts: true,
        scrape,
        count: async () => {
          const text = await scrape();
          return {
            in: sumPromSamples(text, 'ws_messages_total', 'in'),
            out: sumPromSamples(text, 'ws_messages_total', 'out'),
          };
        },
        onConnection(ws) {
          const send = ws.send;
          ws.send = function (data, options, cb) {
            const len = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
            messagesTotal.inc({ direction: 'out', endpoint: ENDPOINT });
            bytesTotal.inc({ direction: 'out', endpoint: ENDPOINT }, len);
            sizeHistogram.observe({ direction: 'out' }, len);
            return send.call(this, data, options, cb);
          };
        },
        onMessage(data) {
          const len = data.byteLength;
          messagesTotal.inc({ direction: 'in', endpoint: ENDPOINT });
          bytesTotal.inc({ direction: 'in', endpoint: ENDPOINT }, len);
          sizeHistogram.observe({ direction: 'in' }, len);
        },
      };
    }

    case 'otel-sdk': {
      const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
      // A pull reader collected on our own 1 s timer, i.e. what @opentelemetry/exporter-
      // prometheus does per scrape, minus text serialization (so this slightly flatters OTel).
      class PullReader extends MetricReader {
        async onForceFlush() {}
        async onShutdown() {}
      }
      const reader = new PullReader();
      const provider = new MeterProvider({ readers: [reader] });
      const meter = provider.getMeter('ws-echo-bench');
      const messages = meter.createCounter('ws.messages', { unit: '{message}' });
      const bytes = meter.createCounter('ws.message.bytes', { unit: 'By' });
      const size = meter.createHistogram('ws.message.size', {
        unit: 'By',
        advice: { explicitBucketBoundaries: SIZE_BUCKETS },
      });
      const collect = async () => {
        const { resourceMetrics, errors } = await reader.collect();
        if (errors.length > 0) throw new AggregateError(errors, 'OTel collect errors');
        return resourceMetrics;
      };
      const sumDir = (rm, dir) => {
        let sum = Number.NaN;
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            if (m.descriptor.name !== 'ws.messages') continue;
            for (const dp of m.dataPoints) {
              if (dp.attributes.direction === dir) sum = (Number.isNaN(sum) ? 0 : sum) + dp.value;
            }
          }
        }
        return sum;
      };
      return {
        counts: true,
        scrape: collect,
        count: async () => {
          const rm = await collect();
          return { in: sumDir(rm, 'in'), out: sumDir(rm, 'out') };
        },
        onConnection(ws) {
          const send = ws.send;
          ws.send = function (data, options, cb) {
            const len = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
            messages.add(1, { direction: 'out', endpoint: ENDPOINT });
            bytes.add(len, { direction: 'out', endpoint: ENDPOINT });
            size.record(len, { direction: 'out' });
            return send.call(this, data, options, cb);
          };
        },
        onMessage(data) {
          const len = data.byteLength;
          messages.add(1, { direction: 'in', endpoint: ENDPOINT });
          bytes.add(len, { direction: 'in', endpoint: ENDPOINT });
          size.record(len, { direction: 'in' });
        },
        close: () => {
          provider.shutdown().catch(() => {});
        },
      };
    }
    default:
      throw new Error(`unknown variant ${name}`);
  }
}
