/**
 * Failures, reconnects and bounds against real ws servers: refused handshakes (401, 503),
 * nothing listening, servers that cut or cleanly close connections, drops, and the limits.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { freePort } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { expectedServerCounts, type LoadOptions, readServerCounts } from '../../src/index.js';
import {
  closeAfterEach,
  runLoad,
  runUntil,
  seededClients,
  serverCounts,
  startWsServer,
} from './servers.js';

const track = closeAfterEach();

/** Exactly one arrival, in the first 50 ms (the next would come 10 s later). */
const ONE_CLIENT: LoadOptions['arrivals'] = {
  trace: { values: [1, ...new Array<number>(199).fill(0)], stepSeconds: 1 },
  compression: 20,
};

const WS = 'transport="websocket"';

/**
 * Runs are bounded by count, not by time: after `limits.maxConnections` attempts the run ends
 * by itself once every session has (the duration is only an upper bound), so the counts do
 * not depend on the machine's speed.
 */
const BOUNDED = { durationSeconds: 60 } as const;

describe('refused handshakes', () => {
  it('401 without the token: rejected once, no reconnect storm; with the token it opens', async () => {
    const seen: Array<{ auth: string | undefined; url: string }> = [];
    const s = track(
      await startWsServer({
        refuse: (req: IncomingMessage) => {
          seen.push({ auth: req.headers.authorization, url: req.url ?? '' });
          return req.headers.authorization === 'Bearer s3cret' ? 0 : 401;
        },
      }),
    );
    const denied = await runLoad({
      url: s.url,
      arrivals: ONE_CLIENT,
      reconnect: { baseMs: 10, maxMs: 20, maxAttempts: 5 },
      limits: { durationSeconds: 1 },
    });
    expect(denied.connections).toMatchObject({
      attempted: 1,
      failed: 1,
      rejected: 1,
      opened: 0,
      reconnects: 0,
    });
    expect(denied.failuresByReason).toEqual({ 'http-401': 1 });
    expect(s.app.requests).toBe(1);

    const many = await runLoad({
      url: s.url,
      arrivals: { rate: 30 },
      reconnect: { baseMs: 10, maxMs: 20, maxAttempts: 5 },
      limits: { ...BOUNDED, maxConnections: 8 },
      seed: 4,
    });
    expect(many.connections).toMatchObject({ attempted: 8, failed: 8, opened: 0, reconnects: 0 });
    expect(many.connections.rejected).toBe(many.connections.attempted);
    expect(many.failuresByReason).toEqual({ 'http-401': many.connections.attempted });
    expect(s.app.requests).toBe(1 + many.connections.attempted);

    const allowed = await runLoad({
      url: s.url,
      token: 's3cret',
      arrivals: ONE_CLIENT,
      limits: { durationSeconds: 0.5 },
    });
    expect(allowed.connections).toMatchObject({
      attempted: 1,
      opened: 1,
      closedByClient: 1,
      failed: 0,
    });
    // The token travels both ways a server may look for it.
    expect(seen.at(-1)).toEqual({ auth: 'Bearer s3cret', url: '/ws?token=s3cret' });
  });

  it('503: retried with backoff up to maxAttempts, every attempt counted', async () => {
    const s = track(await startWsServer({ refuse: () => 503 }));
    const r = await runLoad({
      url: s.url,
      arrivals: ONE_CLIENT,
      reconnect: { baseMs: 10, maxMs: 40, maxAttempts: 3 },
      limits: { durationSeconds: 1.5 },
    });
    expect(r.connections).toMatchObject({ attempted: 4, failed: 4, rejected: 4, opened: 0 });
    expect(r.failuresByReason).toEqual({ 'http-503': 4 });
    expect(s.app.requests).toBe(4);
  });

  it('nothing listening: ECONNREFUSED is counted, retried, not fatal', async () => {
    const port = await freePort();
    const r = await runLoad({
      url: `ws://127.0.0.1:${port}/ws`,
      arrivals: ONE_CLIENT,
      reconnect: { baseMs: 10, maxMs: 40, maxAttempts: 3 },
      limits: { durationSeconds: 1 },
    });
    expect(r.connections).toMatchObject({ attempted: 4, failed: 4, rejected: 0, opened: 0 });
    expect(r.failuresByReason).toEqual({ ECONNREFUSED: 4 });
  });
});

