// Load generator for mqtt-echo: MQTT.js clients over TCP, in a separate process (pinned to its
// own core by run.mjs). Each client subscribes to echo/<its id> at QoS 0 and publishes there,
// so the broker delivers every publish back to its sender (and to the --fanout - 1 passive
// subscribers of that topic): one message in and F out per echo. The measuring loop is bench/common/client-core.mjs (shared with ws-echo, sio-echo).
import mqtt from 'mqtt';
import { runClient } from '../common/client-core.mjs';
import { num, parseArgs } from '../common/util.mjs';
import { topicOf } from './common.mjs';

// --fanout F (load mode): F - 1 passive subscribers share each client's topic, so every
// publish is delivered F times; only the publisher's own copy drives the closed loop.
const fanout = num(parseArgs(process.argv.slice(2)), 'fanout', 1, { min: 1, integer: true });

/** Connects one MQTT.js client and subscribes it to `topic` at QoS 0. */
function connect(url, clientId, topic) {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      clientId,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      keepalive: 60,
      clean: true,
    });
    const t = setTimeout(() => {
      client.end(true);
      reject(new Error(`connect ${clientId} timed out`));
    }, 10_000);
    client.once('connect', () => {
      client.subscribe(topic, { qos: 0 }, (err) => {
        clearTimeout(t);
        if (err) return reject(err);
        client.on('error', (e) => console.error('client error:', e.message));
        resolve(client);
      });
    });
    client.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

// Ids must be unique over the whole process: the memory phase opens a second batch whose
// indexes start at 0 again, and a reused id would take the first session over.
let opened = 0;

runClient({
  urlHelp: 'mqtt://127.0.0.1:PORT',
  open: async (url) => {
    const clientId = `bench-${process.pid}-${opened++}`;
    const topic = topicOf(clientId);
    const client = await connect(url, clientId, topic);
    client.topic = topic;
    client.passive = [];
    for (let k = 1; k < fanout; k++) {
      client.passive.push(await connect(url, `${clientId}-s${k}`, topic));
    }
    return client;
  },
  /** DISCONNECTs politely, then drops whatever has not finished. */
  async closeAll(clients, graceMs) {
    const all = clients.filter(Boolean).flatMap((c) => [c, ...(c.passive ?? [])]);
    const pending = all
      .filter((c) => !c.disconnected)
      .map((c) => new Promise((resolve) => c.end(false, {}, resolve)));
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), timeout]);
    for (const c of all) if (!c.disconnected) c.end(true);
  },
  payload: (size) => Buffer.alloc(size, 0x61),
  send: (client, payload) => client.publish(client.topic, payload, { qos: 0 }),
  onEcho: (client, fn) => client.on('message', (_topic, payload) => fn(payload)),
  echoOk: (data, size) => data.length === size,
});
