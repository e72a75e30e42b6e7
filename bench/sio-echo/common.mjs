// Constants shared by the sio-echo driver, server and client; the generic helpers live in
// bench/common/ (shared with bench/ws-echo).
export { median, sumPromText } from '../common/util.mjs';

export const VARIANTS = ['baseline', 'tidewatch', 'socket.io-prometheus'];

/** The one event name: emitted by the client, echoed back by the server under the same name. */
export const EVENT = 'echo';

export const TIDEWATCH_MISSING =
  'packages/middleware/dist/socket.io.js does not export instrumentSocketIo: the tidewatch ' +
  'Socket.IO adapter (`instrumentSocketIo(io, metrics)` from @tidewatch/middleware/socket.io) ' +
  'is not in this build yet. Rebuild once it has landed (`npx turbo run build`).';
