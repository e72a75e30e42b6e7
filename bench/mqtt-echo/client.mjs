// Load generator for mqtt-echo: MQTT.js clients over TCP, in a separate process (pinned to its
// own core by run.mjs). Each client subscribes to echo/<its id> at QoS 0 and publishes there,
// so the broker delivers every publish back to its sender: one message in and one out per
// echo. The measuring loop is bench/common/client-core.mjs (shared with ws-echo, sio-echo).
import mqtt from 'mqtt';
import { runClient } from '../common/client-core.mjs';
import { topicOf } from './common.mjs';

// Ids must be unique over the whole process: the memory phase opens a second batch whose
// indexes start at 0 again, and a reused id would take the first session over.
let opened = 0;

runClient({
  urlHelp: 'mqtt://127.0.0.1:PORT',
  open: (url, i) =>
    new Promise((resolve, reject) => {
      const clientId = `bench-${process.pid}-${opened++}`;
      const client = mqtt.connect(url, {
        clientId,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
        keepalive: 60,
        clean: true,
      });
      const t = setTimeout(() => {
        client.end(true);
        reject(new Error(`connect ${i} timed out`));
      }, 10_000);
      client.once('connect', () => {
        client.subscribe(topicOf(clientId), { qos: 0 }, (err) => {
          clearTimeout(t);
          if (err) return reject(err);
          client.on('error', (e) => console.error('client error:', e.message));
          client.topic = topicOf(clientId);
          resolve(client);
        });
      });
      client.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    }),
  /** DISCONNECTs politely, then drops whatever has not finished. */
  async closeAll(clients, graceMs) {
    const pending = clients
      .filter((c) => c && !c.disconnected)
      .map((c) => new Promise((resolve) => c.end(false, {}, resolve)));
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), timeout]);
    for (const c of clients) if (c && !c.disconnected) c.end(true);
  },
  payload: (size) => Buffer.alloc(size, 0x61),
  send: (client, payload) => client.publish(client.topic, payload, { qos: 0 }),
  onEcho: (client, fn) => client.on('message', (_topic, payload) => fn(payload)),
  echoOk: (data, size) => data.length === size,
});
