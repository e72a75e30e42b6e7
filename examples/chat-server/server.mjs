// The demo's chat server: rooms, broadcast, heartbeat, token auth on the handshake, a `ws`
// endpoint and an SSE feed, instrumented with tidewatch. A classic shape on purpose: this is
// what a user's server looks like before and after the two lines that add tidewatch.
//
// Protocol (JSON text frames, see README.md):
//   client -> server  {"type":"join","room":"r1"}   {"type":"leave","room":"r1"}
//                     {"type":"msg","room":"r1","id":"c1-7","t":1700000000000,"text":"hi"}
//   server -> room    the same msg object plus "seq" (every member, the sender included)
//   GET  /sse?room=r1&token=T   text/event-stream of the room's msgs (id: seq; Last-Event-ID
//                               replays what was missed from a short per-room backlog)
//   POST /rooms/:room/messages  (Authorization: Bearer T) a msg from an SSE-only client
//   GET  /rooms/busiest?token=T the busiest rooms by message rate, from tidewatch's top-K
//                               tracker (what realtime_room_messages_total{room} exports)
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRealtimeMetrics, metricsHandler } from '@tidewatch/middleware';
import { sse } from '@tidewatch/middleware/express';
import { instrumentWs } from '@tidewatch/middleware/ws';
import express from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { WebSocket, WebSocketServer } from 'ws';

const PUBLIC = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
/** Messages kept per room for SSE `Last-Event-ID` replay. */
const BACKLOG = 200;
const ROOM_NAME = /^[a-z0-9_-]{1,32}$/;
const MAX_TEXT = 4096;

/**
 * Creates the chat server (nothing listens until `listen()`).
 * @param {object} options
 * @param {string} options.token         the token clients must present (`?token=` or Bearer)
 * @param {string} [options.metricsToken] bearer token of GET /metrics; open when unset
 * @param {number} [options.heartbeatMs]  ping interval (default 15000; 2 missed pongs = dead)
 * @param {number} [options.maxConnections] capacity, for capacity_utilization (default 5000)
 */
