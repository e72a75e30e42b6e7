import { labelValue, observe } from '../../internal/family.js';
import type { Patches } from '../../internal/instrumentation.js';
import type { Recorder } from '../../internal/recorder.js';
import { roomLabel } from '../../internal/rooms.js';
import {
  hookRedisAdapter,
  isRedisAdapter,
  recordDelivery,
  SOCKETIO_REDIS,
  wrapRemote,
} from './remote.js';
import type { SioState } from './state.js';

/** The label a namespace outside the allowlist is reported as. */
export const OTHER_NAMESPACE = 'other';
/** `broadcast_fanout{transport}` of Socket.IO: a broadcast reaches sockets on every transport. */
export const BROADCAST_TRANSPORT = 'socketio';

/**
 * Which namespace names may appear as label values. `/` always does. With an explicit
 * allowlist, exactly the listed names (and names matching listed RegExps); without one,
 * every namespace the application creates with `io.of('/name')`, whenever it does, since
 * those names are written in its code. Children of a dynamic namespace (`io.of(/regex/)` or
 * `io.of(fn)`) are named by clients, so they are never admitted by default. Everything
 * else reports as `other`.
 */
export class NamespaceLabels {
  private readonly names = new Set<string>(['/']);
  private readonly patterns: RegExp[] = [];
  private readonly explicit: boolean;

  constructor(allow: ReadonlyArray<string | RegExp> | undefined) {
    this.explicit = allow !== undefined;
    for (const a of allow ?? []) {
      if (typeof a === 'string') this.names.add(a);
      else this.patterns.push(a);
    }
  }

  /** A namespace the application created by name (default mode only). */
  addStatic(name: string): void {
    if (!this.explicit) this.names.add(name);
  }

  /** The label of a namespace name. */
  readonly labelOf = (name: string): string => {
    if (this.names.has(name)) return labelValue(name);
    for (const re of this.patterns) if (re.test(name)) return labelValue(name);
    return OTHER_NAMESPACE;
  };
}

/** Whether `nsp` is a child of a dynamic (RegExp or function) parent namespace. */
function isDynamic(io: any, nsp: any): boolean {
  const parents = io.parentNsps;
  if (!(parents instanceof Map)) return false;
  for (const parent of parents.values()) if (parent?.children?.has?.(nsp)) return true;
  return false;
}

/** A socket emitted to through its own room (`socket.emit` with state recovery, `io.to(id)`). */
function isDirect(adapter: any, opts: any): boolean {
  try {
    const rooms = opts?.rooms;
    if (rooms?.size !== 1 || opts.except?.size > 0) return false;
    return adapter.nsp?.sockets?.has(rooms.values().next().value) === true;
  } catch {
    return false;
  }
}

/**
 * Runs one broadcast (`run`) with its out packets counted as its fan-out, then observes
 * `broadcast_fanout` (unless it is a direct message) and the delivery lag of a stamped
 * packet. `broker` names where a remote broadcast came from (undefined: this node).
 */
function countBroadcast(
  st: SioState,
  adapter: unknown,
  packet: unknown,
  opts: unknown,
  broker: string | undefined,
  run: () => unknown,
): unknown {
  const direct = isDirect(adapter, opts);
  const startMs = st.delivery.tracer !== undefined ? Date.now() : -1;
  const saved = st.fanout;
  st.fanout = 0;
  st.depth++;
  let n = 0;
  let result: unknown;
  try {
    result = run();
  } finally {
    n = st.fanout;
    st.fanout = saved;
    st.depth--;
  }
  if (!direct) {
    try {
      st.recorder.observe('broadcastFanout', [BROADCAST_TRANSPORT], n);
    } catch (err) {
      st.recorder.error('socketio.broadcast', err);
    }
  }
  recordDelivery(st, packet, n, broker, startMs, BROADCAST_TRANSPORT);
  return result;
}

/**
 * Counts one message for each room a local broadcast targets (`io.to(room).emit`,
 * `socket.to(room).emit`, `nsp.in([a, b]).emit`). A socket's own room (named by its id) is
 * a direct message, not a room the application made. Broadcasts another node delivers here
 * are not counted again: the node that published them counted them, so a sum over nodes is
 * the room's rate.
 */
function countRooms(st: SioState, adapter: any, opts: any): void {
  try {
    const rooms = opts?.rooms;
    if (!(rooms?.size > 0)) return;
    const sockets = adapter?.nsp?.sockets;
    const own = sockets instanceof Map;
    for (const room of rooms) {
      if (own && sockets.has(room)) continue;
      st.rooms.message(roomLabel(room), 1);
    }
  } catch (err) {
    st.recorder.error('socketio.rooms', err);
  }
}

/** A broadcast from another node, delivered here by a cluster adapter (see remote.ts). */
function onRemote(st: SioState, redis: boolean) {
  const inbound = redis ? st.recorder.series('brokerMessages', [SOCKETIO_REDIS, 'in']) : null;
  return (adapter: unknown, packet: unknown, opts: unknown, deliver: () => unknown) => {
    if (inbound !== null) inbound.value++;
    return countBroadcast(st, adapter, packet, opts, redis ? SOCKETIO_REDIS : undefined, deliver);
  };
}

