/**
 * `@tidewatch/middleware/broker`: from broker to socket. `stamp()` marks a message's
 * publish time (and, when tracing, its publish span) in an envelope field; the delivering
 * side observes `delivery_lag_seconds` per recipient socket (`deliveries()` for fan-out the
 * application writes itself, `instrumentSocketIo` for Socket.IO and its Redis adapter) and
 * counts the broker's traffic and errors (`instrumentRedisPubSub()` for plain Redis
 * pub/sub). Message tracing (`brokerTracing()`) is off by default.
 * @packageDocumentation
 */
export type {
  Deliveries,
  DeliveriesOptions,
  SocketLike,
} from './adapters/broker/delivery.js';
export { deliveries } from './adapters/broker/delivery.js';
export type { Envelope, StampOptions } from './adapters/broker/envelope.js';
export { DEFAULT_STAMP_KEY, readStamp, stamp } from './adapters/broker/envelope.js';
export type {
  InstrumentRedisPubSubOptions,
  RedisClientLike,
} from './adapters/broker/redis.js';
export { brokerErrorType, instrumentRedisPubSub } from './adapters/broker/redis.js';
export type { BrokerTracing, BrokerTracingOptions } from './adapters/broker/tracing.js';
export { brokerTracing } from './adapters/broker/tracing.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
