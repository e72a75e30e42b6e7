import { randomBytes } from 'node:crypto';
import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_REASONS, type CloseReason } from '@tidewatch/conventions';
import { RequestLabels } from '../../internal/classifier.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
  presetScrapeSeries,
} from '../../internal/instrumentation.js';
import {
  clientTypeOption,
  endpointOption,
  maxConnectionsOption,
  readOptions,
  slowConsumerOption,
  transportOption,
} from '../../internal/options.js';
import { collectGauges } from '../../internal/transport.js';
import { fail, optInt, optObject } from '../../internal/validate.js';
import {
  type Internals,
  internalsOf,
  type RealtimeMetrics,
  type RequestClassifier,
} from '../../metrics.js';
import { ObservedHandshakes } from '../shared/handshake.js';
import { type ConnContext, type ConnState, instrumentedProto, openConnection } from './conn.js';

/** The parts of a `ws` 8 `WebSocket` tidewatch touches (typed structurally: no `ws` import). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly bufferedAmount: number;
  ping(...args: unknown[]): void;
  terminate(): void;
}

/** The parts of a `ws` 8 `WebSocketServer` tidewatch touches. */
export interface WebSocketServerLike {
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: any, req: IncomingMessage) => void,
  ): void;
  shouldHandle?(req: IncomingMessage): boolean | Promise<boolean>;
  options?: { path?: string | undefined; server?: HttpServer | undefined };
  clients?: Set<any>;
}

/** Options of {@link instrumentWs}. */
export interface InstrumentWsOptions {
  /** `endpoint` label: a name or a bounded classifier. Default: metrics option, else the server's `path`, else `default`. */
  endpoint?: string | RequestClassifier;
  /** `client_type` classifier. Default: the metrics option, else `unknown`. */
  clientType?: RequestClassifier;
  /**
   * noServer mode: the HTTP server whose `upgrade` events you pass to `handleUpgrade`.
   * With it, handshakes are timed from the request's arrival (before your own auth) and
   * requests you refuse before `handleUpgrade` count as `rejected`. Only requests the
   * WebSocket server would handle (its `path`) are tracked.
   */
  server?: HttpServer;
  /**
   * Built-in heartbeat: pings every `intervalMs` (default 30000) and terminates a peer after
   * `missedPongs` (default 2) unanswered pings. Its pings carry an 8-byte marker (`tw` + 6
   * random bytes per server); the pongs echoing it feed `ping_rtt_seconds` and are not
   * emitted to the app's `'pong'` listeners, which see only the pongs of its own pings.
   * Off by default.
   */
  heartbeat?: false | { intervalMs?: number; missedPongs?: number };
  /** A connection with more bytes than this queued counts as a slow consumer. Default 1 MiB. */
  slowConsumerBytes?: number;
  /** Capacity of this server, for `capacity_utilization`. Default: unset (no series). */
  maxConnections?: number;
  /** Close reasons for application close codes (3000-4999), e.g. `{ 4001: 'auth' }`. */
  closeCodes?: Record<number, CloseReason>;
  /** `transport` label. Default `websocket`. */
  transport?: string;
}

const kAttached = Symbol.for('tidewatch.ws.attached');

/**
 * Instruments a `ws` 8 `WebSocketServer`, whether it owns an HTTP server or runs with
 * `noServer` (you call `handleUpgrade`). Connections already open (in `wss.clients`) are
 * adopted and counted as opened, with `client_type="unknown"` and, unless `endpoint` is a
 * fixed name, `endpoint="unknown"`: their requests are gone. Attaching the same metrics
 * twice returns the first handle.
 *
 * @returns a handle that detaches everything when called (or through `.detach()`);
 *   idempotent. Counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, or with code
 *   `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance instruments this server.
 */
export function instrumentWs(
  wss: WebSocketServerLike,
  metrics: RealtimeMetrics,
  options: InstrumentWsOptions = {},
): InstrumentationHandle {
  if (typeof wss?.handleUpgrade !== 'function') {
    fail('wss', 'a ws WebSocketServer', wss);
  }
  const internals = internalsOf(metrics);
  const opts = parseOptions(wss, internals, options);
  return instrument(
    metrics,
    internals,
    'ws',
    { target: wss, key: kAttached, option: 'wss' },
    (inst) => attach(inst, wss, opts),
  );
}

