import type { ValueSeries } from '../../internal/family.js';
import {
  type Instrumentation,
  type InstrumentationHandle,
  instrument,
  type Patches,
} from '../../internal/instrumentation.js';
import { readOptions } from '../../internal/options.js';
import type { Recorder } from '../../internal/recorder.js';
import { fail, optString } from '../../internal/validate.js';
import { internalsOf, type RealtimeMetrics } from '../../metrics.js';

/**
 * The parts of an ioredis client (v4/v5) tidewatch touches, typed structurally: an
 * EventEmitter whose `emit` announces messages (`messageBuffer`, `pmessageBuffer`,
 * `smessageBuffer`, one per message received, whatever other listeners exist) and errors,
 * and a `publish` returning a Promise.
 */
export interface RedisClientLike {
  emit(event: string | symbol, ...args: any[]): boolean;
  on(event: string, listener: (...args: any[]) => void): unknown;
  publish?(channel: any, message: any, ...rest: any[]): unknown;
}

/** Options of {@link instrumentRedisPubSub}. */
export interface InstrumentRedisPubSubOptions {
  /** `broker` label value. Default `redis`. */
  broker?: string;
  /** The client the application publishes with: its `publish` calls count `direction="out"`. */
  publisher?: RedisClientLike;
}

/** The subscriber's events that each mean one message received (ioredis emits them always). */
const MESSAGE_EVENTS = new Set(['messageBuffer', 'pmessageBuffer', 'smessageBuffer']);
/** Error codes of a lost or refused connection. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/**
 * `broker_errors_total{type}` of an error: `connection` for a lost or refused connection,
 * `timeout` when a command gave up retrying, else the error's code lower-cased (through
 * the cardinality guard), else `error`.
 */
export function brokerErrorType(err: unknown): string {
  const e = err as { code?: unknown; name?: unknown } | null;
  const code = e?.code;
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return 'connection';
  if (e?.name === 'MaxRetriesPerRequestError') return 'timeout';
  if (typeof code === 'string' && /^[A-Za-z0-9_]{1,40}$/.test(code)) return code.toLowerCase();
  return 'error';
}

/** Counts a broker error; never throws. */
export function countBrokerError(recorder: Recorder, broker: string, err: unknown): void {
  try {
    recorder.inc('brokerErrors', [broker, brokerErrorType(err)]);
  } catch (e) {
    recorder.error('broker.error', e);
  }
}

/**
 * Counts a client's errors in `broker_errors_total{broker}` and, with `messages`, every
 * message it receives as `broker_messages_total{direction="in"}`. Wraps the instance's
 * `emit` instead of adding listeners: an added `error` listener would change what the
 * client and the Socket.IO adapter decide from `listenerCount('error')`, and a message
 * listener would make every emit copy the listener array. ioredis reports connection
 * errors through `silentEmit`, which skips `emit` when nobody listens, so that is wrapped
 * too (and then `emit` leaves errors to it, so none counts twice).
 */
