// Server for one grpc-echo variant: a grpc-js Server with the bidi echo service, with the
// variant's instrumentation. The process around it (IPC with run.mjs, the 1 s scrape loop, the
// measure window, the accounting check) is bench/common/echo-server.mjs. The server sends its
// metadata at once so a stream is "open" before the first message, like a WebSocket.
import grpc from '@grpc/grpc-js';
import { runEchoServer } from '../common/echo-server.mjs';
import { importFromRoot } from '../common/resolve.mjs';
import { baselineVariant, sumPromSamples, tidewatchVariant } from '../common/variants.mjs';
import { ECHO_SERVICE, VARIANTS } from './common.mjs';

runEchoServer({
  variants: VARIANTS,
  async start(variant, args) {
    const server = new grpc.Server();
    let echoed = 0;
    const open = new Set();
    const v = await setupVariant(variant, server, args);
    const handler = (call) => {
      open.add(call);
      call.sendMetadata(new grpc.Metadata());
      v.onStream?.(call);
      call.on('data', (msg) => {
        call.write(msg);
        echoed++;
      });
      call.on('end', () => call.end());
      call.on('close', () => open.delete(call));
      call.on('cancelled', () => open.delete(call));
      call.on('error', () => open.delete(call));
    };
    server.addService(ECHO_SERVICE, { stream: handler });
    const port = await new Promise((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    return {
      port,
      url: `grpc://127.0.0.1:${port}`,
      variant: v,
      echoed: () => echoed,
      clients: () => open.size,
      shutdown() {
        server.forceShutdown();
      },
    };
  },
});

/** The per-variant instrumentation: `scrape()`, `count()`, and hooks for the hand-written one. */
async function setupVariant(name, server, args) {
  switch (name) {
    case 'baseline':
      return baselineVariant();

    case 'tidewatch':
      return tidewatchVariant(args, 'grpc', (m, metrics) => m.instrumentGrpc(server, metrics));

    case 'prom-naive': {
      // What a grpc-js user writes by hand today: a counter bumped in the handler's `data`
      // listener and around `call.write`, label objects built per call.
      const { Counter, Registry } = await importFromRoot('prom-client');
      const registry = new Registry();
      const messages = new Counter({
        name: 'grpc_stream_messages_total',
        help: 'gRPC stream messages',
        labelNames: ['direction', 'method'],
        registers: [registry],
      });
      const bytes = new Counter({
        name: 'grpc_stream_message_bytes_total',
        help: 'gRPC stream payload bytes',
        labelNames: ['direction', 'method'],
        registers: [registry],
      });
      const method = ECHO_SERVICE.stream.path;
      const scrape = () => registry.metrics();
      return {
        counts: true,
        scrape,
        count: async () => {
          const text = await scrape();
          return {
            in: sumPromSamples(text, 'grpc_stream_messages_total', 'in'),
            out: sumPromSamples(text, 'grpc_stream_messages_total', 'out'),
          };
        },
        onStream(call) {
          call.on('data', (msg) => {
            messages.inc({ direction: 'in', method });
            bytes.inc({ direction: 'in', method }, msg.length);
          });
          const write = call.write;
          call.write = function (msg, ...rest) {
            messages.inc({ direction: 'out', method });
            bytes.inc({ direction: 'out', method }, msg.length);
            return write.call(this, msg, ...rest);
          };
        },
      };
    }
    default:
      throw new Error(`unknown variant ${name}`);
  }
}
