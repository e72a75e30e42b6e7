import { observe } from '../../internal/family.js';
import type { Instrumentation } from '../../internal/instrumentation.js';
import {
  type Group,
  groupFor,
  recordClose,
  type TransportContext,
} from '../../internal/transport.js';
import type { CallList } from './call-list.js';
import {
  closeOutcome,
  countsAsError,
  handshakeOutcome,
  type ShutdownState,
  statusType,
} from './status.js';
import type {
  GrpcMetadataLike,
  GrpcServerCallLike,
  GrpcServerInterceptor,
  GrpcServerListenerLike,
  GrpcStatusLike,
  Http2StreamLike,
} from './types.js';

/**
 * A client reset this close to (or after) its deadline counts as `deadline_exceeded`: on a
 * deadline the grpc-js client resets the stream with the same CANCEL code as a deliberate
 * cancel, and the server's copy of the deadline starts when it reads the headers, so the
 * reset can arrive a little before it. 250 ms covers a busy event loop.
 */
export const DEADLINE_SLACK_MS = 250;

/** A streaming method as the calls of one attachment share it: its path and `endpoint` label. */
export interface GrpcMethod {
  readonly ctx: GrpcContext;
  readonly path: string;
  readonly endpoint: string;
}

/** What the calls of one attachment share. */
export interface GrpcContext extends TransportContext {
  readonly inst: Instrumentation;
  /** Calls past their handshake (first response metadata), still open. */
  readonly conns: CallList<TrackedCall>;
  /** Calls waiting for their first response metadata. */
  readonly pending: CallList<TrackedCall>;
  shutdown: ShutdownState;
  /** The `endpoint` label of a method path (guarded; never throws). */
  endpointOf(path: string): string;
  /** The shared record of a method path (guarded; never throws). */
  methodOf(path: string): GrpcMethod;
  /** The `client_type` label of a call (guarded; never throws). */
  clientTypeOf(metadata: GrpcMetadataLike | undefined, path: string): string;
  /**
   * Measures a message in the interceptor (bytes, or -1 when unknown); undefined when the
   * method's serializers count the bytes (`instrumentGrpc`).
   */
  readonly measure:
    | ((message: unknown, direction: 'in' | 'out', path: string) => number)
    | undefined;
}

/** The HTTP/2 stream of grpc-js' base call, when `next` is that call. */
function streamOf(next: GrpcServerCallLike): Http2StreamLike | undefined {
  const s = (next as { stream?: any }).stream;
  return s !== null &&
    typeof s === 'object' &&
    typeof s.once === 'function' &&
    typeof s.respond === 'function'
    ? (s as Http2StreamLike)
    : undefined;
}

/** The `grpc-status` the stream carried out (trailers, or a trailers-only answer), or -1. */
function wireStatus(s: Http2StreamLike): number {
  const v = (s.sentTrailers ?? s.sentHeaders)?.['grpc-status'];
  if (v === undefined) return -1;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : -1;
}

function deadlineMs(d: unknown): number {
  if (typeof d === 'number') return d;
  if (d instanceof Date) return d.getTime();
  return Number.POSITIVE_INFINITY;
}

// Call state bits (one small integer instead of three booleans).
/** Still counting: cleared once ended or detached. */
const LIVE = 1;
/** Past the handshake (first response metadata). */
const OPENED = 2;
/** `next` is grpc-js' base call: its `stream` is the HTTP/2 stream, and its close ends the call. */
const STREAM = 4;
/** In the attachment's {@link GrpcContext.pending} list. */
export const IN_PENDING = 8;
/** In the attachment's {@link GrpcContext.conns} list. */
export const IN_CONNS = 16;
/** A bidirectional call (the client streams too), so its half-close means "I am done". */
const BIDI = 32;
/** A bidirectional call whose client half-closed: an OK status after it answers the client. */
const CLIENT_DONE = 64;

/**
 * The call an HTTP/2 stream ends, as a property of the stream: it lets one shared close
 * listener serve every stream, where a listener per call would cost a closure and its
 * context, plus `once`'s wrapper, bound function and state object.
 */
const kCall = Symbol('tidewatch.grpc.call');

type TrackedStream = Http2StreamLike & { [kCall]?: TrackedCall | undefined };

/** The shared `close` listener of tracked streams (`this` is the stream). */
function onStreamClose(this: TrackedStream): void {
  const c = this[kCall];
  if (c !== undefined) {
    // Like `once`: the closed stream no longer holds the call.
    this[kCall] = undefined;
    c.end();
  }
}

/**
 * One server-streaming or bidirectional call: the link tidewatch adds to grpc-js' interceptor
 * chain, and the listener it gives the next link, in one object (one allocation per call,
 * none per message). Every method does its bookkeeping guarded, then passes the call on
 * synchronously, unchanged, so ordering and the host's errors are exactly grpc-js' own.
 * An open stream costs this object (kept to few fields: what can be derived is, at scrape
 * or end time), a property and a shared listener on the HTTP/2 stream, and no Set entry.
 */
