import type { Recorder } from '../../internal/recorder.js';
import { groupFor, recordClose } from '../../internal/transport.js';
import { NO_NAMESPACE } from './handshake.js';
import { bufferedBytes, onPacket, onUpgrade } from './packets.js';
import {
  type CloseFacts,
  normaliseDisconnect,
  pendingOutcomeOnClose,
  transportErrorType,
} from './reasons.js';
import {
  ctxFor,
  type EngineConn,
  forEachEngine,
  forEachSocket,
  kEngine,
  kNs,
  type NsConn,
  observeHandshake,
  type SioState,
  takePending,
} from './state.js';

interface Originals {
  readonly proto: object;
  readonly emit: (...args: unknown[]) => boolean;
  readonly close: (...args: unknown[]) => unknown;
}

const protos = new WeakMap<object, object>();
const originalsOf = new WeakMap<object, Originals>();
const instrumented = new WeakSet<object>();

/**
 * A prototype between an engine.io `Socket` and its class, like the ws adapter's: one
 * swap per connection, no per-connection closures or listeners, undone by swapping back.
 * engine.io announces every packet through `emit('packet' | 'packetCreate')` (its
 * documented events), so wrapping `emit` sees each packet once without adding listeners.
 */
function makeProto(o: Originals): object {
  const p = Object.create(o.proto);
  const { emit, close } = o;
  p.emit = function tidewatchEngineEmit(this: any, event: string) {
    const c: EngineConn | undefined = this[kEngine];
    if (c !== undefined && c.live) {
      if (event === 'packetCreate' || event === 'packet') {
        try {
          onPacket(c, arguments[1], event === 'packet');
        } catch (err) {
          c.st.recorder.error('socketio.packet', err);
        }
      } else if (event === 'data') {
        c.inData = true;
        try {
          return emit.apply(this, arguments as unknown as unknown[]);
        } finally {
          c.inData = false;
        }
      } else if (event === 'upgrade') {
        try {
          onUpgrade(c, arguments[1]);
        } catch (err) {
          c.st.recorder.error('socketio.upgrade', err);
        }
      } else if (event === 'close') {
        const reason = arguments[1];
        const description = arguments[2];
        try {
          onEngineClose(c, reason, description);
        } catch (err) {
          c.st.recorder.error('socketio.close', err);
        }
        const result = emit.apply(this, arguments as unknown as unknown[]);
        try {
          closeLeftovers(c, reason, description);
        } catch (err) {
          c.st.recorder.error('socketio.close', err);
        }
        return result;
      }
    }
    return emit.apply(this, arguments as unknown as unknown[]);
  };
  p.close = function tidewatchEngineClose(this: any) {
    const c: EngineConn | undefined = this[kEngine];
    // socket.io's Client closes the connection from inside the `data` emit only when the
    // client broke the protocol: a packet its decoder threw on, or one invalid in the
    // connection's state (application handlers run later, on the next tick).
    if (c !== undefined && c.live && c.inData) c.parseError = true;
    return close.apply(this, arguments as unknown as unknown[]);
  };
  return p;
}

function originals(proto: any): Originals {
  let o = originalsOf.get(proto);
  if (o === undefined) {
    o = { proto, emit: proto.emit, close: proto.close };
    originalsOf.set(proto, o);
    const p = makeProto(o);
    protos.set(proto, p);
    instrumented.add(p);
  }
  return o;
}

/** Starts tracking an engine.io connection; `start` times its first namespace connect. */
export function trackEngine(st: SioState, conn: any, start: number | undefined): EngineConn {
  const existing: EngineConn | undefined = conn[kEngine];
  if (existing?.live && existing.st === st) return existing;
  let proto = Object.getPrototypeOf(conn);
  // Left instrumented by an attachment that never saw this connection close: go under it.
  if (instrumented.has(proto)) proto = Object.getPrototypeOf(proto);
  const o = originals(proto);
  const c: EngineConn = {
    conn,
    st,
    clientType: st.clientTypeOf(conn.request),
    tctx: ctxFor(st, conn.transport?.name),
    live: true,
    root: null,
    others: null,
    pending: start === undefined ? null : [{ name: null, start }],
    pingAt: 0,
    bin: null,
    inData: false,
    parseError: false,
  };
  conn[kEngine] = c;
  Object.setPrototypeOf(conn, protos.get(o.proto)!);
  return c;
}

/** Stops tracking without counting anything (detach). */
export function releaseEngine(c: EngineConn): void {
  c.live = false;
  const cur = Object.getPrototypeOf(c.conn);
  if (instrumented.has(cur)) Object.setPrototypeOf(c.conn, Object.getPrototypeOf(cur));
}

/**
 * The WebSocket close code of the engine.io connection's ws socket, else 0: engine.io
 * reports every WebSocket close as `transport close`, and ws 8 keeps the code the peer
 * sent (1006 when none came) in `_closeCode`. Read best-effort; 0 when ws changes it.
 */
