import type { CloseReason, HandshakeOutcome } from '@tidewatch/conventions';
import { type Initiator, reasonForCode } from '../shared/close-reason.js';

/**
 * The `transport` label of an engine.io transport name. engine.io 6 has exactly three
 * transports; anything else (a custom engine) folds into one value rather than passing a
 * foreign string through.
 */
export function transportLabel(name: unknown): string {
  switch (name) {
    case 'polling':
      return 'socketio_polling';
    case 'websocket':
      return 'socketio_websocket';
    case 'webtransport':
      return 'socketio_webtransport';
    default:
      return 'socketio_other';
  }
}

/** What the close of an engine.io connection left behind, read once when it closes. */
export interface CloseFacts {
  /** engine.io transport name at the close (`polling`, `websocket`, ...). */
  readonly transport: string;
  /** The WebSocket close code ws recorded (the peer's code; 1006 when none came), else 0. */
  readonly wsCode: number;
  /** The engine.io transport error's message, for `transport error`. */
  readonly errorMessage: string;
  /** `io.close()` / `engine.close()` was called: forced closes are a shutdown. */
  readonly shuttingDown: boolean;
  /**
   * socket.io closed the connection while handling an incoming packet: it could not
   * decode it, or the packet was invalid in the connection's state.
   */
  readonly parseError: boolean;
}

/** A normalised close: reason label and which side closed first. */
export interface NormalisedClose {
  readonly reason: CloseReason;
  readonly initiator: Initiator;
}

/** engine.io polling transport errors the client caused by misbehaving (not by leaving). */
const POLLING_PROTOCOL_ERRORS = new Set([
  'overlap from client',
  'data request overlap from client',
  'invalid content',
  'invalid heartbeat direction',
]);

const NORMAL_CLIENT: NormalisedClose = { reason: 'normal', initiator: 'client' };
const NORMAL_SERVER: NormalisedClose = { reason: 'normal', initiator: 'server' };
const SHUTDOWN: NormalisedClose = { reason: 'server_shutdown', initiator: 'server' };
const PROTOCOL_SERVER: NormalisedClose = { reason: 'protocol_error', initiator: 'server' };
const ABNORMAL_CLIENT: NormalisedClose = { reason: 'abnormal', initiator: 'client' };

/**
 * Normalises a Socket.IO disconnect reason (the first argument of a socket's `disconnect`
 * event) into the catalogue's `reason` and `initiator`:
 *
 * | Socket.IO reason | reason | initiator |
 * |---|---|---|
 * | `client namespace disconnect` (client called `socket.disconnect()`) | normal | client |
 * | `server namespace disconnect` (server called `socket.disconnect()`) | normal | server |
 * | `server shutting down` (`io.close()`) | server_shutdown | server |
 * | `ping timeout` (no pong within `pingTimeout`) | ping_timeout | server |
 * | `parse error` (engine.io could not decode a packet) | protocol_error | server |
 * | `transport close` over polling (the client closed its engine.io session) | normal | client |
 * | `transport close` over WebSocket | from the peer's close code: 1000/1005 normal, 1001 going_away, 1006 (no close frame: killed, network lost) abnormal, others as in the close-code table | client |
 * | `transport error`: a poll request closed prematurely, a write error | abnormal | client |
 * | `transport error` over WebSocket after the peer's close frame (a server write raced it) | from the peer's close code, as for `transport close` | client |
 * | `transport error`: poll overlap, invalid content, wrong heartbeat direction | protocol_error | server |
 * | `transport error` over WebSocket: ws refused a frame (`Invalid WebSocket frame: ...`), or a message over `maxHttpBufferSize` | protocol_error, or message_too_big | server |
 * | `forced close` (`socket.conn.close()`, engine closed) | normal; server_shutdown after `io.close()`/`engine.close()`; protocol_error when socket.io dropped the client for a packet it could not decode or that was invalid in its state | server |
 * | `forced server close` (socket.io's client closing, e.g. connect timeout) | as `forced close` | server |
 * | anything else | error | client |
 */
