import { SpanKind } from '@opentelemetry/api';
import { type RedisHandle, startRedis } from '@tidewatch/test-utils';
import { io as connectIo, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleNode, type SioNode, startNode } from '../fixtures/broker-nodes.js';
import { type Family, histogram, scrape, value } from '../helpers.js';

// Three Socket.IO nodes, each its own process, share a real Redis through
// @socket.io/redis-adapter. Clients on every node join one room; node A broadcasts to it.
// Every node must count what it delivers itself.

const ROOM = 'news';
/** Clients in the room per node, and one client outside it on B. */
const IN_ROOM = { a: 2, b: 3, c: 1 } as const;
const WAIT_MS = 15_000;

let redis: RedisHandle;
let cleanup: (() => Promise<void>) | undefined;
const nodes: Record<string, SioNode> = {};
const clients: Socket[] = [];
/** `news` payloads received per client. */
const received = new Map<Socket, unknown[]>();

function connect(node: SioNode): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const c = connectIo(node.url, {
      forceNew: true,
      reconnection: false,
      transports: ['websocket'],
    });
    clients.push(c);
    received.set(c, []);
    c.on('news', (p: unknown) => received.get(c)!.push(p));
    c.once('connect', () => resolve(c));
    c.once('connect_error', reject);
  });
}

/** Resolves once every client in `who` has received `n` broadcasts (bounded). */
async function receivedAll(who: Socket[], n: number): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (const c of who) {
    while (received.get(c)!.length < n) {
      if (Date.now() > deadline)
        throw new Error(`a client received ${received.get(c)!.length}/${n}`);
      await new Promise((r) => c.once('news', r));
    }
  }
}

beforeAll(async () => {
  redis = await startRedis();
  const bundle = await bundleNode();
  cleanup = bundle.cleanup;
  const started = await Promise.all(
    (['a', 'b', 'c'] as const).map((n) => startNode(bundle.script, n, redis.url, n !== 'c')),
  );
  for (const n of started) nodes[n.name] = n;
});

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await Promise.all(Object.values(nodes).map((n) => n.stop()));
  await redis?.stop();
  await cleanup?.();
});

describe('Socket.IO + Redis adapter across three node processes', () => {
  it('counts deliveries, fan-out, delivery lag and broker traffic on every node', async () => {
    const inRoom: Socket[] = [];
    for (const [name, k] of Object.entries(IN_ROOM)) {
      for (let i = 0; i < k; i++) {
        const c = await connect(nodes[name]!);
        await c.timeout(WAIT_MS).emitWithAck('join', ROOM);
        inRoom.push(c);
      }
    }
    const outsider = await connect(nodes.b!);

    const before: Record<string, Family[]> = {};
    for (const n of Object.values(nodes)) before[n.name] = await scrape(`${n.url}/metrics`);

    await nodes.a!.broadcast(ROOM, true);
    await receivedAll(inRoom, 1);
    await nodes.a!.broadcast(ROOM, false);
    await receivedAll(inRoom, 2);

    expect(received.get(outsider)).toEqual([]);
    const stamped = received.get(inRoom[0]!)![0] as { _tw?: { t?: unknown } };
    expect(typeof stamped._tw?.t).toBe('number');

    for (const [name, k] of Object.entries(IN_ROOM)) {
      const after = await scrape(`${nodes[name]!.url}/metrics`);
      const was = before[name]!;
      const delta = (metric: string, labels: Record<string, string> = {}) =>
        value(after, metric, labels) - value(was, metric, labels);
      const hdelta = (metric: string, labels: Record<string, string>) => {
        const a = histogram(after, metric, labels);
        const b = histogram(was, metric, labels);
        return { count: a.count - b.count, sum: a.sum - b.sum };
      };
      const where = `node ${name}`;
      // Two broadcasts, each written once to each of this node's room members.
      expect(delta('realtime_messages_total', { direction: 'out' }), where).toBe(2 * k);
      expect(hdelta('realtime_broadcast_fanout', { transport: 'socketio' }), where).toEqual({
        count: 2,
        sum: 2 * k,
      });
      // Only the stamped broadcast has a lag: one observation per recipient here.
      expect(hdelta('realtime_delivery_lag_seconds', { transport: 'socketio' }).count, where).toBe(
        k,
      );
      const broker = { broker: 'socketio_redis' };
      expect(delta('realtime_broker_messages_total', { ...broker, direction: 'out' }), where).toBe(
        name === 'a' ? 2 : 0,
      );
      expect(delta('realtime_broker_messages_total', { ...broker, direction: 'in' }), where).toBe(
        name === 'a' ? 0 : 2,
      );
      expect(value(after, 'realtime_broker_errors_total'), where).toBe(0);
      expect(value(after, 'realtime_instrumentation_errors_total'), where).toBe(0);
    }

    // Tracing (on for A and B, off for C): one publish span on A, one deliver span per
    // node that delivered, each its own trace, linked to the publish span.
    const [spansA, spansB, spansC] = await Promise.all(
      ['a', 'b', 'c'].map((n) => nodes[n]!.spans()),
    );
    const publish = spansA!.filter((s) => s.name === 'publish');
    expect(publish).toHaveLength(1);
    expect(publish[0]!.kind).toBe(SpanKind.PRODUCER);
    const link = [{ traceId: publish[0]!.traceId, spanId: publish[0]!.spanId }];
    for (const [spans, k] of [
      [spansA!, IN_ROOM.a],
      [spansB!, IN_ROOM.b],
    ] as const) {
      const deliver = spans.filter((s) => s.name === 'deliver');
      expect(deliver).toHaveLength(1);
      expect(deliver[0]!.kind).toBe(SpanKind.CONSUMER);
      expect(deliver[0]!.links).toEqual(link);
      expect(deliver[0]!.traceId).not.toBe(publish[0]!.traceId);
      expect(deliver[0]!.parentSpanId).toBeUndefined();
      expect(deliver[0]!.attributes['realtime.recipients']).toBe(k);
    }
    expect(
      spansA!.find((s) => s.name === 'deliver')!.attributes['messaging.system'],
    ).toBeUndefined();
    expect(spansB!.find((s) => s.name === 'deliver')!.attributes['messaging.system']).toBe(
      'socketio_redis',
    );
    expect(spansA).toHaveLength(2);
    expect(spansB).toHaveLength(1);
    expect(spansC).toEqual([]);
  });
});
