/**
 * Socket.IO and SSE, at a smaller scale than ws: the report against the server's /metrics
 * (`instrumentSocketIo`, `sse` from @tidewatch/middleware) and the application.
 */
import { describe, expect, it } from 'vitest';
import { type LoadOptions, readServerCounts } from '../../src/index.js';
import {
  closeAfterEach,
  runLoad,
  serverCounts,
  startSocketIoServer,
  startSseServer,
} from './servers.js';

const track = closeAfterEach();

describe('socket.io', () => {
  it('echo server: every exact counter equals /metrics', async () => {
    const s = track(await startSocketIoServer({ mode: 'echo' }));
    const r = await runLoad({
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.5, messagesPerSecond: 8, messageBytes: 120, rooms: ['a', 'b'] },
      limits: { durationSeconds: 2 },
      seed: 21,
    });
    const c = r.connections;
    expect(c.opened).toBeGreaterThan(8);
    expect(c).toMatchObject({ attempted: c.opened, closedByClient: c.opened, open: 0, failed: 0 });
    expect(r.failuresByReason).toEqual({});
    const { expected, actual } = await serverCounts(s, r);
    expect(Object.keys(expected)).toHaveLength(8);
    expect(actual).toEqual(expected);
    // The application's view: one join each, then messages, all echoed.
    expect(r.messages.sent).toBe(s.app.received);
    expect(r.messages.received).toBe(s.app.sent);
    // A client that opens while the run is stopping closes at once, without joining.
    expect(s.app.joins).toBeLessThanOrEqual(c.opened);
    expect(s.app.joins).toBeGreaterThanOrEqual(c.opened - 2);
    expect(r.rtt.count).toBe(r.messages.sent - s.app.joins);
    // Encoded packets: 2["msg",<120-byte JSON>] is 129 bytes; 2["join","a"] is 13.
    expect(r.bytes.sent).toBe(129 * r.rtt.count + 13 * s.app.joins);
  });

  it('room broadcast: our own messages come back through the room (RTT)', async () => {
    const s = track(await startSocketIoServer({ mode: 'room' }));
    const r = await runLoad({
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 10 },
      session: { meanSeconds: 2, messagesPerSecond: 5, rooms: ['lobby'] },
      limits: { durationSeconds: 1.5 },
      seed: 3,
    });
    const own = r.messages.sent - s.app.joins;
    expect(own).toBeGreaterThan(5);
    expect(r.rtt.count).toBe(own);
    // Several clients share the room: each message reaches the others too.
    expect(r.messages.received).toBeGreaterThan(own);
    const counts = readServerCounts(await s.settled(), [
      'realtime_messages_total{transport="socketio_websocket",direction="in"}',
      'realtime_connections_opened_total{transport="socketio_websocket"}',
    ]);
    expect(Object.values(counts)).toEqual([r.messages.sent, r.connections.opened]);
  });

  it('a dropped Socket.IO client counts as an abnormal client close', async () => {
    const s = track(await startSocketIoServer({ mode: 'echo' }));
    const r = await runLoad({
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.3, messagesPerSecond: 5 },
      dropRatio: 1,
      limits: { durationSeconds: 1 },
      seed: 6,
    });
    expect(r.connections.dropped).toBe(r.connections.opened);
    expect(r.connections.opened).toBeGreaterThan(5);
    const { expected, actual } = await serverCounts(s, r);
    expect(actual).toEqual(expected);
  });

  it('a middleware refusal is rejected and not retried; with the token (auth) it opens', async () => {
    const s = track(await startSocketIoServer({ mode: 'echo', token: 'tok' }));
    const base: LoadOptions = {
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 10 },
      session: { messagesPerSecond: 0 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 5 },
      limits: { durationSeconds: 1 },
      seed: 2,
    };
    const denied = await runLoad(base);
    const n = denied.connections.attempted;
    expect(n).toBeGreaterThan(3);
    expect(denied.connections).toMatchObject({ rejected: n, failed: n, opened: 0, reconnects: 0 });
    expect(denied.failuresByReason).toEqual({ 'refused-unauthorized': n });
    expect(s.app.requests).toBe(n);
    const allowed = await runLoad({ ...base, token: 'tok' });
    expect(allowed.connections.opened).toBe(allowed.connections.attempted);
    expect(allowed.connections.opened).toBeGreaterThan(3);
  });
});

describe('sse', () => {
  it('streams and POSTed messages: opened, closes and events equal /metrics', async () => {
    const s = track(await startSseServer());
    const r = await runLoad({
      url: s.url,
      transport: 'sse',
      arrivals: { rate: 12 },
      session: {
        meanSeconds: 0.6,
        messagesPerSecond: 4,
        rooms: ['x', 'y'],
        ssePostUrl: s.postUrl,
      },
      limits: { durationSeconds: 2 },
      seed: 17,
    });
    const c = r.connections;
    expect(c.opened).toBeGreaterThan(8);
    expect(c).toMatchObject({ attempted: c.opened, closedByClient: c.opened, open: 0 });
    expect(r.failuresByReason).toEqual({});
    const { expected, actual } = await serverCounts(s, r);
    // SSE has no inbound messages on the stream, and out is not exact at an aborting close:
    // opened, handshakes, 2 closes.
    expect(Object.keys(expected)).toHaveLength(4);
    expect(actual).toEqual(expected);
    // An event written as a client aborted its stream is sent but never received.
    expect(r.messages.received).toBeLessThanOrEqual(s.app.sent);
    expect(r.messages.received).toBeGreaterThan(0);
    expect(r.messages.sent).toBe(s.app.received);
    expect(r.rtt.count).toBeGreaterThan(0);
    expect(r.bytes.received).toBeGreaterThan(0);
  });

  it('drops reset the stream (abnormal); a refused stream is rejected, not retried', async () => {
    const s = track(await startSseServer());
    const r = await runLoad({
      url: s.url,
      transport: 'sse',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.3, messagesPerSecond: 0 },
      dropRatio: 0.5,
      limits: { durationSeconds: 1.5 },
      seed: 9,
    });
    expect(r.connections.dropped).toBeGreaterThan(0);
    expect(r.connections.closedByClient).toBeGreaterThan(0);
    expect(r.connections.dropped + r.connections.closedByClient).toBe(r.connections.opened);
    const { expected, actual } = await serverCounts(s, r);
    expect(actual).toEqual(expected);

    const denied = await runLoad({
      url: `${s.url}?deny=1`,
      transport: 'sse',
      arrivals: { rate: 10 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 5 },
      limits: { durationSeconds: 1 },
      seed: 1,
    });
    expect(denied.connections.attempted).toBeGreaterThan(3);
    expect(denied.connections.rejected).toBe(denied.connections.attempted);
    expect(denied.failuresByReason).toEqual({ 'http-401': denied.connections.attempted });
  });
});