export function hookClient(
  patches: Patches,
  recorder: Recorder,
  client: RedisClientLike,
  broker: string,
  messages: boolean,
): void {
  const c = client as any;
  const viaSilent = typeof c.silentEmit === 'function';
  const received = messages ? recorder.series('brokerMessages', [broker, 'in']) : null;
  patches.wrap(
    c,
    'emit',
    (orig) =>
      function tidewatchBrokerEmit(this: unknown, event: unknown, arg: unknown) {
        if (patches.active) {
          if (received !== null && typeof event === 'string' && MESSAGE_EVENTS.has(event)) {
            received.value++;
          } else if (event === 'error' && !viaSilent) countBrokerError(recorder, broker, arg);
        }
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );
  if (viaSilent) {
    patches.wrap(
      c,
      'silentEmit',
      (orig) =>
        function tidewatchBrokerSilentEmit(this: any, event: unknown, arg: unknown) {
          // The same filter ioredis applies: errors while closing on purpose are not failures.
          if (patches.active && event === 'error' && this.status !== 'end' && !this.manuallyClosing)
            countBrokerError(recorder, broker, arg);
          return orig.apply(this, arguments as unknown as unknown[]);
        },
    );
  }
}

/**
 * Counts a client's `publish` calls as `broker_messages_total{direction="out"}` when
 * issued, and a publish whose Promise rejects as `broker_errors_total{type="publish"}`
 * (`connection`/`timeout` when that is why). The caller gets a Promise settled as the
 * client's own: a rejection the caller does not handle stays unhandled.
 */
export function hookPublish(
  patches: Patches,
  recorder: Recorder,
  client: RedisClientLike,
  broker: string,
): void {
  const sent = recorder.series('brokerMessages', [broker, 'out']) as ValueSeries;
  const onRejected = (err: unknown) => {
    try {
      const t = brokerErrorType(err);
      recorder.inc('brokerErrors', [broker, t === 'connection' || t === 'timeout' ? t : 'publish']);
    } catch (e) {
      recorder.error('broker.publish', e);
    }
    throw err;
  };
  patches.wrap(
    client,
    'publish',
    (orig) =>
      function tidewatchPublish(this: unknown) {
        const result = orig.apply(this, arguments as unknown as unknown[]);
        if (!patches.active) return result;
        sent.value++;
        // With a node-style callback the caller handles the outcome; leave its Promise alone.
        if (typeof arguments[arguments.length - 1] === 'function') return result;
        if (typeof (result as Promise<unknown> | null)?.then !== 'function') return result;
        return (result as Promise<unknown>).then(undefined, onRejected);
      },
  );
}

const kPubSub = Symbol.for('tidewatch.broker.redis.attached');
const kPublisher = Symbol.for('tidewatch.broker.redis.publisher');

/**
 * Instruments plain Redis pub/sub fan-out (an ioredis subscriber, typically in front of
 * `ws` clients): every message the subscriber receives counts
 * `broker_messages_total{broker,direction="in"}`, every `publish` of `publisher` counts
 * `direction="out"`, and both clients' connection errors and failed publishes count
 * `broker_errors_total{broker,type}`. Delivery lag is observed where the application
 * writes to its sockets: see `deliveries()`.
 *
 * Attaching the same metrics to the same subscriber twice returns the first handle; a
 * publisher shared by several attachments counts once per metrics instance.
 *
 * @returns a handle that restores the clients when called; idempotent.
 * @throws {TidewatchConfigError} naming `subscriber`, `publisher` or `broker` when one is
 *   not what is expected; `TW_ERR_ALREADY_INSTRUMENTED` when another metrics instance
 *   instruments the subscriber.
 */
export function instrumentRedisPubSub(
  subscriber: RedisClientLike,
  metrics: RealtimeMetrics,
  options: InstrumentRedisPubSubOptions = {},
): InstrumentationHandle {
  if (typeof (subscriber as any)?.emit !== 'function') {
    fail('subscriber', 'an ioredis client (an EventEmitter)', subscriber);
  }
  const internals = internalsOf(metrics);
  const opts = readOptions(options, ['broker', 'publisher']);
  const broker = optString('broker', opts.broker, /^[a-z0-9_]{1,64}$/) ?? 'redis';
  const publisher = opts.publisher as RedisClientLike | undefined;
  if (
    publisher !== undefined &&
    (typeof (publisher as any)?.publish !== 'function' ||
      typeof (publisher as any).emit !== 'function')
  ) {
    fail('publisher', 'an ioredis client with publish()', publisher);
  }
  return instrument(
    metrics,
    internals,
    'broker',
    { target: subscriber, key: kPubSub, option: 'subscriber' },
    (inst) => attach(inst, subscriber, publisher, broker),
  );
}

function attach(
  inst: Instrumentation,
  subscriber: RedisClientLike,
  publisher: RedisClientLike | undefined,
  broker: string,
): undefined {
  const { recorder, patches } = inst;
  // Present from the start, so a dashboard shows 0 rather than nothing.
  recorder.series('brokerMessages', [broker, 'in']);
  hookClient(patches, recorder, subscriber, broker, true);
  if (publisher !== undefined && publisher !== subscriber) {
    const prior = (publisher as any)[kPublisher];
    if (prior !== inst.metrics) {
      recorder.series('brokerMessages', [broker, 'out']);
      hookClient(patches, recorder, publisher, broker, false);
      hookPublish(patches, recorder, publisher, broker);
      patches.mark(publisher, kPublisher, inst.metrics);
    }
  }
  return undefined;
}
