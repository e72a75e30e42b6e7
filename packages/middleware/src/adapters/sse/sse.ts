import { type IncomingMessage, type OutgoingHttpHeader, ServerResponse } from 'node:http';
import type { HandshakeOutcome } from '@tidewatch/conventions';
import { RequestLabels } from '../../internal/classifier.js';
import { observe } from '../../internal/family.js';
import { Instrumentation, presetScrapeSeries } from '../../internal/instrumentation.js';
import {
  labelOptions,
  maxConnectionsOption,
  readOptions,
  slowConsumerOption,
} from '../../internal/options.js';
import {
  collectGauges,
  type Group,
  groupFor,
  recordClose,
  type TransportContext,
} from '../../internal/transport.js';
import { internalsOf, type RealtimeMetrics, type RequestClassifier } from '../../metrics.js';
import {
  isDead,
  kState,
  noteBackpressure,
  type RealtimeMiddleware,
  type ResponseState,
  realtimeMiddleware,
  routeEndpoint,
  type TrackedResponse,
} from '../shared/response.js';
import { type EventFraming, scanChunk } from './events.js';

/** Options of {@link sse}. */
export interface SseOptions {
  /**
   * `endpoint` label: a name, or a classifier returning a **bounded** set of values (never
   * raw URLs). Default: the metrics option, else the express route pattern (`req.route.path`)
   * when the headers are written, else `default`.
   */
  endpoint?: string | RequestClassifier;
  /** `client_type` classifier. Default: the metrics option, else `unknown`. */
  clientType?: RequestClassifier;
  /** A stream with more than this many bytes buffered (`res.writableLength`) is a slow consumer. Default 1 MiB. */
  slowConsumerBytes?: number;
  /** Capacity of this endpoint in streams, for `capacity_utilization`. Default: unset (no series). */
  maxConnections?: number;
  /** `transport` label. Default `sse`. */
  transport?: string;
}

/** Per-middleware state shared by its streams. */
interface SseContext extends TransportContext {
  readonly labels: RequestLabels;
  readonly streams: Set<SseStream>;
  /** Requests whose response headers are not written yet (`handshakes_in_flight`). */
  pending: number;
  detached: boolean;
}

/** Lifecycle of one request through the middleware. */
const PENDING = 0; // headers not written yet: a handshake in flight
const OPEN = 1; // an event stream
const CLOSED = 2; // was a stream; events written now are dropped
const IGNORED = 3; // not a stream: rejected, error or aborted

type Method = (...args: unknown[]) => unknown;

/**
 * One request, from arrival to close. It is its own {@link EventFraming} so that the
 * per-write path touches only this object's fields.
 */
class SseStream implements ResponseState, EventFraming {
  phase = PENDING;
  readonly ctx: SseContext;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly start = performance.now();
  readonly write: Method;
  readonly end: Method;
  readonly writeHead: Method;
  g: Group | null = null;
  openedAt = 0;
  /** Coarse time of the last event, for idle state. */
  last = 0;
  /** The current write happens on a live stream (else its events are dropped). */
  sending = false;
  /** The server called `end()` first. */
  ended = false;
  drainAt = 0;
  blockBytes = 0;
  lineLen = 0;
  match = 0;
  hasData = false;

  constructor(ctx: SseContext, req: IncomingMessage, res: ServerResponse) {
    this.ctx = ctx;
    this.req = req;
    this.res = res;
    this.write = res.write as Method;
    this.end = res.end as Method;
    this.writeHead = res.writeHead as Method;
  }

  get recorder() {
    return this.ctx.recorder;
  }

  get transport() {
    return this.ctx.transport;
  }

  onEvent(bytes: number): void {
    if (!this.sending) {
      this.ctx.recorder.inc('messagesDropped', [this.ctx.transport, 'not_open']);
      return;
    }
    const g = this.g!;
    g.msgOut.value++;
    g.bytesOut.value += bytes;
    observe(g.sizeOut, bytes);
    const r = this.ctx.recorder;
    if (r.otelPerMessage) r.family('messageSize').otel?.record(bytes, g.sizeOut.attrs);
    this.last = this.ctx.clock.now;
  }

  /** The response headers were written: a stream opens, or the handshake failed. */
  headers(args: ArrayLike<unknown>): void {
    const ctx = this.ctx;
    const res = this.res;
    const status = res.statusCode;
    const stream = status >= 200 && status < 300 && isEventStream(contentType(res, args));
    const endpoint = ctx.labels.endpoint(this.req);
    // Like a WebSocket handshake: a 5xx is the server failing; anything else that is not a
    // stream (4xx, a redirect, a 204 "stop reconnecting", a JSON body) is a refusal.
    this.handshakeDone(endpoint, stream ? 'success' : status >= 500 ? 'error' : 'rejected');
    if (!stream) return;
    const g = groupFor(ctx, endpoint, ctx.labels.clientType(this.req));
    this.g = g;
    this.phase = OPEN;
    this.openedAt = performance.now();
    this.last = ctx.clock.now;
    ctx.streams.add(this);
    g.opened.value++;
    if (this.req.headers['last-event-id'] !== undefined) {
      ctx.recorder.inc('reconnects', [ctx.transport, endpoint]);
    }
  }

