/**
 * `@tidewatch/middleware/ws`: instrumentation for `ws` 8 servers.
 * @packageDocumentation
 */
export type {
  InstrumentWsOptions,
  WebSocketLike,
  WebSocketServerLike,
} from './adapters/ws/ws.js';
export { instrumentWs } from './adapters/ws/ws.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
