import type { IncomingMessage } from 'node:http';
import { RequestLabels } from '../../internal/classifier.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
  type Patches,
  presetScrapeSeries,
} from '../../internal/instrumentation.js';
import { clientTypeOption, readOptions, slowConsumerOption } from '../../internal/options.js';
import { fail } from '../../internal/validate.js';
import {
  type Internals,
  internalsOf,
  type RealtimeMetrics,
  type RequestClassifier,
} from '../../metrics.js';
import { keyOption } from '../broker/envelope.js';
import { type BrokerTracing, tracerOption } from '../broker/tracing.js';
import { closeSocket, collectConnections, openSocket, releaseEngine, trackEngine } from './conn.js';
import { EngineHandshakes } from './handshake.js';
import { BROADCAST_TRANSPORT, NamespaceHooks, NamespaceLabels } from './namespaces.js';
import type { DeliveryConfig } from './remote.js';
import {
  type EngineConn,
  forEachEngine,
  forEachSocket,
  kEngine,
  kNs,
  type NsConn,
  type SioState,
} from './state.js';

/**
 * The parts of a Socket.IO 4 `Server` tidewatch touches (typed structurally: no
 * `socket.io` import). The engine may be attached later (`io.listen()`, `io.attach()`).
 */
export interface SocketIoServerLike {
  of(name: string): unknown;
  readonly sockets: unknown;
  engine?: unknown;
}

/** Options of {@link instrumentSocketIo}. */
export interface InstrumentSocketIoOptions {
  /**
   * Namespaces reported by name in `endpoint` (and `namespace` of `rooms`/`room_members`);
   * `/` always is, every other namespace reports as `other`. Strings match exactly; a
   * RegExp (without the g or y flag) admits every name it matches, so keep it bounded.
   * Default: every namespace the application creates with `io.of('/name')`, before or after
   * attaching; children of dynamic namespaces (`io.of(/regex/)`, `io.of(fn)`) are named by
   * clients and fold into `other`. The cardinality guard (`seriesCap`) applies on top.
   */
  namespaces?: ReadonlyArray<string | RegExp>;
  /** `client_type` classifier of the engine.io handshake request. Default: the metrics option, else `unknown`. */
  clientType?: RequestClassifier;
  /** A connection with more bytes queued than this counts as a slow consumer. Default 1 MiB. */
  slowConsumerBytes?: number;
  /**
   * Stamped broadcasts (see `stamp()` in `@tidewatch/middleware/broker`): `key` is the
   * envelope field (default `_tw`); `tracing` (from `brokerTracing()`, off by default)
   * records a `deliver` span per traced broadcast this node writes to at least one socket.
   */
  delivery?: { key?: string; tracing?: BrokerTracing };
}

const kAttached = Symbol.for('tidewatch.socketio.attached');

