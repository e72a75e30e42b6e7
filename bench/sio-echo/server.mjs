// Socket.IO echo server for one sio-echo variant: a Socket.IO server (websocket transport
// only) that emits every `echo` event back, with the variant's instrumentation. The process
// around it (IPC with run.mjs, the 1 s scrape loop, the measure window, the accounting check)
// is bench/common/echo-server.mjs. Standalone: `node bench/sio-echo/server.mjs
// --variant=baseline` prints the URL.
import http from 'node:http';
import { createRequire } from 'node:module';
import { Server } from 'socket.io';
import { runEchoServer } from '../common/echo-server.mjs';
import { importFromRoot, importMiddleware } from '../common/resolve.mjs';
import { EVENT, sumPromText, TIDEWATCH_MISSING, VARIANTS } from './common.mjs';

runEchoServer({
  variants: VARIANTS,
  async start(variant, args) {
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
    const v = await setupVariant(variant, io, args);

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
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      variant: v,
      echoed: () => echoed,
      clients: () => io.of('/').sockets.size,
      shutdown() {
        io.disconnectSockets(true);
        io.close().catch(() => {});
      },
    };
  },
});

/**
 * Builds the per-variant instrumentation. Each returns `scrape()` (what one Prometheus pull
 * costs), `count()` (scraped received/sent totals for the end-of-round check) and the name
 * of the metric it checks.
 */
async function setupVariant(name, io, args) {
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
      const [mw, mwSio] = await importMiddleware(args, 'socket.io');
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
