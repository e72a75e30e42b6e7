import type { CloseReason } from '@tidewatch/conventions';
import { type HistogramSeries, observe } from '../../internal/family.js';
import {
  type Group,
  groupFor,
  recordClose,
  type TransportContext,
} from '../../internal/transport.js';
import { errorType, reasonForCode, reasonForError } from '../shared/close-reason.js';

/** Per-server context shared by its connections. */
export interface ConnContext extends TransportContext {
  readonly conns: Set<ConnState>;
  /**
   * Payload of this server's heartbeat pings (undefined with the heartbeat off): the pong
   * that echoes it answers the heartbeat, and the app's own `'pong'` listeners never see it.
   */
  readonly heartbeatMarker: Buffer | undefined;
}

/** The original methods of a WebSocket prototype, called after tidewatch's bookkeeping. */
export interface Originals {
  readonly proto: object;
  readonly emit: (...args: unknown[]) => boolean;
  readonly send: (...args: unknown[]) => void;
  readonly close: (...args: unknown[]) => void;
  readonly terminate: (...args: unknown[]) => void;
  readonly ping: (...args: unknown[]) => void;
}

/** Per-connection state: a handful of numbers and references (see the memory benchmark). */
export interface ConnState {
  readonly ws: any;
  readonly ctx: ConnContext;
  readonly g: Group;
  readonly o: Originals;
  readonly openedAt: number;
  /** Coarse time of the last data frame, for idle detection. */
  last: number;
  live: boolean;
  /** `performance.now()` of the app's oldest unanswered ping, 0 when none. */
  pingAt: number;
  /** `performance.now()` of the oldest unanswered heartbeat ping, 0 when none. */
  hbAt: number;
  hbPending: boolean;
  missed: number;
  /** Set when the server started the close (close() or terminate() before the peer's close frame). */
  serverInitiated: boolean;
  sentCode: number;
  reason: CloseReason | null;
  errType: string | null;
}

const kConn = Symbol('tidewatch.conn');
/** An app-driven terminate() with a ping unanswered this long is a heartbeat timeout. */
const APP_PING_TIMEOUT_MS = 1000;

/** Payload length of an incoming message as ws delivers it (Buffer, ArrayBuffer, Buffer[], Blob). */
function inLength(data: any): number {
  const n = data.byteLength;
  if (typeof n === 'number') return n;
  if (Array.isArray(data)) {
    let sum = 0;
    for (const part of data) sum += part.byteLength;
    return sum;
  }
  return typeof data.size === 'number' ? data.size : 0;
}

/** Payload length of an outgoing message as the app passes it to `send`. */
function outLength(data: any): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data === null || data === undefined) return 0;
  const n = data.byteLength;
  if (typeof n === 'number') return n;
  if (typeof data.size === 'number') return data.size;
  return Buffer.byteLength(String(data));
}

const protos = new WeakMap<object, object>();
const originalsOf = new WeakMap<object, Originals>();

/** The instrumented prototype for an original WebSocket prototype (one per class). */
export function instrumentedProto(o: Originals): object {
  return protos.get(o.proto)!;
}

function originals(proto: any): Originals {
  let o = originalsOf.get(proto);
  if (o !== undefined) return o;
  o = {
    proto,
    emit: proto.emit,
    send: proto.send,
    close: proto.close,
    terminate: proto.terminate,
    ping: proto.ping,
  };
  originalsOf.set(proto, o);
  protos.set(proto, makeProto(o));
  return o;
}

/**
 * Builds a prototype that sits between a socket and its class: swapping the prototype
 * once per connection costs no per-instance closures or own properties, keeps every
 * instrumented socket on one hidden class, and is undone by swapping back. Each method
 * does its bookkeeping inside try/catch, then calls the original outside it, so the
 * host's own errors pass through unchanged.
 */
function makeProto(o: Originals): object {
  const p = Object.create(o.proto);
  const { emit, send, close, terminate, ping } = o;
  p.emit = function tidewatchEmit(this: any, event: string) {
    const c: ConnState | undefined = this[kConn];
    let consumed = false;
    if (c !== undefined && c.live) {
      try {
        if (event === 'message') {
          const n = inLength(arguments[1]);
          const g = c.g;
          g.msgIn.value++;
          g.bytesIn.value += n;
          observe(g.sizeIn, n);
          if (c.ctx.recorder.otelPerMessage) recordSize(c, g.sizeIn, n);
          c.last = c.ctx.clock.now;
        } else if (event === 'pong') {
          consumed = onPong(c, arguments[1]);
        } else if (event === 'close') {
          onClose(c, arguments[1]);
        } else if (event === 'error') {
          onError(c, arguments[1]);
        }
      } catch (err) {
        c.ctx.recorder.error(`ws.${event}`, err);
      }
    }
    // The heartbeat's own pong: measured above, and no app listener ran for it.
    if (consumed) return false;
    return emit.apply(this, arguments as unknown as unknown[]);
  };
  p.send = function tidewatchSend(this: any, data: unknown, options: unknown) {
    const c: ConnState | undefined = this[kConn];
    if (c !== undefined && c.live) {
      try {
        onSend(c, data, options);
      } catch (err) {
        c.ctx.recorder.error('ws.send', err);
      }
    }
    return send.apply(this, arguments as unknown as unknown[]);
  };
  p.close = function tidewatchClose(this: any, code: unknown) {
    const c: ConnState | undefined = this[kConn];
    // ws answers a peer's close frame by calling close() itself; only a close the server
    // starts (no close frame received yet) makes the server the initiator.
    if (c !== undefined && c.live && !c.serverInitiated && this.readyState < 2) {
      if (this._closeFrameReceived !== true) {
        c.serverInitiated = true;
        c.sentCode = typeof code === 'number' ? code : 1005;
      }
    }
    return close.apply(this, arguments as unknown as unknown[]);
  };
  p.terminate = function tidewatchTerminate(this: any) {
    const c: ConnState | undefined = this[kConn];
    if (c !== undefined && c.live && this.readyState < 3) {
      try {
        onTerminate(c, this);
      } catch (err) {
        c.ctx.recorder.error('ws.terminate', err);
      }
    }
    return terminate.apply(this, arguments as unknown as unknown[]);
  };
  p.ping = function tidewatchPing(this: any) {
    const c: ConnState | undefined = this[kConn];
    if (c !== undefined && c.live && c.pingAt === 0 && this.readyState === 1) {
      c.pingAt = performance.now();
    }
    return ping.apply(this, arguments as unknown as unknown[]);
  };
  return p;
}