function wsCloseCode(conn: any): number {
  const t = conn.transport;
  if (t?.name !== 'websocket') return 0;
  const code = t.socket?._closeCode;
  return typeof code === 'number' ? code : 0;
}

/** Facts for normalising a close of this engine.io connection. */
export function closeFacts(c: EngineConn, description: unknown): CloseFacts {
  const message = (description as { message?: unknown } | null | undefined)?.message;
  return {
    transport: c.conn.transport?.name ?? '',
    wsCode: wsCloseCode(c.conn),
    errorMessage: typeof message === 'string' ? message : '',
    shuttingDown: c.st.shuttingDown,
    parseError: c.parseError,
  };
}

/**
 * The engine.io connection closed (before socket.io's own listeners run, so the sockets'
 * `disconnect` find these facts): ends pending connects, counts heartbeat timeouts and
 * transport errors once per connection.
 */
export function onEngineClose(c: EngineConn, reason: unknown, description: unknown): void {
  if (!c.live) return;
  c.live = false;
  const st = c.st;
  const t = c.tctx.transport;
  const pending = c.pending;
  if (pending !== null) {
    c.pending = null;
    const outcome = pendingOutcomeOnClose(reason);
    for (const p of pending) {
      observeHandshake(c, p.name === null ? NO_NAMESPACE : st.labelOf(p.name), outcome, p.start);
    }
  }
  if (reason === 'ping timeout') st.recorder.inc('heartbeats', [t, 'timeout']);
  else if (reason === 'transport error') {
    st.recorder.inc('errors', [t, transportErrorType(closeFacts(c, description))]);
  } else if (reason === 'parse error') {
    st.recorder.inc('errors', [t, 'parse_error']);
  } else if (c.parseError) {
    st.recorder.inc('errors', [t, 'invalid_packet']);
  }
}

/**
 * After socket.io handled the engine.io close: sockets it did not report (an application
 * removed tidewatch's `disconnect` listener) close with the connection's reason.
 */
export function closeLeftovers(c: EngineConn, reason: unknown, description: unknown): void {
  forEachSocket(c, (s) => closeSocket(s, reason, description));
}

/** A socket connected to a namespace: counts the open (and the handshake that led here). */
export function openSocket(c: EngineConn, socket: any, name: string): NsConn {
  const st = c.st;
  const label = st.labelOf(name);
  const p = takePending(c, name);
  if (p !== undefined) observeHandshake(c, label, 'success', p.start);
  const s: NsConn = {
    socket,
    e: c,
    name,
    label,
    g: groupFor(c.tctx, label, c.clientType),
    openedAt: performance.now(),
    last: st.clock.now,
    live: true,
  };
  if (name === '/') c.root = s;
  else if (c.others === null) c.others = [s];
  else c.others.push(s);
  socket[kNs] = s;
  s.g.opened.value++;
  if (socket.recovered === true) st.recorder.inc('reconnects', [c.tctx.transport, label]);
  return s;
}

/** Stops tracking a socket; counts its close unless `reason` is null (detach). */
export function closeSocket(s: NsConn, reason: unknown, description: unknown): void {
  if (!s.live) return;
  s.live = false;
  const c = s.e;
  if (c.root === s) c.root = null;
  else if (c.others !== null) {
    const i = c.others.indexOf(s);
    if (i !== -1) c.others.splice(i, 1);
    if (c.others.length === 0) c.others = null;
  }
  if (reason === null) return;
  const n = normaliseDisconnect(reason, closeFacts(c, description));
  recordClose(c.tctx, s.g, s.openedAt, n.reason, n.initiator);
}

/**
 * The scrape pass over live state: the engine's open sessions and their sockets give
 * connections (active/idle), handshakes in flight, send buffers and slow consumers. A
 * socket socket.io let go of without a `disconnect` tidewatch heard (an application
 * removing every listener) is closed here, so the gauges never drift.
 */
export function collectConnections(
  st: SioState,
  r: Recorder,
  now: number,
  idleAfterMs: number,
  slowConsumerBytes: number,
): void {
  forEachEngine(st, (c) => {
    forEachSocket(c, (s) => {
      if (s.socket.connected !== true) {
        closeSocket(s, 'server namespace disconnect', undefined);
      } else if (now - s.last >= idleAfterMs) s.g.idle.value++;
      else s.g.active.value++;
    });
    const t = c.tctx.transport;
    if (c.pending !== null) r.series('handshakesInFlight', [t]).value += c.pending.length;
    const conn = c.conn;
    if (conn.readyState !== 'open') return;
    const b = bufferedBytes(conn);
    if (b > 0) {
      r.series('sendBuffer', [t]).value += b;
      if (b > slowConsumerBytes) r.series('slowConsumers', [t]).value++;
    }
  });
}
