import type { CloseReason, HandshakeOutcome } from '@tidewatch/conventions';
import { errorType, type Initiator } from '../shared/close-reason.js';

// How aedes' signals map onto the catalogue's bounded values. aedes reports most failures
// as plain Errors whose message is the only discriminator; the messages matched here are
// aedes 1.x's own (aedes.js, lib/client.js, lib/handlers/*.js), and anything else falls
// through to the error's `code` or `unknown`, so a reworded message costs precision, never
// cardinality.

/** MQTT 3.1.1 CONNACK return codes (and aedes' own 6) as `errors_total{type}` values. */
const CONNACK_TYPES: Readonly<Record<number, string>> = {
  1: 'connack_unacceptable_protocol_version',
  2: 'connack_identifier_rejected',
  3: 'connack_server_unavailable',
  4: 'connack_bad_username_or_password',
  5: 'connack_not_authorized',
  // Not in MQTT 3.1.1: aedes answers 6 when the keep-alive exceeds its `keepaliveLimit`.
  6: 'connack_keepalive_limit_exceeded',
};

/** `errors_total{type}` of a refusing CONNACK code. */
export function connackType(code: number): string {
  return CONNACK_TYPES[code] ?? 'connack_other';
}

/** The handshake outcome of a refusing CONNACK: "server unavailable" is the broker failing. */
export function connackOutcome(code: number): HandshakeOutcome {
  return code === 3 ? 'error' : 'rejected';
}

/** aedes error messages with a meaning of their own, as `errors_total{type}` values. */
const MESSAGE_TYPES: ReadonlyMap<string, string> = new Map([
  ['keep alive timeout', 'keepalive_timeout'],
  ['connect did not arrive in time', 'connect_timeout'],
  ['drain timeout', 'drain_timeout'],
  ['Client queue limit reached', 'queue_limit'],
  // A second CONNECT, or a packet before CONNECT ([MQTT-3.1.0-1], [MQTT-3.1.0-2]).
  ['Invalid protocol', 'protocol_error'],
  ['empty topic not allowed in PUBLISH', 'invalid_topic'],
  ['# is not allowed in PUBLISH', 'invalid_topic'],
  ['+ is not allowed in PUBLISH', 'invalid_topic'],
  ['topic has too many levels', 'invalid_topic'],
]);

/**
 * The `errors_total{type}` of an error aedes reported for a client: a system error's code
 * (`econnreset`), an aedes failure by its message, else `unknown` (an application hook's
 * own error, e.g. an `authorizePublish` refusal).
 */
export function mqttErrorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return errorType(err);
  const message = (err as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return 'unknown';
  const known = MESSAGE_TYPES.get(message);
  if (known !== undefined) return known;
  if (message.startsWith('maxInflightInbound exceeded')) return 'inflight_limit';
  if (message.includes(' is only allowed in ') || message.startsWith('impossible to ')) {
    return 'invalid_topic';
  }
  return 'unknown';
}

/** Error types meaning the peer's network went away (the client's side, not the broker). */
const NETWORK_TYPES = new Set([
  'econnreset',
  'epipe',
  'etimedout',
  'econnaborted',
  'ehostunreach',
  'enetunreach',
  'err_stream_premature_close',
]);

/** True when an error type means the peer's connection died. */
export function isNetworkType(type: string): boolean {
  return NETWORK_TYPES.has(type);
}

/** The close reason and initiator implied by the first error seen on a connection. */
export function reasonForErrorType(type: string): { reason: CloseReason; initiator: Initiator } {
  if (NETWORK_TYPES.has(type)) return { reason: 'abnormal', initiator: 'client' };
  switch (type) {
    case 'protocol_error':
    case 'invalid_topic':
    case 'queue_limit':
    case 'inflight_limit':
      return { reason: 'protocol_error', initiator: 'server' };
    case 'drain_timeout':
      return { reason: 'slow_consumer', initiator: 'server' };
    default:
      return { reason: 'error', initiator: 'server' };
  }
}

/** Payload bytes of a PUBLISH: aedes carries a Buffer, an API publish may carry a string. */
export function payloadLength(payload: Uint8Array | string | null | undefined): number {
  if (payload === null || payload === undefined) return 0;
  return typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
}

/** True for the broker's own `$SYS/` topics, which are not client traffic. */
export function isSysTopic(topic: unknown): boolean {
  // '$' is 36: one comparison decides for nearly every topic.
  return typeof topic === 'string' && topic.charCodeAt(0) === 36 && topic.startsWith('$SYS/');
}

/**
 * The default `topic` classifier: the filter's first level and `/#` (`sensors/+/temp` ->
 * `sensors/#`), a one-level filter as is (`alerts`, `#`, `+`), and a shared subscription
 * (`$share/<group>/<filter>`) by its filter, so group names never become label values.
 */
export function defaultTopic(filter: string): string {
  let f = filter;
  if (f.startsWith('$share/')) {
    const slash = f.indexOf('/', 7);
    f = slash < 0 ? '' : f.slice(slash + 1);
  }
  const slash = f.indexOf('/');
  return slash < 0 ? f : `${f.slice(0, slash)}/#`;
}
