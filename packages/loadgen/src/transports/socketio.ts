/**
 * The `socket.io` transport: a socket.io-client socket per client over the websocket
 * transport only (so the server's `transport` label is `socketio_websocket` for the whole
 * connection), with its own reconnection off (the loadgen's policy applies).
 *
 * Messages and bytes are counted where the server's adapter counts them: on engine.io
 * `message` packets whose socket.io type is a data packet (EVENT, ACK, BINARY_*), with the
 * bytes of the encoded packet (`2["msg",{...}]`). `join` events are data messages too.
 */
import { io, type Socket } from 'socket.io-client';
import type { Room } from '../message.js';
import type { Connection, ConnectionHooks, Driver, DriverContext } from './types.js';
import { authHeaders, failureOf } from './util.js';

/** socket.io-parser packet types that carry data: EVENT 2, ACK 3, BINARY_EVENT 5, BINARY_ACK 6. */
function isDataPacket(data: unknown): data is string {
  if (typeof data !== 'string') return false;
  const k = data.charCodeAt(0);
  return k === 50 || k === 51 || k === 53 || k === 54;
}

/** The digits of `id` after `prefixLen` characters, or 0 when there are none or others follow. */
function seqOf(id: string, prefixLen: number): number {
  let seq = 0;
  for (let i = prefixLen; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return 0;
    seq = seq * 10 + (c - 48);
  }
  return seq;
}

/** Failure reason and status of a `connect_error`. */
function connectFailure(err: unknown): { reason: string; status: number } {
  const e = err as {
    type?: unknown;
    message?: unknown;
    description?: { message?: unknown; error?: unknown } | undefined;
    data?: { status?: unknown } | undefined;
  };
  if (e?.type === 'TransportError') {
    // The ws ErrorEvent: its message carries "Unexpected server response: 403", its error the errno.
    const d = e.description;
    const inner = d?.error ?? d;
    const f = failureOf(inner);
    return f.reason === 'error' ? failureOf(d) : f;
  }
  if (e?.message === 'timeout') return { reason: 'timeout', status: 0 };
  // Refused by a server middleware (`next(new Error('unauthorized'))`): a rejection, never
  // retried. The status is the one the server put in `err.data.status`, if any.
  const status = typeof e?.data?.status === 'number' ? e.data.status : 0;
  const msg = typeof e?.message === 'string' ? e.message : '';
  const slug = msg
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
  return {
    reason: status > 0 ? `http-${status}` : `refused${slug ? `-${slug}` : ''}`,
    // Counted as rejected and not retried, like a 4xx.
    status: status > 0 ? status : 403,
  };
}

class SocketIoConnection implements Connection {
  private readonly socket: Socket;
  private readonly ctx: DriverContext;
  private readonly hooks: ConnectionHooks;
  private readonly idPrefix: string;
  private isOpen = false;
  private ending: 'client' | 'drop' | null = null;
  private aborted = false;
  private settledFailure = false;

  constructor(
    ctx: DriverContext,
    base: string,
    opts: Record<string, unknown>,
    hooks: ConnectionHooks,
  ) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.idPrefix = `${hooks.cid}-`;
    const socket = io(base, opts);
    this.socket = socket;
    const stats = ctx.stats;
    socket.io.on('open', () => {
      const engine = socket.io.engine;
      engine.on('packetCreate', (p: { type: string; data?: unknown }) => {
        if (this.aborted || p.type !== 'message' || !isDataPacket(p.data)) return;
        stats.msgSent++;
        stats.bytesSent += Buffer.byteLength(p.data);
      });
      engine.on('packet', (p: { type: string; data?: unknown }) => {
        if (this.aborted || p.type !== 'message' || !isDataPacket(p.data)) return;
        stats.msgReceived++;
        stats.bytesReceived += Buffer.byteLength(p.data);
      });
      engine.on('ping', () => {
        if (!this.aborted && this.isOpen) stats.hbAnswered++;
      });
    });
    socket.on('connect', () => {
      if (this.aborted) return;
      this.isOpen = true;
      hooks.opened();
    });
    socket.on('msg', (m: { id?: unknown } | null) => {
      const id = m?.id;
      if (this.aborted || typeof id !== 'string' || !id.startsWith(this.idPrefix)) return;
      const seq = seqOf(id, this.idPrefix.length);
      if (seq > 0) hooks.own(seq);
    });
    socket.on('connect_error', (err: Error) => {
      if (this.aborted || this.isOpen || this.settledFailure) return;
      this.settledFailure = true;
      // Closes the engine.io connection if the refusal came from a middleware.
      socket.disconnect();
      const f = connectFailure(err);
      hooks.failed(f.reason, f.status);
    });
    socket.on('disconnect', (reason: string) => {
      if (this.aborted || !this.isOpen) return;
      this.isOpen = false;
      if (this.ending !== null) {
        this.hooks.closed(this.ending, reason);
        return;
      }
      const kind = reason === 'io server disconnect' ? 'server' : 'abnormal';
      this.hooks.closed(kind, `close-${reason.replace(/\s+/g, '-')}`);
    });
  }

  join(room: Room): void {
    if (this.isOpen && this.ending === null) this.socket.emit('join', room.name);
  }

  send(room: Room, seq: number): void {
    if (!this.isOpen || this.ending !== null) return;
    const messages = this.ctx.messages;
    const id = this.idPrefix + seq;
    const t = Date.now();
    const text = messages.text(room, messages.head(room, id, t));
    // Key order matters: it is the envelope's, so its JSON has the padded size.
    this.socket.emit('msg', { type: 'msg', room: room.name, id, t, text });
  }

  ping(): boolean {
    // The server pings Socket.IO clients; the engine answers by itself.
    return false;
  }

  close(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'client';
    this.socket.disconnect();
  }

  drop(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'drop';
    const ws = (this.socket.io.engine?.transport as unknown as { ws?: { terminate?: () => void } })
      ?.ws;
    if (typeof ws?.terminate === 'function') ws.terminate();
    else this.socket.io.engine?.close();
  }

  abort(): void {
    this.aborted = true;
    this.socket.disconnect();
  }
}

/** The `socket.io` driver. */
export function socketIoDriver(ctx: DriverContext): Driver {
  const { options } = ctx;
  const u = options.url;
  // The URL path is the namespace; its query goes into the handshake query.
  const base = `${u.protocol}//${u.host}${u.pathname === '' ? '/' : u.pathname}`;
  const query: Record<string, string> = Object.fromEntries(u.searchParams);
  if (options.token !== undefined) query.token = options.token;
  const opts: Record<string, unknown> = {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    multiplex: false,
    timeout: options.limits.handshakeTimeoutMs,
    perMessageDeflate: false,
    extraHeaders: authHeaders(options.headers, options.token),
    query,
  };
  if (options.token !== undefined) opts.auth = { token: options.token };
  return {
    settleBeforeClose: true,
    connect: (hooks) => new SocketIoConnection(ctx, base, opts, hooks),
    close: () => {},
  };
}
