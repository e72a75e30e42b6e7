import type { CloseReason } from '@tidewatch/conventions';

/** Who closed a connection first. */
export type Initiator = 'client' | 'server';

/**
 * Maps a WebSocket close code to a normalised reason. 1001 means "server going down" when
 * the server sends it and "page navigated away" when the client does, hence the initiator.
 * Application codes 3000-4999 not in `custom` count as `normal`: the application chose to
 * close; map them with the `closeCodes` option when they mean more.
 */
export function reasonForCode(
  code: number,
  initiator: Initiator,
  custom?: Readonly<Record<number, CloseReason>>,
): CloseReason {
  const mapped = custom?.[code];
  if (mapped !== undefined) return mapped;
  switch (code) {
    case 1000:
    case 1005: // a close frame without a status: a clean close all the same
      return 'normal';
    case 1001:
      return initiator === 'server' ? 'server_shutdown' : 'going_away';
    case 1012: // service restart
      return 'server_shutdown';
    case 1002:
    case 1003:
    case 1007:
    case 1010:
      return 'protocol_error';
    case 1006:
      return 'abnormal';
    case 1008: // policy violation: how servers refuse an unauthorised peer after open
    case 3000: // IANA: Unauthorized
    case 3003: // IANA: Forbidden
      return 'auth';
    case 1009:
      return 'message_too_big';
    case 1013: // try again later: the server is shedding load
      return 'going_away';
    case 3008: // IANA: Timeout
      return 'idle_timeout';
    default:
      return code >= 3000 && code <= 4999 ? 'normal' : 'error';
  }
}

/** The reason implied by a transport error recorded before the close. */
export function reasonForError(type: string): CloseReason {
  if (type === 'unsupported_message_length') return 'message_too_big';
  return WS_PROTOCOL_ERRORS.has(type) ? 'protocol_error' : 'error';
}

/** ws 8 receiver errors (WS_ERR_* minus the prefix): the peer broke the protocol. */
const WS_PROTOCOL_ERRORS = new Set([
  'expected_fin',
  'expected_mask',
  'invalid_close_code',
  'invalid_control_payload_length',
  'invalid_opcode',
  'invalid_utf8',
  'too_many_buffered_parts',
  'unexpected_mask',
  'unexpected_rsv_1',
  'unexpected_rsv_2_3',
  'unsupported_data_payload_length',
]);

/** `WS_ERR_INVALID_OPCODE` -> `invalid_opcode`; `ECONNRESET` -> `econnreset`. */
export function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || code.length === 0 || code.length > 64) return 'unknown';
  return (code.startsWith('WS_ERR_') ? code.slice(7) : code).toLowerCase();
}