/**
 * Instruments a Socket.IO 4 server (engine.io 6). A *connection* here is a Socket.IO
 * socket: one client on one namespace, labelled `endpoint` = the namespace (see the
 * `namespaces` option) and `transport` = the engine.io transport it is on now
 * (`socketio_polling`, `socketio_websocket`, `socketio_webtransport`), so a client
 * multiplexing `/` and `/chat` is two connections. The `connections` gauge is computed
 * at scrape from the live sockets, follows polling -> websocket upgrades (counted in
 * `transport_upgrades_total`) and cannot go negative.
 *
 * - **Messages**: every Socket.IO EVENT, ACK, BINARY_EVENT and BINARY_ACK packet in and
 *   out, read from engine.io's `packet`/`packetCreate` (connect, disconnect, ping and pong
 *   packets are not messages). Bytes are socket.io-parser's encoding (UTF-8 text plus
 *   binary attachments), before engine.io framing. A broadcast counts once per recipient.
 * - **Broadcasts**: `broadcast_fanout{transport="socketio"}` observes the local recipients
 *   of each adapter broadcast (`io.emit`, `io.to(room).emit`, `socket.broadcast.emit`,
 *   `nsp.emit`, with or without acks); an emit to one socket's own room is not a broadcast.
 *   With a cluster adapter (`@socket.io/redis-adapter`, ...), a broadcast is counted on
 *   every node that writes it: its local recipients' messages and its fan-out.
 * - **Delivery lag**: `delivery_lag_seconds{transport="socketio"}` once per recipient of a
 *   broadcast whose arguments carry a `stamp()` (see the `delivery` option).
 * - **Broker** (Redis adapter, detected by shape): `broker_messages_total{broker=
 *   "socketio_redis"}` `out` = PUBLISH calls through its `pubClient`, `in` = broadcasts
 *   from other nodes delivered here; `broker_errors_total` from both clients.
 * - **Handshakes** run from the engine.io handshake request (or, for a further namespace on
 *   the same connection, its CONNECT packet) to the namespace answering. `success`: the
 *   socket connected. `rejected`: engine.io refused the request (`connection_error`:
 *   unknown transport, bad handshake method, bad request, `allowRequest` Forbidden, an
 *   `engine.use()` middleware failing, unsupported protocol), an `io.use()`/`nsp.use()`
 *   middleware called `next(err)` or the namespace does not exist (CONNECT_ERROR), or the
 *   server closed the session before a namespace connected (connect timeout). `error`:
 *   engine.io failed to create the id or transport, or an answer was a 5xx. `aborted`: the
 *   client left (or stopped answering pings) first. Outcomes decided before the client
 *   named a namespace have `endpoint="unknown"`.
 * - **Closes**: the socket's `disconnect` reason, normalised (see `normaliseDisconnect`).
 * - **Heartbeats**: engine.io's server ping to the client's pong (`ping_rtt_seconds`);
 *   `ping timeout` closes count `heartbeats_total{outcome="timeout"}`.
 * - **Rooms** at scrape from each namespace adapter's `rooms` (private rooms excluded).
 *   The busiest rooms by name: `room_messages_total{transport="socketio",room}` counts one
 *   message per room a local broadcast targets (`io.to(room).emit`, `socket.to(room).emit`;
 *   not per recipient, not an emit to a socket's own id), and `room_members_current{room}`
 *   the members, for the top K rooms by message rate (`rooms.topK` of
 *   `createRealtimeMetrics`); the rest add up in `room="__other__"`. A room name used in two
 *   namespaces is one room here.
 * - `reconnects_total` counts sockets restored by connection state recovery.
 * - `errors_total{type}`: engine.io `connection_error` codes (`forbidden`, `unknown_sid`,
 *   ...), transport errors (`poll_closed_prematurely`, `message_too_big`, ...), `parse_error`
 *   (engine.io could not decode) and `invalid_packet` (socket.io dropped the client for a
 *   packet it could not decode or that was invalid in the connection's state).
 *
 * Sockets and engine.io connections already open are adopted (counted as opened, no
 * handshake). Attaching the same metrics twice returns the first handle.
 *
 * @returns a handle that detaches everything when called (or through `.detach()`);
 *   idempotent. Counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, or with code
 *   `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance instruments this server.
 */
export function instrumentSocketIo(
  io: SocketIoServerLike,
  metrics: RealtimeMetrics,
  options: InstrumentSocketIoOptions = {},
): InstrumentationHandle {
  const server = io as any;
  if (typeof server?.of !== 'function' || typeof server.sockets?.on !== 'function') {
    fail('io', 'a socket.io Server', io);
  }
  const internals = internalsOf(metrics);
  const opts = parseOptions(internals, options);
  return instrument(
    metrics,
    internals,
    'socketio',
    { target: server, key: kAttached, option: 'io' },
    (inst) => attach(inst, server, opts),
  );
}

type SioOptions = ReturnType<typeof parseOptions>;