/**
 * Wraps an adapter's `broadcast`/`broadcastWithAck` on the instance: every namespace
 * emit (`io.emit`, `io.to(room).emit`, `socket.broadcast.emit`, `nsp.emit`) ends there, and
 * the in-memory adapter (and those extending it) writes to each local recipient
 * synchronously, so the out packets counted while it runs are its fan-out. Emits to a
 * single socket's own room are direct messages, not broadcasts. Broadcasts a cluster
 * adapter receives from other nodes are counted the same way where it delivers them, and
 * the Redis adapter's broker traffic is counted. Undone with `scope`.
 */
function wrapBroadcast(st: SioState, adapter: any, scope: Patches): void {
  if (adapter === null || typeof adapter !== 'object') return;
  for (const m of ['broadcast', 'broadcastWithAck'] as const) {
    scope.wrap(
      adapter,
      m,
      (orig) =>
        function tidewatchBroadcast(this: any, packet: unknown, opts: unknown) {
          if (!scope.active) return orig.apply(this, arguments as unknown as unknown[]);
          const args = arguments as unknown as unknown[];
          countRooms(st, this, opts);
          return countBroadcast(st, this, packet, opts, undefined, () => orig.apply(this, args));
        },
    );
  }
  const redis = isRedisAdapter(adapter);
  wrapRemote(st, adapter, scope, onRemote(st, redis));
  if (redis) hookRedisAdapter(st, adapter, scope);
}

interface Tracked {
  /** The namespace's listener and the scope below. */
  readonly hooks: Patches;
  adapter: unknown;
  /** The adapter's wrappers: replaced when `io.adapter()` replaces the adapter. */
  wraps: Patches;
}

/**
 * The namespaces of one Socket.IO server: a `connect` listener on each (prepended, so
 * tidewatch's bookkeeping precedes the application's handlers), the adapter's broadcasts,
 * and the live `rooms` maps read at scrape. Everything it adds is recorded in a child
 * scope of the attachment's patches, so detaching undoes it.
 */
export class NamespaceHooks {
  private readonly tracked = new Map<any, Tracked>();
  private readonly st: SioState;
  private readonly io: any;
  private readonly labels: NamespaceLabels;
  private readonly onConnect: (socket: any) => void;
  private readonly patches: Patches;

  constructor(
    st: SioState,
    io: any,
    labels: NamespaceLabels,
    onConnect: (socket: any) => void,
    patches: Patches,
  ) {
    this.st = st;
    this.io = io;
    this.labels = labels;
    this.onConnect = onConnect;
    this.patches = patches;
  }

  /** Starts watching a namespace (idempotent). */
  hook(nsp: any): void {
    if (nsp === null || typeof nsp !== 'object' || this.tracked.has(nsp)) return;
    if (typeof nsp.name === 'string' && !isDynamic(this.io, nsp)) this.labels.addStatic(nsp.name);
    const hooks = this.patches.child();
    hooks.listen(nsp, 'connect', this.onConnect, typeof nsp.prependListener === 'function');
    const wraps = hooks.child();
    wrapBroadcast(this.st, nsp.adapter, wraps);
    this.tracked.set(nsp, { hooks, adapter: nsp.adapter, wraps });
  }

  /**
   * Visits every room users made in the watched namespaces with its size (for
   * `room_members_current`); a socket's private room is skipped. Read at scrape.
   */
  visitRooms(visit: (room: string, members: number) => void): void {
    for (const nsp of this.tracked.keys()) {
      const rooms = nsp.adapter?.rooms;
      if (!(rooms instanceof Map)) continue;
      for (const [room, members] of rooms) {
        const size = members?.size;
        if (size > 0 && !members.has(room)) visit(room, size);
      }
    }
  }

  /** The namespaces being watched. */
  namespaces(): IterableIterator<any> {
    return this.tracked.keys();
  }

  /**
   * Adds each namespace's rooms to `rooms` and `room_members`; drops namespaces socket.io
   * removed (`cleanupEmptyChildNamespaces`) and rewraps adapters replaced by `io.adapter()`.
   */
  collect(r: Recorder): void {
    const nsps = this.io._nsps;
    for (const [nsp, t] of this.tracked) {
      if (nsps instanceof Map && nsps.get(nsp.name) !== nsp) {
        this.tracked.delete(nsp);
        t.hooks.unwrapAll();
        continue;
      }
      const adapter = nsp.adapter;
      if (adapter !== t.adapter) {
        t.wraps.unwrapAll();
        t.adapter = adapter;
        t.wraps = t.hooks.child();
        wrapBroadcast(this.st, adapter, t.wraps);
      }
      const rooms = adapter?.rooms;
      if (!(rooms instanceof Map)) continue;
      const label = this.labels.labelOf(nsp.name);
      const sizes = r.series('roomMembers', [label]);
      let count = 0;
      for (const [room, members] of rooms) {
        const size = members?.size;
        // A socket's private room (named by its id, holding only it) is not a room users made.
        if (!(size > 0) || members.has(room)) continue;
        count++;
        observe(sizes, size);
      }
      r.series('rooms', [label]).value += count;
    }
  }
}