export function normaliseDisconnect(reason: unknown, f: CloseFacts): NormalisedClose {
  switch (reason) {
    case 'client namespace disconnect':
      return NORMAL_CLIENT;
    case 'server namespace disconnect':
      return NORMAL_SERVER;
    case 'server shutting down':
      return SHUTDOWN;
    case 'ping timeout':
      return { reason: 'ping_timeout', initiator: 'server' };
    case 'parse error':
      return PROTOCOL_SERVER;
    case 'forced close':
      if (f.shuttingDown) return SHUTDOWN;
      return f.parseError ? PROTOCOL_SERVER : NORMAL_SERVER;
    case 'forced server close':
      if (f.shuttingDown) return SHUTDOWN;
      return f.parseError ? PROTOCOL_SERVER : NORMAL_SERVER;
    case 'transport close':
      // engine.io reports every WebSocket close the same way; ws kept the peer's code.
      if (f.transport === 'websocket' && f.wsCode !== 0) {
        return { reason: reasonForCode(f.wsCode, 'client'), initiator: 'client' };
      }
      return NORMAL_CLIENT;
    case 'transport error':
      if (f.transport === 'websocket') {
        const type = wsErrorType(f);
        if (type === 'message_too_big') return { reason: 'message_too_big', initiator: 'server' };
        if (type === 'invalid_frame') return PROTOCOL_SERVER;
        // ws keeps 1006 until a close frame arrives: any other code means the peer closed
        // first, and the error is a server write (a ping) racing that close.
        if (f.wsCode !== 0 && f.wsCode !== 1006) {
          return { reason: reasonForCode(f.wsCode, 'client'), initiator: 'client' };
        }
        return ABNORMAL_CLIENT;
      }
      return POLLING_PROTOCOL_ERRORS.has(f.errorMessage) ? PROTOCOL_SERVER : ABNORMAL_CLIENT;
    default:
      return { reason: 'error', initiator: 'client' };
  }
}

/**
 * What ws' receiver refused, read from the engine.io transport error: engine.io keeps only
 * the ws error's text (`RangeError: Max payload size exceeded`, `...: Invalid WebSocket
 * frame: ...`), and ws' own close code is not recorded until the peer answers.
 */
function wsErrorType(f: CloseFacts): string | null {
  const m = f.errorMessage;
  if (m.includes('Max payload size exceeded')) return 'message_too_big';
  return m.includes('Invalid WebSocket frame') ? 'invalid_frame' : null;
}

/** `errors_total{type}` of an engine.io `transport error`, from its message or ws close code. */
export function transportErrorType(f: CloseFacts): string {
  switch (f.errorMessage) {
    case 'poll connection closed prematurely':
    case 'data request connection closed prematurely':
      return 'poll_closed_prematurely';
    case 'overlap from client':
    case 'data request overlap from client':
      return 'poll_overlap';
    case 'invalid content':
      return 'invalid_content';
    case 'invalid heartbeat direction':
      return 'invalid_heartbeat';
    case 'write error':
      return 'write_error';
  }
  return (f.transport === 'websocket' && wsErrorType(f)) || 'transport_error';
}

/** engine.io `Server.errors` codes, as `errors_total{type}` values. */
const ENGINE_ERROR_TYPES = [
  'unknown_transport', // 0 UNKNOWN_TRANSPORT
  'unknown_sid', // 1 UNKNOWN_SID
  'bad_handshake_method', // 2 BAD_HANDSHAKE_METHOD
  'bad_request', // 3 BAD_REQUEST
  'forbidden', // 4 FORBIDDEN
  'unsupported_protocol_version', // 5 UNSUPPORTED_PROTOCOL_VERSION
];

/** `errors_total{type}` of an engine.io `connection_error` code. */
export function engineErrorType(code: unknown): string {
  return (typeof code === 'number' && ENGINE_ERROR_TYPES[code]) || 'connection_error';
}

/**
 * Handshake outcome of an engine.io `connection_error` on a handshake request (one
 * without a `sid`). Every code is the server refusing the request (`rejected`: unknown
 * transport, bad handshake method, invalid origin header, WebSocket transport without an
 * upgrade, `allowRequest` refusing (Forbidden), an `engine.use()` middleware failing,
 * unsupported protocol) except the two failures inside engine.io itself: generating the
 * session id threw, or creating the transport threw (`error`).
 */
export function engineErrorOutcome(code: unknown, context: unknown): HandshakeOutcome {
  if (code === 3 && context !== null && typeof context === 'object') {
    const c = context as { name?: unknown; error?: unknown };
    if (c.name === 'ID_GENERATION_ERROR') return 'error';
    if (c.name === 'TRANSPORT_HANDSHAKE_ERROR' && c.error !== undefined) return 'error';
  }
  return 'rejected';
}

/**
 * Handshake outcome for a namespace connect still pending when its engine.io connection
 * closed: the client leaving or going silent is `aborted`; the server closing it (connect
 * timeout, `conn.close()`, shutdown, a packet it could not parse) is `rejected`.
 */
export function pendingOutcomeOnClose(reason: unknown): HandshakeOutcome {
  return reason === 'transport close' || reason === 'transport error' || reason === 'ping timeout'
    ? 'aborted'
    : 'rejected';
}
