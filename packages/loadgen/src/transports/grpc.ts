/**
 * The `grpc` transport: each connection is one bidirectional stream of
 * {@link grpcEchoService} (`/tidewatch.loadgen.Echo/Stream`, raw bytes), multiplexed over
 * one HTTP/2 channel per generator, as a gRPC client application would.
 *
 * A stream is open when the server's response headers arrive (a server that only sends
 * headers with its first message never opens: the loadgen sends nothing before open; the
 * exported `grpcEchoHandler` sends them at once). Messages are the serialised payloads,
 * which are the bytes themselves. A clean close half-closes our side and waits for the
 * server's status (OK: `closedByClient`); a drop cancels the stream (RST_STREAM CANCEL,
 * which servers see as `cancelled`); a status from the server before we ended is a server
 * close, clean when OK.
 */
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import { GRPC_ECHO_PATH } from '../grpc-echo.js';
import type { Room } from '../message.js';
import type { CloseKind, Connection, ConnectionHooks, Driver, DriverContext } from './types.js';
import { authHeaders, ownSeqAt } from './util.js';

/** Loaded on first use: a ws-only user of the package does not pay for grpc-js. */
let grpcModule: typeof Grpc | undefined;
function loadGrpc(): typeof Grpc {
  grpcModule ??= createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc;
  return grpcModule;
}

/** Status codes as the lower-case names reasons carry (`close-unavailable`). */
const STATUS_NAMES = [
  'ok',
  'cancelled',
  'unknown',
  'invalid_argument',
  'deadline_exceeded',
  'not_found',
  'already_exists',
  'permission_denied',
  'resource_exhausted',
  'failed_precondition',
  'aborted',
  'out_of_range',
  'unimplemented',
  'internal',
  'unavailable',
  'data_loss',
  'unauthenticated',
] as const;

/** A status the server answers instead of accepting the stream, as the HTTP status the retry policy reads. */
const REFUSAL_STATUS: Readonly<Record<number, number>> = {
  3: 400, // INVALID_ARGUMENT
  5: 404, // NOT_FOUND
  7: 403, // PERMISSION_DENIED
  8: 429, // RESOURCE_EXHAUSTED: retried, as a 429 is
  12: 404, // UNIMPLEMENTED: no such method here
  16: 401, // UNAUTHENTICATED
};

const nameOf = (code: number): string => STATUS_NAMES[code] ?? `code_${code}`;

/**
 * Failure reason and status of a stream that ended before it opened: `ECONNREFUSED` (or
 * another errno) and `unavailable` when there was no server to ask, `timeout` for a
 * deadline, `grpc-<status>` with an HTTP-like status for a refusal (401 for
 * UNAUTHENTICATED, 403, 404, 429; 500 for anything else, which is retried).
 */
export function grpcFailureOf(code: number, details: string): { reason: string; status: number } {
  if (code === 14) {
    const errno = /\b(E[A-Z]{3,})\b/.exec(details);
    return { reason: errno?.[1] ?? 'unavailable', status: 0 };
  }
  if (code === 4) return { reason: 'timeout', status: 0 };
  if (code === 1) return { reason: 'cancelled', status: 0 };
  return { reason: `grpc-${nameOf(code)}`, status: REFUSAL_STATUS[code] ?? 500 };
}

/** How a stream that was open ended, when we did not end it. */
function closeKindOf(code: number): CloseKind {
  if (code === 0) return 'server';
  return code === 16 || code === 7 ? 'server-auth' : 'abnormal';
}

const identity = (b: Buffer): Buffer => b;

class GrpcConnection implements Connection {
  private readonly ctx: DriverContext;
  private readonly hooks: ConnectionHooks;
  private readonly call: Grpc.ClientDuplexStream<Buffer, Buffer>;
  private readonly marker: Buffer;
  private readonly idPrefix: string;
  private readonly timer: NodeJS.Timeout;
  private isOpen = false;
  private ending: 'client' | 'drop' | null = null;
  private aborted = false;
  private done = false;

