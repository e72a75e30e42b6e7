import http from 'node:http';
import type { Socket as ClientSocket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  clientTcp,
  received,
  type SioServer,
  scrapeUntil,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { histogram, sumBounds, until } from '../helpers.js';

let srv: SioServer | undefined;
const cleanup: Array<() => void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) c();
  await srv?.close();
  srv = undefined;
});

const closes = (
  srvFams: Awaited<ReturnType<SioServer['scrape']>>,
  reason: string,
  initiator: string,
) => value(srvFams, 'realtime_connections_closed_total', { reason, initiator });

/** A raw engine.io v4 WebSocket client: connects to `/`, answers pings, then sends `bad`. */
function rawParseError(port: number, bad: string): WebSocket {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`);
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith('0')) ws.send('40');
    else if (text === '2') ws.send('3');
    else if (text.startsWith('40')) ws.send(bad);
  });
  return ws;
}

/**
 * A raw engine.io polling session on `/` that ends with the client's close packet. (The
 * socket.io-client library may cut its pending poll before the close packet arrives, which
 * the server rightly sees as an abrupt `transport error`.)
 */
async function pollingSessionClosedByClient(base: string): Promise<void> {
  const url = `${base}/socket.io/?EIO=4&transport=polling`;
  const open = await (await fetch(url)).text();
  const sid = JSON.parse(open.slice(1)).sid as string;
  const post = (body: string) =>
    fetch(`${url}&sid=${sid}`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  expect(await (await post('40')).text()).toBe('ok');
  // The connect answer, maybe behind a ping the server queued first (packets split by 0x1e).
  const packets = (await (await fetch(`${url}&sid=${sid}`)).text()).split('\u001e');
  expect(packets.filter((p) => p.startsWith('40{'))).toHaveLength(1);
  expect(await (await post('1')).text()).toBe('ok');
}

describe('socket.io closes and heartbeats', () => {
  it('normalises every disconnect reason and returns the gauge to 0', async () => {
    srv = await startSioServer({
      // A stalled event loop on a loaded machine must not time out a client that answers:
      // only the paused one below may reach its ping timeout.
      io: { pingInterval: 300, pingTimeout: 1500, maxHttpBufferSize: 2000 },
    });
    const s = srv;
    const agent = new http.Agent({ keepAlive: true });
    cleanup.push(() => agent.destroy());
    const P = { transports: ['polling'] };
    const W = { transports: ['websocket'] };
    const c = async (id: string, o: object) => s.client('/', { ...o, auth: { id } });
    const kinds: Record<string, object> = {
      a1: P,
      a2: W,
      a4: W,
      b1: W,
      b2: { ...P, agent },
      c1: W,
      d1: P,
      d2: W,
      d3: W,
      e2: W,
      f1: P,
      f2: W,
    };
    const cl: Record<string, ClientSocket> = {};
    await Promise.all(
      Object.entries(kinds).map(async ([id, o]) => {
        cl[id] = await c(id, o);
      }),
    );
    const e1 = rawParseError(s.port, '42["x"'); // socket.io cannot decode it
    const e3 = rawParseError(s.port, 'z'); // engine.io cannot decode it
    const e4 = rawParseError(s.port, '42/elsewhere,["x"]'); // a namespace it never joined
    cleanup.push(
      () => e1.terminate(),
      () => e3.terminate(),
      () => e4.terminate(),
    );
    const engineOf = (x: ClientSocket) => (x.io as unknown as { engine: { close(): void } }).engine;
    const server = (id: string) => s.byId.get(`/:${id}`)!;

    // Let a few heartbeats go by first.
    await scrapeUntil(
      s,
      'pongs from every client',
      (f) => value(f, 'realtime_heartbeats_total') >= 13,
    );

    cl.a1!.disconnect(); // client namespace disconnect
    cl.a2!.disconnect();
    await pollingSessionClosedByClient(s.url); // polling: the engine.io close packet
    engineOf(cl.a4!).close(); // websocket: close frame without a code (1005)
    clientTcp(cl.b1!).destroy(); // no close frame: 1006
    // A cut network lets no close packet through: without this, socket.io-client answers the
    // failed poll with a close packet on a fresh request, which can reach the server before it
    // sees the cut (then it is, correctly, a normal close by the client).
    (engineOf(cl.b2!) as unknown as { transport: { write(): void } }).transport.write = () => {};
    for (const list of Object.values(agent.sockets)) for (const so of list ?? []) so.destroy(); // poll cut
    const paused = clientTcp(cl.c1!);
    paused.pause(); // stops answering pings
    server('d1').disconnect();
    server('d2').disconnect(true);
    server('d3').conn.close();
    cl.e2!.emit('echo', 'x'.repeat(5000)); // over maxHttpBufferSize: ws closes with 1009

    let fams = await scrapeUntil(
      s,
      '14 closes',
      (f) => value(f, 'realtime_connections_closed_total') === 14,
      20_000,
    );
    // All at once, so that a miscount shows where the close went.
    const byReason: Record<string, number> = {};
    for (const m of fams.find((f) => f.name === 'realtime_connections_closed_total')!.metrics) {
      const key = `${m.labels!.reason}/${m.labels!.initiator}`;
      const n = Number(m.value);
      if (n > 0) byReason[key] = (byReason[key] ?? 0) + n;
    }
    // The poll cut (b2) is seen by the server only when a poll request was in flight; cut
    // between two polls, the client just falls silent and the server times it out. Both are
    // right; either way the books must balance exactly.
    const cutSeen = (byReason['abnormal/client'] ?? 0) - 1;
    expect([0, 1]).toContain(cutSeen);
    expect(byReason).toEqual({
      'normal/client': 4,
      'abnormal/client': 1 + cutSeen,
      'ping_timeout/server': 2 - cutSeen,
      'normal/server': 3,
      'protocol_error/server': 3,
      'message_too_big/server': 1,
    });
    expect(value(fams, 'realtime_heartbeats_total', { outcome: 'timeout' })).toBe(2 - cutSeen);
    expect(value(fams, 'realtime_errors_total', { type: 'poll_closed_prematurely' })).toBe(cutSeen);
    expect(value(fams, 'realtime_errors_total', { type: 'invalid_packet' })).toBe(2);
    expect(value(fams, 'realtime_errors_total', { type: 'parse_error' })).toBe(1);
    expect(value(fams, 'realtime_errors_total', { type: 'message_too_big' })).toBe(1);
    expect(value(fams, 'realtime_connections')).toBe(2);

    // Every pong measured a round trip from the server's ping, per transport.
    for (const transport of ['socketio_polling', 'socketio_websocket']) {
      const pongs = value(fams, 'realtime_heartbeats_total', { transport, outcome: 'pong' });
      const rtt = histogram(fams, 'realtime_ping_rtt_seconds', { transport });
      expect(pongs).toBeGreaterThan(0);
      expect(rtt.count).toBe(pongs);
      expect(rtt.buckets['+Inf']).toBe(pongs);
      expect(Number.isFinite(rtt.sum) && rtt.sum > 0).toBe(true);
      const { min, max } = sumBounds(rtt);
      expect(rtt.sum).toBeGreaterThanOrEqual(min);
      expect(rtt.sum).toBeLessThanOrEqual(max);
    }

    // ws waits up to 30 s for the paused peer's close frame: let the client go.
    paused.destroy();
    void s.io.close(); // the rest: server shutting down
    fams = await scrapeUntil(
      s,
      'shutdown closes',
      (f) => value(f, 'realtime_connections_closed_total') === 16,
    );
    expect(closes(fams, 'server_shutdown', 'server')).toBe(2);
    expect(histogram(fams, 'realtime_connection_duration_seconds').count).toBe(16);
    expect(value(fams, 'realtime_connections')).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
  });

  it('counts recovered sessions and keeps state-recovery emits out of the fan-out', async () => {
    srv = await startSioServer({
      io: { connectionStateRecovery: { maxDisconnectionDuration: 10_000 } },
    });
    const s = srv;
    const c = await s.client('/', {
      transports: ['websocket'],
      reconnection: true,
      reconnectionDelay: 20,
      reconnectionDelayMax: 50,
      auth: { id: 'x' },
    });
    // A broadcast gives the client an offset to resume from; a direct emit is no broadcast.
    const tick = received(c, 'tick');
    s.io.emit('tick', 1);
    await tick;
    const direct = received(c, 'direct');
    s.byId.get('/:x')!.emit('direct', 2);
    await direct;
    expect(c.recovered).toBe(false);

    const back = new Promise<void>((resolve) => c.io.once('reconnect', () => resolve()));
    clientTcp(c).destroy();
    await back;
    await until('recovered', () => c.connected);
    expect(c.recovered).toBe(true);
    const fams = await scrapeUntil(
      s,
      'the reconnect',
      (f) => value(f, 'realtime_reconnects_total') === 1,
    );
    expect(
      value(fams, 'realtime_reconnects_total', { transport: 'socketio_websocket', endpoint: '/' }),
    ).toBe(1);
    expect(value(fams, 'realtime_connections_opened_total')).toBe(2);
    expect(closes(fams, 'abnormal', 'client')).toBe(1);
    expect(value(fams, 'realtime_connections')).toBe(1);
    expect(histogram(fams, 'realtime_broadcast_fanout').count).toBe(1);
    expect(value(fams, 'realtime_messages_total', { direction: 'out' })).toBe(2);
    c.disconnect();
  });

  it('reads send buffers, slow consumers and idle state from live connections', async () => {
    srv = await startSioServer({
      metrics: { idleAfterMs: 150 },
      instrument: { slowConsumerBytes: 1 << 20 },
    });
    const s = srv;
    const [slow, idle] = await Promise.all([
      s.client('/', { transports: ['websocket'], auth: { id: 's' } }),
      s.client('/', { transports: ['websocket'], auth: { id: 'i' } }),
    ]);
    const tcp = clientTcp(slow!);
    tcp.pause();
    const chunk = 'y'.repeat(256 * 1024);
    for (let i = 0; i < 40; i++) s.byId.get('/:s')!.emit('flood', chunk);
    let fams = await scrapeUntil(
      s,
      'a slow consumer',
      (f) => value(f, 'realtime_slow_consumers', { transport: 'socketio_websocket' }) === 1,
    );
    expect(
      value(fams, 'realtime_send_buffer_bytes', { transport: 'socketio_websocket' }),
    ).toBeGreaterThan(1 << 20);
    fams = await scrapeUntil(
      s,
      'the quiet one idle',
      (f) => value(f, 'realtime_connections', { state: 'idle' }) === 2,
    );
    const back = received(idle!, 'echo');
    idle!.emit('echo', 'wake');
    await back;
    fams = await s.scrape();
    expect(value(fams, 'realtime_connections', { state: 'active' })).toBe(1);
    expect(value(fams, 'realtime_connections', { state: 'idle' })).toBe(1);
    tcp.destroy();
    fams = await scrapeUntil(
      s,
      'the buffer gone with its connection',
      (f) => value(f, 'realtime_connections') === 1,
    );
    expect(value(fams, 'realtime_send_buffer_bytes')).toBe(0);
    expect(value(fams, 'realtime_slow_consumers')).toBe(0);
  });
});
