/**
 * Real servers on 127.0.0.1:0 for the integration tests, instrumented with
 * `@tidewatch/middleware` in their own prom-client Registry and serving `/metrics`. Each
 * counts what it did by itself too, independently of the middleware.
 */
import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { createRealtimeMetrics, metricsHandler, type RealtimeMetrics } from '@tidewatch/middleware';
import { instrumentWs } from '@tidewatch/middleware/ws';
import { pollUntil, startHttpServer, sumSamples } from '@tidewatch/test-utils';
import { Registry } from 'prom-client';
import { afterEach } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  createLoadGenerator,
  expectedServerCounts,
  type LoadOptions,
  type LoadReport,
  readServerCounts,
} from '../../src/index.js';
import { resolveOptions } from '../../src/options.js';
import { createRandom, deriveSeed, exponential } from '../../src/random.js';

/** What a test server counted itself. */
export interface AppCounts {
  /** Upgrade / stream requests that reached the server. */
  requests: number;
  /** Connections the application saw open. */
  connections: number;
  /** Data messages the application received. */
  received: number;
  /** Data messages the application sent. */
  sent: number;
  /** Of `received`: room joins. */
  joins: number;
  /** Connections open now, and the most at once. */
  open: number;
  peak: number;
}

function newAppCounts(): AppCounts {
  return { requests: 0, connections: 0, received: 0, sent: 0, joins: 0, open: 0, peak: 0 };
}