  constructor(
    ctx: DriverContext,
    client: Grpc.Client,
    metadata: Grpc.Metadata,
    hooks: ConnectionHooks,
  ) {
    this.ctx = ctx;
    this.hooks = hooks;
    this.idPrefix = `${hooks.cid}-`;
    this.marker = Buffer.from(`"id":"${this.idPrefix}`);
    const call = client.makeBidiStreamRequest(GRPC_ECHO_PATH, identity, identity, metadata.clone());
    this.call = call;
    this.timer = setTimeout(() => {
      if (this.isOpen || this.done || this.aborted) return;
      this.done = true;
      call.cancel();
      hooks.failed('timeout', 0);
    }, ctx.options.limits.handshakeTimeoutMs);
    this.timer.unref();
    call.on('metadata', () => {
      if (this.aborted || this.done || this.isOpen) return;
      clearTimeout(this.timer);
      this.isOpen = true;
      hooks.opened();
    });
    call.on('data', (message: Buffer) => this.onMessage(message));
    // A non-OK status is also emitted as 'error'; 'status' comes in every case.
    call.on('error', () => {});
    call.on('status', (s: Grpc.StatusObject) => this.onStatus(s.code, s.details));
  }

  private onMessage(message: Buffer): void {
    if (this.aborted || !this.isOpen) return;
    const stats = this.ctx.stats;
    stats.msgReceived++;
    stats.bytesReceived += message.length;
    const i = message.indexOf(this.marker);
    if (i !== -1) {
      const seq = ownSeqAt(message, i + this.marker.length);
      if (seq > 0) this.hooks.own(seq);
    }
  }

  private onStatus(code: number, details: string): void {
    if (this.aborted || this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (!this.isOpen) {
      const f = grpcFailureOf(code, details);
      this.hooks.failed(f.reason, f.status);
      return;
    }
    this.isOpen = false;
    // Ours when we ended or cancelled it, whatever status the server answered.
    this.hooks.closed(this.ending ?? closeKindOf(code), `close-${nameOf(code)}`);
  }

  join(): void {
    // No join messages: rooms only name the `room` field of each message.
  }

  send(room: Room, seq: number): void {
    if (!this.isOpen || this.ending !== null) return;
    const frame = this.ctx.messages.frame(room, this.idPrefix + seq, Date.now());
    const payload = Buffer.from(frame);
    this.call.write(payload);
    const stats = this.ctx.stats;
    stats.msgSent++;
    stats.bytesSent += payload.length;
  }

  ping(): boolean {
    // HTTP/2 PINGs belong to the shared channel, not to a stream.
    return false;
  }

  close(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'client';
    // Half-close: the server reads everything we sent, answers it, then ends with OK.
    this.call.end();
  }

  drop(): void {
    if (!this.isOpen || this.ending !== null) return;
    this.ending = 'drop';
    this.call.cancel();
  }

  abort(): void {
    this.aborted = true;
    clearTimeout(this.timer);
    this.call.cancel();
  }
}

/**
 * The `grpc` driver: `grpc://host:port` plaintext, `grpcs://` TLS with the system roots.
 * Headers and the token (`authorization: Bearer <token>`) are sent as request metadata.
 */
export function grpcDriver(ctx: DriverContext): Driver {
  const grpc = loadGrpc();
  const { options } = ctx;
  const creds =
    options.url.protocol === 'grpcs:'
      ? grpc.credentials.createSsl()
      : grpc.credentials.createInsecure();
  const client = new grpc.Client(options.url.host, creds, {
    // Messages are up to 16 MiB (session.messageBytes); grpc-js refuses over 4 MiB otherwise.
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  const metadata = new grpc.Metadata();
  for (const [k, v] of Object.entries(authHeaders(options.headers, options.token))) {
    metadata.set(k.toLowerCase(), v);
  }
  return {
    // The server answers every message before its OK status: nothing is lost on a clean close.
    settleBeforeClose: false,
    connect: (hooks) => new GrpcConnection(ctx, client, metadata, hooks),
    close: () => client.close(),
  };
}
