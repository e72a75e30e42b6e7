import { pollUntil } from '@tidewatch/test-utils';
import type { AuthenticateError } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type MqttBroker, startMqttBroker } from '../fixtures/mqtt-broker.js';
import { type Family, histogram, value } from '../helpers.js';

const N_TCP = 5;
const N_WS = 3;
const M = 4;
const QOS = [0, 1, 2] as const;
/** Message j at QoS q of publisher i: sizes spread so that bytes check the real payloads. */
const payload = (i: number, j: number, q: number) => 'p'.repeat(5 + i * 11 + j * 7 + q * 3);

let s: MqttBroker | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

/** Scrapes until `pred` holds for the scrape; returns it. */
const scrapeUntil = (b: MqttBroker, description: string, pred: (f: Family[]) => boolean) =>
  pollUntil(() => b.scrape(), pred, { timeoutMs: 15_000, intervalMs: 25, description });

/** Resolves when `client` has received `n` messages, counting them by QoS and bytes. */
function receiver(client: MqttClient) {
  const got = { count: 0, bytes: 0, byQos: [0, 0, 0], sys: 0 };
  client.on('message', (topic, message, packet) => {
    if (topic.startsWith('$SYS/')) {
      got.sys++;
      return;
    }
    got.count++;
    got.bytes += message.length;
    got.byQos[packet.qos]!++;
  });
  return got;
}

