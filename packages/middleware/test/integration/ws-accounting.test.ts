import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import {
  closed,
  connect,
  type EchoServer,
  echoAll,
  histogram,
  rawUpgrade,
  startEchoServer,
  until,
  upgradeRequest,
  value,
} from '../helpers.js';

const N = 200;
const M = 10;
/** Message j of client i: text or binary, sizes spread over several histogram buckets. */
function payload(i: number, j: number): string | Buffer {
  const size = 16 + ((i * 7 + j * 131) % 3000);
  return j % 2 === 0 ? 'x'.repeat(size) : Buffer.alloc(size, i % 256);
}

let srv: EchoServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

describe('ws accounting under real traffic', () => {
  it('every counter equals what the clients did, and the gauges return to 0', async () => {
    let releaseSlow: () => void = () => {};
    const slowGate = new Promise<void>((r) => {
      releaseSlow = r;
    });
    let slowArrived: (req: IncomingMessage) => void = () => {};
    const slowSeen = new Promise<IncomingMessage>((r) => {
      slowArrived = r;
    });
    srv = await startEchoServer({
      ws: {
        verifyClient: (
          info: { req: IncomingMessage },
          cb: (ok: boolean, code?: number) => void,
        ) => {
          const url = info.req.url ?? '';
          if (url.includes('deny')) return cb(false, 401);
          if (url.includes('slow')) {
            slowArrived(info.req);
            void slowGate.then(() => cb(true));
            return;
          }
          cb(true);
        },
      },
    });
    const s = srv;

    // N clients, M messages each, every echo received.
    const clients: WebSocket[] = await Promise.all(
      Array.from({ length: N }, (_, i) => connect(`${s.url}?id=${i}`)),
    );
    await echoAll(clients, M, payload);
    let bytesSent = 0;
    for (let i = 0; i < N; i++)
      for (let j = 0; j < M; j++) bytesSent += Buffer.byteLength(payload(i, j));

    // Refused by verifyClient, refused by path, and one client that leaves mid-handshake.
    const refused = await Promise.all(
      Array.from({ length: 7 }, () => rawUpgrade(s.port, upgradeRequest('/ws?deny'))),
    );
    for (const r of refused) expect(r.status).toBe('HTTP/1.1 401 Unauthorized');
    const wrongPath = await Promise.all(
      Array.from({ length: 3 }, () => rawUpgrade(s.port, upgradeRequest('/elsewhere'))),
    );
    for (const r of wrongPath) expect(r.status).toBe('HTTP/1.1 400 Bad Request');
    for (const r of [...refused, ...wrongPath]) r.socket.destroy();

    const net = await import('node:net');
    const leaver = net.connect(s.port, '127.0.0.1', () => leaver.write(upgradeRequest('/ws?slow')));
    leaver.on('error', () => {});
    const slowReq = await slowSeen;
    let fams = await s.scrape();
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(1);
    // The server must see the reset before the handshake may go on: wait for it, not a while.
    const gone = new Promise((r) =>
      slowReq.socket.destroyed ? r(undefined) : slowReq.socket.once('close', r),
    );
    leaver.resetAndDestroy();
    await gone;
    releaseSlow();

    // Closes: 100 normal from the client, 50 TCP resets, 25 server 1001, 25 server terminate.
    const waits = clients.map((ws) => closed(ws));
    for (let i = 0; i < 100; i++) clients[i]!.close(1000, 'bye');
    for (let i = 100; i < 150; i++)
      (clients[i] as unknown as { _socket: { resetAndDestroy(): void } })._socket.resetAndDestroy();
    for (let i = 150; i < 175; i++) s.byId.get(String(i))!.close(1001, 'shutting down');
    for (let i = 175; i < 200; i++) s.byId.get(String(i))!.terminate();
    await Promise.all(waits);

    await until('all 200 closes counted', async () => {
      fams = await s.scrape();
      return value(fams, 'realtime_connections_closed_total') === N;
    });
    await until('the aborted handshake is counted', async () => {
      fams = await s.scrape();
      return value(fams, 'realtime_handshakes_in_flight') === 0;
    });
    fams = await s.scrape();

    const ep = { transport: 'websocket', endpoint: '/ws' };
    expect(value(fams, 'realtime_connections_opened_total', ep)).toBe(N);
    const closedBy = (reason: string, initiator: string) =>
      value(fams, 'realtime_connections_closed_total', { ...ep, reason, initiator });
    expect(closedBy('normal', 'client')).toBe(100);
    expect(closedBy('abnormal', 'client')).toBe(50);
    expect(closedBy('server_shutdown', 'server')).toBe(25);
    expect(closedBy('abnormal', 'server')).toBe(25);
    expect(value(fams, 'realtime_connections_closed_total')).toBe(N);
    expect(
      histogram(fams, 'realtime_connection_duration_seconds', { reason: 'normal' }).count,
    ).toBe(100);
    expect(histogram(fams, 'realtime_connection_duration_seconds').count).toBe(N);

    for (const direction of ['in', 'out']) {
      expect(value(fams, 'realtime_messages_total', { ...ep, direction })).toBe(N * M);
      expect(value(fams, 'realtime_message_bytes_total', { ...ep, direction })).toBe(bytesSent);
      const h = histogram(fams, 'realtime_message_size_bytes', { direction });
      expect(h.count).toBe(N * M);
      expect(h.sum).toBe(bytesSent);
    }
    // Sizes run from 16 B to ~3 KiB: the 64 B bucket holds only the small ones.
    const sizes = histogram(fams, 'realtime_message_size_bytes', { direction: 'in' });
    let small = 0;
    for (let i = 0; i < N; i++)
      for (let j = 0; j < M; j++) {
        const p = payload(i, j);
        if ((typeof p === 'string' ? p.length : p.length) <= 64) small++;
      }
    expect(sizes.buckets['64']).toBe(small);
    expect(sizes.buckets['4096']).toBe(N * M);

    const hs = (outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { outcome }).count;
    expect(hs('success')).toBe(N);
    expect(hs('rejected')).toBe(10);
    expect(hs('aborted')).toBe(1);
    expect(hs('error')).toBe(0);

    expect(value(fams, 'realtime_connections')).toBe(0);
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
    expect(value(fams, 'realtime_messages_total', { client_type: 'unknown' })).toBe(2 * N * M);
  });
});