export class TrackedCall implements GrpcServerCallLike, GrpcServerListenerLike {
  /** The method's attachment, path and endpoint, shared by its calls. */
  private readonly method: GrpcMethod;
  private readonly next: GrpcServerCallLike;
  private app: GrpcServerListenerLike | undefined;
  /** The group, from the first metadata on; null before. */
  g: Group | null = null;
  /** Coarse time of the last message, for idle detection. */
  last: number;
  /** {@link LIVE} | {@link OPENED} | {@link STREAM} | {@link IN_PENDING} | {@link IN_CONNS}. */
  state: number;
  /** The previous call in the {@link CallList} this one is in. */
  prev: TrackedCall | null = null;
  /** The next call in the {@link CallList} this one is in. */
  after: TrackedCall | null = null;
  /** `performance.now()` at the start of the call until it opens, at its opening after. */
  private at: number;
  /** The status the handler (or an outer interceptor) sent, -1 before. */
  private appCode = -1;

  constructor(ctx: GrpcContext, path: string, next: GrpcServerCallLike, bidi = false) {
    this.next = next;
    this.at = performance.now();
    this.last = ctx.clock.now;
    this.method = ctx.methodOf(path);
    const stream = streamOf(next) as TrackedStream | undefined;
    this.state = (stream === undefined ? LIVE : LIVE | STREAM) | (bidi ? BIDI : 0);
    ctx.pending.add(this);
    // The stream's close is the one event every ending has (status sent, client reset,
    // connection lost); grpc-js' own close listener comes first, so its state is final.
    // Without the stream (another interceptor sits between), the listener's onCancel is used.
    if (stream !== undefined) {
      if (stream[kCall] === undefined && typeof stream.on === 'function') {
        stream[kCall] = this;
        stream.on('close', onStreamClose);
      } else {
        // A second tidewatch call on the same stream (another metrics instance's interceptor).
        stream.once('close', () => this.end());
      }
    }
  }

  /** What the calls of this one's attachment share. */
  get ctx(): GrpcContext {
    return this.method.ctx;
  }

  /** The method path. */
  get path(): string {
    return this.method.path;
  }

  /** The `endpoint` label. */
  get endpoint(): string {
    return this.method.endpoint;
  }

  /** False once ended or detached: nothing more is counted. */
  get live(): boolean {
    return (this.state & LIVE) !== 0;
  }

  /**
   * The HTTP/2 stream under grpc-js' base call, when `next` is that call (read by a tidewatch
   * call that wraps this one, as from the base call).
   */
  get stream(): Http2StreamLike | undefined {
    return (this.state & STREAM) !== 0
      ? (this.next as unknown as { stream: Http2StreamLike }).stream
      : undefined;
  }

  // --- the call, as the handler (or the next interceptor out) sees it ---

  start(listener: GrpcServerListenerLike): void {
    this.app = listener;
    this.next.start(this);
  }

  sendMetadata(metadata: unknown): void {
    if ((this.state & (LIVE | OPENED)) === LIVE) this.guarded('grpc.open', () => this.open());
    this.next.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    const st = this.state;
    if ((st & LIVE) !== 0) {
      const m = this.method;
      try {
        // grpc-js sends empty metadata before the first message itself.
        if ((st & OPENED) === 0) this.open();
        const g = this.g!;
        g.msgOut.value++;
        const measure = m.ctx.measure;
        if (measure !== undefined) this.count(measure(message, 'out', m.path), 'out', g);
        this.last = m.ctx.clock.now;
      } catch (err) {
        m.ctx.recorder.error('grpc.send', err);
      }
    }
    this.next.sendMessage(message, callback);
  }

  sendStatus(status: GrpcStatusLike): void {
    if ((this.state & LIVE) !== 0 && this.appCode < 0 && typeof status?.code === 'number') {
      this.appCode = status.code;
    }
    this.next.sendStatus(status);
  }

  startRead(): void {
    this.next.startRead();
  }
  getPeer(): string {
    return this.next.getPeer();
  }
  getDeadline(): unknown {
    return this.next.getDeadline();
  }
  getHost(): string {
    return this.next.getHost();
  }
  getAuthContext(): unknown {
    return this.next.getAuthContext?.();
  }
  getConnectionInfo(): unknown {
    return this.next.getConnectionInfo?.();
  }
  getMetricsRecorder(): unknown {
    return this.next.getMetricsRecorder?.();
  }

  // --- the listener, as the next interceptor in (or grpc-js' base call) sees it ---