type WsOptions = ReturnType<typeof parseOptions>;

function attach(inst: Instrumentation, wss: WebSocketServerLike, opts: WsOptions): undefined {
  const { server, heartbeat, slowConsumerBytes, maxConnections, closeCodes, transport } = opts;
  const { recorder, clock } = inst;
  const labels = new RequestLabels(recorder, opts.endpoint, opts.clientType);
  const tracker = new ObservedHandshakes(inst, transport);
  const ctx: ConnContext = {
    recorder,
    clock,
    transport,
    closeCodes,
    conns: new Set<ConnState>(),
    groups: new Map(),
    // 'tw' + 6 random bytes per server: an app's own ping cannot carry it by accident, and
    // two instrumented servers in one process do not take each other's pongs.
    heartbeatMarker: heartbeat ? Buffer.concat([Buffer.from('tw'), randomBytes(6)]) : undefined,
  };

  const begin = (req: IncomingMessage, socket: Duplex) => {
    try {
      // noServer + `server`: our `upgrade` listener began this handshake already, and
      // handleUpgrade comes second; classifying again would run user code twice.
      if (tracker.get(socket) !== undefined) return;
      tracker.start(req, socket, labels.endpoint(req), labels.clientType(req));
    } catch (err) {
      recorder.error('ws.handshake', err);
    }
  };

  const onOpen = (ws: WebSocketLike, req: IncomingMessage, socket: Duplex) => {
    try {
      const h = tracker.get(socket);
      if (h !== undefined) tracker.succeed(h);
      const endpoint = h ? h.endpoint : labels.endpoint(req);
      const clientType = h ? h.clientType : labels.clientType(req);
      openConnection(ctx, ws, endpoint, clientType);
    } catch (err) {
      recorder.error('ws.open', err);
    }
  };

  // Held before adopting open sockets, which stamp their last activity from it; and,
  // recorded first, it is released only after every wrapper that reads it is gone.
  inst.useClock();

  // Wrap handleUpgrade on the instance: in owned-server mode ws' own `upgrade` listener
  // calls it through `this`, and in noServer mode the user does; either way the
  // callback we wrap runs before the application sees the socket.
  inst.patches.wrap(
    wss,
    'handleUpgrade',
    (origHandleUpgrade) =>
      function handleUpgrade(
        this: unknown,
        req: IncomingMessage,
        socket: Duplex,
        head: Buffer,
        cb: (ws: WebSocketLike, req: IncomingMessage) => void,
      ) {
        if (inst.active) begin(req, socket);
        // Read again: a classifier run by begin() may have detached.
        const wrapped =
          typeof cb === 'function' && inst.active
            ? (ws: WebSocketLike, req2: IncomingMessage) => {
                onOpen(ws, req, socket);
                return cb(ws, req2);
              }
            : cb;
        return origHandleUpgrade.call(this, req, socket, head, wrapped);
      },
  );

  if (server) {
    inst.patches.listen(
      server,
      'upgrade',
      (req: IncomingMessage, socket: Duplex) => {
        try {
          // An overridden async shouldHandle cannot be awaited here; such requests are tracked.
          if (typeof wss.shouldHandle === 'function' && wss.shouldHandle(req) === false) return;
        } catch (err) {
          recorder.error('ws.should_handle', err);
          return;
        }
        begin(req, socket);
      },
      true,
    );
  }

  if (heartbeat) {
    const { missedPongs } = heartbeat;
    inst.every(heartbeat.intervalMs, () => {
      for (const c of ctx.conns) {
        try {
          heartbeatTick(ctx, c, missedPongs);
        } catch (err) {
          recorder.error('ws.heartbeat', err);
        }
      }
    });
  }

  inst.collect((r) => {
    const idleAfter = inst.internals.options.idleAfterMs;
    collectGauges(r, transport, ctx.conns, clock.tick(), idleAfter, slowConsumerBytes, sendBuffer);
    r.series('handshakesInFlight', [transport]).value += tracker.pending.size;
    if (maxConnections !== undefined) r.capacity(transport, ctx.conns.size, maxConnections);
  });
  presetScrapeSeries(recorder, transport);

  inst.onDetach(() => {
    for (const h of [...tracker.pending]) tracker.forget(h);
    for (const c of ctx.conns) releaseConnection(c);
    ctx.conns.clear();
  });
  if (wss.clients) {
    const endpoint = typeof opts.endpoint === 'string' ? opts.endpoint : 'unknown';
    for (const ws of wss.clients) {
      inst.guard('ws.adopt', () => {
        if (ws.readyState === 1) openConnection(ctx, ws, endpoint, 'unknown');
      });
    }
  }
  return undefined;
}

