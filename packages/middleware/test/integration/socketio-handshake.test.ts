import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  clientTcp,
  type SioServer,
  scrapeUntil,
  startSioServer,
  value,
} from '../fixtures/socketio-server.js';
import { type Family, histogram, sumBounds, until } from '../helpers.js';

let srv: SioServer | undefined;
const raw: Array<{ destroy(): void } | { terminate(): void }> = [];
afterEach(async () => {
  for (const r of raw.splice(0)) 'destroy' in r ? r.destroy() : r.terminate();
  await srv?.close();
  srv = undefined;
});

const hs = (fams: Family[], want: Record<string, string>) =>
  histogram(fams, 'realtime_handshake_duration_seconds', want).count;

describe('socket.io handshakes', () => {
  it('tells success, middleware and engine rejections, errors and aborts apart', async () => {
    // The slow steps wait for the test, not for a while: a loaded machine cannot reorder them.
    let answerSlowRequest: (() => void) | undefined;
    let slowNamespaceHeld = false;
    srv = await startSioServer({
      io: {
        // Long enough for a client on a loaded machine to ask for its namespace in time.
        connectTimeout: 2000,
        allowRequest: (req, cb) => {
          const url = req.url ?? '';
          if (url.includes('deny=1')) return cb('denied', false);
          if (url.includes('slow=1')) {
            answerSlowRequest = () => cb(null, true);
            return;
          }
          cb(null, true);
        },
      },
      before: (io) => {
        io.use((socket, next) =>
          socket.handshake.auth?.token === 'ok' ? next() : next(new Error('unauthorized')),
        );
        // Never lets the connect through: the client leaves first.
        io.of('/slow').use(() => {
          slowNamespaceHeld = true;
        });
      },
    });
    const s = srv;
    const base = `${s.url}/socket.io/?EIO=4`;
    const ok = { auth: { token: 'ok' } };

    // Success over each transport.
    await s.client('/', { ...ok, transports: ['polling'] });
    await s.client('/', { ...ok, transports: ['websocket'] });
    // io.use() rejections, whatever the transport.
    for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
      expect(await s.refused('/', { transports, auth: { token: 'bad' } })).toBe('unauthorized');
    }
    // engine.io rejections: allowRequest refusing (Forbidden), over polling and websocket.
    await s.refused('/', { ...ok, transports: ['polling'], query: { deny: '1' } });
    await s.refused('/', { ...ok, transports: ['websocket'], query: { deny: '1' } });
    // Bad handshake method, unknown transport; a request for an unknown session is no handshake.
    expect((await fetch(`${base}&transport=polling`, { method: 'POST', body: 'x' })).status).toBe(
      400,
    );
    expect((await fetch(`${base}&transport=carrier-pigeon`)).status).toBe(400);
    expect((await fetch(`${base}&transport=polling&sid=nope`)).status).toBe(400);
    // A namespace that does not exist.
    expect(await s.refused('/nope', ok)).toBe('Invalid namespace');

    // The client leaves while allowRequest is still deciding: aborted, and in flight before.
    let lateSessions = 0;
    s.io.engine.on('connection', (socket: { request: { url?: string } }) => {
      if (socket.request.url?.includes('slow=1')) lateSessions++;
    });
    const leaver = net.connect(s.port, '127.0.0.1', () =>
      leaver.write(
        `GET /socket.io/?EIO=4&transport=polling&slow=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`,
      ),
    );
    leaver.on('error', () => {});
    raw.push(leaver);
    await scrapeUntil(
      s,
      'the slow handshake in flight',
      (f) => value(f, 'realtime_handshakes_in_flight', { transport: 'socketio_polling' }) === 1,
    );
    leaver.destroy();
    await scrapeUntil(
      s,
      'the slow request aborted',
      (f) => hs(f, { outcome: 'aborted', transport: 'socketio_polling' }) === 1,
    );
    // allowRequest answers after the client left: engine.io opens the session anyway.
    answerSlowRequest!();

    // The client leaves while a namespace middleware runs: aborted, with its namespace.
    const slow = s.client('/slow', { ...ok, transports: ['websocket'] });
    await until('the /slow middleware holds the connect', () => slowNamespaceHeld);
    expect(
      value(await s.scrape(), 'realtime_handshakes_in_flight', { transport: 'socketio_websocket' }),
    ).toBe(1);
    clientTcp(s.clients.at(-1)!).destroy();
    void slow.catch(() => {});

    // A session that never asks for a namespace: the server drops it after connectTimeout.
    const silent = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
    silent.on('error', () => {});
    raw.push(silent);

    const fams = await scrapeUntil(
      s,
      'every handshake decided',
      (f) =>
        value(f, 'realtime_handshakes_in_flight') === 0 &&
        hs(f, {}) === 2 + 3 + 2 + 2 + 1 + 1 + 1 + 1,
      20_000,
    );
    const ep = (endpoint: string, outcome: string, transport?: string) =>
      hs(fams, { endpoint, outcome, ...(transport ? { transport } : {}) });
    expect(ep('/', 'success')).toBe(2);
    expect(ep('/', 'rejected')).toBe(3);
    expect(ep('unknown', 'rejected', 'socketio_polling')).toBe(1 + 2); // Forbidden, POST, transport
    expect(ep('unknown', 'rejected', 'socketio_websocket')).toBe(1 + 1); // Forbidden, connectTimeout
    expect(ep('other', 'rejected')).toBe(1); // Invalid namespace
    expect(ep('unknown', 'aborted', 'socketio_polling')).toBe(1);
    expect(ep('/slow', 'aborted', 'socketio_websocket')).toBe(1);
    expect(hs(fams, { outcome: 'error' })).toBe(0);

    const err = (type: string) => value(fams, 'realtime_errors_total', { type });
    expect(err('forbidden')).toBe(2);
    expect(err('bad_handshake_method')).toBe(1);
    expect(err('unknown_transport')).toBe(1);
    expect(err('unknown_sid')).toBe(1);
    expect(value(fams, 'realtime_connections', { endpoint: '/' })).toBe(2);

    // The aborted polling request's session, opened after allowRequest answered anyway,
    // is not timed a second time.
    await until('the aborted request gets its session', () => lateSessions === 1);
    const later = await s.scrape();
    expect(hs(later, {})).toBe(hs(fams, {}));
    expect(value(later, 'realtime_instrumentation_errors_total')).toBe(0);
  });

  it('times a handshake from the request to the namespace connect', async () => {
    // The middleware holds the connect until the test lets it go: the handshake is in
    // flight and not yet observed until then, and its duration covers the whole hold.
    const held: Array<{ next: () => void; at: number }> = [];
    srv = await startSioServer({
      before: (io) => {
        io.use((_socket, next) => void held.push({ next, at: performance.now() }));
      },
    });
    const s = srv;
    const connected = s.client('/', { transports: ['websocket'] });
    await until('the middleware holds the connect', () => held.length === 1);
    const during = await s.scrape();
    expect(value(during, 'realtime_handshakes_in_flight')).toBe(1);
    expect(hs(during, {})).toBe(0);
    const hold = performance.now() - held[0]!.at;
    held[0]!.next();
    await connected;
    const fams = await scrapeUntil(
      s,
      'counted',
      (f) => hs(f, { outcome: 'success' }) === 1,
      15_000,
    );
    expect(value(fams, 'realtime_handshakes_in_flight')).toBe(0);
    const h = histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' });
    expect(h.count).toBe(1);
    expect(h.buckets['+Inf']).toBe(1);
    // The hold was measured here, inside the timed span: a floor no machine can undercut.
    expect(h.sum).toBeGreaterThanOrEqual(hold / 1000);
    const { min, max } = sumBounds(h);
    expect(h.sum).toBeGreaterThanOrEqual(min);
    expect(h.sum).toBeLessThanOrEqual(max);
  });
});
