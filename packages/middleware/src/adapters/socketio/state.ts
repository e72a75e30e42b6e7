import type { HandshakeOutcome } from '@tidewatch/conventions';
import type { CoarseClock } from '../../internal/clock.js';
import type { Recorder } from '../../internal/recorder.js';
import type { RoomTracker } from '../../internal/rooms.js';
import type { Group, TransportContext } from '../../internal/transport.js';
import { transportLabel } from './reasons.js';
import type { DeliveryConfig } from './remote.js';

/** State shared by everything one `instrumentSocketIo` attachment tracks. */
export interface SioState {
  readonly recorder: Recorder;
  readonly clock: CoarseClock;
  /** One context (and group cache) per transport label: a connection moves between them on upgrade. */
  readonly ctxs: Map<string, TransportContext>;
  /**
   * The engine.io server; its `clients` (documented: open sessions by id) are the live
   * state the scrape walks, so tidewatch keeps no collection of its own per connection.
   */
  engine: any;
  /** Namespace name -> `endpoint`/`namespace` label (allowlist applied). */
  readonly labelOf: (name: string) => string;
  /** `client_type` of an engine.io handshake request. */
  readonly clientTypeOf: (req: unknown) => string;
  /** Recipients counted since the innermost adapter broadcast began. */
  fanout: number;
  /** Adapter broadcasts running on the stack (out packets count as fan-out while > 0). */
  depth: number;
  /** `io.close()` or `engine.close()` was called. */
  shuttingDown: boolean;
  /** A packet a cluster adapter encoded outside any wrapped broadcast: a remote delivery is starting. */
  remote: unknown;
  /** Where stamps are read, and the tracer of `deliver` spans. */
  readonly delivery: DeliveryConfig;
  /** Broker clients hooked by this attachment (namespaces' adapters share them). */
  readonly brokerClients: Set<unknown>;
  /** The top-K room tracker of `transport="socketio"`: messages per broadcast room. */
  readonly rooms: RoomTracker;
}

/** A namespace connect between the client's CONNECT and the server's answer. */
export interface PendingConnect {
  /** Namespace asked for; null until the first CONNECT of a new engine.io connection. */
  name: string | null;
  /** `performance.now()` at the engine.io handshake request, or at the CONNECT packet. */
  readonly start: number;
}

/** Per engine.io connection: the transport, packet bookkeeping and its namespace sockets. */
export interface EngineConn {
  /** The engine.io `Socket`. */
  readonly conn: any;
  readonly st: SioState;
  /** `client_type` of the handshake request, for every socket of the connection. */
  readonly clientType: string;
  /** The transport the connection is on now. */
  tctx: TransportContext;
  /** False once closed or released: its prototype's bookkeeping then does nothing. */
  live: boolean;
  /** The socket on the main namespace `/`, and those on other namespaces (null: none yet). */
  root: NsConn | null;
  others: NsConn[] | null;
  /** Namespace connects in flight (null: none). */
  pending: PendingConnect[] | null;
  /** `performance.now()` of the unanswered server ping, 0 when none. */
  pingAt: number;
  /** A BINARY_EVENT/BINARY_ACK whose attachments are still arriving (null: none). */
  bin: BinaryState | null;
  /** Inside engine.io's `data` emit: socket.io closing the connection now means the client broke the protocol. */
  inData: boolean;
  /** socket.io dropped the client for an undecodable or out-of-state packet. */
  parseError: boolean;
}

/** Binary attachments still expected after a BINARY_* header, per direction. */
export interface BinaryState {
  inLeft: number;
  inBytes: number;
  inG: Group | null;
  outLeft: number;
  outBytes: number;
  outG: Group | null;
}

/** Per Socket.IO socket (a client connected to one namespace). */
export interface NsConn {
  readonly socket: any;
  readonly e: EngineConn;
  /** Namespace name as it appears in packets. */
  readonly name: string;
  readonly label: string;
  g: Group;
  readonly openedAt: number;
  /** Coarse time of the last data message, for idle detection. */
  last: number;
  live: boolean;
}

/** Where a tracked engine.io connection keeps its state (an own symbol property). */
export const kEngine = Symbol('tidewatch.sio.engine');
/** Where a tracked Socket.IO socket keeps its state. */
export const kNs = Symbol('tidewatch.sio.socket');
/** Namespace connects tracked per engine.io connection; more are not timed (a CONNECT flood). */
const MAX_PENDING = 32;

/** The transport context for an engine.io transport name (created on first use). */
export function ctxFor(st: SioState, name: unknown): TransportContext {
  const label = transportLabel(name);
  let ctx = st.ctxs.get(label);
  if (ctx === undefined) {
    ctx = {
      recorder: st.recorder,
      clock: st.clock,
      transport: label,
      closeCodes: undefined,
      groups: new Map(),
    };
    st.ctxs.set(label, ctx);
  }
  return ctx;
}

/** Observes a handshake outcome on the connection's current transport. */
export function observeHandshake(
  c: EngineConn,
  label: string,
  outcome: HandshakeOutcome,
  start: number,
) {
  c.st.recorder.observe(
    'handshakeDuration',
    [c.tctx.transport, label, outcome],
    (performance.now() - start) / 1000,
  );
}

/** CONNECT in: a namespace connect starts (the first one continues the engine.io handshake). */
export function connectStarted(c: EngineConn, name: string): void {
  const pending = c.pending;
  const first = pending?.find((p) => p.name === null);
  if (first !== undefined) first.name = name;
  else if (pending === null) c.pending = [{ name, start: performance.now() }];
  else if (pending.length < MAX_PENDING) pending.push({ name, start: performance.now() });
}

/** Removes and returns the pending connect for `name` (or the unnamed first one). */
export function takePending(c: EngineConn, name: string): PendingConnect | undefined {
  const pending = c.pending;
  if (pending === null) return undefined;
  let i = pending.findIndex((p) => p.name === name);
  if (i === -1) i = pending.findIndex((p) => p.name === null);
  if (i === -1) return undefined;
  const p = pending[i];
  if (pending.length === 1) c.pending = null;
  else pending.splice(i, 1);
  return p;
}

/** CONNECT_ERROR out: an `io.use`/`nsp.use` middleware's `next(err)`, or an unknown namespace. */
export function connectRejected(c: EngineConn, name: string): void {
  const p = takePending(c, name);
  if (p !== undefined) observeHandshake(c, c.st.labelOf(name), 'rejected', p.start);
}

/** Calls `fn` for every tracked, open engine.io connection of the current engine. */
export function forEachEngine(st: SioState, fn: (c: EngineConn) => void): void {
  const clients = st.engine?.clients;
  if (clients === null || typeof clients !== 'object') return;
  for (const id in clients) {
    const c: EngineConn | undefined = clients[id]?.[kEngine];
    if (c !== undefined && c.live && c.st === st) fn(c);
  }
}

/** Calls `fn` for every tracked socket of an engine.io connection. */
export function forEachSocket(c: EngineConn, fn: (s: NsConn) => void): void {
  if (c.root !== null) fn(c.root);
  const others = c.others;
  if (others !== null) for (let i = others.length - 1; i >= 0; i--) fn(others[i]!);
}