function recordSize(c: ConnState, s: HistogramSeries, n: number): void {
  c.ctx.recorder.family('messageSize').otel?.record(n, s.attrs);
}

function onSend(c: ConnState, data: unknown, options: any): void {
  const state = c.ws.readyState;
  if (state !== 1) {
    // ws queues nothing for a CLOSING/CLOSED socket: the message is lost.
    if (state > 1) c.ctx.recorder.inc('messagesDropped', [c.ctx.transport, 'not_open']);
    return;
  }
  const n = outLength(data);
  const g = c.g;
  g.bytesOut.value += n;
  // A fragmented message counts once, on its last fragment (fin defaults to true).
  if (options !== null && typeof options === 'object' && options.fin === false) return;
  g.msgOut.value++;
  observe(g.sizeOut, n);
  if (c.ctx.recorder.otelPerMessage) recordSize(c, g.sizeOut, n);
  c.last = c.ctx.clock.now;
}

/**
 * Measures a pong; returns true when it is the heartbeat's (it carries this server's
 * marker), which the app must not see. Any pong shows the peer is alive.
 */
function onPong(c: ConnState, data: unknown): boolean {
  c.hbPending = false;
  c.missed = 0;
  const marker = c.ctx.heartbeatMarker;
  if (marker !== undefined && Buffer.isBuffer(data) && marker.equals(data)) {
    // Answers the oldest unanswered heartbeat ping (pongs come back in order).
    if (c.hbAt !== 0) roundTrip(c, c.hbAt);
    c.hbAt = 0;
    return true;
  }
  if (c.pingAt === 0) return false; // unsolicited pong: no round trip to measure
  roundTrip(c, c.pingAt);
  c.pingAt = 0;
  return false;
}

function roundTrip(c: ConnState, pingAt: number): void {
  const t = c.ctx.transport;
  c.ctx.recorder.observe('pingRtt', [t], (performance.now() - pingAt) / 1000);
  c.ctx.recorder.inc('heartbeats', [t, 'pong']);
}

function onTerminate(c: ConnState, ws: any): void {
  if (!c.serverInitiated && ws._closeFrameReceived !== true) c.serverInitiated = true;
  if (c.reason === null && c.pingAt !== 0 && performance.now() - c.pingAt >= APP_PING_TIMEOUT_MS) {
    // The canonical ws heartbeat: ping, and terminate() if no pong came back in time.
    c.reason = 'ping_timeout';
    c.ctx.recorder.inc('heartbeats', [c.ctx.transport, 'timeout']);
  }
}

function onError(c: ConnState, err: unknown): void {
  const type = errorType(err);
  if (c.errType === null) c.errType = type;
  c.ctx.recorder.inc('errors', [c.ctx.transport, type]);
}

function onClose(c: ConnState, code: unknown): void {
  c.live = false;
  const ctx = c.ctx;
  ctx.conns.delete(c);
  const initiator = c.serverInitiated ? 'server' : 'client';
  let reason: CloseReason;
  if (c.reason !== null) reason = c.reason;
  else if (c.errType !== null) reason = reasonForError(c.errType);
  else {
    // ws reports the code the peer sent (1006 if none); when we started the close, the
    // code we sent says why.
    const received = typeof code === 'number' ? code : 1006;
    const sent = c.serverInitiated && c.sentCode !== 0 ? c.sentCode : received;
    reason = reasonForCode(sent, initiator, ctx.closeCodes);
  }
  recordClose(ctx, c.g, c.openedAt, reason, initiator);
}

/** Starts tracking an open WebSocket; counts the open. */
export function openConnection(
  ctx: ConnContext,
  ws: any,
  endpoint: string,
  clientType: string,
): ConnState {
  const existing: ConnState | undefined = ws[kConn];
  if (existing?.live) return existing;
  const o = originals(Object.getPrototypeOf(ws));
  const g = groupFor(ctx, endpoint, clientType);
  const c: ConnState = {
    ws,
    ctx,
    g,
    o,
    openedAt: performance.now(),
    last: ctx.clock.now,
    live: true,
    pingAt: 0,
    hbAt: 0,
    hbPending: false,
    missed: 0,
    serverInitiated: false,
    sentCode: 0,
    reason: null,
    errType: null,
  };
  ws[kConn] = c;
  Object.setPrototypeOf(ws, protos.get(o.proto)!);
  ctx.conns.add(c);
  g.opened.value++;
  return c;
}
