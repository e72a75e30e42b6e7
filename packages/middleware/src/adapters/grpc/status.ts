import type { CloseReason, HandshakeOutcome } from '@tidewatch/conventions';
import type { Initiator } from '../shared/close-reason.js';

// gRPC status codes are a closed, stable set (grpc/doc/statuscodes.md); they are spelled here
// so that the adapter needs nothing from @grpc/grpc-js at runtime.

/** gRPC status codes by name, as in `@grpc/grpc-js`' `status` enum. */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const NAMES: readonly string[] = Object.keys(GrpcStatus).map((n) => n.toLowerCase());

/**
 * The `type` label of `errors_total` for a status code: its name in lower case
 * (`deadline_exceeded`), or `status_<n>` for a code outside the 17 defined ones.
 */
export function statusType(code: number): string {
  return NAMES[code] ?? `status_${Math.trunc(code) >>> 0}`;
}

/** The server's shutdown state, as `instrumentGrpc` sees it through the wrapped methods. */
export type ShutdownState = 'none' | 'graceful' | 'forced';

/** What is known about a streaming call when it ends. */
export interface CallEnd {
  /**
   * The status sent to the client (by the handler, or by grpc-js itself), or -1 when the
   * stream closed without one (the client reset it, or the connection went away).
   */
  readonly code: number;
  /** True when grpc-js sent the status itself (a size limit, the deadline), not the handler. */
  readonly byGrpc: boolean;
  /** The call's deadline had passed when it ended. */
  readonly deadlinePassed: boolean;
  readonly shutdown: ShutdownState;
  /**
   * A bidirectional call whose client half-closed before the status: the client ended the
   * conversation and an OK status only answers it. Default false.
   */
  readonly clientDone?: boolean;
}

/** How a call ended, in the catalogue's terms. */
export interface CloseOutcome {
  readonly reason: CloseReason;
  readonly initiator: Initiator;
  /**
   * The status the ending amounts to: the sent code, DEADLINE_EXCEEDED for a call whose
   * deadline passed without a status, -1 otherwise.
   */
  readonly code: number;
}

/**
 * Normalises the end of a streaming call. With a status: OK -> normal (initiator client when
 * a bidi client half-closed first, else server); CANCELLED ->
 * cancelled (server); DEADLINE_EXCEEDED -> deadline_exceeded (client: its deadline);
 * RESOURCE_EXHAUSTED -> message_too_big when grpc-js sent it (it does so only for a message
 * over `grpc.max_send_message_length` / `grpc.max_receive_message_length`), else
 * resource_exhausted; UNAVAILABLE -> server_shutdown during a shutdown, else unavailable;
 * UNAUTHENTICATED, PERMISSION_DENIED -> auth; any other -> error; all with initiator server.
 * Without a status: server_shutdown (server) during `forceShutdown`, deadline_exceeded
 * (client) once the deadline passed, else cancelled (client).
 */
export function closeOutcome(end: CallEnd): CloseOutcome {
  const { code } = end;
  if (code < 0) {
    if (end.shutdown === 'forced') return { reason: 'server_shutdown', initiator: 'server', code };
    if (end.deadlinePassed) {
      return {
        reason: 'deadline_exceeded',
        initiator: 'client',
        code: GrpcStatus.DEADLINE_EXCEEDED,
      };
    }
    return { reason: 'cancelled', initiator: 'client', code };
  }
  switch (code) {
    case GrpcStatus.OK:
      return { reason: 'normal', initiator: end.clientDone === true ? 'client' : 'server', code };
    case GrpcStatus.CANCELLED:
      return { reason: 'cancelled', initiator: 'server', code };
    case GrpcStatus.DEADLINE_EXCEEDED:
      return { reason: 'deadline_exceeded', initiator: 'client', code };
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return {
        reason: end.byGrpc ? 'message_too_big' : 'resource_exhausted',
        initiator: 'server',
        code,
      };
    case GrpcStatus.UNAVAILABLE:
      return {
        reason: end.shutdown === 'none' ? 'unavailable' : 'server_shutdown',
        initiator: 'server',
        code,
      };
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return { reason: 'auth', initiator: 'server', code };
    default:
      return { reason: 'error', initiator: 'server', code };
  }
}

/**
 * The handshake outcome of a call that ended before its first response metadata: OK (a
 * trailers-only answer) -> success; UNAUTHENTICATED, PERMISSION_DENIED -> rejected; the
 * client gone first (reset, or its deadline) -> aborted; any other status, or a forced
 * shutdown -> error.
 */
export function handshakeOutcome(end: CloseOutcome): HandshakeOutcome {
  switch (end.reason) {
    case 'normal':
      return 'success';
    case 'auth':
      return 'rejected';
    case 'deadline_exceeded':
      return 'aborted';
    case 'cancelled':
      return end.initiator === 'client' ? 'aborted' : 'error';
    default:
      return 'error';
  }
}

/** True for a status that counts in `errors_total`: every sent code but OK and CANCELLED. */
export function countsAsError(code: number): boolean {
  return code > GrpcStatus.CANCELLED;
}
