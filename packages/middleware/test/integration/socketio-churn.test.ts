import http from 'node:http';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clientTcp,
  clientTransport,
  gaugeNeverNegative,
  liveSockets,
  received,
  type SioServer,
  scrapeUntil,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { type Family, histogram } from '../helpers.js';

let srv: SioServer | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await srv?.close();
  srv = undefined;
});

const ROUNDS = 5;
type Kind = 'polling' | 'websocket' | 'upgrade';
const KINDS: Kind[] = [
  'polling',
  'websocket',
  'upgrade',
  'polling',
  'websocket',
  'upgrade',
  'websocket',
];

/**
 * The well-known failures of Socket.IO metric plugins: a connection gauge kept with
 * inc/dec that drifts (abrupt disconnects, upgrades, disconnects of never-counted sockets)
 * or goes negative, broadcasts not counted (they bypass `socket.emit`), custom namespaces
 * missed (only `io.on('connection')` hooked).
 */
describe('socket.io: the classic plugin bugs are absent', () => {
  it('keeps the gauge equal to the live sockets through churn, counts broadcasts and custom namespaces', async () => {
    srv = await startSioServer({
      // Long enough that a loaded machine's event-loop stall does not time out a client
      // that is meant to receive a broadcast; short enough that the paused ones below
      // reach their ping timeout within a round.
      io: { pingInterval: 300, pingTimeout: 1500 },
      after: (io) => {
        io.of('/chat'); // created after instrumenting: must be seen all the same
      },
    });
    const s = srv;
    const agent = new http.Agent({ keepAlive: true });
    cleanup.push(() => agent.destroy());

    // Scrape every 10 ms through the whole run: each scrape must equal socket.io's own
    // count of connected sockets at that instant, and never be negative.
    const mismatches: string[] = [];
    let scrapes = 0;
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        const live = liveSockets(s.io);
        const fams = await s.scrape();
        scrapes++;
        const gauge = value(fams, 'realtime_connections');
        if (gauge !== live) mismatches.push(`gauge ${gauge} != live ${live}`);
        if (!gaugeNeverNegative(fams)) mismatches.push('negative gauge');
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    let opened = 0;
    let expectOut = { '/': 0, '/chat': 0 };
    let fanouts = 0;
    let fanoutSum = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const clients: Array<{ c: ClientSocket; kind: Kind; nsp: string }> = await Promise.all(
        KINDS.map(async (kind, i) => {
          const nsp = i % 2 === 0 ? '/' : '/chat';
          const transports = kind === 'upgrade' ? ['polling', 'websocket'] : [kind];
          const c = await s.client(nsp, {
            transports,
            agent: kind === 'polling' ? agent : false,
          } as object);
          return { c, kind, nsp };
        }),
      );
      opened += clients.length;
      // Broadcasts on both namespaces reach every live socket, whatever its transport.
      const gotRoot = clients.filter((x) => x.nsp === '/').map((x) => received(x.c, 'tick'));
      const gotChat = clients.filter((x) => x.nsp === '/chat').map((x) => received(x.c, 'tick'));
      s.io.emit('tick', round);
      s.io.of('/chat').emit('tick', round);
      await Promise.all([...gotRoot, ...gotChat]);
      expectOut = {
        '/': expectOut['/'] + gotRoot.length,
        '/chat': expectOut['/chat'] + gotChat.length,
      };
      fanouts += 2;
      fanoutSum += gotRoot.length + gotChat.length;

      // Close them every way there is, several of them abrupt.
      for (const [i, { c, kind, nsp }] of clients.entries()) {
        const way = (i + round) % 5;
        if (way === 0) c.disconnect();
        else if (way === 1 && kind !== 'polling' && clientTransport(c) === 'websocket') {
          clientTcp(c).destroy();
        } else if (way === 1) {
          for (const list of Object.values(agent.sockets))
            for (const so of list ?? []) so.destroy();
          c.disconnect();
        } else if (way === 2 && clientTransport(c) === 'websocket') {
          const tcp = clientTcp(c);
          tcp.pause(); // ping timeout (at most interval + timeout), then let it go
          setTimeout(() => tcp.destroy(), 4000).unref();
        } else if (way === 3) {
          for (const so of s.io.of(nsp).sockets.values()) {
            if (so.id === c.id) so.disconnect(true);
          }
        } else {
          (c.io as unknown as { engine: { close(): void } }).engine.close();
        }
      }
      await scrapeUntil(
        s,
        `round ${round}: every socket closed`,
        (f) => value(f, 'realtime_connections_closed_total') === opened && liveSockets(s.io) === 0,
        20_000,
      );
    }
    stop = true;
    await sampler;

    const fams: Family[] = await s.scrape();
    expect(mismatches).toEqual([]);
    expect(scrapes).toBeGreaterThan(20);
    expect(value(fams, 'realtime_connections')).toBe(0);
    expect(value(fams, 'realtime_connections_opened_total')).toBe(opened);
    expect(value(fams, 'realtime_connections_closed_total')).toBe(opened);
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: '/chat' })).toBe(
      ROUNDS * 3,
    );
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'ping_timeout' }),
    ).toBeGreaterThan(0);
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'abnormal' }),
    ).toBeGreaterThan(0);
    for (const endpoint of ['/', '/chat'] as const) {
      expect(value(fams, 'realtime_messages_total', { endpoint, direction: 'out' })).toBe(
        expectOut[endpoint],
      );
    }
    const fanout = histogram(fams, 'realtime_broadcast_fanout', { transport: 'socketio' });
    expect(fanout.count).toBe(fanouts);
    expect(fanout.sum).toBe(fanoutSum);
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
  }, 120_000);
});