function attach(inst: Instrumentation, server: any, opts: SioOptions): undefined {
  const { recorder, clock } = inst;
  const labels = new NamespaceLabels(opts.namespaces);
  const requestLabels = new RequestLabels(recorder, undefined, opts.clientType);
  const st: SioState = {
    recorder,
    clock,
    ctxs: new Map(),
    engine: null,
    labelOf: labels.labelOf,
    clientTypeOf: (req: unknown) =>
      req !== null && typeof req === 'object'
        ? requestLabels.clientType(req as IncomingMessage)
        : 'unknown',
    fanout: 0,
    depth: 0,
    shuttingDown: false,
    remote: null,
    delivery: opts.delivery,
    brokerClients: new Set(),
    rooms: inst.internals.rooms.tracker(BROADCAST_TRANSPORT),
  };
  const handshakes = new EngineHandshakes(recorder);
  inst.onDetach(() => handshakes.clear());

  // One function for every socket (`this` is the socket): no closure per connection.
  const onSocketDisconnect = function (this: any, reason: unknown, description: unknown) {
    try {
      const s: NsConn | undefined = this?.[kNs];
      if (s !== undefined && s.e.st === st) closeSocket(s, reason, description);
    } catch (err) {
      recorder.error('socketio.disconnect', err);
    }
  };
  const adoptSocket = (socket: any) => {
    const conn = socket?.conn;
    if (conn === null || typeof conn !== 'object') return;
    const existing: NsConn | undefined = socket[kNs];
    if (existing?.live && existing.e.st === st) return;
    let c: EngineConn | undefined = conn[kEngine];
    if (c === undefined || !c.live || c.st !== st) c = trackEngine(st, conn, undefined);
    openSocket(c, socket, typeof socket.nsp?.name === 'string' ? socket.nsp.name : '/');
    socket.on('disconnect', onSocketDisconnect);
  };
  const onConnect = (socket: any) => inst.guard('socketio.connect', () => adoptSocket(socket));
  const hooks = new NamespaceHooks(st, server, labels, onConnect, inst.patches);
  const memberSource = (visit: (room: string, members: number) => void) => hooks.visitRooms(visit);
  st.rooms.sources.add(memberSource);
  inst.onDetach(() => st.rooms.sources.delete(memberSource));

  inst.collect((r) => {
    const now = clock.tick();
    collectConnections(st, r, now, inst.internals.options.idleAfterMs, opts.slowConsumerBytes);
    for (const h of handshakes.pending.values()) {
      r.series('handshakesInFlight', [h.transport]).value++;
    }
    hooks.collect(r);
  });
  for (const t of ['socketio_polling', 'socketio_websocket']) presetScrapeSeries(recorder, t);
  recorder.series('rooms', ['/']);

  let engineHooks = hookEngine(inst, st, handshakes, server.engine);
  // `new Server()` then `io.listen()`/`io.attach()`: socket.io binds its engine later.
  inst.patches.wrap(
    server,
    'bind',
    (orig) =>
      function tidewatchBind(this: any) {
        const result = orig.apply(this, arguments as unknown as unknown[]);
        if (inst.active) {
          inst.guard('socketio.bind', () => {
            engineHooks?.unwrapAll();
            engineHooks = hookEngine(inst, st, handshakes, server.engine);
          });
        }
        return result;
      },
  );
  inst.patches.wrap(
    server,
    'close',
    (orig) =>
      function tidewatchClose(this: unknown) {
        if (inst.active) st.shuttingDown = true;
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );

  inst.patches.listen(server.sockets, 'new_namespace', (nsp: unknown) =>
    inst.guard('socketio.namespace', () => hooks.hook(nsp)),
  );
  const nsps = server._nsps instanceof Map ? [...server._nsps.values()] : [server.sockets];
  for (const nsp of nsps) {
    inst.guard('socketio.namespace', () => hooks.hook(nsp));
  }
  for (const nsp of hooks.namespaces()) {
    const sockets = nsp.sockets;
    if (!(sockets instanceof Map)) continue;
    for (const socket of sockets.values()) {
      inst.guard('socketio.adopt', () => {
        if (socket?.connected === true) adoptSocket(socket);
      });
    }
  }

  // After adopting, as it always was: adopted sockets take the clock's time as it stands.
  inst.useClock();
  // Registered last, so undone first: sockets leave tidewatch before its hooks do.
  inst.onDetach(() =>
    forEachEngine(st, (c) =>
      inst.guard('socketio.detach', () => {
        forEachSocket(c, (s) => {
          s.socket.removeListener?.('disconnect', onSocketDisconnect);
          closeSocket(s, null, null);
        });
        releaseEngine(c);
      }),
    ),
  );
  return undefined;
}

/**
 * Hooks an engine.io server; returns the hooks' scope, undefined for no engine. A later
 * `io.bind(engine)` moves tracking to the new engine; sessions of the old one are no
 * longer scraped (socket.io itself stops serving them).
 */
function hookEngine(
  inst: Instrumentation,
  st: SioState,
  handshakes: EngineHandshakes,
  engine: any,
): Patches | undefined {
  if (engine === null || typeof engine?.on !== 'function') return undefined;
  st.engine = engine;
  const scope = inst.patches.child();
  const { recorder } = inst;
  const beginHandshake = (req: unknown, target: unknown, upgrade: boolean) => {
    try {
      handshakes.begin(req, target, upgrade);
    } catch (err) {
      recorder.error('socketio.handshake', err);
    }
  };
  // Prepended: the session must be tracked before socket.io's Client reads from it.
  scope.listen(
    engine,
    'connection',
    (conn: any) => {
      try {
        const start = handshakes.claim(conn?.request);
        trackEngine(st, conn, start === null ? undefined : (start ?? performance.now()));
      } catch (err) {
        recorder.error('socketio.connection', err);
      }
    },
    true,
  );
  scope.listen(engine, 'connection_error', (ev: any) =>
    inst.guard('socketio.connection_error', () => handshakes.connectionError(ev)),
  );
  // engine.io's own request/upgrade listeners call these through `this`, so instance
  // wrappers see each request first (and time handshakes from its arrival).
  scope.wrap(
    engine,
    'handleRequest',
    (orig) =>
      function tidewatchHandleRequest(this: unknown, req: unknown, res: unknown) {
        // Every poll of every session passes here: no closure, a regex on the URL.
        if (inst.active) beginHandshake(req, res, false);
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );
  scope.wrap(
    engine,
    'handleUpgrade',
    (orig) =>
      function tidewatchHandleUpgrade(this: unknown, req: unknown, socket: unknown) {
        if (inst.active) beginHandshake(req, socket, true);
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );
  scope.wrap(
    engine,
    'close',
    (orig) =>
      function tidewatchEngineClose(this: unknown) {
        if (inst.active) st.shuttingDown = true;
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );
  const clients = engine.clients;
  if (clients !== null && typeof clients === 'object') {
    for (const conn of Object.values(clients) as any[]) {
      inst.guard('socketio.adopt', () => {
        if (conn?.readyState === 'open') trackEngine(st, conn, undefined);
      });
    }
  }
  return scope;
}

/** Validates instrumentSocketIo options (throws naming the option) and applies defaults. */
function parseOptions(internals: Internals, options: unknown) {
  const opts = readOptions(options, ['namespaces', 'clientType', 'slowConsumerBytes', 'delivery']);
  return {
    namespaces: namespacesOption(opts.namespaces),
    clientType: clientTypeOption(opts.clientType, internals),
    slowConsumerBytes: slowConsumerOption(opts.slowConsumerBytes),
    delivery: deliveryOption(opts.delivery),
  };
}

function deliveryOption(value: unknown): DeliveryConfig {
  const d = readOptions(value, ['key', 'tracing'], 'delivery');
  return {
    key: keyOption('delivery.key', d.key),
    tracer: tracerOption('delivery.tracing', d.tracing),
  };
}

function namespacesOption(value: unknown): Array<string | RegExp> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    fail('namespaces', 'an array of namespace names and RegExps', value);
  }
  return value.map((n: unknown, i: number) => {
    if (typeof n === 'string' && n.startsWith('/')) return n;
    if (n instanceof RegExp && !n.global && !n.sticky) return n;
    return fail(
      `namespaces[${i}]`,
      'a namespace name starting with "/" or a RegExp without the g or y flag',
      n,
    );
  });
}
