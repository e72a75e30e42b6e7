/**
 * `@tidewatch/middleware/socket.io`: instrumentation for Socket.IO 4 servers (engine.io 6).
 * @packageDocumentation
 */
export type { InstrumentSocketIoOptions, SocketIoServerLike } from './adapters/socketio.js';
export { instrumentSocketIo } from './adapters/socketio.js';
export type { CloseFacts, NormalisedClose } from './adapters/socketio-reasons.js';
export { normaliseDisconnect } from './adapters/socketio-reasons.js';