/** The send buffer of an OPEN socket; ws keeps growing a CLOSING socket's (ws#1830), so 0 then. */
function sendBuffer(c: ConnState): number {
  const ws = c.ws;
  return ws.readyState === 1 ? ws.bufferedAmount : 0;
}

/** Validates instrumentWs options (throws naming the option) and applies defaults. */
function parseOptions(wss: WebSocketServerLike, internals: Internals, options: unknown) {
  const opts = readOptions(options, [
    'endpoint',
    'clientType',
    'server',
    'heartbeat',
    'slowConsumerBytes',
    'maxConnections',
    'closeCodes',
    'transport',
  ]);
  return {
    endpoint: (endpointOption(opts.endpoint) ??
      internals.options.endpoint ??
      wss.options?.path ??
      'default') as string | RequestClassifier,
    clientType: clientTypeOption(opts.clientType, internals),
    server: serverOption(opts.server),
    heartbeat: heartbeatOption(opts.heartbeat),
    slowConsumerBytes: slowConsumerOption(opts.slowConsumerBytes),
    maxConnections: maxConnectionsOption(opts.maxConnections),
    closeCodes: closeCodesOption(opts.closeCodes),
    transport: transportOption(opts.transport, 'websocket'),
  };
}

function serverOption(value: unknown): HttpServer | undefined {
  const server = value as HttpServer | undefined;
  if (server !== undefined && typeof server?.prependListener !== 'function') {
    fail('server', 'an http.Server', server);
  }
  return server;
}

function heartbeatOption(value: unknown): { intervalMs: number; missedPongs: number } | undefined {
  if (value === undefined || value === false) return undefined;
  const hb = readOptions(value, ['intervalMs', 'missedPongs'], 'heartbeat');
  return {
    intervalMs: optInt('heartbeat.intervalMs', hb.intervalMs, 10) ?? 30_000,
    missedPongs: optInt('heartbeat.missedPongs', hb.missedPongs, 1, 100) ?? 2,
  };
}

function closeCodesOption(value: unknown): Record<number, CloseReason> | undefined {
  const closeCodes = optObject('closeCodes', value) as Record<number, CloseReason> | undefined;
  for (const [code, reason] of Object.entries(closeCodes ?? {})) {
    if (!/^\d+$/.test(code) || !(CLOSE_REASONS as readonly string[]).includes(reason)) {
      fail(
        `closeCodes.${code}`,
        `one of ${CLOSE_REASONS.join(', ')} keyed by a close code`,
        reason,
      );
    }
  }
  return closeCodes;
}

function heartbeatTick(ctx: ConnContext, c: ConnState, missedPongs: number): void {
  const ws = c.ws;
  if (ws.readyState !== 1) return;
  if (c.hbPending) {
    if (++c.missed >= missedPongs) {
      c.reason = 'ping_timeout';
      ctx.recorder.inc('heartbeats', [ctx.transport, 'timeout']);
      ws.terminate();
      return;
    }
  }
  c.hbPending = true;
  if (c.hbAt === 0) c.hbAt = performance.now();
  // The original ping, past our wrapper: this is not the app's ping, and its pong is hidden.
  c.o.ping.call(ws, ctx.heartbeatMarker);
}

function releaseConnection(c: ConnState): void {
  c.live = false;
  const ws = c.ws as object;
  if (Object.getPrototypeOf(ws) === instrumentedProto(c.o)) Object.setPrototypeOf(ws, c.o.proto);
}