  onReceiveMetadata(metadata: GrpcMetadataLike): void {
    if ((this.state & LIVE) !== 0 && this.g === null) {
      this.guarded('grpc.metadata', () => {
        const m = this.method;
        this.g = groupFor(this.ctx, m.endpoint, this.ctx.clientTypeOf(metadata, m.path));
      });
    }
    this.app!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if ((this.state & LIVE) !== 0) {
      const m = this.method;
      try {
        const g = this.group();
        g.msgIn.value++;
        const measure = m.ctx.measure;
        if (measure !== undefined) this.count(measure(message, 'in', m.path), 'in', g);
        this.last = m.ctx.clock.now;
      } catch (err) {
        m.ctx.recorder.error('grpc.message', err);
      }
    }
    this.app!.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    // A server-streaming client half-closes right after its one request; only a bidi
    // client's half-close ends its side of the conversation.
    if ((this.state & (LIVE | BIDI)) === (LIVE | BIDI)) this.state |= CLIENT_DONE;
    this.app!.onReceiveHalfClose();
  }

  onCancel(): void {
    if ((this.state & (LIVE | STREAM)) === LIVE) this.end();
    this.app!.onCancel();
  }

  // --- bookkeeping ---

  /** Bytes queued on the HTTP/2 stream (0 without it, or once it closed). */
  sendBuffer(): number {
    const s = this.stream;
    return s === undefined || s.closed === true ? 0 : (s.writableLength ?? 0);
  }

  /** Stops counting (detach); the call itself goes on untouched. */
  release(): void {
    this.state &= ~LIVE;
  }

  private group(): Group {
    if (this.g === null) this.g = groupFor(this.ctx, this.method.endpoint, 'unknown');
    return this.g;
  }

  private count(n: number, direction: 'in' | 'out', g: Group): void {
    if (n < 0) return;
    const out = direction === 'out';
    if (out) g.bytesOut.value += n;
    else g.bytesIn.value += n;
    const size = out ? g.sizeOut : g.sizeIn;
    observe(size, n);
    const r = this.method.ctx.recorder;
    if (r.otelPerMessage) r.family('messageSize').otel?.record(n, size.attrs);
  }

  private guarded(site: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.recorder.error(site, err);
    }
  }

  /** The handshake succeeded (first response metadata): the call becomes a connection. */
  private open(): void {
    this.state |= OPENED;
    const startedAt = this.at;
    this.at = 0;
    const ctx = this.ctx;
    ctx.pending.delete(this);
    this.observeHandshake('success', startedAt);
    this.group().opened.value++;
    this.at = performance.now();
    ctx.conns.add(this);
  }

  private observeHandshake(
    outcome: 'success' | 'rejected' | 'error' | 'aborted',
    startedAt: number,
  ): void {
    const ctx = this.ctx;
    ctx.recorder.observe(
      'handshakeDuration',
      [ctx.transport, this.method.endpoint, outcome],
      (performance.now() - startedAt) / 1000,
    );
  }

  /** The call ended (its stream closed, or without the stream, it was cancelled). */
  end(): void {
    const st = this.state;
    if ((st & LIVE) === 0) return;
    this.state = st & ~LIVE;
    const ctx = this.ctx;
    ctx.pending.delete(this);
    ctx.conns.delete(this);
    try {
      const stream = this.stream;
      const wire = stream !== undefined ? wireStatus(stream) : -1;
      const code = stream !== undefined ? wire : this.appCode;
      const out = closeOutcome({
        code,
        byGrpc: wire >= 0 && wire !== this.appCode,
        deadlinePassed: Date.now() >= deadlineMs(this.next.getDeadline()) - DEADLINE_SLACK_MS,
        shutdown: ctx.shutdown,
        clientDone: (st & CLIENT_DONE) !== 0,
      });
      if (countsAsError(out.code))
        ctx.recorder.inc('errors', [ctx.transport, statusType(out.code)]);
      if ((st & OPENED) === 0) {
        const outcome = handshakeOutcome(out);
        if (outcome !== 'success') {
          this.observeHandshake(outcome, this.at);
          return;
        }
        this.open();
        ctx.conns.delete(this);
      }
      recordClose(ctx, this.g!, this.at, out.reason, out.initiator);
    } catch (err) {
      ctx.recorder.error('grpc.close', err);
    }
  }
}

/**
 * The interceptor both entry points install: server-streaming and bidirectional calls get a
 * {@link TrackedCall}; unary and client-streaming calls (RPC-shaped: one response) pass
 * through untouched, as does everything once detached.
 */
export function trackingInterceptor(ctx: GrpcContext): GrpcServerInterceptor {
  return (methodDescriptor, call) => {
    if (!ctx.inst.active || methodDescriptor?.responseStream !== true) return call;
    try {
      return new TrackedCall(
        ctx,
        methodDescriptor.path,
        call,
        methodDescriptor.requestStream === true,
      );
    } catch (err) {
      ctx.recorder.error('grpc.call', err);
      return call;
    }
  };
}