export function createChatServer({
  token,
  metricsToken,
  heartbeatMs = 15_000,
  maxConnections = 5000,
}) {
  if (typeof token !== 'string' || token.length === 0)
    throw new Error('token must be a non-empty string');
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = createRealtimeMetrics({
    registry,
    // Bounded: the demo's own clients say what they are; anything else is `other`.
    clientType: (req) => {
      const c = req.headers['x-client'];
      return c === 'loadgen' || c === 'browser' ? c : 'other';
    },
  });

  // The rooms are the app's own (ws and SSE members alike), so they are reported through the
  // manual API: the busiest K by message rate get their own series, the rest `__other__`.
  const roomMetrics = metrics.rooms();

  /** room -> Set of members; a member is {send(msg, json)}. */
  const rooms = new Map();
  /** room -> {seq, backlog: [{seq, json}]} */
  const history = new Map();

  const join = (room, member) => {
    let set = rooms.get(room);
    if (!set) {
      set = new Set();
      rooms.set(room, set);
    }
    if (set.has(member)) return;
    set.add(member);
    roomMetrics.join(room);
  };
  const leave = (room, member) => {
    const set = rooms.get(room);
    if (!set?.delete(member)) return;
    roomMetrics.leave(room);
    if (set.size === 0) rooms.delete(room);
  };
  const publish = (room, msg) => {
    let h = history.get(room);
    if (!h) {
      h = { seq: 0, backlog: [] };
      history.set(room, h);
    }
    const seq = ++h.seq;
    // Serialised once for every recipient: fan-out cost is one write per member, not one
    // JSON.stringify per member.
    const json = JSON.stringify({ ...msg, room, seq });
    h.backlog.push({ seq, json });
    if (h.backlog.length > BACKLOG) h.backlog.shift();
    roomMetrics.message(room);
    const members = rooms.get(room);
    if (!members) return 0;
    for (const m of members) m.send(json, seq);
    metrics.broadcast(members.size);
    return members.size;
  };

  const authorised = (req, url) => {
    const header = req.headers.authorization;
    if (typeof header === 'string' && header === `Bearer ${token}`) return true;
    return url.searchParams.get('token') === token;
  };

  const app = express();
  app.disable('x-powered-by');
  const serveMetrics = metricsHandler(
    metrics,
    metricsToken ? { auth: { bearer: metricsToken } } : {},
  );
  app.get('/metrics', (req, res) => serveMetrics(req, res));
  app.get('/healthz', (_req, res) => res.json({ status: 'ok', rooms: rooms.size }));
  app.get('/rooms/busiest', (req, res) => {
    if (!authorised(req, new URL(req.url, 'http://x')))
      return res.status(401).json({ error: 'missing or bad token' });
    const { rooms: top, other } = roomMetrics.top();
    const round = (r) => ({
      room: r.room,
      messagesPerSecond: Math.round(r.perSecond * 100) / 100,
      messages: r.messages,
      members: r.members,
    });
    res.json({ rooms: top.map(round), other: round(other) });
  });
  app.use(express.static(PUBLIC, { index: 'index.html', maxAge: 0 }));

  // SSE: tidewatch's middleware counts the stream (handshake, events, bytes, close).
  app.get(
    '/sse',
    // First, so that refused streams (401, 400) count as rejected handshakes too.
    sse(metrics, { endpoint: '/sse' }),
    (req, res, next) => {
      const url = new URL(req.url, 'http://x');
      if (!authorised(req, url)) return res.status(401).json({ error: 'missing or bad token' });
      const room = url.searchParams.get('room') ?? 'lobby';
      if (!ROOM_NAME.test(room))
        return res.status(400).json({ error: 'room must match [a-z0-9_-]{1,32}' });
      req.chatRoom = room;
      next();
    },
    (req, res) => {
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
      });
      const room = req.chatRoom;
      const member = {
        send: (json, seq) => {
          res.write(`id: ${seq}\ndata: ${json}\n\n`);
        },
      };
      const last = Number(req.headers['last-event-id']);
      if (Number.isInteger(last)) {
        for (const e of history.get(room)?.backlog ?? [])
          if (e.seq > last) member.send(e.json, e.seq);
      }
      res.write(': joined\n\n');
      join(room, member);
      // A comment line every heartbeat keeps proxies from timing the stream out.
      const ping = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
      ping.unref();
      res.on('close', () => {
        clearInterval(ping);
        leave(room, member);
      });
    },
  );

  app.post('/rooms/:room/messages', express.json({ limit: '16kb' }), (req, res) => {
    if (!authorised(req, new URL(req.url, 'http://x')))
      return res.status(401).json({ error: 'missing or bad token' });
    const room = req.params.room;
    const msg = req.body;
    if (!ROOM_NAME.test(room))
      return res.status(400).json({ error: 'room must match [a-z0-9_-]{1,32}' });
    if (typeof msg?.text !== 'string' || msg.text.length > MAX_TEXT)
      return res
        .status(400)
        .json({ error: `text must be a string of at most ${MAX_TEXT} characters` });
    const delivered = publish(room, {
      type: 'msg',
      id: String(msg.id ?? ''),
      t: Number(msg.t) || Date.now(),
      text: msg.text,
    });
    res.status(202).json({ delivered });
  });

  const server = http.createServer(app);
  // noServer + our own upgrade handler: the token is checked before the WebSocket handshake,
  // and instrumentWs (given `server`) counts what we refuse as outcome="rejected".
  const wss = new WebSocketServer({ noServer: true, path: '/ws', maxPayload: 64 * 1024 });
  const detach = instrumentWs(wss, metrics, {
    server,
    endpoint: '/ws',
    heartbeat: { intervalMs: heartbeatMs, missedPongs: 2 },
    maxConnections,
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!authorised(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws) => {
    const joined = new Set();
    const member = {
      send: (json) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(json);
      },
    };
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (isBinary) return ws.close(1003, 'text frames only');
      let msg;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        return ws.close(1007, 'invalid JSON');
      }
      const room = msg?.room;
      if (typeof room !== 'string' || !ROOM_NAME.test(room)) return;
      if (msg.type === 'join' && !joined.has(room)) {
        joined.add(room);
        join(room, member);
      } else if (msg.type === 'leave' && joined.delete(room)) {
        leave(room, member);
      } else if (
        msg.type === 'msg' &&
        typeof msg.text === 'string' &&
        msg.text.length <= MAX_TEXT
      ) {
        publish(room, {
          type: 'msg',
          id: String(msg.id ?? ''),
          t: Number(msg.t) || Date.now(),
          text: msg.text,
        });
      }
    });
    ws.on('close', () => {
      for (const room of joined) leave(room, member);
    });
  });

  let listening = false;
  return {
    metrics,
    registry,
    /** Rooms with at least one member, and the total memberships. */
    stats: () => ({
      rooms: rooms.size,
      members: [...rooms.values()].reduce((s, r) => s + r.size, 0),
    }),
    /** Listens on host:port (0 = any free port); resolves with the port. */
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          listening = true;
          resolve(server.address().port);
        });
      });
    },
    /** Closes every connection (1001 going away, SSE streams ended) and the server. */
    async close() {
      for (const ws of wss.clients) ws.close(1001, 'server shutdown');
      for (const set of rooms.values()) set.clear();
      server.closeAllConnections?.();
      detach();
      metrics.close();
      // Give the close handshakes a moment, then cut whatever is left.
      const deadline = Date.now() + 1000;
      while (wss.clients.size > 0 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      for (const ws of wss.clients) ws.terminate();
      if (listening) await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
