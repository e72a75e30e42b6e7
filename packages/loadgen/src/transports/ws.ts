/**
 * The `ws` transport: one `ws` WebSocket per client, JSON text frames, client pings as
 * heartbeats. Bytes are frame payload bytes, which is what the middleware's ws adapter
 * counts in `realtime_message_bytes_total`.
 */
import WebSocket from 'ws';
import type { Room } from '../message.js';
import type { CloseKind, Connection, ConnectionHooks, Driver, DriverContext } from './types.js';
import { authHeaders, failureOf, ownSeqAt, withToken } from './util.js';

/** Close codes servers use to refuse a peer after open; reconnecting would not help. */
const AUTH_CODES = new Set([1008, 3000, 3003, 4401, 4403]);

/** Classifies a close the server started (or a connection that just died). */
export function closeKindOf(code: number): CloseKind {
  if (code === 1000 || code === 1001 || code === 1005) return 'server';
  return AUTH_CODES.has(code) ? 'server-auth' : 'abnormal';
}

class WsConnection implements Connection {
  private readonly ws: WebSocket;
  private readonly ctx: DriverContext;
  private readonly hooks: ConnectionHooks;
  private readonly marker: Buffer;
  private readonly idPrefix: string;
  private isOpen = false;
  private ending: 'client' | 'drop' | null = null;
  private aborted = false;
  private failure: { reason: string; status: number } | null = null;
  private pingAt = 0;

  constructor(
    ctx: DriverContext,
    url: string,
    headers: Record<string, string>,
    hooks: ConnectionHooks,
  ) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.idPrefix = `${hooks.cid}-`;
    this.marker = Buffer.from(`"id":"${this.idPrefix}`);
    const ws = new WebSocket(url, {
      headers,
      handshakeTimeout: ctx.options.limits.handshakeTimeoutMs,
      // Compression would cost CPU on both sides and changes nothing the server counts.
      perMessageDeflate: false,
      followRedirects: false,
    });
    this.ws = ws;
    ws.on('open', () => {
      if (this.aborted) return;
      this.isOpen = true;
      hooks.opened();
    });
    ws.on('message', (data: Buffer) => this.onMessage(data));
    ws.on('pong', () => this.onPong());
    ws.on('error', (err: Error) => {
      if (!this.isOpen && this.failure === null) this.failure = failureOf(err);
    });
    ws.on('close', (code: number) => this.onClose(code));
  }

  private onMessage(data: Buffer): void {
    if (this.aborted) return;
    const stats = this.ctx.stats;
    stats.msgReceived++;
    stats.bytesReceived += data.length;
    const i = data.indexOf(this.marker);
    if (i !== -1) {
      const seq = ownSeqAt(data, i + this.marker.length);
      if (seq > 0) this.hooks.own(seq);
    }
  }

  private onPong(): void {
    if (this.aborted || this.pingAt === 0) return;
    const stats = this.ctx.stats;
    stats.hbAnswered++;
    stats.pingRtt.record(performance.now() - this.pingAt);
    this.pingAt = 0;
  }

  private onClose(code: number): void {
    if (this.aborted) return;
    if (!this.isOpen) {
      const f = this.failure ?? { reason: `close-${code}`, status: 0 };
      this.hooks.failed(f.reason, f.status);
      return;
    }
    this.isOpen = false;
    const kind = this.ending ?? closeKindOf(code);
    this.hooks.closed(kind, `close-${code}`);
  }

  private sendText(frame: string, bytes: number): void {
    if (this.ws.readyState !== WebSocket.OPEN || this.ending !== null) return;
    this.ws.send(frame);
    const stats = this.ctx.stats;
    stats.msgSent++;
    stats.bytesSent += bytes;
  }

  join(room: Room): void {
    const frame = `{"type":"join","room":${room.json}}`;
    this.sendText(frame, frame.length + room.extraBytes);
  }

  send(room: Room, seq: number): void {
    const frame = this.ctx.messages.frame(room, this.idPrefix + seq, Date.now());
    this.sendText(frame, frame.length + room.extraBytes);
  }

  ping(): boolean {
    if (this.ws.readyState !== WebSocket.OPEN || this.ending !== null) return true;
    // One round trip at a time: a ping sent while one is outstanding measures from the first.
    if (this.pingAt === 0) this.pingAt = performance.now();
    this.ws.ping();
    this.ctx.stats.hbSent++;
    return true;
  }

  close(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'client';
    this.ws.close(1000);
  }

  drop(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'drop';
    this.ws.terminate();
  }

  abort(): void {
    this.aborted = true;
    this.ws.terminate();
  }
}

/** The `ws` driver. */
export function wsDriver(ctx: DriverContext): Driver {
  const { options } = ctx;
  const url = withToken(options.url, options.token).href;
  const headers = authHeaders(options.headers, options.token);
  return {
    settleBeforeClose: false,
    connect: (hooks) => new WsConnection(ctx, url, headers, hooks),
    close: () => {},
  };
}