/** A running test server. */
export interface TestServer {
  port: number;
  /** Base URL, `http://127.0.0.1:<port>`. */
  http: string;
  app: AppCounts;
  metrics: RealtimeMetrics;
  /** GET /metrics, the body. */
  scrape(): Promise<string>;
  /**
   * Waits until no connection is open any more, for the application and for the middleware's
   * `/metrics` (a server handles a close a moment after the client that made it has moved
   * on), and returns that `/metrics` body: the one to compare a finished run's report with.
   */
  settled(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Starts an HTTP server with `/metrics`; `handle` gets every other request. Returns what
 * every test server shares: the server, its port and URL, scrape, settled and close.
 */
async function listen(
  metrics: RealtimeMetrics,
  app: AppCounts,
  handle?: (req: IncomingMessage, res: http.ServerResponse) => void,
): Promise<{ server: http.Server } & Omit<TestServer, 'metrics' | 'app'>> {
  const serve = metricsHandler(metrics);
  const local = await startHttpServer((req, res) => {
    if (req.url === '/metrics') return void serve(req, res);
    if (handle) return handle(req, res);
    res.writeHead(404).end();
  });
  const scrape = async () => (await fetch(`${local.url}/metrics`)).text();
  const settled = async () => {
    const { text } = await pollUntil(
      async () => ({ open: app.open, text: await scrape() }),
      ({ open, text }) => open === 0 && sumSamples(text, 'realtime_connections') === 0,
      { timeoutMs: 10_000, intervalMs: 20, description: 'every connection closed on the server' },
    );
    return text;
  };
  return {
    server: local.server,
    port: local.port,
    http: local.url,
    scrape,
    settled,
    close: local.close,
  };
}

/**
 * Registers an `afterEach` that closes the server a test started, and returns the function
 * that hands it over: `const track = closeAfterEach()` at module level, then
 * `const s = track(await startWsServer())` in a test.
 */
export function closeAfterEach(): <S extends TestServer>(server: S) => S {
  let current: TestServer | undefined;
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return (server) => {
    current = server;
    return server;
  };
}

/**
 * The counters a finished run's `report` says `server` must show (`expectedServerCounts`),
 * and what its `/metrics` shows for them once every connection is closed there (`settled`),
 * with that `/metrics` body.
 */
export async function serverCounts(
  server: TestServer,
  report: LoadReport,
): Promise<{ expected: Record<string, number>; actual: Record<string, number>; text: string }> {
  const expected = expectedServerCounts(report);
  const text = await server.settled();
  return { expected, actual: readServerCounts(text, Object.keys(expected)), text };
}

/** Runs one load generator to its end and resolves with its report. */
export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const gen = createLoadGenerator(options);
  await gen.start();
  return gen.done;
}

/**
 * Runs one load generator until `until` holds for its report (polled, at most 30 s), then
 * stops it (every client closes cleanly) and resolves with the final report. For a run
 * whose end is a condition, not a moment: give it sessions that outlast the wait.
 */
export async function runUntil(
  options: LoadOptions,
  until: (report: LoadReport) => boolean,
  description: string,
): Promise<LoadReport> {
  const gen = createLoadGenerator(options);
  await gen.start();
  try {
    await pollUntil(async () => gen.report(), until, {
      timeoutMs: 30_000,
      intervalMs: 20,
      description,
    });
  } finally {
    await gen.stop();
  }
  return gen.done;
}

/** What a seeded run draws for one client (see {@link seededClients}). */
export interface SeededClient {
  /** Offset of its arrival from the start of the run (Poisson arrivals only), ms. */
  arrivalMs: number;
  sessionMs: number;
  /** Gap from its open to its first message, ms (Infinity without messages). */
  firstMessageMs: number;
}

/**
 * The first `n` clients of a seeded run, replayed from the seed as the generator and
 * `Client` draw them (arrival gaps from stream 0; client k from stream k + 1: session
 * length, drop, rooms, first message gap, in that order). These are facts of the seed, not
 * of the machine's speed. A client's first message (and heartbeat) timer and its session
 * end timer are armed in the same tick, and timers fire in the order of their expiry,
 * however late: a client sends its first message exactly when `firstMessageMs < sessionMs`,
 * on any machine. How many messages follow depends on timer lag: that count is not exact.
 */
export function seededClients(options: LoadOptions, n: number): SeededClient[] {
  const o = resolveOptions(options);
  if (o.seed === undefined) throw new Error('seededClients needs options.seed');
  const arrivals = createRandom(deriveSeed(o.seed, 0));
  const rate = o.arrivals.kind === 'rate' ? o.arrivals.rate : undefined;
  const clients: SeededClient[] = [];
  let at = 0;
  for (let k = 0; k < n; k++) {
    if (rate !== undefined) at += exponential(arrivals, 1000 / rate);
    const random = createRandom(deriveSeed(o.seed, k + 1));
    const sessionMs = exponential(random, o.session.meanSeconds * 1000);
    if (o.dropRatio > 0) random();
    for (let i = 0; i < o.session.joinRooms; i++) random();
    const mps = o.session.messagesPerSecond;
    const firstMessageMs = mps > 0 ? exponential(random, 1000 / mps) : Number.POSITIVE_INFINITY;
    clients.push({ arrivalMs: rate === undefined ? Number.NaN : at, sessionMs, firstMessageMs });
  }
  return clients;
}

/**
 * How many of the first `n` clients of a seeded run send at least one message on any
 * machine (see {@link seededClients}): a floor for `messages.sent` that does not depend on
 * time. Checked to be positive, so a test using it always demands some messages.
 */
export function guaranteedFirstMessages(options: LoadOptions, n: number): number {
  const k = seededClients(options, n).filter((c) => c.firstMessageMs < c.sessionMs).length;
  if (k === 0) throw new Error('this seed gives no client a first message: pick another');
  return k;
}

/** Options of {@link startWsServer}. */
export interface WsServerOptions {
  /** Decide the upgrade: return an HTTP status to refuse (401, 503), or 0 to accept. */
  refuse?: (req: IncomingMessage) => number;
  /** Called for each open socket after the echo handler is attached. */
  onConnection?: (ws: WebSocket) => void;
}

/**
 * An instrumented `ws` echo server on `/ws`: every frame comes back to its sender, so the
 * loadgen's own messages return (RTT) and the server sends exactly what it received.
 */
export async function startWsServer(
  options: WsServerOptions = {},
): Promise<TestServer & { url: string }> {
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  const app = newAppCounts();
  const { server, close, ...base } = await listen(metrics, app);
  const wss = new WebSocketServer({
    server,
    path: '/ws',
    verifyClient: (info: { req: IncomingMessage }, cb: (ok: boolean, code?: number) => void) => {
      app.requests++;
      const status = options.refuse?.(info.req) ?? 0;
      if (status > 0) cb(false, status);
      else cb(true);
    },
  });
  const detach = instrumentWs(wss, metrics, { endpoint: '/ws' });
  wss.on('connection', (ws) => {
    app.connections++;
    app.peak = Math.max(app.peak, ++app.open);
    ws.on('close', () => app.open--);
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      app.received++;
      if (!isBinary && (data as Buffer).toString('latin1', 0, 14) === '{"type":"join"') app.joins++;
      if (ws.readyState !== ws.OPEN) return;
      ws.send(data, { binary: isBinary });
      app.sent++;
    });
    options.onConnection?.(ws);
  });
  return {
    ...base,
    url: `ws://127.0.0.1:${base.port}/ws`,
    app,
    metrics,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      detach();
      metrics.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await close();
    },
  };
}

