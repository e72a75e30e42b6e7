import { diag } from '@opentelemetry/api';
import { fail } from '../../internal/validate.js';
import { type BrokerTracer, type BrokerTracing, tracerOption } from './tracing.js';

// The publish time travels inside the message itself (a field of a plain object) rather
// than in broker metadata: Redis pub/sub has no headers, and the Socket.IO Redis adapter
// forwards only the packet, so a field is the one place that crosses both unchanged.

/** Default envelope field: `message._tw`. */
export const DEFAULT_STAMP_KEY = '_tw';

/** What {@link stamp} writes at `message[key]`. */
export interface Envelope {
  /** Publish time, milliseconds since the Unix epoch (`Date.now()` on the publishing host). */
  t: number;
  /** W3C traceparent of the publish span; only when tracing is on and the message sampled. */
  tp?: string;
}

/** Options of {@link stamp}. */
export interface StampOptions {
  /** Envelope field name. Default `_tw`; the delivering side must use the same. */
  key?: string;
  /** Message tracing (see `brokerTracing`); off when absent. */
  tracing?: BrokerTracing;
  /** `messaging.system` of the publish span, e.g. `redis`. */
  broker?: string;
}

/**
 * A valid envelope field name.
 * @throws {TidewatchConfigError} naming `option` when it is not a non-empty string.
 */
export function keyOption(option: string, value: unknown): string {
  if (value === undefined) return DEFAULT_STAMP_KEY;
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    fail(option, 'a field name of 1 to 64 characters', value);
  }
  return value;
}

function isStampable(message: unknown): message is Record<string, unknown> {
  return message !== null && typeof message === 'object' && !Array.isArray(message);
}

/**
 * Stamps a message with its publish time before it is published: sets `message[key]`
 * (default `message._tw`) to `{ t: Date.now() }`, plus `tp` (a W3C traceparent) when
 * `tracing` is given and this message is sampled, in which case the `publish` span is
 * recorded now. The receiving side observes `delivery_lag_seconds` per recipient socket
 * for stamped messages only. Works for JSON and MessagePack payloads (Redis pub/sub, the
 * Socket.IO Redis adapter); clients receive the field too.
 *
 * An existing stamp is replaced: stamping is what marks the publish.
 *
 * @param message a plain object; anything else (string, Buffer, array) is returned unstamped.
 * @returns the same `message`.
 * @throws {TidewatchConfigError} only for bad options (`key`, `tracing`).
 * @example
 * io.to('room').emit('chat', stamp({ text }));
 * await redis.publish('chat', JSON.stringify(stamp({ text })));
 */
export function stamp<T>(message: T, options?: StampOptions): T {
  let key = DEFAULT_STAMP_KEY;
  let tracer: BrokerTracer | undefined;
  if (options !== undefined) {
    key = keyOption('key', options.key);
    tracer = tracerOption('tracing', options.tracing);
  }
  if (!isStampable(message)) return message;
  const envelope: Envelope = { t: Date.now() };
  if (tracer !== undefined) {
    try {
      const tp = tracer.publish(options?.broker);
      if (tp !== undefined) envelope.tp = tp;
    } catch (err) {
      // A failing tracer SDK must not stop the publish; the message goes out unsampled.
      diag.error('tidewatch: broker.stamp', err);
    }
  }
  (message as Record<string, unknown>)[key] = envelope;
  return message;
}

/**
 * The envelope of a received message: `{ t, tp? }` when `message[key]` holds a finite
 * publish time, else undefined. Never throws.
 */
export function readStamp(message: unknown, key = DEFAULT_STAMP_KEY): Envelope | undefined {
  const t = stampTime(message, key);
  if (t < 0) return undefined;
  const tp = (message as Record<string, { tp?: unknown }>)[key]!.tp;
  return typeof tp === 'string' ? { t, tp } : { t };
}

/** Publish time of a message in epoch ms; -1 when it carries none. Allocation-free. */
export function stampTime(message: unknown, key: string): number {
  if (message === null || typeof message !== 'object') return -1;
  const env = (message as Record<string, unknown>)[key];
  if (env === null || typeof env !== 'object') return -1;
  const t = (env as { t?: unknown }).t;
  return typeof t === 'number' && Number.isFinite(t) && t >= 0 ? t : -1;
}

/** The traceparent a stamped message carries (undefined when none). */
export function stampTrace(message: unknown, key: string): unknown {
  return ((message as Record<string, { tp?: unknown }>)[key] as { tp?: unknown }).tp;
}