  handshakeDone(endpoint: string, outcome: HandshakeOutcome): void {
    const ctx = this.ctx;
    ctx.pending--;
    this.phase = IGNORED;
    ctx.recorder.observe(
      'handshakeDuration',
      [ctx.transport, endpoint, outcome],
      (performance.now() - this.start) / 1000,
    );
  }

  /** After an internal error: leave the gauges, so they cannot stick at a stale value. */
  abandon(): void {
    if (this.phase === PENDING) this.ctx.pending--;
    else if (this.phase === OPEN) this.ctx.streams.delete(this);
    else return;
    this.phase = IGNORED;
  }

  /** The response's `close`: the request was answered, or its connection went away. */
  closed(): void {
    const ctx = this.ctx;
    if (this.phase === PENDING) {
      this.handshakeDone(ctx.labels.endpoint(this.req), 'aborted');
      return;
    }
    if (this.phase !== OPEN) return;
    this.phase = CLOSED;
    ctx.streams.delete(this);
    // The socket tells who left: a FIN from the client ends its readable side, a reset
    // errors it; a socket closed with neither was dropped by this server.
    const sock = this.req.socket as (typeof this.req.socket & { errored?: unknown }) | null;
    const errored = sock?.errored != null;
    let initiator: 'client' | 'server' = 'server';
    let reason: 'normal' | 'abnormal' = errored ? 'abnormal' : 'normal';
    if (!this.ended) {
      if (errored || sock?.readableEnded) initiator = 'client';
      else reason = 'abnormal';
    }
    recordClose(ctx, this.g!, this.openedAt, reason, initiator);
  }
}

function isEventStream(type: unknown): boolean {
  return typeof type === 'string' && /^\s*text\/event-stream\s*(;|$)/i.test(type);
}

/**
 * The Content-Type the response went out with. `writeHead(status, headers)` without an
 * earlier `setHeader` sends `headers` without storing them, so look there as well.
 */
function contentType(res: ServerResponse, args: ArrayLike<unknown>): unknown {
  const stored = res.getHeader('content-type');
  if (stored !== undefined) return Array.isArray(stored) ? stored[0] : stored;
  for (let i = 1; i < args.length && i < 3; i++) {
    const h = args[i];
    if (Array.isArray(h)) {
      // [k, v, k, v] or [[k, v], ...]
      for (let k = 0; k < h.length; k++) {
        const e = h[k];
        if (Array.isArray(e)) {
          if (String(e[0]).toLowerCase() === 'content-type') return e[1];
        } else if (k % 2 === 0 && String(e).toLowerCase() === 'content-type') {
          return h[k + 1];
        }
      }
    } else if (h !== null && typeof h === 'object') {
      for (const [k, v] of Object.entries(h as Record<string, OutgoingHttpHeader>)) {
        if (k.toLowerCase() === 'content-type') return Array.isArray(v) ? v[0] : v;
      }
    }
  }
  return undefined;
}

// The wrappers are shared functions installed as own properties of each instrumented
// response: no closures per request, and the state is found through `this`.
const protoWrite = ServerResponse.prototype.write as Method;
const protoEnd = ServerResponse.prototype.end as Method;
const protoWriteHead = ServerResponse.prototype.writeHead as Method;

function streamOf(res: TrackedResponse): SseStream | undefined {
  const s = res[kState];
  return s instanceof SseStream ? s : undefined;
}

function sseWriteHead(this: TrackedResponse): unknown {
  const s = streamOf(this);
  const ret = (s?.writeHead ?? protoWriteHead).apply(this, arguments as unknown as unknown[]);
  if (s !== undefined && s.phase === PENDING && !s.ctx.detached) {
    try {
      s.headers(arguments);
    } catch (err) {
      s.abandon();
      s.ctx.recorder.error('sse.headers', err);
    }
  }
  return ret;
}

function sseWrite(this: TrackedResponse, chunk: unknown, encoding: unknown): unknown {
  const s = streamOf(this);
  if (s === undefined) return protoWrite.apply(this, arguments as unknown as unknown[]);
  const dead = isDead(this);
  // The original first: it writes the headers on a first write, which decides the phase.
  const ret = s.write.apply(this, arguments as unknown as unknown[]);
  const phase = s.phase;
  if ((phase === OPEN || phase === CLOSED) && !s.ctx.detached) {
    try {
      s.sending = phase === OPEN && !dead;
      scanChunk(s, chunk, encoding);
      if (ret === false && s.sending) noteBackpressure(s, this);
    } catch (err) {
      s.ctx.recorder.error('sse.write', err);
    }
  }
  return ret;
}

