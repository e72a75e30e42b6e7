/**
 * Socket.IO and SSE, at a smaller scale than ws: the report against the server's /metrics
 * (`instrumentSocketIo`, `sse` from @tidewatch/middleware) and the application.
 */
import { describe, expect, it } from 'vitest';
import { type LoadOptions, readServerCounts } from '../../src/index.js';
import {
  closeAfterEach,
  guaranteedFirstMessages,
  runLoad,
  runUntil,
  serverCounts,
  startSocketIoServer,
  startSseServer,
} from './servers.js';

const track = closeAfterEach();

/**
 * Runs are bounded by count, not by time: after `limits.maxConnections` attempts the run ends
 * by itself once every session has (the duration is only an upper bound), so the counts do
 * not depend on the machine's speed.
 */
const BOUNDED = { durationSeconds: 60 } as const;

describe('socket.io', () => {
  it('echo server: every exact counter equals /metrics', async () => {
    const s = track(await startSocketIoServer({ mode: 'echo' }));
    const options: LoadOptions = {
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 15 },
      session: { meanSeconds: 0.5, messagesPerSecond: 8, messageBytes: 120, rooms: ['a', 'b'] },
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 21,
    };
    const r = await runLoad(options);
    const c = r.connections;
    expect(c).toMatchObject({ attempted: 10, opened: 10, closedByClient: 10, open: 0, failed: 0 });
    expect(r.failuresByReason).toEqual({});
    const { expected, actual } = await serverCounts(s, r);
    expect(Object.keys(expected)).toHaveLength(8);
    expect(actual).toEqual(expected);
    // The application's view: one join each, then messages, each one it got echoed. Socket.IO
    // hands an event to the app on the next tick, and drops it if the socket's close came in
    // the same read (the server did receive it: /metrics equals the report above), so the app
    // can miss at most the last message of each session.
    const lost = r.messages.sent - s.app.received;
    expect(lost).toBeGreaterThanOrEqual(0);
    expect(lost).toBeLessThanOrEqual(c.opened);
    expect(r.messages.received).toBe(s.app.sent);
    // The run ends by itself, never stopping a client as it opens: one join each.
    expect(s.app.joins).toBe(c.opened);
    expect(r.rtt.count).toBe(s.app.received - s.app.joins);
    const messages = r.messages.sent - s.app.joins;
    expect(messages).toBeGreaterThanOrEqual(guaranteedFirstMessages(options, 10));
    // Encoded packets: 2["msg",<120-byte JSON>] is 129 bytes; 2["join","a"] is 13.
    expect(r.bytes.sent).toBe(129 * messages + 13 * s.app.joins);
  });

  it('room broadcast: our own messages come back through the room (RTT)', async () => {
    const s = track(await startSocketIoServer({ mode: 'room' }));
    // Six clients open at once, then the run goes on until one's message has reached another
    // and at least six of ours came back (a condition, not a moment), and stops cleanly.
    const r = await runUntil(
      {
        url: s.url,
        transport: 'socket.io',
        arrivals: { rate: 10 },
        session: { meanSeconds: 1000, messagesPerSecond: 5, rooms: ['lobby'] },
        limits: { ...BOUNDED, maxConnections: 6 },
        seed: 3,
      },
      ({ connections: c, messages: m, rtt }) =>
        c.opened === 6 && rtt.count >= 6 && m.received > rtt.count,
      '6 clients in the room and a message fanned out',
    );
    expect(r.connections).toMatchObject({ attempted: 6, opened: 6, closedByClient: 6, open: 0 });
    expect(s.app.joins).toBe(6);
    const own = r.messages.sent - s.app.joins;
    // Ours come back through the room, except those still in flight when the run stopped.
    expect(r.rtt.count).toBeGreaterThanOrEqual(6);
    expect(r.rtt.count).toBeLessThanOrEqual(own);
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
      limits: { ...BOUNDED, maxConnections: 8 },
      seed: 6,
    });
    expect(r.connections).toMatchObject({ attempted: 8, opened: 8, dropped: 8, open: 0 });
    const { expected, actual } = await serverCounts(s, r);
    expect(actual).toEqual(expected);
  });

  it('a middleware refusal is rejected and not retried; with the token (auth) it opens', async () => {
    const s = track(await startSocketIoServer({ mode: 'echo', token: 'tok' }));
    const base: LoadOptions = {
      url: s.url,
      transport: 'socket.io',
      arrivals: { rate: 10 },
      session: { meanSeconds: 0.2, messagesPerSecond: 0 },
      reconnect: { baseMs: 5, maxMs: 10, maxAttempts: 5 },
      limits: { ...BOUNDED, maxConnections: 6 },
      seed: 2,
    };
    const denied = await runLoad(base);
    const n = 6;
    expect(denied.connections).toMatchObject({
      attempted: n,
      rejected: n,
      failed: n,
      opened: 0,
      reconnects: 0,
    });
    expect(denied.failuresByReason).toEqual({ 'refused-unauthorized': n });
    expect(s.app.requests).toBe(n);
    const allowed = await runLoad({ ...base, token: 'tok' });
    expect(allowed.connections).toMatchObject({ attempted: n, opened: n, closedByClient: n });
    expect(s.app.requests).toBe(2 * n);
  });
});

describe('sse', () => {
  it('streams and POSTed messages: opened, closes and events equal /metrics', async () => {
    const s = track(await startSseServer());
    // Ten streams open at once, then the run goes on until events came back on them (a
    // condition, not a moment), and stops: every client closes its stream.
    const r = await runUntil(
      {
        url: s.url,
        transport: 'sse',
        arrivals: { rate: 12 },
        session: {
          meanSeconds: 1000,
          messagesPerSecond: 4,
          rooms: ['x', 'y'],
          ssePostUrl: s.postUrl,
        },
        limits: { ...BOUNDED, maxConnections: 10 },
        seed: 17,
      },
      ({ connections: c, rtt }) => c.opened === 10 && rtt.count >= 10,
      '10 streams open and 10 of our events back',
    );
    const c = r.connections;
    expect(c).toMatchObject({ attempted: 10, opened: 10, closedByClient: 10, open: 0 });
    expect(r.failuresByReason).toEqual({});
    const { expected, actual } = await serverCounts(s, r);
    // SSE has no inbound messages on the stream, and out is not exact at an aborting close:
    // opened, handshakes, 2 closes.
    expect(Object.keys(expected)).toHaveLength(4);
    expect(actual).toEqual(expected);
    // An event written as a client aborted its stream is sent but never received.
    expect(r.messages.received).toBeLessThanOrEqual(s.app.sent);
    expect(r.messages.received).toBeGreaterThanOrEqual(r.rtt.count);
    expect(r.messages.sent).toBe(s.app.received);
    expect(r.rtt.count).toBeGreaterThanOrEqual(10);
    expect(r.rtt.count).toBeLessThanOrEqual(r.messages.sent);
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
      limits: { ...BOUNDED, maxConnections: 10 },
      seed: 9,
    });
    // Which sessions drop is drawn from the seed: both kinds of close, every time.
    expect(r.connections).toMatchObject({ attempted: 10, opened: 10, open: 0 });
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
      limits: { ...BOUNDED, maxConnections: 6 },
      seed: 1,
    });
    expect(denied.connections).toMatchObject({ attempted: 6, failed: 6, opened: 0 });
    expect(denied.connections.rejected).toBe(denied.connections.attempted);
    expect(denied.failuresByReason).toEqual({ 'http-401': denied.connections.attempted });
  });
});
