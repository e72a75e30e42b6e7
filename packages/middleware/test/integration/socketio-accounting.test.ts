import { afterEach, describe, expect, it } from 'vitest';
import {
  clientTransport,
  packetBytes,
  received,
  type SioServer,
  scrapeUntil,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { histogram } from '../helpers.js';

let srv: SioServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const N = 5;
const M = 4;
/** Message j of client i: sizes spread over several buckets, some multi-byte UTF-8. */
function payload(i: number, j: number): string {
  return `${'é'.repeat(i)}${'x'.repeat(10 + ((i * 37 + j * 211) % 900))}`;
}

describe('socket.io transports', () => {
  it('counts polling-only, websocket-only and upgrading clients exactly', async () => {
    srv = await startSioServer();
    const s = srv;
    const polling = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        s.client('/', { transports: ['polling'], auth: { id: `p${i}` } }),
      ),
    );
    const websocket = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        s.client('/', { transports: ['websocket'], auth: { id: `w${i}` } }),
      ),
    );
    const upgrading = await Promise.all(
      Array.from({ length: N }, (_, i) => s.client('/', { auth: { id: `u${i}` } })),
    );
    const upgradedOnServer = () =>
      [...s.io.sockets.sockets.values()].filter((x) => x.conn.transport.name === 'websocket')
        .length ===
      2 * N;
    let fams = await scrapeUntil(s, 'every default client upgraded', (f) => {
      return (
        upgradedOnServer() &&
        upgrading.every((c) => clientTransport(c) === 'websocket') &&
        value(f, 'realtime_transport_upgrades_total') === N
      );
    });
    expect(
      value(fams, 'realtime_transport_upgrades_total', {
        from: 'socketio_polling',
        to: 'socketio_websocket',
      }),
    ).toBe(N);
    // The gauge follows the upgrade; opens stay where the connection opened.
    const conns = (transport: string) =>
      value(fams, 'realtime_connections', { transport, endpoint: '/' });
    expect(conns('socketio_polling')).toBe(N);
    expect(conns('socketio_websocket')).toBe(2 * N);
    expect(value(fams, 'realtime_connections')).toBe(3 * N);
    const opened = (transport: string) =>
      value(fams, 'realtime_connections_opened_total', { transport, endpoint: '/' });
    expect(opened('socketio_polling')).toBe(2 * N);
    expect(opened('socketio_websocket')).toBe(N);
    const hs = (transport: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { transport, outcome: 'success' })
        .count;
    expect(hs('socketio_polling')).toBe(2 * N);
    expect(hs('socketio_websocket')).toBe(N);
    expect(histogram(fams, 'realtime_handshake_duration_seconds').count).toBe(3 * N);

    // M echoes per client; every byte is socket.io-parser's encoding of the event.
    const groups = { socketio_polling: polling, socketio_websocket: [...websocket, ...upgrading] };
    const bytes: Record<string, number> = { socketio_polling: 0, socketio_websocket: 0 };
    const all = [...polling, ...websocket, ...upgrading];
    await Promise.all(
      all.map((c, i) => {
        const done = received(c, 'echo', M);
        for (let j = 0; j < M; j++) c.emit('echo', payload(i, j));
        return done;
      }),
    );
    all.forEach((_, i) => {
      const t = i < N ? 'socketio_polling' : 'socketio_websocket';
      for (let j = 0; j < M; j++) bytes[t]! += packetBytes('/', ['echo', payload(i, j)]);
    });
    fams = await s.scrape();
    for (const [transport, clients] of Object.entries(groups)) {
      for (const direction of ['in', 'out']) {
        const ep = { transport, endpoint: '/', direction };
        expect(value(fams, 'realtime_messages_total', ep)).toBe(clients.length * M);
        expect(value(fams, 'realtime_message_bytes_total', ep)).toBe(bytes[transport]);
        const h = histogram(fams, 'realtime_message_size_bytes', { transport, direction });
        expect(h.count).toBe(clients.length * M);
        expect(h.sum).toBe(bytes[transport]);
      }
    }
    // The upgrade never changed the total, and nothing went negative.
    expect(value(fams, 'realtime_connections')).toBe(3 * N);

    for (const c of all) c.disconnect();
    fams = await scrapeUntil(
      s,
      'every close counted',
      (f) => value(f, 'realtime_connections_closed_total') === 3 * N,
    );
    expect(
      value(fams, 'realtime_connections_closed_total', { reason: 'normal', initiator: 'client' }),
    ).toBe(3 * N);
    expect(histogram(fams, 'realtime_connection_duration_seconds').count).toBe(3 * N);
    expect(value(fams, 'realtime_connections')).toBe(0);
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
  });
});
