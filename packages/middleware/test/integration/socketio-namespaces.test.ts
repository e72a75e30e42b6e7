import { type Socket as ClientSocket, Manager } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  packetBytes,
  received,
  type SioServer,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { type Family, histogram, seriesCount } from '../helpers.js';

let srv: SioServer | undefined;
const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) m._close();
  await srv?.close();
  srv = undefined;
});

/** Delta of a counter between two scrapes. */
function delta(a: Family[], b: Family[], name: string, want: Record<string, string> = {}) {
  return value(b, name, want) - value(a, name, want);
}

function labelValues(fams: Family[]): Set<string> {
  const out = new Set<string>();
  for (const f of fams)
    for (const m of f.metrics) for (const v of Object.values(m.labels ?? {})) out.add(v);
  return out;
}

/** `/`, `/chat` (allowlisted), `/secret` (static, not allowlisted) and `/dyn-N` (dynamic). */
async function start(): Promise<SioServer> {
  srv = await startSioServer({
    instrument: { namespaces: ['/chat'] },
    before: (io) => {
      io.of('/chat');
      io.of('/secret');
      io.of(/^\/dyn-\d+$/);
    },
  });
  return srv;
}

describe('socket.io namespaces, rooms and broadcasts', () => {
  it('rooms and room sizes come from the adapters; unlisted namespaces fold into other', async () => {
    const s = await start();
    const ws = { transports: ['websocket'] };
    const root = await Promise.all(
      Array.from({ length: 6 }, (_, i) => s.client('/', i < 2 ? { transports: ['polling'] } : ws)),
    );
    const chat = await Promise.all(Array.from({ length: 3 }, () => s.client('/chat', ws)));
    const secret = await s.client('/secret', ws);
    const dyn = await s.client('/dyn-17', ws);
    const join = (c: ClientSocket, room: string) => c.emitWithAck('join', room);
    await Promise.all([0, 1, 2, 5].map((i) => join(root[i]!, 'a')));
    await Promise.all([3, 4].map((i) => join(root[i]!, 'b')));
    await join(root[5]!, 'c');
    await Promise.all([join(chat[0]!, 'x'), join(chat[1]!, 'x')]);
    await Promise.all([join(secret, 's1'), join(dyn, 'd1'), join(dyn, 'd2')]);

    let fams = await s.scrape();
    expect(value(fams, 'realtime_rooms', { namespace: '/' })).toBe(3);
    let sizes = histogram(fams, 'realtime_room_members', { namespace: '/' });
    expect(sizes).toMatchObject({ count: 3, sum: 7 });
    expect(sizes.buckets).toMatchObject({ '1': 1, '2': 2, '5': 3 });
    expect(value(fams, 'realtime_rooms', { namespace: '/chat' })).toBe(1);
    expect(histogram(fams, 'realtime_room_members', { namespace: '/chat' }).sum).toBe(2);
    expect(value(fams, 'realtime_rooms', { namespace: 'other' })).toBe(3);
    expect(value(fams, 'realtime_connections', { endpoint: '/' })).toBe(6);
    expect(value(fams, 'realtime_connections', { endpoint: '/chat' })).toBe(3);
    expect(value(fams, 'realtime_connections', { endpoint: 'other' })).toBe(2);
    expect(value(fams, 'realtime_messages_total', { endpoint: 'other', direction: 'in' })).toBe(3);
    const names = labelValues(fams);
    expect(names.has('/secret')).toBe(false);
    expect(names.has('/dyn-17')).toBe(false);

    await root[5]!.emitWithAck('leave', 'c');
    await root[0]!.emitWithAck('leave', 'a');
    fams = await s.scrape();
    expect(value(fams, 'realtime_rooms', { namespace: '/' })).toBe(2);
    sizes = histogram(fams, 'realtime_room_members', { namespace: '/' });
    expect(sizes).toMatchObject({ count: 2, sum: 5 });

    // Leaving by disconnecting empties rooms too; the gauges follow at the next scrape.
    for (const c of [...root, ...chat, secret, dyn]) c.disconnect();
    fams = await (async () => {
      for (let i = 0; i < 200; i++) {
        const f = await s.scrape();
        if (value(f, 'realtime_connections') === 0) return f;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('connections never reached 0');
    })();
    expect(value(fams, 'realtime_rooms')).toBe(0);
    expect(histogram(fams, 'realtime_room_members').count).toBe(0);
  });

  it('counts every broadcast per recipient and observes its fan-out', async () => {
    const s = await start();
    const root = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        s.client('/', {
          transports: i < 2 ? ['polling'] : ['websocket'],
          auth: { id: `r${i}` },
        }),
      ),
    );
    const chat = await Promise.all(
      Array.from({ length: 3 }, () => s.client('/chat', { transports: ['websocket'] })),
    );
    await Promise.all([0, 1, 2, 5].map((i) => root[i]!.emitWithAck('join', 'a')));
    const before = await s.scrape();

    const got = [
      ...[0, 1, 2, 5].map((i) => received(root[i]!, 'news')),
      ...root.map((c) => received(c, 'all')),
      ...root.slice(1).map((c) => received(c, 'bc')),
      ...chat.map((c) => received(c, 'chat')),
      received(root[3]!, 'dm'),
    ];
    s.io.to('a').emit('news', 'hello');
    s.io.emit('all', 1);
    s.byId.get('/:r0')!.broadcast.emit('bc', 'x');
    s.io.of('/chat').emit('chat', 'hi');
    s.io.to(s.byId.get('/:r3')!.id).emit('dm', 'just you'); // a direct message, not a broadcast
    s.io.to('nobody-here').emit('void', 0); // reaches no one: a broadcast of 0
    await Promise.all(got);

    const after = await s.scrape();
    const out = (endpoint: string) =>
      delta(before, after, 'realtime_messages_total', { endpoint, direction: 'out' });
    expect(out('/')).toBe(4 + 6 + 5 + 1);
    expect(out('/chat')).toBe(3);
    expect(
      delta(before, after, 'realtime_message_bytes_total', { endpoint: '/', direction: 'out' }),
    ).toBe(
      4 * packetBytes('/', ['news', 'hello']) +
        6 * packetBytes('/', ['all', 1]) +
        5 * packetBytes('/', ['bc', 'x']) +
        packetBytes('/', ['dm', 'just you']),
    );
    expect(
      delta(before, after, 'realtime_message_bytes_total', { endpoint: '/chat', direction: 'out' }),
    ).toBe(3 * packetBytes('/chat', ['chat', 'hi']));
    // Polling recipients count too: two of the six sockets on `/` poll.
    expect(
      delta(before, after, 'realtime_messages_total', {
        transport: 'socketio_polling',
        direction: 'out',
      }),
    ).toBe(2 + 2 + 1);
    const fanout = histogram(after, 'realtime_broadcast_fanout', { transport: 'socketio' });
    const fanoutBefore = histogram(before, 'realtime_broadcast_fanout', { transport: 'socketio' });
    expect(fanout.count - fanoutBefore.count).toBe(5);
    expect(fanout.sum - fanoutBefore.sum).toBe(4 + 6 + 5 + 3 + 0);
    expect(fanout.buckets['1']! - (fanoutBefore.buckets['1'] ?? 0)).toBe(1);
    expect(fanout.buckets['5']! - (fanoutBefore.buckets['5'] ?? 0)).toBe(4);
    expect(fanout.buckets['10']! - (fanoutBefore.buckets['10'] ?? 0)).toBe(5);
    expect(value(after, 'realtime_instrumentation_errors_total')).toBe(0);
  });

  it('counts acks, broadcasts with acks and binary events as one message each, bytes exact', async () => {
    const s = await start();
    const clients = await Promise.all([
      s.client('/', { transports: ['polling'], auth: { id: 'p' } }),
      s.client('/', { transports: ['websocket'], auth: { id: 'w' } }),
    ]);
    for (const c of clients) {
      c.on('ask', (_q: string, ack: (a: string) => void) => ack('answer'));
      c.on('poll', (ack: (a: number) => void) => ack(42));
    }
    const before = await s.scrape();
    const nsp = s.io.of('/') as unknown as { _ids: number };

    // Server -> client emit with an ack: EVENT out, the client's ACK in.
    let expectOut = 0;
    let expectIn = 0;
    for (const id of ['p', 'w']) {
      const ackId = nsp._ids;
      const answer = await s.byId.get(`/:${id}`)!.emitWithAck('ask', 'q');
      expect(answer).toBe('answer');
      expectOut += packetBytes('/', ['ask', 'q'], { id: ackId });
      expectIn += packetBytes('/', ['answer'], { ack: true, id: ackId });
    }
    // A broadcast with acks: fan-out 2, one EVENT out and one ACK in per client.
    const ackId = nsp._ids;
    const answers = await s.io.timeout(5000).emitWithAck('poll');
    expect(answers).toEqual([42, 42]);
    expectOut += 2 * packetBytes('/', ['poll'], { id: ackId });
    expectIn += 2 * packetBytes('/', [42], { ack: true, id: ackId });
    // Binary both ways: a header packet plus one attachment, one message.
    const buf = Buffer.alloc(3000, 7);
    await Promise.all(
      clients.map((c) => {
        const back = received(c, 'echo');
        c.emit('echo', buf);
        return back;
      }),
    );
    expectOut += 2 * packetBytes('/', ['echo', buf]);
    expectIn += 2 * packetBytes('/', ['echo', buf]);
    // A client emit with an ack: EVENT in (with its id), the server's ACK out.
    await clients[1]!.emitWithAck('join', 'room');
    expectIn += packetBytes('/', ['join', 'room'], { id: 0 });
    expectOut += packetBytes('/', [], { ack: true, id: 0 });

    const after = await s.scrape();
    const d = (name: string, direction: string) =>
      delta(before, after, name, { endpoint: '/', direction });
    expect(d('realtime_messages_total', 'out')).toBe(2 + 2 + 2 + 1);
    expect(d('realtime_messages_total', 'in')).toBe(2 + 2 + 2 + 1);
    expect(d('realtime_message_bytes_total', 'out')).toBe(expectOut);
    expect(d('realtime_message_bytes_total', 'in')).toBe(expectIn);
    const sizes = histogram(after, 'realtime_message_size_bytes', { direction: 'in' });
    const sizesBefore = histogram(before, 'realtime_message_size_bytes', { direction: 'in' });
    expect(sizes.count - sizesBefore.count).toBe(7);
    expect(sizes.sum - sizesBefore.sum).toBe(expectIn);
    // The two binary events are the only messages over 1 KiB.
    expect(
      sizes.count - sizes.buckets['1024']! - (sizesBefore.count - sizesBefore.buckets['1024']!),
    ).toBe(2);
    const fanout = histogram(after, 'realtime_broadcast_fanout');
    expect(fanout.count - histogram(before, 'realtime_broadcast_fanout').count).toBe(1);
  });

  it('attributes the namespaces of one multiplexed connection separately', async () => {
    const s = await start();
    const m = new Manager(s.url, { transports: ['websocket'], reconnection: false });
    managers.push(m);
    const sockets = ['/', '/chat', '/secret'].map((n) => m.socket(n));
    await Promise.all(
      sockets.map((c) => new Promise<void>((resolve) => c.once('connect', () => resolve()))),
    );
    await Promise.all(
      sockets.map((c, i) => {
        const back = received(c, 'echo', i + 1);
        for (let j = 0; j <= i; j++) c.emit('echo', `n${j}`);
        return back;
      }),
    );
    const fams = await s.scrape();
    expect(value(fams, 'realtime_connections')).toBe(3);
    for (const [endpoint, n, nsp] of [
      ['/', 1, '/'],
      ['/chat', 2, '/chat'],
      ['other', 3, '/secret'],
    ] as const) {
      for (const direction of ['in', 'out']) {
        expect(value(fams, 'realtime_messages_total', { endpoint, direction })).toBe(n);
        let bytes = 0;
        for (let j = 0; j < n; j++) bytes += packetBytes(nsp, ['echo', `n${j}`]);
        expect(value(fams, 'realtime_message_bytes_total', { endpoint, direction })).toBe(bytes);
      }
    }
    // One engine.io connection: one handshake per namespace, all on the websocket.
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' }).count,
    ).toBe(3);
    sockets[1]!.disconnect(); // leaves /chat only: the other two stay
    const after = await (async () => {
      for (let i = 0; i < 200; i++) {
        const f = await s.scrape();
        if (value(f, 'realtime_connections_closed_total') === 1) return f;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error('the /chat close was never counted');
    })();
    expect(
      value(after, 'realtime_connections_closed_total', {
        endpoint: '/chat',
        reason: 'normal',
        initiator: 'client',
      }),
    ).toBe(1);
    expect(value(after, 'realtime_connections', { endpoint: '/' })).toBe(1);
    expect(value(after, 'realtime_connections', { endpoint: 'other' })).toBe(1);
    expect(seriesCount(after, 'realtime_connections')).toBeGreaterThan(0);
  });

  it('by default names every namespace the app creates, and folds dynamic children', async () => {
    srv = await startSioServer({
      before: (io) => {
        io.of('/early');
        io.of(/^\/tenant-\d+$/);
      },
      after: (io) => {
        io.of('/late');
      },
    });
    const s = srv;
    await Promise.all(
      ['/', '/early', '/late', '/tenant-1', '/tenant-2'].map((n) =>
        s.client(n, { transports: ['websocket'] }),
      ),
    );
    const fams = await s.scrape();
    for (const endpoint of ['/', '/early', '/late']) {
      expect(value(fams, 'realtime_connections', { endpoint })).toBe(1);
    }
    expect(value(fams, 'realtime_connections', { endpoint: 'other' })).toBe(2);
    expect(labelValues(fams).has('/tenant-1')).toBe(false);
  });
});
