import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_REASONS, type CloseReason } from '@tidewatch/conventions';
import { type Attachment, classifierFor, priorAttachment } from '../internal/attach.js';
import {
  fail,
  noUnknownKeys,
  optFunction,
  optInt,
  optObject,
  optString,
} from '../internal/validate.js';
import {
  type Internals,
  internalsOf,
  type RealtimeMetrics,
  type RequestClassifier,
} from '../metrics.js';
import { HandshakeTracker } from './handshake.js';
import { type ConnContext, type ConnState, instrumentedProto, openConnection } from './ws-conn.js';

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
  /** Built-in heartbeat: pings every `intervalMs` (default 30000) and terminates a peer after `missedPongs` (default 2) unanswered pings. Off by default. */
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
 * twice returns the first detach function.
 *
 * @returns a function that detaches everything (idempotent). Counters keep their values.
 * @throws {TidewatchConfigError} for a bad option, or with code
 *   `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance instruments this server.
 */
export function instrumentWs(
  wss: WebSocketServerLike,
  metrics: RealtimeMetrics,
  options: InstrumentWsOptions = {},
): () => void {
  if (typeof wss?.handleUpgrade !== 'function') {
    fail('wss', 'a ws WebSocketServer', wss);
  }
  const internals = internalsOf(metrics);
  const {
    endpointOpt,
    clientTypeOpt,
    server,
    heartbeat,
    slowConsumerBytes,
    maxConnections,
    closeCodes,
    transport,
  } = parseOptions(wss, internals, options);

  const holder = wss as unknown as { [kAttached]?: Attachment };
  const prior = priorAttachment(holder, kAttached, metrics, 'wss');
  if (prior) return prior;

  const { recorder, clock } = internals;
  const classify = classifierFor(recorder);
  const labelsFor = (req: IncomingMessage): [string, string] => [
    classify(endpointOpt, req, 'classifier.endpoint'),
    clientTypeOpt ? classify(clientTypeOpt, req, 'classifier.client_type') : 'unknown',
  ];

  const tracing = internals.tracing;
  const tracker = new HandshakeTracker((h, outcome, seconds) => {
    recorder.observe('handshakeDuration', [transport, h.endpoint, outcome], seconds);
    if (h.span) tracing?.end(h.span, outcome);
  });
  const ctx: ConnContext = {
    recorder,
    clock,
    transport,
    closeCodes,
    conns: new Set<ConnState>(),
    groups: new Map(),
  };

  const begin = (req: IncomingMessage, socket: Duplex) => {
    try {
      // noServer + `server`: our `upgrade` listener began this handshake already, and
      // handleUpgrade comes second; classifying again would run user code twice.
      if (tracker.get(socket) !== undefined) return;
      const [endpoint, clientType] = labelsFor(req);
      const h = tracker.begin(socket, endpoint, clientType);
      if (tracing && h.span === undefined) h.span = tracing.start(req, transport, endpoint);
    } catch (err) {
      recorder.error('ws.handshake', err);
    }
  };

  const onOpen = (ws: WebSocketLike, req: IncomingMessage, socket: Duplex) => {
    try {
      const h = tracker.get(socket);
      if (h !== undefined) tracker.succeed(h);
      const [endpoint, clientType] = h ? [h.endpoint, h.clientType] : labelsFor(req);
      openConnection(ctx, ws, endpoint, clientType);
    } catch (err) {
      recorder.error('ws.open', err);
    }
  };

  // Wrap handleUpgrade on the instance: in owned-server mode ws' own `upgrade` listener
  // calls it through `this`, and in noServer mode the user does; either way the
  // callback we wrap runs before the application sees the socket.
  const w = wss as unknown as Record<string, unknown>;
  const ownHandleUpgrade = Object.hasOwn(w, 'handleUpgrade') ? w.handleUpgrade : undefined;
  const origHandleUpgrade = wss.handleUpgrade;
  const handleUpgrade = function (
    this: unknown,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    cb: (ws: WebSocketLike, req: IncomingMessage) => void,
  ) {
    if (!detached) begin(req, socket);
    const wrapped =
      typeof cb === 'function' && !detached
        ? (ws: WebSocketLike, req2: IncomingMessage) => {
            onOpen(ws, req, socket);
            return cb(ws, req2);
          }
        : cb;
    return origHandleUpgrade.call(this, req, socket, head, wrapped);
  };
  w.handleUpgrade = handleUpgrade;

  const onServerUpgrade = (req: IncomingMessage, socket: Duplex) => {
    try {
      // An overridden async shouldHandle cannot be awaited here; such requests are tracked.
      if (typeof wss.shouldHandle === 'function' && wss.shouldHandle(req) === false) return;
    } catch (err) {
      recorder.error('ws.should_handle', err);
      return;
    }
    begin(req, socket);
  };
  server?.prependListener('upgrade', onServerUpgrade);

  let timer: NodeJS.Timeout | undefined;
  if (heartbeat) {
    const { missedPongs } = heartbeat;
    timer = setInterval(() => {
      for (const c of ctx.conns) {
        try {
          heartbeatTick(ctx, c, missedPongs);
        } catch (err) {
          recorder.error('ws.heartbeat', err);
        }
      }
    }, heartbeat.intervalMs);
    timer.unref();
  }

  const removeCollector = recorder.addCollector((r) => {
    const now = clock.tick();
    const idleAfter = internals.options.idleAfterMs;
    let buffered = 0;
    let slow = 0;
    for (const c of ctx.conns) {
      const g = c.g;
      if (now - c.last >= idleAfter) g.idle.value++;
      else g.active.value++;
      const ws = c.ws;
      if (ws.readyState === 1) {
        const b = ws.bufferedAmount;
        buffered += b;
        if (b > slowConsumerBytes) slow++;
      }
    }
    r.series('sendBuffer', [transport]).value += buffered;
    r.series('slowConsumers', [transport]).value += slow;
    r.series('handshakesInFlight', [transport]).value += tracker.pending.size;
    if (maxConnections !== undefined) r.capacity(transport, ctx.conns.size, maxConnections);
  });
  // Make the always-present series exist from the start, so dashboards show 0, not nothing.
  recorder.series('sendBuffer', [transport]);
  recorder.series('slowConsumers', [transport]);
  recorder.series('handshakesInFlight', [transport]);

  clock.acquire();
  if (wss.clients) {
    const endpoint = typeof endpointOpt === 'string' ? endpointOpt : 'unknown';
    for (const ws of wss.clients) {
      try {
        if (ws.readyState === 1) openConnection(ctx, ws, endpoint, 'unknown');
      } catch (err) {
        recorder.error('ws.adopt', err);
      }
    }
  }
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    if (w.handleUpgrade === handleUpgrade) {
      if (ownHandleUpgrade) w.handleUpgrade = ownHandleUpgrade;
      else delete w.handleUpgrade;
    }
    server?.removeListener('upgrade', onServerUpgrade);
    if (timer) clearInterval(timer);
    removeCollector();
    for (const h of [...tracker.pending]) tracker.forget(h);
    for (const c of ctx.conns) releaseConnection(c);
    ctx.conns.clear();
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

/** Validates instrumentWs options (throws naming the option) and applies defaults. */
function parseOptions(wss: WebSocketServerLike, internals: Internals, options: unknown) {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, [
    'endpoint',
    'clientType',
    'server',
    'heartbeat',
    'slowConsumerBytes',
    'maxConnections',
    'closeCodes',
    'transport',
  ]);
  if (
    opts.endpoint !== undefined &&
    typeof opts.endpoint !== 'string' &&
    typeof opts.endpoint !== 'function'
  ) {
    fail('endpoint', 'a string or a function (req) => string', opts.endpoint);
  }
  const endpointOpt = (opts.endpoint ??
    internals.options.endpoint ??
    wss.options?.path ??
    'default') as string | RequestClassifier;
  const clientTypeOpt =
    optFunction<RequestClassifier>('clientType', opts.clientType) ?? internals.options.clientType;
  const server = opts.server as HttpServer | undefined;
  if (server !== undefined && typeof server?.prependListener !== 'function') {
    fail('server', 'an http.Server', server);
  }
  let heartbeat: { intervalMs: number; missedPongs: number } | undefined;
  if (opts.heartbeat !== undefined && opts.heartbeat !== false) {
    const hb = optObject('heartbeat', opts.heartbeat)!;
    noUnknownKeys('heartbeat', hb, ['intervalMs', 'missedPongs']);
    heartbeat = {
      intervalMs: optInt('heartbeat.intervalMs', hb.intervalMs, 10) ?? 30_000,
      missedPongs: optInt('heartbeat.missedPongs', hb.missedPongs, 1, 100) ?? 2,
    };
  }
  const slowConsumerBytes = optInt('slowConsumerBytes', opts.slowConsumerBytes, 0) ?? 1 << 20;
  const maxConnections = optInt('maxConnections', opts.maxConnections, 1);
  const closeCodes = optObject('closeCodes', opts.closeCodes) as
    | Record<number, CloseReason>
    | undefined;
  for (const [code, reason] of Object.entries(closeCodes ?? {})) {
    if (!/^\d+$/.test(code) || !(CLOSE_REASONS as readonly string[]).includes(reason)) {
      fail(
        `closeCodes.${code}`,
        `one of ${CLOSE_REASONS.join(', ')} keyed by a close code`,
        reason,
      );
    }
  }
  const transport = optString('transport', opts.transport, /^[a-z0-9_]{1,64}$/) ?? 'websocket';

  return {
    endpointOpt,
    clientTypeOpt,
    server,
    heartbeat,
    slowConsumerBytes,
    maxConnections,
    closeCodes,
    transport,
  };
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
  if (c.pingAt === 0) c.pingAt = performance.now();
  c.o.ping.call(ws);
}

function releaseConnection(c: ConnState): void {
  c.live = false;
  const ws = c.ws as object;
  if (Object.getPrototypeOf(ws) === instrumentedProto(c.o)) Object.setPrototypeOf(ws, c.o.proto);
}
