// A small instrumented ws server: echo, plus broadcast to a room. `npm start` runs it
// with a little bounded synthetic load so /metrics has something to show.
//
//   PORT=8080 METRICS_TOKEN=secret npm start      # fixed port, /metrics behind a token
//   node examples/ws-echo/server.mjs --clients 0   # no built-in load
import http from 'node:http';
import { parseArgs } from 'node:util';
import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { instrumentWs } from '@tidewatch/middleware/ws';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '0' },
    host: { type: 'string', default: process.env.HOST ?? '127.0.0.1' },
    clients: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '300' },
  },
});

const registry = new Registry();
collectDefaultMetrics({ register: registry });
const metrics = createRealtimeMetrics({
  registry,
  // A bounded classifier: the client says what it is, anything else is `other`.
  clientType: (req) =>
    ['web', 'ios', 'android'].includes(req.headers['x-client']) ? req.headers['x-client'] : 'other',
});

const server = http.createServer();
const wss = new WebSocketServer({ server, path: '/ws', maxPayload: 1 << 20 });
instrumentWs(wss, metrics, {
  heartbeat: { intervalMs: 10_000, missedPongs: 2 },
  maxConnections: 10_000,
});

const token = process.env.METRICS_TOKEN;
const serveMetrics = metricsHandler(metrics, token ? { auth: { bearer: token } } : {});
server.on('request', (req, res) => {
  if (req.url === '/metrics') return serveMetrics(req, res);
  res.writeHead(req.url === '/' ? 200 : 404, { 'content-type': 'text/plain' });
  res.end(
    req.url === '/'
      ? 'tidewatch ws-echo example: connect to /ws, scrape /metrics\n'
      : 'not found\n',
  );
});

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? '' : data.toString();
    if (text.startsWith('/broadcast ')) {
      for (const peer of wss.clients)
        if (peer.readyState === WebSocket.OPEN) peer.send(text.slice(11));
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});

server.listen(Number(args.port), args.host, () => {
  const { port } = server.address();
  const base = `http://${args.host}:${port}`;
  console.log(`ws-echo listening: ws://${args.host}:${port}/ws`);
  console.log(
    `metrics:           ${base}/metrics${token ? ' (Authorization: Bearer $METRICS_TOKEN)' : ''}`,
  );
  console.log(
    `try:               curl -s ${token ? '-H "Authorization: Bearer $METRICS_TOKEN" ' : ''}${base}/metrics | grep ^realtime_`,
  );
  startLoad(`ws://${args.host}:${port}/ws`, Number(args.clients), Number(args.seconds));
});

// Bounded synthetic load: N clients, one message a second each, for a limited time.
function startLoad(url, clients, seconds) {
  if (!(clients > 0)) return;
  console.log(`load:              ${clients} clients for ${seconds} s (--clients 0 to disable)`);
  const kinds = ['web', 'ios', 'android'];
  const sockets = [];
  for (let i = 0; i < clients; i++) {
    const ws = new WebSocket(url, { headers: { 'x-client': kinds[i % 3] } });
    ws.on('error', () => {});
    ws.on('open', () => {
      const t = setInterval(() => {
        if (ws.readyState !== WebSocket.OPEN) return clearInterval(t);
        ws.send(i % 10 === 0 ? `/broadcast hello from ${i}` : `message ${Date.now()}`);
      }, 1000);
      t.unref();
    });
    sockets.push(ws);
  }
  setTimeout(() => {
    for (const ws of sockets) ws.close(1000);
    console.log('load finished; the server keeps running (Ctrl-C to stop)');
  }, seconds * 1000).unref();
}

function shutdown() {
  for (const ws of wss.clients) ws.close(1001, 'server shutdown');
  metrics.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