describe('server-side closes', () => {
  it('a server that cuts connections (terminate): the client reconnects each time', async () => {
    const s = track(
      await startWsServer({ onConnection: (ws) => setTimeout(() => ws.terminate(), 30) }),
    );
    // Five connections, then the run ends by itself: no client close at a duration's end can
    // cross the server's cut (each side would count the close as its own).
    const options: LoadOptions = {
      url: s.url,
      arrivals: ONE_CLIENT,
      session: { meanSeconds: 1000, messagesPerSecond: 0 },
      reconnect: { baseMs: 10, maxMs: 50, maxAttempts: 100 },
      limits: { maxConnections: 5, durationSeconds: 10 },
      seed: 1,
    };
    // The seeded session outlasts the run by far: only the server's cuts end connections.
    expect(seededClients(options, 1)[0]!.sessionMs).toBeGreaterThan(10_000);
    const r = await runLoad(options);
    const c = r.connections;
    expect(c.opened).toBe(5);
    expect(c.reconnects).toBe(c.opened - 1);
    expect(r.failuresByReason['close-1006']).toBe(c.closedByServer);
    expect(c.closedByServer + c.closedByClient).toBe(c.opened);
    expect(c.attempted).toBe(c.opened);
    const counts = readServerCounts(await s.settled(), [
      `realtime_connections_opened_total{${WS}}`,
      `realtime_connections_closed_total{${WS},reason="abnormal",initiator="server"}`,
    ]);
    expect(Object.values(counts)).toEqual([c.opened, c.closedByServer]);
    // An abnormal close makes message counts inexact: expectedServerCounts leaves them out.
    expect(Object.keys(expectedServerCounts(r)).some((k) => k.includes('messages'))).toBe(false);
  });

  it('a clean server close (1000) is not retried', async () => {
    const s = track(
      await startWsServer({ onConnection: (ws) => setTimeout(() => ws.close(1000), 30) }),
    );
    // Twelve connections, then the run ends when the server has closed them all. A client
    // closing at a duration's end while the server's close is on its way counts the close as
    // its own, the server as the server's (31 vs 32 in a full test run). A retry would still
    // show as a reconnect.
    const r = await runLoad({
      url: s.url,
      arrivals: { rate: 30 },
      session: { meanSeconds: 1000, messagesPerSecond: 0 },
      reconnect: { baseMs: 1, maxMs: 5, maxAttempts: 10 },
      limits: { maxConnections: 12, durationSeconds: 10 },
      seed: 8,
    });
    const c = r.connections;
    expect(c.opened).toBe(12);
    expect(c.attempted).toBe(c.opened);
    expect(c.reconnects).toBe(0);
    expect(c.closedByServer + c.closedByClient).toBe(c.opened);
    expect(c.closedByServer).toBeGreaterThan(0);
    expect(r.failuresByReason).toEqual({});
    const counts = readServerCounts(await s.settled(), [
      `realtime_connections_closed_total{${WS},reason="normal",initiator="server"}`,
    ]);
    expect(Object.values(counts)).toEqual([c.closedByServer]);
  });
});

describe('drops', () => {
  it('dropRatio 1: every session ends abruptly and the server counts abnormal client closes', async () => {
    const s = track(await startWsServer());
    const r = await runLoad({
      url: s.url,
      arrivals: { rate: 25 },
      session: { meanSeconds: 0.3, messagesPerSecond: 10, messageBytes: 100 },
      dropRatio: 1,
      limits: { ...BOUNDED, maxConnections: 12 },
      seed: 12,
    });
    const c = r.connections;
    expect(c).toMatchObject({ attempted: 12, opened: 12, open: 0 });
    expect(c.dropped).toBe(c.opened);
    expect(c.closedByClient).toBe(0);
    const { expected, actual, text } = await serverCounts(s, r);
    expect(
      expected[`realtime_connections_closed_total{${WS},reason="abnormal",initiator="client"}`],
    ).toBe(c.dropped);
    expect(actual).toEqual(expected);
    // Before dropping, a client waits for its own messages to come back from this echo
    // server, so even what the server sent is exact here.
    const out = readServerCounts(text, [
      `realtime_messages_total{${WS},direction="out"}`,
      `realtime_message_bytes_total{${WS},direction="out"}`,
    ]);
    expect(Object.values(out)).toEqual([r.messages.received, r.bytes.received]);
    expect(r.messages.received).toBe(r.messages.sent);
  });
});

describe('bounds', () => {
  it('maxConcurrent: never more clients alive than the cap; further arrivals are skipped', async () => {
    const s = track(await startWsServer());
    // Runs until five are open and 20 further arrivals were skipped (a condition, not a
    // moment), then stops.
    const r = await runUntil(
      {
        url: s.url,
        arrivals: { rate: 100 },
        session: { meanSeconds: 1000, messagesPerSecond: 0 },
        limits: { maxConcurrent: 5, durationSeconds: 60 },
        seed: 2,
      },
      ({ connections: c }) => c.opened === 5 && c.skipped >= 20,
      '5 open and 20 arrivals skipped',
    );
    expect(r.connections).toMatchObject({
      attempted: 5,
      opened: 5,
      peakOpen: 5,
      closedByClient: 5,
    });
    expect(r.connections.skipped).toBeGreaterThanOrEqual(20);
    expect(s.app.peak).toBe(5);
  });

  it('maxConnections: no attempt past the cap, and the run ends when those sessions have', async () => {
    const s = track(await startWsServer());
    const r = await runLoad({
      url: s.url,
      arrivals: { rate: 100 },
      session: { meanSeconds: 0.05, messagesPerSecond: 0 },
      // A duration far past the test's timeout: the run can only finish by maxConnections.
      limits: { maxConnections: 12, durationSeconds: 3600 },
      seed: 5,
    });
    expect(r.connections).toMatchObject({ attempted: 12, opened: 12, closedByClient: 12, open: 0 });
    expect(s.app.connections).toBe(12);
  });

  it('a peer that never answers our close frame is cut after closeGraceMs, not waited on', async () => {
    // Completes the WebSocket handshake by hand, then ignores everything.
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((sock) => {
      sockets.add(sock);
      sock.once('data', (d) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(d.toString('latin1'))?.[1] ?? '';
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        sock.write(
          `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
        );
        sock.on('data', () => {});
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const port = (raw.address() as net.AddressInfo).port;
    try {
      const r = await runLoad({
        url: `ws://127.0.0.1:${port}/ws`,
        arrivals: ONE_CLIENT,
        session: { meanSeconds: 0.05, messagesPerSecond: 0 },
        // Past the test's timeout: only the close grace can end this run.
        limits: { maxConnections: 1, closeGraceMs: 200, durationSeconds: 3600 },
      });
      expect(r.connections).toMatchObject({ opened: 1, dropped: 1, closedByClient: 0, open: 0 });
      expect(r.failuresByReason).toEqual({ 'close-timeout': 1 });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => raw.close(r));
    }
  });
});
