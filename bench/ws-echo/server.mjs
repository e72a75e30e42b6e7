// Echo server for one ws-echo variant: a `ws` WebSocketServer that echoes every frame, with
// the variant's instrumentation. The process around it (IPC with run.mjs, the 1 s scrape loop,
// the measure window, the accounting check) is bench/common/echo-server.mjs. Standalone:
// `node bench/ws-echo/server.mjs --variant=baseline` prints the URL.
import { WebSocketServer } from 'ws';
import { runEchoServer } from '../common/echo-server.mjs';
import { importFromRoot, importMiddleware } from '../common/resolve.mjs';
import { ENDPOINT, sumPromSamples, VARIANTS } from './common.mjs';

/** Same buckets as tidewatch's message_size_bytes, so histogram work is comparable. */
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

runEchoServer({
  variants: VARIANTS,
  async start(variant, args) {
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
    const v = await setupVariant(variant, wss, args);

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
    return {
      port,
      url: `ws://127.0.0.1:${port}${ENDPOINT}`,
      variant: v,
      echoed: () => echoed,
      clients: () => wss.clients.size,
      shutdown() {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
      },
    };
  },
});

/**
 * Builds the per-variant instrumentation. Each returns:
 * - `scrape()`: what a metrics pull costs for this stack (text exposition or OTel collect);
 * - `count()`: scraped message totals, for the end-of-round accounting check;
 * - optionally `onConnection(ws)` / `onMessage(data)` hooks for the hand-written variants.
 */
async function setupVariant(name, wss, args) {
  switch (name) {
    case 'baseline':
      return {
        counts: false,
        scrape: async () => '',
        count: async () => ({ in: Number.NaN, out: Number.NaN }),
      };

    case 'tidewatch': {
      const { Registry } = await importFromRoot('prom-client');
      const [mw, mwWs] = await importMiddleware(args, 'ws');
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
