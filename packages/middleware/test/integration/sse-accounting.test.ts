import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import express from 'express';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { sse } from '../../src/express.js';
import { createRealtimeMetrics, metricsHandler, type RealtimeMetrics } from '../../src/index.js';
import { type Family, histogram, scrape, until, value } from '../helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A real express 5 app on 127.0.0.1:0 with `/metrics` mounted first. */
async function startApp(
  setup: (app: express.Express, metrics: RealtimeMetrics) => void,
): Promise<{ port: number; metrics: RealtimeMetrics; scrape: () => Promise<Family[]> }> {
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  const app = express();
  app.get('/metrics', metricsHandler(metrics));
  setup(app, metrics);
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  closers.push(async () => {
    metrics.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { port, metrics, scrape: () => scrape(`http://127.0.0.1:${port}/metrics`) };
}

/** An EventSource-like client on its own connection that counts the data events it gets. */
interface SseClient {
  status: number;
  res: http.IncomingMessage;
  socket: Socket;
  /** Data events received (blocks with a `data` line), parsed client-side. */
  events: number;
}

function openSse(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const c: SseClient = { status: res.statusCode ?? 0, res, socket: res.socket, events: 0 };
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        pending += d;
        for (let i = 0; i < 100_000; i++) {
          const m = /\r?\n\r?\n/.exec(pending);
          if (m === null) break;
          const block = pending.slice(0, m.index);
          pending = pending.slice(m.index + m[0].length);
          if (block.split(/\r?\n/).some((l) => l.startsWith('data'))) c.events++;
        }
      });
      res.on('error', () => {});
      resolve(c);
    });
    req.on('error', reject);
  });
}

