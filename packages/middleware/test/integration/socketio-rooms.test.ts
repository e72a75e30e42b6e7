import { OTHER_ROOM } from '@tidewatch/conventions';
import type { Socket } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import {
  received,
  type SioServer,
  scrapeUntil,
  startSioServer,
} from '../fixtures/socketio-server.js';
import type { Family } from '../helpers.js';

let srv: SioServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

function byRoom(fams: Family[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of fams.find((f) => f.name === name)?.metrics ?? []) {
    expect(m.labels?.transport).toBe('socketio');
    out.set(m.labels!.room!, Number(m.value));
  }
  return out;
}

describe('socket.io rooms', () => {
  it('counts broadcasts per room for the top K, members from the adapter, private rooms left out', async () => {
    srv = await startSioServer({
      metrics: { rooms: { topK: 2 } },
      after: (io) =>
        io.on('connection', (socket: Socket) => {
          socket.on('say', (room: string, text: string) => socket.to(room).emit('said', text));
        }),
    });
    const s = srv;
    const clients = await Promise.all(
      Array.from({ length: 6 }, (_, i) => s.client('/', { auth: { id: `c${i}` } })),
    );
    const plan: Array<[number, string]> = [
      [0, 'a'],
      [1, 'a'],
      [2, 'a'],
      [3, 'b'],
      [4, 'b'],
      [5, 'c'],
    ];
    for (const [i, room] of plan) await clients[i]!.emitWithAck('join', room);

    // Room messages, one per broadcast and room (not per recipient):
    // a = 5 + 2 = 7, b = 4 + 2 + 2 (socket.to from a client) = 8, c = 1.
    for (let i = 0; i < 5; i++) s.io.to('a').emit('x', i);
    for (let i = 0; i < 4; i++) s.io.to('b').emit('x', i);
    s.io.to('c').emit('x', 0);
    for (let i = 0; i < 2; i++) s.io.to(['a', 'b']).emit('x', i);
    // Not room messages: to one socket's own room, and to everyone.
    const c0 = s.byId.get('/:c0')!;
    for (let i = 0; i < 4; i++) s.io.to(c0.id).emit('x', i);
    s.io.emit('x', 'all');
    const heard = received(clients[4]!, 'said', 2);
    clients[3]!.emit('say', 'b', 'hi');
    clients[3]!.emit('say', 'b', 'there');
    await heard;

    const fams = await s.scrape();
    expect(byRoom(fams, 'realtime_room_messages_total')).toEqual(
      new Map([
        ['b', 8],
        ['a', 7],
        [OTHER_ROOM, 1],
      ]),
    );
    // Six private rooms (one per socket) are not rooms users made.
    expect(byRoom(fams, 'realtime_room_members_current')).toEqual(
      new Map([
        ['b', 2],
        ['a', 3],
        [OTHER_ROOM, 1],
      ]),
    );

    await clients[1]!.emitWithAck('leave', 'a');
    clients[2]!.disconnect();
    const after = await scrapeUntil(
      s,
      'room a down to one member',
      (f) => byRoom(f, 'realtime_room_members_current').get('a') === 1,
    );
    expect(byRoom(after, 'realtime_room_members_current').get('b')).toBe(2);
    // A counter never goes back when the members change.
    expect(byRoom(await s.scrape(), 'realtime_room_messages_total').get('a')).toBe(7);
  });

  it('exports room="__other__" at 0 from attach, before any room exists', async () => {
    srv = await startSioServer();
    const fams = await srv.scrape();
    expect(byRoom(fams, 'realtime_room_messages_total')).toEqual(new Map([[OTHER_ROOM, 0]]));
    expect(byRoom(fams, 'realtime_room_members_current')).toEqual(new Map([[OTHER_ROOM, 0]]));
  });
});
