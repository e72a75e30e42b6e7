// Server of the scale benchmarks (connections.mjs, churn.mjs): a `ws` 8 echo server on an HTTP
// server that also answers GET /metrics, in one of three variants. Started by the drivers with
// fork() (through `sh -c 'ulimit -n … && exec node …'`, see ./proc.mjs) and driven over IPC.
//
// Variants:
//   baseline   no metrics at all (the /metrics route answers an empty 200)
//   tidewatch  createRealtimeMetrics + instrumentWs with default options, metricsHandler
//   prom-naive the hand-written prom-client instrumentation users write today: a connections
//              gauge, opened/closed counters, messages and bytes by direction, a size histogram
//
// Every variant keeps its own ground truth (plain integers) so a driver can check that the
// scraped counters are exact.
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { WebSocketServer } from 'ws';
import { serveIpc } from '../common/peer.mjs';
import { importFromRoot, importMiddleware } from '../common/resolve.mjs';
import { parseArgs } from '../common/util.mjs';

export const SCALE_VARIANTS = ['baseline', 'tidewatch', 'prom-naive'];
const ENDPOINT = '/ws';
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

const args = parseArgs(process.argv.slice(2));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    process.send?.({ type: 'fatal', message: String(err?.stack ?? err) });
    setTimeout(() => process.exit(1), 50);
  });
}

async function main() {
  const variant = args.variant;
  if (!SCALE_VARIANTS.includes(variant)) throw new Error(`unknown --variant=${variant}`);
  const truth = { opened: 0, closed: 0, messagesIn: 0, messagesOut: 0 };

  const server = http.createServer();
  // Bursts of thousands of handshakes: the default backlog (511) turns them into SYN retries.
  const listening = new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 8192 }, resolve);
  });
  const wss = new WebSocketServer({ server, path: ENDPOINT, perMessageDeflate: false });
  const v = await setupVariant(variant, wss);
  server.on('request', (req, res) => {
    if (req.url === '/metrics') return v.metrics(req, res);
    res.statusCode = 404;
    res.end();
  });

  wss.on('connection', (ws) => {
    truth.opened++;
    v.onConnection?.(ws);
    ws.on('message', (data, isBinary) => {
      truth.messagesIn++;
      v.onMessage?.(data);
      ws.send(data, { binary: isBinary });
      truth.messagesOut++;
    });
    ws.on('close', () => {
      truth.closed++;
    });
    // An abrupt client drop surfaces as ECONNRESET here; ws then closes with 1006.
    ws.on('error', () => {});
  });

  await listening;
  const { port } = server.address();

  serveIpc({
    ready: { port, pid: process.pid },
    handlers: {
      truth: () => ({ ...truth, clients: wss.clients.size }),
      mem: () => {
        if (typeof global.gc !== 'function') throw new Error('mem needs --expose-gc');
        // Twice: the first pass can leave objects only collectable after its weak callbacks ran.
        global.gc();
        global.gc();
        return process.memoryUsage();
      },
      exit: () => {
        v.close?.();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close();
        setTimeout(() => process.exit(0), 20);
        return { exiting: true };
      },
    },
  });
}

async function setupVariant(name, wss) {
  if (name === 'baseline') {
    return {
      metrics: (_req, res) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end('');
      },
    };
  }
  const { Counter, Gauge, Histogram, Registry } = await importFromRoot('prom-client');
  const registry = new Registry();
  if (name === 'tidewatch') {
    const [mw, mwWs] = await importMiddleware(args, 'ws');
    const metrics = mw.createRealtimeMetrics({ registry });
    const detach = mwWs.instrumentWs(wss, metrics, { endpoint: ENDPOINT });
    return { metrics: mw.metricsHandler(metrics), close: detach };
  }
  // prom-naive: the idiomatic hand-rolled style, label objects built per call.
  const connections = new Gauge({
    name: 'ws_connections',
    help: 'Open WebSocket connections',
    registers: [registry],
  });
  const opened = new Counter({
    name: 'ws_connections_opened_total',
    help: 'WebSocket connections opened',
    registers: [registry],
  });
  const closed = new Counter({
    name: 'ws_connections_closed_total',
    help: 'WebSocket connections closed',
    labelNames: ['code'],
    registers: [registry],
  });
  const messages = new Counter({
    name: 'ws_messages_total',
    help: 'WebSocket messages',
    labelNames: ['direction'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'ws_message_bytes_total',
    help: 'WebSocket message payload bytes',
    labelNames: ['direction'],
    registers: [registry],
  });
  const size = new Histogram({
    name: 'ws_message_size_bytes',
    help: 'WebSocket message payload size',
    labelNames: ['direction'],
    buckets: SIZE_BUCKETS,
    registers: [registry],
  });
  return {
    metrics: (_req, res) => {
      registry.metrics().then(
        (text) => {
          res.setHeader('content-type', registry.contentType);
          res.end(text);
        },
        (err) => {
          res.statusCode = 500;
          res.end(String(err));
        },
      );
    },
    onConnection(ws) {
      connections.inc();
      opened.inc();
      ws.on('close', (code) => {
        connections.dec();
        closed.inc({ code: String(code) });
      });
      const send = ws.send;
      ws.send = function (data, options, cb) {
        const len = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        messages.inc({ direction: 'out' });
        bytes.inc({ direction: 'out' }, len);
        size.observe({ direction: 'out' }, len);
        return send.call(this, data, options, cb);
      };
    },
    onMessage(data) {
      const len = data.byteLength;
      messages.inc({ direction: 'in' });
      bytes.inc({ direction: 'in' }, len);
      size.observe({ direction: 'in' }, len);
    },
  };
}
