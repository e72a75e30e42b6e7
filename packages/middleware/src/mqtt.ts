/**
 * `@tidewatch/middleware/mqtt`: instrumentation for aedes 1.x MQTT brokers, over every
 * listener that feeds `broker.handle` (TCP, TLS, WebSocket streams). See
 * {@link instrumentAedes}.
 * @packageDocumentation
 */
export {
  defaultTopic,
  type InstrumentAedesOptions,
  instrumentAedes,
} from './adapters/mqtt/mqtt.js';
export type {
  AedesClientLike,
  AedesLike,
  ConnectionClassifier,
  ConnectPacketLike,
  TopicClassifier,
} from './adapters/mqtt/types.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