describe('sse accounting with a real express app and real clients', () => {
  it('counts streams, events, closes, reconnects and backpressure exactly', async () => {
    const N = 30;
    const streams = new Map<string, { res: express.Response; closed: Promise<void> }>();
    const thrown: Error[] = [];
    const caught: unknown[] = [];
    let holdSeen: () => void = () => {};
    const held = new Promise<void>((r) => {
      holdSeen = r;
    });
    // What the application did, tallied at the write: the metrics must equal it.
    let sentEvents = 0;
    let sentBytes = 0;
    let falses = 0;
    let episodes = 0;
    const awaitingDrain = new Set<express.Response>();
    const w = (res: express.Response, chunk: string | Buffer) => {
      const ok = res.write(chunk);
      if (!ok) {
        falses++;
        if (!awaitingDrain.has(res)) {
          awaitingDrain.add(res);
          episodes++;
          res.once('drain', () => awaitingDrain.delete(res));
        }
      }
      return ok;
    };
    /** Event j, in one of several shapes; heartbeats around it are not events. */
    const sendEvent = (res: express.Response, j: number) => {
      w(res, ': hb\n\n');
      switch (j % 4) {
        case 0: {
          const e = `id: ${j}\ndata: {"n":${j}}\n\n`;
          w(res, e);
          sentBytes += Buffer.byteLength(e);
          break;
        }
        case 1: {
          // One event in three writes, with two data lines.
          const parts = ['event: tick\ndata: part-a ', 'part-b\ndata: line2', '\n\n'];
          for (const p of parts) w(res, p);
          sentBytes += Buffer.byteLength(parts.join(''));
          break;
        }
        case 2: {
          // A Buffer split inside a multi-byte character.
          const b = Buffer.from(`data: héllo ☃ ${j}\n\n`);
          const cut = b.indexOf(Buffer.from('☃')) + 1;
          w(res, b.subarray(0, cut));
          w(res, b.subarray(cut));
          sentBytes += b.length;
          break;
        }
        default: {
          // A comment inside the event and CRLF line endings.
          const e = `: note\r\ndata: crlf ${j}\r\n\r\n`;
          w(res, e);
          sentBytes += Buffer.byteLength(e);
        }
      }
      sentEvents++;
    };
    /** Two events and two heartbeats in one non-ASCII write. */
    const sendPair = (res: express.Response) => {
      const a = 'data: α\n\n';
      const b = 'data: β ω\n\n';
      w(res, `${a}: hb\n\n${b}: tail ✓\n\n`);
      sentEvents += 2;
      sentBytes += Buffer.byteLength(a) + Buffer.byteLength(b);
    };

    const s = await startApp((app, metrics) => {
      app.get('/events', sse(metrics), (req, res) => {
        const id = String(req.query.id);
        const mode = req.query.mode;
        if (mode === 'deny') return void res.status(401).end();
        if (mode === 'gone') return void res.status(204).end(); // "stop reconnecting"
        if (mode === 'json') return void res.json({ error: 'not a stream' });
        if (mode === 'crash') {
          const err = new Error(`boom ${id}`);
          thrown.push(err);
          throw err;
        }
        if (mode === 'hold') return holdSeen(); // never answers; the client leaves
        const headers = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };
        if (req.headers['last-event-id'] !== undefined) res.writeHead(200, headers);
        else {
          res.set(headers);
          res.flushHeaders();
        }
        w(res, 'retry: 2000\n\n'); // a block without data: not an event
        w(res, ':ok\n\n');
        streams.set(id, { res, closed: new Promise((r) => res.once('close', () => r())) });
      });
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
        caught.push(err);
        res.status(500).end('fail');
      });
    });
    const url = (q: string) => `http://127.0.0.1:${s.port}/events?${q}`;

    // Answers that are not streams.
    for (const [q, status] of [
      ['mode=deny', 401],
      ['mode=deny', 401],
      ['mode=deny', 401],
      ['mode=gone', 204],
      ['mode=json', 200],
      ['mode=crash&id=c1', 500],
      ['mode=crash&id=c2', 500],
    ] as const) {
      const r = await fetch(url(q));
      await r.arrayBuffer();
      expect(r.status).toBe(status);
    }
    expect(caught).toEqual(thrown);
    expect(caught[0]).toBe(thrown[0]); // the host's own error object, unchanged

    // A client that leaves before the headers.
    const holder = http.get({ host: '127.0.0.1', port: s.port, path: '/events?mode=hold' });
    holder.on('error', () => {});
    await held;
    let fams = await s.scrape();
    expect(value(fams, 'realtime_handshakes_in_flight', { transport: 'sse' })).toBe(1);
    holder.destroy();

    // N streams, 10 events each.
    const clients = await Promise.all(
      Array.from({ length: N }, (_, i) => openSse(s.port, `/events?id=${i}`)),
    );
    for (const c of clients) expect(c.status).toBe(200);
    await until('all streams registered', () => streams.size === N);
    for (let i = 0; i < N; i++) {
      const { res } = streams.get(String(i))!;
      for (let j = 0; j < 8; j++) sendEvent(res, j);
      sendPair(res);
    }
    await until('every client got its 10 events', () => clients.every((c) => c.events === 10));

    // Closes: 10 client FIN, 5 client resets, 10 server end(), 5 server destroy().
    for (let i = 0; i < 10; i++) clients[i]!.socket.destroy();
    for (let i = 10; i < 15; i++) clients[i]!.socket.resetAndDestroy();
    for (let i = 15; i < 25; i++) streams.get(String(i))!.res.end();
    for (let i = 25; i < 30; i++) streams.get(String(i))!.res.destroy();
    await Promise.all([...streams.values()].map((x) => x.closed));
    // The application keeps writing to 5 streams whose clients left: dropped, not sent.
    for (let i = 0; i < 5; i++) streams.get(String(i))!.res.write('data: late\n\n');

    // Five clients come back with Last-Event-ID and get 3 events each.
    const back = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        openSse(s.port, `/events?id=r${i}`, { 'Last-Event-ID': '7' }),
      ),
    );
    await until('reconnected streams registered', () => streams.size === N + 5);
    for (let i = 0; i < 5; i++) {
      for (let j = 0; j < 3; j++) sendEvent(streams.get(`r${i}`)!.res, j);
    }
    await until('reconnected clients got 3 events', () => back.every((c) => c.events === 3));
    for (let i = 0; i < 5; i++) streams.get(`r${i}`)!.res.end();

    // A slow consumer: the client stops reading; the server writes until its buffer stays
    // above 1.5 MiB once the kernel's socket buffers are full.
    const slow = await openSse(s.port, '/events?id=slow');
    slow.res.pause();
    await until('slow stream registered', () => streams.has('slow'));
    const slowRes = streams.get('slow')!.res;
    const payload = `data: ${'x'.repeat(1000)}\n\n`;
    let slowEvents = 0;
    for (let round = 0; round < 1000 && slowRes.writableLength < 1.5 * 1024 * 1024; round++) {
      for (let k = 0; k < 64; k++) w(slowRes, payload);
      slowEvents += 64;
      await new Promise((r) => setImmediate(r));
    }
    sentEvents += slowEvents;
    sentBytes += slowEvents * Buffer.byteLength(payload);
    expect(slowRes.writableLength).toBeGreaterThan(1.5 * 1024 * 1024);
    fams = await s.scrape();
    expect(value(fams, 'realtime_send_buffer_bytes', { transport: 'sse' })).toBeGreaterThan(
      1024 * 1024,
    );
    expect(value(fams, 'realtime_slow_consumers', { transport: 'sse' })).toBe(1);
    expect(value(fams, 'realtime_connections', { transport: 'sse' })).toBe(1);
    slow.res.resume();
    await until('the slow client caught up', () => slow.events === slowEvents);
    await until('the buffer drained', () => awaitingDrain.size === 0);
    slowRes.end();

    const total = N + 5 + 1;
    await until('every close and the aborted handshake counted', async () => {
      fams = await s.scrape();
      return (
        value(fams, 'realtime_connections_closed_total', { transport: 'sse' }) === total &&
        value(fams, 'realtime_handshakes_in_flight', { transport: 'sse' }) === 0
      );
    });

    const ep = { transport: 'sse', endpoint: '/events' };
    const hs = (outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { ...ep, outcome }).count;
    expect(hs('success')).toBe(total);
    expect(hs('rejected')).toBe(5);
    expect(hs('error')).toBe(2);
    expect(hs('aborted')).toBe(1);

    expect(value(fams, 'realtime_connections_opened_total', ep)).toBe(total);
    const closedBy = (reason: string, initiator: string) =>
      value(fams, 'realtime_connections_closed_total', { ...ep, reason, initiator });
    expect(closedBy('normal', 'client')).toBe(10);
    expect(closedBy('abnormal', 'client')).toBe(5);
    expect(closedBy('normal', 'server')).toBe(10 + 5 + 1);
    expect(closedBy('abnormal', 'server')).toBe(5);
    expect(histogram(fams, 'realtime_connection_duration_seconds', ep).count).toBe(total);
    expect(value(fams, 'realtime_reconnects_total', ep)).toBe(5);

    const out = { ...ep, direction: 'out' };
    expect(sentEvents).toBe(N * 10 + 5 * 3 + slowEvents);
    expect(value(fams, 'realtime_messages_total', out)).toBe(sentEvents);
    expect(value(fams, 'realtime_messages_total', { ...out, client_type: 'unknown' })).toBe(
      sentEvents,
    );
    expect(value(fams, 'realtime_message_bytes_total', out)).toBe(sentBytes);
    const sizes = histogram(fams, 'realtime_message_size_bytes', {
      transport: 'sse',
      direction: 'out',
    });
    expect(sizes.count).toBe(sentEvents);
    expect(sizes.sum).toBe(sentBytes);
    expect(
      value(fams, 'realtime_messages_dropped_total', { transport: 'sse', reason: 'not_open' }),
    ).toBe(5);

    expect(falses).toBeGreaterThan(0);
    expect(value(fams, 'realtime_backpressure_events_total', { transport: 'sse' })).toBe(falses);
    expect(histogram(fams, 'realtime_drain_duration_seconds', { transport: 'sse' }).count).toBe(
      episodes,
    );

    expect(value(fams, 'realtime_connections', { transport: 'sse' })).toBe(0);
    expect(value(fams, 'realtime_handshakes_in_flight', { transport: 'sse' })).toBe(0);
    expect(value(fams, 'realtime_send_buffer_bytes', { transport: 'sse' })).toBe(0);
    expect(value(fams, 'realtime_slow_consumers', { transport: 'sse' })).toBe(0);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(0);
  });

  it('survives a throwing classifier and a throwing handler; the host error reaches express unchanged', async () => {
    const thrown: Error[] = [];
    const caught: unknown[] = [];
    const streams: express.Response[] = [];
    let mw: ReturnType<typeof sse> | undefined;
    const s = await startApp((app, metrics) => {
      // Mounted with app.use: the route pattern is known by the time the headers go out.
      mw = sse(metrics, {
        maxConnections: 6,
        clientType: (req) => {
          if (req.headers['x-bad'] !== undefined) throw new Error('classifier bug');
          return 'browser';
        },
      });
      app.use(mw);
      app.get('/feed/:room', (req, res) => {
        if (req.params.room === 'crash') {
          const err = new Error('handler bug');
          thrown.push(err);
          throw err;
        }
        res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
        res.write('data: hello\n\n');
        streams.push(res);
      });
      app.use((err: unknown, _req: express.Request, res: express.Response, _next: unknown) => {
        caught.push(err);
        res.status(500).end();
      });
    });
    const a = await openSse(s.port, '/feed/a');
    const b = await openSse(s.port, '/feed/b', { 'x-bad': '1' });
    const crash = await fetch(`http://127.0.0.1:${s.port}/feed/crash`);
    expect(crash.status).toBe(500);
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBe(thrown[0]);
    const missing = await fetch(`http://127.0.0.1:${s.port}/nowhere`);
    expect(missing.status).toBe(404);
    // Still serving after both faults.
    const c = await openSse(s.port, '/feed/c');
    await until('three streams', () => streams.length === 3);
    await until('events delivered', () => [a, b, c].every((x) => x.events === 1));

    let fams = await s.scrape();
    const ep = { transport: 'sse', endpoint: '/feed/:room' };
    expect(value(fams, 'realtime_connections', ep)).toBe(3);
    expect(value(fams, 'realtime_capacity_utilization', { transport: 'sse' })).toBe(0.5);
    expect(value(fams, 'realtime_messages_total', { ...ep, client_type: 'browser' })).toBe(2);
    expect(value(fams, 'realtime_messages_total', { ...ep, client_type: 'unknown' })).toBe(1);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.client_type' }),
    ).toBe(1);
    const hs = (want: Record<string, string>) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { transport: 'sse', ...want }).count;
    expect(hs({ ...ep, outcome: 'success' })).toBe(3);
    expect(hs({ ...ep, outcome: 'error' })).toBe(1);
    // No route matched: express's own 404, a refused handshake on no particular endpoint.
    expect(hs({ endpoint: 'default', outcome: 'rejected' })).toBe(1);

    // Detached: later streams pass through uncounted; the counters keep their values.
    mw!.detach();
    const d = await openSse(s.port, '/feed/d');
    await until('fourth stream', () => streams.length === 4);
    await until('delivered', () => d.events === 1);
    fams = await s.scrape();
    expect(value(fams, 'realtime_connections_opened_total', ep)).toBe(3);
    expect(value(fams, 'realtime_connections', { transport: 'sse' })).toBe(0);
    expect(value(fams, 'realtime_messages_total', ep)).toBe(3);
    for (const x of [a, b, c, d]) x.socket.destroy();
  });

  it('works as plain node:http middleware', async () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const mw = sse(metrics, { endpoint: 'ticker' });
    const handler = metricsHandler(metrics);
    const server = http.createServer((req, res) => {
      if (req.url === '/metrics') return handler(req, res);
      mw(req, res);
      res.writeHead(200, ['Content-Type', 'text/event-stream']);
      res.end('data: 1\n\ndata: 2\n\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });
    const port = (server.address() as AddressInfo).port;
    const c = await openSse(port, '/');
    await until('stream ended', () => c.res.complete);
    expect(c.events).toBe(2);
    const fams = await scrape(`http://127.0.0.1:${port}/metrics`);
    const ep = { transport: 'sse', endpoint: 'ticker' };
    expect(value(fams, 'realtime_messages_total', ep)).toBe(2);
    expect(value(fams, 'realtime_connections_closed_total', { ...ep, initiator: 'server' })).toBe(
      1,
    );
    expect(value(fams, 'realtime_connections', ep)).toBe(0);
  });

  it('rejects bad options at construction, naming the option', () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    const bad: Array<[unknown, string]> = [
      [{ endpoint: 42 }, 'endpoint'],
      [{ endpoint: '' }, 'endpoint'],
      [{ clientType: 'browser' }, 'clientType'],
      [{ slowConsumerBytes: -1 }, 'slowConsumerBytes'],
      [{ maxConnections: 0 }, 'maxConnections'],
      [{ transport: 'Server Sent' }, 'transport'],
      [{ heartbeat: true }, 'heartbeat'],
    ];
    for (const [options, option] of bad) {
      expect(() => sse(metrics, options as never)).toThrow(
        expect.objectContaining({ name: 'TidewatchConfigError', option }),
      );
    }
    expect(() => sse({} as never)).toThrow(expect.objectContaining({ option: 'metrics' }));
  });
});
