/**
 * `@tidewatch/middleware/socket.io`: instrumentation for Socket.IO 4 servers (engine.io 6).
 * @packageDocumentation
 */
export type { CloseFacts, NormalisedClose } from './adapters/socketio/reasons.js';
export { normaliseDisconnect } from './adapters/socketio/reasons.js';
export type {
  InstrumentSocketIoOptions,
  SocketIoServerLike,
} from './adapters/socketio/socketio.js';
export { instrumentSocketIo } from './adapters/socketio/socketio.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