describe('aedes accounting under real MQTT.js traffic', () => {
  it('every counter equals what the clients did, and the gauges return to 0', async () => {
    s = await startMqttBroker({
      aedes: {
        authenticate: (_client, _username, password, cb) => {
          if (password?.toString() === 'wrong') {
            const err = new Error('bad password') as AuthenticateError;
            err.returnCode = 4;
            cb(err, false);
          } else cb(null, true);
        },
      },
    });
    const b = s;

    // Subscribers: all of `sensors/` over TCP at QoS 2 and over WebSocket at QoS 1, and one
    // that watches the broker's own $SYS topics (none of which is client traffic).
    const subTcp = await b.connect(b.tcpUrl, { clientId: 'sub-tcp' });
    const subWs = await b.connect(b.wsUrl, { clientId: 'sub-ws' });
    const sysSub = await b.connect(b.tcpUrl, { clientId: 'sys-sub' });
    await subTcp.subscribeAsync('sensors/#', { qos: 2 });
    await subWs.subscribeAsync('sensors/#', { qos: 1 });
    await sysSub.subscribeAsync('$SYS/#', { qos: 0 });
    const gotTcp = receiver(subTcp);
    const gotWs = receiver(subWs);
    const gotSys = receiver(sysSub);

    const pubs: MqttClient[] = [];
    for (let i = 0; i < N_TCP; i++) pubs.push(await b.connect(b.tcpUrl, { clientId: `tcp-${i}` }));
    for (let i = 0; i < N_WS; i++) pubs.push(await b.connect(b.wsUrl, { clientId: `ws-${i}` }));

    // Wrong passwords: refused with CONNACK 4, over both listeners.
    for (const url of [b.tcpUrl, b.tcpUrl, b.wsUrl]) {
      await expect(
        b.connect(url, { username: 'u', password: 'wrong', clientId: 'intruder' }),
      ).rejects.toThrow(/Bad username or password/);
    }

    let fams = await b.scrape();
    expect(value(fams, 'realtime_subscriptions', { transport: 'mqtt', topic: 'sensors/#' })).toBe(
      2,
    );
    expect(value(fams, 'realtime_subscriptions', { transport: 'mqtt', topic: '$SYS/#' })).toBe(1);

    // M publishes per QoS per publisher; QoS 1 and 2 resolve on PUBACK / PUBCOMP.
    const bytesIn = { tcp: 0, ws: 0 };
    await Promise.all(
      pubs.map(async (c, i) => {
        for (let j = 0; j < M; j++)
          for (const q of QOS) {
            const p = payload(i, j, q);
            bytesIn[i < N_TCP ? 'tcp' : 'ws'] += p.length;
            await c.publishAsync(`sensors/${i}`, p, { qos: q });
          }
      }),
    );
    const perSub = pubs.length * M * QOS.length;
    await pollUntil(
      async () => [gotTcp.count, gotWs.count],
      ([a, w]) => a === perSub && w === perSub,
      { timeoutMs: 15_000, intervalMs: 25, description: 'every delivery received' },
    );
    // Acks travel after the messages: in-flight falls to 0 once every PUBACK/PUBCOMP is in.
    fams = await scrapeUntil(
      b,
      'no delivery in flight',
      (f) => value(f, 'realtime_inflight_messages') === 0,
    );

    const mq = { transport: 'mqtt' };
    const tcp = { ...mq, endpoint: 'tcp' };
    const ws = { ...mq, endpoint: 'ws' };
    expect(value(fams, 'realtime_messages_total', { ...tcp, direction: 'in' })).toBe(N_TCP * M * 3);
    expect(value(fams, 'realtime_messages_total', { ...ws, direction: 'in' })).toBe(N_WS * M * 3);
    expect(value(fams, 'realtime_message_bytes_total', { ...tcp, direction: 'in' })).toBe(
      bytesIn.tcp,
    );
    expect(value(fams, 'realtime_message_bytes_total', { ...ws, direction: 'in' })).toBe(
      bytesIn.ws,
    );
    // Every delivery to each subscriber, with the bytes and QoS the subscriber got.
    expect(value(fams, 'realtime_messages_total', { ...tcp, direction: 'out' })).toBe(perSub);
    expect(value(fams, 'realtime_messages_total', { ...ws, direction: 'out' })).toBe(perSub);
    expect(value(fams, 'realtime_message_bytes_total', { ...tcp, direction: 'out' })).toBe(
      gotTcp.bytes,
    );
    expect(value(fams, 'realtime_message_bytes_total', { ...ws, direction: 'out' })).toBe(
      gotWs.bytes,
    );
    expect(gotTcp.bytes).toBe(bytesIn.tcp + bytesIn.ws);
    const h = histogram(fams, 'realtime_message_size_bytes', { ...mq, direction: 'out' });
    expect(h.count).toBe(2 * perSub);
    expect(h.sum).toBe(gotTcp.bytes + gotWs.bytes);
    for (const q of QOS) {
      const qos = String(q);
      expect(value(fams, 'realtime_qos_messages_total', { ...mq, direction: 'in', qos })).toBe(
        pubs.length * M,
      );
      expect(value(fams, 'realtime_qos_messages_total', { ...mq, direction: 'out', qos })).toBe(
        gotTcp.byQos[q]! + gotWs.byQos[q]!,
      );
    }
    // The QoS 2 subscriber gets each message at its published QoS.
    expect(gotTcp.byQos).toEqual([pubs.length * M, pubs.length * M, pubs.length * M]);
    // The broker's own traffic reached the $SYS subscriber and was counted nowhere.
    expect(gotSys.count).toBe(0);
    expect(gotSys.sys).toBeGreaterThan(0);
    expect(value(fams, 'realtime_messages_total', { endpoint: 'tcp', direction: 'out' })).toBe(
      perSub,
    );

    // Closes: DISCONNECT, dropped streams, a takeover, then the broker shuts down.
    const [t0, t1, t2, t3] = pubs;
    const w0 = pubs[N_TCP]!;
    const w1 = pubs[N_TCP + 1]!;
    await Promise.all([t0!.endAsync(), t1!.endAsync(), w0.endAsync()]);
    t2!.stream.destroy();
    w1.stream.destroy();
    const takenOver = new Promise<void>((r) => t3!.once('close', () => r()));
    await b.connect(b.tcpUrl, { clientId: 'tcp-3' });
    await takenOver;
    fams = await scrapeUntil(
      b,
      '6 closes',
      (f) => value(f, 'realtime_connections_closed_total') === 6,
    );
    // 11 opened, 6 gone, the taker-over in.
    expect(value(fams, 'realtime_connections', mq)).toBe(11 - 6 + 1);

    await new Promise<void>((r) => b.broker.close(() => r()));
    fams = await scrapeUntil(
      b,
      'all 12 closes',
      (f) => value(f, 'realtime_connections_closed_total') === 12,
    );

    expect(value(fams, 'realtime_connections_opened_total', tcp)).toBe(N_TCP + 2 + 1);
    expect(value(fams, 'realtime_connections_opened_total', ws)).toBe(N_WS + 1);
    const closedBy = (reason: string, initiator: string) =>
      value(fams, 'realtime_connections_closed_total', { ...mq, reason, initiator });
    expect(closedBy('normal', 'client')).toBe(3);
    expect(closedBy('abnormal', 'client')).toBe(2);
    expect(closedBy('takeover', 'server')).toBe(1);
    expect(closedBy('server_shutdown', 'server')).toBe(6);
    expect(histogram(fams, 'realtime_connection_duration_seconds', mq).count).toBe(12);

    const hs = (outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { ...mq, outcome }).count;
    expect(hs('success')).toBe(12);
    expect(hs('rejected')).toBe(3);
    expect(hs('aborted')).toBe(0);
    expect(hs('error')).toBe(0);
    expect(
      value(fams, 'realtime_errors_total', { ...mq, type: 'connack_bad_username_or_password' }),
    ).toBe(3);
    expect(value(fams, 'realtime_errors_total', mq)).toBe(3);

    expect(value(fams, 'realtime_connections', mq)).toBe(0);
    expect(value(fams, 'realtime_subscriptions', mq)).toBe(0);
    expect(value(fams, 'realtime_inflight_messages', mq)).toBe(0);
    expect(value(fams, 'realtime_handshakes_in_flight', mq)).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
  });
});
