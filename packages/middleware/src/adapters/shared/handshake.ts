import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Span } from '@opentelemetry/api';
import type { HandshakeOutcome } from '@tidewatch/conventions';
import { type Instrumentation, unwrapMethod } from '../../internal/instrumentation.js';

/** One upgrade request between its arrival and its outcome. */
export interface Handshake {
  /** `performance.now()` at arrival. */
  readonly start: number;
  readonly socket: Duplex;
  readonly endpoint: string;
  readonly clientType: string;
  /** HTTP status of the first response line written on the socket, 0 until then. */
  status: number;
  /** The client closed or reset its side before any response. */
  peerGone: boolean;
  done: boolean;
  /** The handshake's trace span, when tracing is on (set by the adapter). */
  span: Span | undefined;
  /** Restores the socket's own write/end and removes listeners; idempotent. */
  release(): void;
}

/** Called once per handshake with its outcome and duration in seconds. */
export type HandshakeEnd = (h: Handshake, outcome: HandshakeOutcome, seconds: number) => void;

function statusOf(chunk: unknown): number {
  // The response line is `HTTP/1.1 NNN ...`; ws and hand-written rejections both start so.
  if (typeof chunk === 'string') {
    return chunk.startsWith('HTTP/') ? Number.parseInt(chunk.slice(9, 12), 10) || -1 : -1;
  }
  if (chunk instanceof Uint8Array && chunk.length >= 12 && chunk[0] === 0x48 && chunk[4] === 0x2f) {
    return (
      Number.parseInt(
        Buffer.from(chunk.buffer, chunk.byteOffset, 12).toString('latin1', 9, 12),
        10,
      ) || -1
    );
  }
  return -1;
}

/**
 * Tracks upgrade handshakes by the fate of their socket, which works whatever refuses
 * them: ws' own checks, `verifyClient`, or application code that writes a 401 before
 * `handleUpgrade`. The outcome is `success` when the owner calls {@link succeed}; else on
 * socket close: a 5xx response -> `error`, any other response -> `rejected`, no response
 * and the peer gone -> `aborted`, no response and the server dropped it -> `rejected`.
 */
export class HandshakeTracker {
  /** Handshakes in flight (the `handshakes_in_flight` gauge reads its size). */
  readonly pending = new Set<Handshake>();
  private readonly bySocket = new WeakMap<Duplex, Handshake>();
  private readonly onEnd: HandshakeEnd;
  private readonly switchIsSuccess: boolean;

  /**
   * @param switchIsSuccess When true, writing `101 Switching Protocols` ends the handshake
   *   as `success` (the owner has no other open signal, as with `instrumentUpgrade`); when
   *   false the owner calls {@link succeed}, and an unclaimed 101 is another server's.
   */
  constructor(onEnd: HandshakeEnd, switchIsSuccess = false) {
    this.onEnd = onEnd;
    this.switchIsSuccess = switchIsSuccess;
  }

  /** The handshake on this socket, if one is being tracked. */
  get(socket: Duplex): Handshake | undefined {
    return this.bySocket.get(socket);
  }

