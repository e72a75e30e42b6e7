import { pollUntil } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { type AedesLike, instrumentAedes } from '../../src/mqtt.js';
import { type MqttBroker, startMqttBroker } from '../fixtures/mqtt-broker.js';
import { type Family, value } from '../helpers.js';

let s: MqttBroker | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

const mq = { transport: 'mqtt' };
const scrapeUntil = (b: MqttBroker, description: string, pred: (f: Family[]) => boolean) =>
  pollUntil(() => b.scrape(), pred, { timeoutMs: 15_000, intervalMs: 25, description });
const HOOKS = ['preConnect', 'authorizeForward', 'published'] as const;
const EVENTS = ['connackSent', 'clientError', 'connectionError', 'keepaliveTimeout', 'ping'];

describe('aedes: attach, adopt, detach', () => {
  it('adopts connected clients and retained messages, and detach restores the broker', async () => {
    s = await startMqttBroker({ instrument: false });
    const b = s;
    const broker = b.broker as unknown as AedesLike & Record<string, unknown>;
    const persistence = broker.persistence as unknown as object;
    const before = {
      hooks: HOOKS.map((h) => broker[h]),
      listeners: EVENTS.map((e) => b.broker.listenerCount(e)),
    };

    // Before attaching: a subscriber, a publisher, three retained topics (one cleared).
    const sub = await b.connect(b.tcpUrl, { clientId: 'early-sub' });
    const pub = await b.connect(b.wsUrl, { clientId: 'early-pub' });
    await sub.subscribeAsync('room/#', { qos: 1 });
    for (const t of ['r/1', 'r/2', 'r/3', 'r/4'])
      await pub.publishAsync(t, 'kept', { qos: 1, retain: true });
    await pub.publishAsync('r/4', '', { qos: 1, retain: true });
    let received = 0;
    sub.on('message', () => received++);

    const handle = instrumentAedes(broker, b.metrics);
    expect(instrumentAedes(broker, b.metrics)).toBe(handle);
    const other = createRealtimeMetrics({ registry: new Registry() });
    expect(() => instrumentAedes(broker, other)).toThrow(TidewatchConfigError);

    let fams = await scrapeUntil(
      b,
      'the retained seed',
      (f) => value(f, 'realtime_retained_messages', mq) === 3,
    );
    expect(value(fams, 'realtime_connections_opened_total', { ...mq, endpoint: 'tcp' })).toBe(1);
    expect(value(fams, 'realtime_connections_opened_total', { ...mq, endpoint: 'ws' })).toBe(1);
    expect(value(fams, 'realtime_subscriptions', { ...mq, topic: 'room/#' })).toBe(1);

    // The application assigns hooks after attaching (as aedes' docs do): still counted, and
    // its authorizeForward decides what is delivered.
    let preConnects = 0;
    broker.preConnect = (_c: unknown, _p: unknown, cb: (e: null, ok: boolean) => void) => {
      preConnects++;
      cb(null, true);
    };
    broker.authorizeForward = (_c: unknown, packet: { topic: string }) =>
      packet.topic === 'room/secret' ? null : packet;
    const late = await b.connect(b.tcpUrl, { clientId: 'late' });
    expect(preConnects).toBe(1);
    await pub.publishAsync('room/a', 'hello', { qos: 1 });
    await pub.publishAsync('room/secret', 'hidden', { qos: 1 });
    await pub.publishAsync('r/5', 'kept', { qos: 0, retain: true });
    await pub.publishAsync('r/1', '', { qos: 0, retain: true });
    await pollUntil(
      async () => received,
      (n) => n === 1,
      { timeoutMs: 5000, intervalMs: 10, description: 'the delivery' },
    );
    fams = await scrapeUntil(b, 'the ack', (f) => value(f, 'realtime_inflight_messages') === 0);
    expect(value(fams, 'realtime_messages_total', { ...mq, direction: 'in' })).toBe(4);
    expect(value(fams, 'realtime_messages_total', { ...mq, direction: 'out' })).toBe(1);
    expect(value(fams, 'realtime_message_bytes_total', { ...mq, direction: 'out' })).toBe(5);
    expect(value(fams, 'realtime_retained_messages', mq)).toBe(3);
    expect(value(fams, 'realtime_connections', mq)).toBe(3);

    handle.detach();
    handle();
    // Every hook is a plain property again, holding what the application assigned last.
    for (const h of HOOKS) {
      const d = Object.getOwnPropertyDescriptor(broker, h)!;
      expect(d.writable).toBe(true);
      expect(typeof d.value).toBe('function');
    }
    expect(broker.preConnect).not.toBe(before.hooks[0]);
    expect(broker.published).toBe(before.hooks[2]);
    expect(Object.hasOwn(broker, 'registerClient')).toBe(false);
    expect(Object.hasOwn(broker, 'close')).toBe(false);
    expect(Object.hasOwn(persistence, 'outgoingClearMessageId')).toBe(false);
    expect(EVENTS.map((e) => b.broker.listenerCount(e))).toEqual(before.listeners);
    for (const id of ['early-sub', 'late']) {
      const client = (broker.clients as Record<string, unknown>)[id] as Record<string, unknown>;
      expect(Object.getOwnPropertySymbols(client)).toEqual([]);
      expect((client.deliverQoS as { name: string }).name).toBe('deliverQoS');
    }

    // Traffic after detach is not counted; the broker works as before.
    fams = await b.scrape();
    const opened = value(fams, 'realtime_connections_opened_total', mq);
    await pub.publishAsync('room/b', 'after', { qos: 1 });
    await pollUntil(
      async () => received,
      (n) => n === 2,
      { timeoutMs: 5000, intervalMs: 10, description: 'the delivery after detach' },
    );
    await late.endAsync();
    fams = await b.scrape();
    expect(value(fams, 'realtime_messages_total', { ...mq, direction: 'in' })).toBe(4);
    expect(value(fams, 'realtime_connections_opened_total', mq)).toBe(opened);
    expect(value(fams, 'realtime_connections_closed_total', mq)).toBe(0);
    expect(value(fams, 'realtime_connections', mq)).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);

    // Attaching again after detach works, with fresh state.
    const again = instrumentAedes(broker, b.metrics);
    expect(again).not.toBe(handle);
    fams = await b.scrape();
    expect(value(fams, 'realtime_connections', mq)).toBe(2);
    again.detach();
  });
});