/** Options of {@link startSocketIoServer}. */
export interface SocketIoServerOptions {
  /** `echo`: a `msg` goes back to its sender only; `room`: to everyone in its room. */
  mode: 'echo' | 'room';
  /** Refuse connections (middleware `next(err)`) whose `auth.token` is not this. */
  token?: string;
}

/**
 * An instrumented Socket.IO server (namespace `/`): `join` joins a room, `msg` is echoed to
 * its sender or broadcast to its room, per `mode`.
 */
export async function startSocketIoServer(
  options: SocketIoServerOptions,
): Promise<TestServer & { url: string }> {
  const { Server } = await import('socket.io');
  const { instrumentSocketIo } = await import('@tidewatch/middleware/socket.io');
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  const app = newAppCounts();
  const { server, close, ...base } = await listen(metrics, app);
  const io = new Server(server, { transports: ['websocket'] });
  const detach = instrumentSocketIo(io, metrics);
  io.use((socket, next) => {
    app.requests++;
    const token = options.token;
    if (token === undefined || socket.handshake.auth?.token === token) next();
    else next(new Error('unauthorized'));
  });
  io.on('connection', (socket) => {
    app.connections++;
    app.peak = Math.max(app.peak, ++app.open);
    socket.on('disconnect', () => app.open--);
    socket.on('join', (room: string) => {
      app.received++;
      app.joins++;
      void socket.join(room);
    });
    socket.on('msg', (m: { room: string }) => {
      app.received++;
      if (options.mode === 'echo') {
        socket.emit('msg', m);
        app.sent++;
      } else {
        io.to(m.room).emit('msg', m);
        app.sent += io.sockets.adapter.rooms.get(m.room)?.size ?? 0;
      }
    });
  });
  return {
    ...base,
    url: `${base.http}/`,
    app,
    metrics,
    async close() {
      detach();
      metrics.close();
      await io.close();
      await close();
    },
  };
}

/**
 * An instrumented SSE server: `GET /events?room=r` streams (with `sse(metrics)` in front),
 * `POST /post` with a `msg` JSON body sends it as an event with an id to every stream in
 * its room, and a comment heartbeat every 100 ms (not a message: tests that it is not
 * counted). `?deny` gets a 401.
 */
export async function startSseServer(): Promise<TestServer & { url: string; postUrl: string }> {
  const { sse } = await import('@tidewatch/middleware/express');
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  const mw = sse(metrics);
  const app = newAppCounts();
  const rooms = new Map<string, Set<http.ServerResponse>>();
  let nextId = 0;
  const {
    server: _server,
    close,
    ...base
  } = await listen(metrics, app, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/events') {
      app.requests++;
      mw(req, res);
      if (url.searchParams.has('deny')) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(': welcome\n\n');
      app.connections++;
      app.peak = Math.max(app.peak, ++app.open);
      const joined = url.searchParams.getAll('room');
      for (const r of joined) {
        if (!rooms.has(r)) rooms.set(r, new Set());
        rooms.get(r)!.add(res);
      }
      const beat = setInterval(() => res.write(': beat\n\n'), 100);
      res.on('close', () => {
        app.open--;
        clearInterval(beat);
        for (const r of joined) rooms.get(r)?.delete(res);
      });
      return;
    }
    if (url.pathname === '/post' && req.method === 'POST') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => {
        body += d;
      });
      req.on('end', () => {
        app.received++;
        const m = JSON.parse(body) as { room: string };
        const event = `id: ${++nextId}\nevent: msg\ndata: ${body}\n\n`;
        for (const stream of rooms.get(m.room) ?? []) {
          if (stream.writableEnded || stream.destroyed) continue;
          stream.write(event);
          app.sent++;
        }
        res.writeHead(204).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  return {
    ...base,
    url: `${base.http}/events`,
    postUrl: `${base.http}/post`,
    app,
    metrics,
    async close() {
      metrics.close();
      await close();
    },
  };
}
