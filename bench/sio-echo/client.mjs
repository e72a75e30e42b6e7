// Load generator for sio-echo: a separate process (pinned to its own core by run.mjs) so the
// client's own work never steals cycles from the server it is measuring. The measuring loop
// is bench/common/client-core.mjs (shared with ws-echo); this file is the Socket.IO transport.
//
// --mode=load (default): C socket.io-client connections x K `emit('echo', s)` in flight,
//   warm-up W s, then a D s measure window.
//   Standalone: `node bench/sio-echo/client.mjs --url http://127.0.0.1:PORT`.
// --mode=idle: idle connections for the memory-per-connection phase (needs the IPC driver).
import { io } from 'socket.io-client';
import { runClient } from '../common/client-core.mjs';
import { EVENT } from './common.mjs';

const SOCKET_OPTS = {
  // WebSocket from the first request: no HTTP long-polling handshake and upgrade, so every
  // message takes the same wire path as in ws-echo and the comparison is about Socket.IO.
  transports: ['websocket'],
  // One Manager (one engine.io connection) per socket, never multiplexed.
  forceNew: true,
  // A benchmark connection that drops is an error, not something to retry forever.
  reconnection: false,
  timeout: 10_000,
  perMessageDeflate: false,
};

runClient({
  urlHelp: 'http://127.0.0.1:PORT',
  open: (url, i) =>
    new Promise((resolve, reject) => {
      const socket = io(url, SOCKET_OPTS);
      const t = setTimeout(() => {
        socket.close();
        reject(new Error(`connect ${i} timed out`));
      }, 10_000);
      socket.once('connect', () => {
        clearTimeout(t);
        resolve(socket);
      });
      socket.once('connect_error', (err) => {
        clearTimeout(t);
        socket.close();
        reject(err);
      });
    }),
  /** Disconnects every socket and waits (bounded) until their WebSockets have closed. */
  async closeAll(sockets, graceMs) {
    const pending = [];
    for (const socket of sockets) {
      if (!socket) continue;
      const engine = socket.io.engine;
      if (engine && engine.readyState !== 'closed') {
        pending.push(new Promise((resolve) => engine.once('close', resolve)));
      }
      socket.disconnect();
    }
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), timeout]);
  },
  payload: (size) => 'a'.repeat(size),
  // Ack-less emit; the server answers with an ack-less emit of the same event.
  send: (socket, payload) => socket.emit(EVENT, payload),
  onEcho: (socket, fn) => socket.on(EVENT, fn),
  echoOk: (data, size) => typeof data === 'string' && data.length === size,
  onDrop: (socket, fn) => socket.on('disconnect', fn),
});