  /** Starts tracking (idempotent per socket). */
  begin(socket: Duplex, endpoint: string, clientType: string): Handshake {
    const existing = this.bySocket.get(socket);
    if (existing !== undefined) return existing;
    const s = socket as unknown as Record<
      'write' | 'end',
      ((...args: unknown[]) => unknown) | undefined
    >;
    const ownWrite = Object.hasOwn(s, 'write') ? s.write : undefined;
    const ownEnd = Object.hasOwn(s, 'end') ? s.end : undefined;
    const origWrite = s.write!;
    const origEnd = s.end!;
    const sniff = (chunk: unknown) => {
      if (h.status === 0) {
        h.status = statusOf(chunk);
        // 101 is the success path: hand the socket back before the WebSocket uses it,
        // so frames never pass through this wrapper.
        // If nobody claims it by the next turn, another server opened it: stop tracking.
        if (h.status === 101) {
          h.release();
          if (this.switchIsSuccess) this.succeed(h);
          else setImmediate(() => this.forget(h));
        }
      }
    };
    const write = function (this: unknown, chunk: unknown) {
      if (!h.done) sniff(chunk);
      return origWrite.apply(this, arguments as unknown as unknown[]);
    };
    const end = function (this: unknown, chunk: unknown) {
      if (!h.done && typeof chunk !== 'function') sniff(chunk);
      return origEnd.apply(this, arguments as unknown as unknown[]);
    };
    const onPeerEnd = () => {
      h.peerGone = true;
      // A client never half-closes mid-handshake: its FIN before any response means it
      // left. Decide now, since an unanswered half-open socket may never emit 'close'.
      if (h.status === 0) this.finish(h, 'aborted');
    };
    const onClose = (hadError: boolean) => {
      if (hadError) h.peerGone = true;
      this.finish(h, this.outcomeOnClose(h));
    };
    let released = false;
    const h: Handshake = {
      start: performance.now(),
      socket,
      endpoint,
      clientType,
      status: 0,
      peerGone: false,
      done: false,
      span: undefined,
      release() {
        if (released) return;
        released = true;
        socket.removeListener('close', onClose);
        socket.removeListener('end', onPeerEnd);
        // Undo in reverse order of install, so V8 can roll the hidden class back.
        unwrapMethod(s, 'end', end, ownEnd);
        unwrapMethod(s, 'write', write, ownWrite);
      },
    };
    s.write = write;
    s.end = end;
    socket.on('end', onPeerEnd);
    socket.on('close', onClose);
    this.bySocket.set(socket, h);
    this.pending.add(h);
    return h;
  }

  /** Ends a handshake as a success (the connection opened). */
  succeed(h: Handshake): void {
    this.finish(h, 'success');
  }

  /** Stops tracking without recording an outcome (the socket went to another server). */
  forget(h: Handshake): void {
    if (h.done) return;
    h.done = true;
    h.release();
    this.pending.delete(h);
    this.bySocket.delete(h.socket);
    h.span?.end();
  }

  private outcomeOnClose(h: Handshake): HandshakeOutcome | null {
    if (h.status === 101) return null; // opened by someone else: not ours to count
    if (h.status >= 500) return 'error';
    if (h.status > 0) return 'rejected';
    if (h.status < 0) return 'error'; // wrote something that is not an HTTP response
    return h.peerGone ? 'aborted' : 'rejected';
  }

  private finish(h: Handshake, outcome: HandshakeOutcome | null): void {
    if (h.done) return;
    h.done = true;
    h.release();
    this.pending.delete(h);
    // Drop the socket's entry now: it would otherwise live as long as the connection.
    this.bySocket.delete(h.socket);
    if (outcome !== null) this.onEnd(h, outcome, (performance.now() - h.start) / 1000);
  }
}

/**
 * The upgrade handshakes of one adapter instance: each outcome is observed in
 * `handshake_duration_seconds{transport, endpoint, outcome}` and ends the handshake's span
 * (when tracing is on) before `then` runs.
 */
export class ObservedHandshakes extends HandshakeTracker {
  private readonly inst: Instrumentation;
  private readonly transport: string;

  constructor(
    inst: Instrumentation,
    transport: string,
    then?: HandshakeEnd,
    switchIsSuccess = false,
  ) {
    super((h, outcome, seconds) => {
      inst.recorder.observe('handshakeDuration', [transport, h.endpoint, outcome], seconds);
      if (h.span) inst.tracing?.end(h.span, outcome);
      then?.(h, outcome, seconds);
    }, switchIsSuccess);
    this.inst = inst;
    this.transport = transport;
  }

  /** Starts tracking the upgrade request on `socket` (idempotent) and its span. */
  start(req: IncomingMessage, socket: Duplex, endpoint: string, clientType: string): Handshake {
    const h = this.begin(socket, endpoint, clientType);
    const tracing = this.inst.tracing;
    if (tracing && h.span === undefined) h.span = tracing.start(req, this.transport, endpoint);
    return h;
  }
}
