import { observe } from '../../internal/family.js';
import type { Instrumentation } from '../../internal/instrumentation.js';
import {
  type Group,
  groupFor,
  recordClose,
  type TransportContext,
} from '../../internal/transport.js';
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

/** What the calls of one attachment share. */
export interface GrpcContext extends TransportContext {
  readonly inst: Instrumentation;
  /** Calls past their handshake (first response metadata), still open. */
  readonly conns: Set<TrackedCall>;
  /** Calls waiting for their first response metadata. */
  readonly pending: Set<TrackedCall>;
  shutdown: ShutdownState;
  /** The `endpoint` label of a method path (guarded; never throws). */
  endpointOf(path: string): string;
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

/**
 * One server-streaming or bidirectional call: the link tidewatch adds to grpc-js' interceptor
 * chain, and the listener it gives the next link, in one object (one allocation per call,
 * none per message). Every method does its bookkeeping guarded, then passes the call on
 * synchronously, unchanged, so ordering and the host's errors are exactly grpc-js' own.
 */
export class TrackedCall implements GrpcServerCallLike, GrpcServerListenerLike {
  readonly ctx: GrpcContext;
  readonly path: string;
  readonly endpoint: string;
  private readonly next: GrpcServerCallLike;
  private readonly stream: Http2StreamLike | undefined;
  private app: GrpcServerListenerLike | undefined;
  /** The group, from the first metadata on; null before. */
  g: Group | null = null;
  /** Coarse time of the last message, for idle detection. */
  last: number;
  /** False once ended or detached: nothing more is counted. */
  live = true;
  private opened = false;
  private readonly startedAt: number;
  private openedAt = 0;
  /** The status the handler (or an outer interceptor) sent, -1 before. */
  private appCode = -1;

  constructor(ctx: GrpcContext, path: string, next: GrpcServerCallLike) {
    this.ctx = ctx;
    this.path = path;
    this.next = next;
    this.startedAt = performance.now();
    this.last = ctx.clock.now;
    this.endpoint = ctx.endpointOf(path);
    this.stream = streamOf(next);
    ctx.pending.add(this);
    // The stream's close is the one event every ending has (status sent, client reset,
    // connection lost); grpc-js' own close listener comes first, so its state is final.
    // Without the stream (another interceptor sits between), the listener's onCancel is used.
    this.stream?.once('close', () => this.end());
  }

  // --- the call, as the handler (or the next interceptor out) sees it ---

  start(listener: GrpcServerListenerLike): void {
    this.app = listener;
    this.next.start(this);
  }

  sendMetadata(metadata: unknown): void {
    if (this.live && !this.opened) this.guarded('grpc.open', () => this.open());
    this.next.sendMetadata(metadata);
  }

  sendMessage(message: unknown, callback: () => void): void {
    if (this.live) {
      try {
        // grpc-js sends empty metadata before the first message itself.
        if (!this.opened) this.open();
        const g = this.g!;
        g.msgOut.value++;
        const measure = this.ctx.measure;
        if (measure !== undefined) this.count(measure(message, 'out', this.path), 'out', g);
        this.last = this.ctx.clock.now;
      } catch (err) {
        this.ctx.recorder.error('grpc.send', err);
      }
    }
    this.next.sendMessage(message, callback);
  }

  sendStatus(status: GrpcStatusLike): void {
    if (this.live && this.appCode < 0 && typeof status?.code === 'number') {
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
    if (this.live && this.g === null) {
      this.guarded('grpc.metadata', () => {
        this.g = groupFor(this.ctx, this.endpoint, this.ctx.clientTypeOf(metadata, this.path));
      });
    }
    this.app!.onReceiveMetadata(metadata);
  }

  onReceiveMessage(message: unknown): void {
    if (this.live) {
      try {
        const g = this.group();
        g.msgIn.value++;
        const measure = this.ctx.measure;
        if (measure !== undefined) this.count(measure(message, 'in', this.path), 'in', g);
        this.last = this.ctx.clock.now;
      } catch (err) {
        this.ctx.recorder.error('grpc.message', err);
      }
    }
    this.app!.onReceiveMessage(message);
  }

  onReceiveHalfClose(): void {
    this.app!.onReceiveHalfClose();
  }

  onCancel(): void {
    if (this.live && this.stream === undefined) this.end();
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
    this.live = false;
  }

  private group(): Group {
    if (this.g === null) this.g = groupFor(this.ctx, this.endpoint, 'unknown');
    return this.g;
  }

  private count(n: number, direction: 'in' | 'out', g: Group): void {
    if (n < 0) return;
    const out = direction === 'out';
    if (out) g.bytesOut.value += n;
    else g.bytesIn.value += n;
    const size = out ? g.sizeOut : g.sizeIn;
    observe(size, n);
    const r = this.ctx.recorder;
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
    this.opened = true;
    const ctx = this.ctx;
    ctx.pending.delete(this);
    this.observeHandshake('success');
    this.group().opened.value++;
    this.openedAt = performance.now();
    ctx.conns.add(this);
  }

  private observeHandshake(outcome: 'success' | 'rejected' | 'error' | 'aborted'): void {
    const ctx = this.ctx;
    ctx.recorder.observe(
      'handshakeDuration',
      [ctx.transport, this.endpoint, outcome],
      (performance.now() - this.startedAt) / 1000,
    );
  }

  private end(): void {
    if (!this.live) return;
    this.live = false;
    const ctx = this.ctx;
    ctx.pending.delete(this);
    ctx.conns.delete(this);
    try {
      const wire = this.stream !== undefined ? wireStatus(this.stream) : -1;
      const code = this.stream !== undefined ? wire : this.appCode;
      const out = closeOutcome({
        code,
        byGrpc: wire >= 0 && wire !== this.appCode,
        deadlinePassed: Date.now() >= deadlineMs(this.next.getDeadline()) - DEADLINE_SLACK_MS,
        shutdown: ctx.shutdown,
      });
      if (countsAsError(out.code))
        ctx.recorder.inc('errors', [ctx.transport, statusType(out.code)]);
      if (!this.opened) {
        const outcome = handshakeOutcome(out);
        if (outcome !== 'success') {
          this.observeHandshake(outcome);
          return;
        }
        this.open();
        ctx.conns.delete(this);
      }
      recordClose(ctx, this.g!, this.openedAt, out.reason, out.initiator);
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
      return new TrackedCall(ctx, methodDescriptor.path, call);
    } catch (err) {
      ctx.recorder.error('grpc.call', err);
      return call;
    }
  };
}