function sseEnd(this: TrackedResponse, chunk: unknown, encoding: unknown): unknown {
  const s = streamOf(this);
  if (s === undefined) return protoEnd.apply(this, arguments as unknown as unknown[]);
  const dead = isDead(this);
  const ret = s.end.apply(this, arguments as unknown as unknown[]);
  const phase = s.phase;
  if ((phase === OPEN || phase === CLOSED) && !s.ctx.detached) {
    try {
      s.sending = phase === OPEN && !dead;
      if (s.sending) s.ended = true;
      if (typeof chunk !== 'function') scanChunk(s, chunk, encoding);
    } catch (err) {
      s.ctx.recorder.error('sse.end', err);
    }
  }
  return ret;
}

function sseOnClose(this: TrackedResponse): void {
  const s = streamOf(this);
  if (s === undefined || s.ctx.detached) return;
  try {
    s.closed();
  } catch (err) {
    s.abandon();
    s.ctx.recorder.error('sse.close', err);
  }
}

/**
 * Express middleware (or a `node:http` helper) for a Server-Sent Events endpoint. Mount it
 * before the handler that streams: `app.get('/events', sse(metrics), handler)`, and after
 * any compression middleware, so that it sees the events rather than compressed bytes.
 *
 * Counts, with `transport="sse"`: streams open (`connections`, computed at scrape), opens,
 * closes by initiator and reason, stream lifetime, the handshake from the request reaching
 * this middleware to the response headers (`success` for a 2xx `text/event-stream`; a 5xx
 * is `error`; any other answer is `rejected`; a client leaving first is `aborted`), events
 * out with their bytes and sizes (a block with a `data` field ended by a blank line; comments
 * and heartbeats are not counted), reconnects (streams opened with `Last-Event-ID`),
 * backpressure (`res.write()` returning false), time to drain, buffered bytes and slow
 * consumers (at scrape), and events written after the stream closed
 * (`messages_dropped_total{reason="not_open"}`).
 *
 * Closes: `res.end()` by the server -> `initiator="server"`, `normal`; the client leaving
 * -> `client`, `normal` (or `abnormal` when its connection was reset); the server dropping
 * the connection (`res.destroy()`) -> `server`, `abnormal`.
 *
 * @throws {TidewatchConfigError} for a bad option.
 */
export function sse(metrics: RealtimeMetrics, options: SseOptions = {}): RealtimeMiddleware {
  const internals = internalsOf(metrics);
  const opts = readOptions(options, [
    'endpoint',
    'clientType',
    'slowConsumerBytes',
    'maxConnections',
    'transport',
  ]);
  const { endpoint, clientType, transport } = labelOptions(opts, internals, 'sse');
  const slowConsumerBytes = slowConsumerOption(opts.slowConsumerBytes);
  const maxConnections = maxConnectionsOption(opts.maxConnections);

  const inst = new Instrumentation(metrics, internals, 'sse');
  const { recorder, clock } = inst;
  const ctx: SseContext = {
    recorder,
    clock,
    transport,
    closeCodes: undefined,
    groups: new Map(),
    labels: new RequestLabels(recorder, endpoint, clientType, routeEndpoint),
    streams: new Set(),
    pending: 0,
    detached: false,
  };
  inst.collect((r) => {
    const idleAfter = internals.options.idleAfterMs;
    collectGauges(
      r,
      transport,
      ctx.streams,
      clock.tick(),
      idleAfter,
      slowConsumerBytes,
      sendBuffer,
    );
    r.series('handshakesInFlight', [transport]).value += ctx.pending;
    if (maxConnections !== undefined) r.capacity(transport, ctx.streams.size, maxConnections);
  });
  presetScrapeSeries(recorder, transport);
  inst.useClock();
  inst.onDetach(() => {
    ctx.detached = true;
    ctx.streams.clear();
    ctx.pending = 0;
  });

  return realtimeMiddleware(inst, 'sse.request', (req, res) => {
    const s = new SseStream(ctx, req, res);
    res[kState] = s;
    const w = res as unknown as Record<string, unknown>;
    w.writeHead = sseWriteHead;
    w.write = sseWrite;
    w.end = sseEnd;
    res.on('close', sseOnClose);
    ctx.pending++;
    if (res.headersSent) s.headers([]); // a response already answered upstream
  });
}

function sendBuffer(s: SseStream): number {
  return s.res.writableLength;
}
