// Broker for one mqtt-echo variant: an aedes 1.x broker on a TCP listener, with the variant's
// instrumentation. The process around it (IPC with run.mjs, the 1 s scrape loop, the measure
// window, the accounting check) is bench/common/echo-server.mjs. Standalone:
// `node bench/mqtt-echo/server.mjs --variant=baseline` prints the URL.
import net from 'node:net';
import { Aedes } from 'aedes';
import { runEchoServer } from '../common/echo-server.mjs';
import { importFromRoot } from '../common/resolve.mjs';
import { num } from '../common/util.mjs';
import { baselineVariant, sumPromSamples, tidewatchVariant } from '../common/variants.mjs';
import { VARIANTS } from './common.mjs';

runEchoServer({
  variants: VARIANTS,
  async start(variant, args) {
    const broker = await Aedes.createBroker();
    // Counted in every variant (baseline included) so the cost is the same everywhere: the
    // ground truth the scraped metrics are checked against. A client publish is echoed once.
    let echoed = 0;
    broker.on('publish', (_packet, client) => {
      if (client) echoed++;
    });
    const v = await setupVariant(variant, broker, args);
    const server = net.createServer(broker.handle);
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve);
    });
    const { port } = server.address();
    const fanout = num(args, 'fanout', 1, { min: 1, integer: true });
    return {
      // Every publish reaches its publisher and the fanout - 1 passive subscribers.
      expectedOut: (n) => n * fanout,
      port,
      url: `mqtt://127.0.0.1:${port}`,
      variant: v,
      echoed: () => echoed,
      clients: () => broker.connectedClients,
      shutdown() {
        server.close();
        broker.close();
      },
    };
  },
});

/** The per-variant instrumentation: `scrape()`, `count()`, and hooks for the hand-written one. */
async function setupVariant(name, broker, args) {
  switch (name) {
    case 'baseline':
      return baselineVariant();

    case 'tidewatch':
      return tidewatchVariant(args, 'mqtt', (m, metrics) => m.instrumentAedes(broker, metrics));

    case 'prom-naive': {
      // What an aedes user writes by hand today: counters on the broker's `publish` event and
      // its documented `authorizeForward` hook (called once per delivery to a subscriber),
      // label objects built per call, a gauge moved on client events.
      const { Counter, Gauge, Registry } = await importFromRoot('prom-client');
      const registry = new Registry();
      const messages = new Counter({
        name: 'mqtt_messages_total',
        help: 'MQTT messages',
        labelNames: ['direction'],
        registers: [registry],
      });
      const bytes = new Counter({
        name: 'mqtt_message_bytes_total',
        help: 'MQTT payload bytes',
        labelNames: ['direction'],
        registers: [registry],
      });
      const clients = new Gauge({ name: 'mqtt_clients', help: 'clients', registers: [registry] });
      broker.on('client', () => clients.inc());
      broker.on('clientDisconnect', () => clients.dec());
      broker.on('publish', (packet, client) => {
        if (!client) return;
        messages.inc({ direction: 'in' });
        bytes.inc({ direction: 'in' }, packet.payload.length);
      });
      broker.authorizeForward = (_client, packet) => {
        if (!packet.topic.startsWith('$SYS/')) {
          messages.inc({ direction: 'out' });
          bytes.inc({ direction: 'out' }, packet.payload.length);
        }
        return packet;
      };
      const scrape = () => registry.metrics();
      return {
        counts: true,
        scrape,
        count: async () => {
          const text = await scrape();
          return {
            in: sumPromSamples(text, 'mqtt_messages_total', 'in'),
            out: sumPromSamples(text, 'mqtt_messages_total', 'out'),
          };
        },
      };
    }
    default:
      throw new Error(`unknown variant ${name}`);
  }
}
