import { type Attachment, priorAttachment } from '../internal/attach.js';
import { labelValue } from '../internal/family.js';
import { fail, noUnknownKeys, optFunction, optInt, optObject } from '../internal/validate.js';
import {
  type Internals,
  internalsOf,
  type RealtimeMetrics,
  type RequestClassifier,
} from '../metrics.js';
import {
  closeSocket,
  collectConnections,
  openSocket,
  releaseEngine,
  trackEngine,
} from './socketio-conn.js';
import { EngineHandshakes } from './socketio-handshake.js';
import { NamespaceHooks, NamespaceLabels } from './socketio-namespaces.js';
import {
  type EngineConn,
  forEachEngine,
  forEachSocket,
  kEngine,
  kNs,
  type NsConn,
  type SioState,
} from './socketio-state.js';

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
}

const kAttached = Symbol.for('tidewatch.socketio.attached');

type Method = (this: any, ...args: any[]) => unknown;

/** Replaces `obj[name]` on the instance; returns the undo (a no-op when someone replaced it since). */
function wrapMethod(obj: any, name: string, make: (orig: Method) => Method): () => void {
  const orig = obj?.[name];
  if (typeof orig !== 'function') return () => {};
  const own = Object.hasOwn(obj, name);
  const wrapped = make(orig);
  obj[name] = wrapped;
  return () => {
    if (obj[name] !== wrapped) return;
    if (own) obj[name] = orig;
    else delete obj[name];
  };
}

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
 * - `reconnects_total` counts sockets restored by connection state recovery.
 * - `errors_total{type}`: engine.io `connection_error` codes (`forbidden`, `unknown_sid`,
 *   ...), transport errors (`poll_closed_prematurely`, `message_too_big`, ...), `parse_error`
 *   (engine.io could not decode) and `invalid_packet` (socket.io dropped the client for a
 *   packet it could not decode or that was invalid in the connection's state).
 *
 * Sockets and engine.io connections already open are adopted (counted as opened, no
 * handshake). Attaching the same metrics twice returns the first detach function.
 *
 * @returns a function that detaches everything (idempotent). Counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, or with code
 *   `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance instruments this server.
 */
export function instrumentSocketIo(
  io: SocketIoServerLike,
  metrics: RealtimeMetrics,
  options: InstrumentSocketIoOptions = {},
): () => void {
  const server = io as any;
  if (typeof server?.of !== 'function' || typeof server.sockets?.on !== 'function') {
    fail('io', 'a socket.io Server', io);
  }
  const internals = internalsOf(metrics);
  const { namespaces, clientTypeOpt, slowConsumerBytes } = parseOptions(internals, options);

  const holder = server as { [kAttached]?: Attachment };
  const prior = priorAttachment(holder, kAttached, metrics, 'io');
  if (prior) return prior;

  const { recorder, clock } = internals;
  const labels = new NamespaceLabels(namespaces);
  const st: SioState = {
    recorder,
    clock,
    ctxs: new Map(),
    engine: null,
    labelOf: labels.labelOf,
    clientTypeOf: (req: unknown) => {
      if (clientTypeOpt === undefined || req === null || typeof req !== 'object') return 'unknown';
      try {
        return labelValue(clientTypeOpt(req as never));
      } catch (err) {
        recorder.error('classifier.client_type', err);
        return 'unknown';
      }
    },
    fanout: 0,
    depth: 0,
    shuttingDown: false,
  };
  const handshakes = new EngineHandshakes(recorder);
  let detached = false;
  const guarded = (site: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      recorder.error(site, err);
    }
  };

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
  const onConnect = (socket: any) => {
    try {
      adoptSocket(socket);
    } catch (err) {
      recorder.error('socketio.connect', err);
    }
  };
  const hooks = new NamespaceHooks(st, server, labels, onConnect);

  const beginHandshake = (req: unknown, target: unknown, upgrade: boolean) => {
    try {
      handshakes.begin(req, target, upgrade);
    } catch (err) {
      recorder.error('socketio.handshake', err);
    }
  };

  // A later `io.bind(engine)` moves tracking to the new engine; sessions of the old one
  // are no longer scraped (socket.io itself stops serving them).
  let unhookEngine = () => {};
  const hookEngine = (engine: any) => {
    unhookEngine();
    unhookEngine = () => {};
    if (engine === null || typeof engine?.on !== 'function') return;
    st.engine = engine;
    const onConnection = (conn: any) => {
      try {
        const start = handshakes.claim(conn?.request);
        trackEngine(st, conn, start === null ? undefined : (start ?? performance.now()));
      } catch (err) {
        recorder.error('socketio.connection', err);
      }
    };
    const onConnectionError = (ev: any) => {
      try {
        handshakes.connectionError(ev);
      } catch (err) {
        recorder.error('socketio.connection_error', err);
      }
    };
    // Prepended: the session must be tracked before socket.io's Client reads from it.
    engine.prependListener('connection', onConnection);
    engine.on('connection_error', onConnectionError);
    // engine.io's own request/upgrade listeners call these through `this`, so instance
    // wrappers see each request first (and time handshakes from its arrival).
    const undo = [
      wrapMethod(
        engine,
        'handleRequest',
        (orig) =>
          function tidewatchHandleRequest(this: unknown, req: unknown, res: unknown) {
            // Every poll of every session passes here: no closure, a regex on the URL.
            if (!detached) beginHandshake(req, res, false);
            return orig.apply(this, arguments as unknown as unknown[]);
          },
      ),
      wrapMethod(
        engine,
        'handleUpgrade',
        (orig) =>
          function tidewatchHandleUpgrade(this: unknown, req: unknown, socket: unknown) {
            if (!detached) beginHandshake(req, socket, true);
            return orig.apply(this, arguments as unknown as unknown[]);
          },
      ),
      wrapMethod(
        engine,
        'close',
        (orig) =>
          function tidewatchEngineClose(this: unknown) {
            if (!detached) st.shuttingDown = true;
            return orig.apply(this, arguments as unknown as unknown[]);
          },
      ),
    ];
    const clients = engine.clients;
    if (clients !== null && typeof clients === 'object') {
      for (const conn of Object.values(clients) as any[]) {
        guarded('socketio.adopt', () => {
          if (conn?.readyState === 'open') trackEngine(st, conn, undefined);
        });
      }
    }
    unhookEngine = () => {
      engine.removeListener('connection', onConnection);
      engine.removeListener('connection_error', onConnectionError);
      for (const u of undo) u();
    };
  };

  hookEngine(server.engine);
  // `new Server()` then `io.listen()`/`io.attach()`: socket.io binds its engine later.
  const undoBind = wrapMethod(
    server,
    'bind',
    (orig) =>
      function tidewatchBind(this: any) {
        const result = orig.apply(this, arguments as unknown as unknown[]);
        if (!detached) guarded('socketio.bind', () => hookEngine(server.engine));
        return result;
      },
  );
  const undoClose = wrapMethod(
    server,
    'close',
    (orig) =>
      function tidewatchClose(this: unknown) {
        if (!detached) st.shuttingDown = true;
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );

  const onNewNamespace = (nsp: unknown) => guarded('socketio.namespace', () => hooks.hook(nsp));
  server.sockets.on('new_namespace', onNewNamespace);
  const nsps = server._nsps instanceof Map ? [...server._nsps.values()] : [server.sockets];
  for (const nsp of nsps) {
    guarded('socketio.namespace', () => hooks.hook(nsp));
  }
  for (const nsp of hooks.namespaces()) {
    const sockets = nsp.sockets;
    if (!(sockets instanceof Map)) continue;
    for (const socket of sockets.values()) {
      guarded('socketio.adopt', () => {
        if (socket?.connected === true) adoptSocket(socket);
      });
    }
  }

  const removeCollector = recorder.addCollector((r) => {
    const now = clock.tick();
    collectConnections(st, r, now, internals.options.idleAfterMs, slowConsumerBytes);
    for (const h of handshakes.pending.values()) {
      r.series('handshakesInFlight', [h.transport]).value++;
    }
    hooks.collect(r);
  });
  // Make the always-present series exist from the start, so dashboards show 0, not nothing.
  for (const t of ['socketio_polling', 'socketio_websocket']) {
    recorder.series('sendBuffer', [t]);
    recorder.series('slowConsumers', [t]);
    recorder.series('handshakesInFlight', [t]);
  }
  recorder.series('rooms', ['/']);

  clock.acquire();
  const detach = () => {
    if (detached) return;
    detached = true;
    forEachEngine(st, (c) =>
      guarded('socketio.detach', () => {
        forEachSocket(c, (s) => {
          s.socket.removeListener?.('disconnect', onSocketDisconnect);
          closeSocket(s, null, null);
        });
        releaseEngine(c);
      }),
    );
    unhookEngine();
    undoBind();
    undoClose();
    server.sockets.removeListener('new_namespace', onNewNamespace);
    hooks.unhookAll();
    removeCollector();
    handshakes.clear();
    clock.release();
    internals.detachers.delete(detach);
    delete holder[kAttached];
  };
  internals.detachers.add(detach);
  Object.defineProperty(holder, kAttached, {
    value: { metrics, detach } satisfies Attachment,
    configurable: true,
    enumerable: false,
  });
  return detach;
}

/** Validates instrumentSocketIo options (throws naming the option) and applies defaults. */
function parseOptions(internals: Internals, options: unknown) {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, ['namespaces', 'clientType', 'slowConsumerBytes']);
  let namespaces: Array<string | RegExp> | undefined;
  if (opts.namespaces !== undefined) {
    if (!Array.isArray(opts.namespaces)) {
      fail('namespaces', 'an array of namespace names and RegExps', opts.namespaces);
    }
    namespaces = opts.namespaces.map((n: unknown, i: number) => {
      if (typeof n === 'string' && n.startsWith('/')) return n;
      if (n instanceof RegExp && !n.global && !n.sticky) return n;
      return fail(
        `namespaces[${i}]`,
        'a namespace name starting with "/" or a RegExp without the g or y flag',
        n,
      );
    });
  }
  const clientTypeOpt =
    optFunction<RequestClassifier>('clientType', opts.clientType) ?? internals.options.clientType;
  const slowConsumerBytes = optInt('slowConsumerBytes', opts.slowConsumerBytes, 0) ?? 1 << 20;
  return { namespaces, clientTypeOpt, slowConsumerBytes };
}
