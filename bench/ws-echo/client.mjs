// Load generator for ws-echo: a separate process (pinned to its own core by run.mjs) so the
// client's own work never steals cycles from the server it is measuring. The measuring loop
// is bench/common/client-core.mjs (shared with sio-echo); this file is the `ws` transport.
//
// --mode=load (default): C connections x K messages in flight, warm-up W s, then a D s
//   measure window. Standalone: `node bench/ws-echo/client.mjs --url ws://127.0.0.1:PORT/ws`.
// --mode=idle: idle connections for the memory-per-connection phase (needs the IPC driver).
import WebSocket from 'ws';
import { runClient } from '../common/client-core.mjs';

runClient({
  urlHelp: 'ws://127.0.0.1:PORT/ws',
  open: (url, i) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      const t = setTimeout(() => reject(new Error(`connect ${i} timed out`)), 10_000);
      ws.once('open', () => {
        clearTimeout(t);
        ws.on('error', (err) => console.error('client socket error:', err.message));
        resolve(ws);
      });
      ws.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    }),
  /** Closes politely, then terminates whatever has not finished the closing handshake. */
  async closeAll(sockets, graceMs) {
    const pending = sockets
      .filter((ws) => ws && ws.readyState !== WebSocket.CLOSED)
      .map(
        (ws) =>
          new Promise((resolve) => {
            ws.once('close', resolve);
            ws.close(1000);
          }),
      );
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), timeout]);
    for (const ws of sockets) if (ws && ws.readyState !== WebSocket.CLOSED) ws.terminate();
  },
  payload: (size) => Buffer.alloc(size, 0x61),
  send: (ws, payload) => ws.send(payload, { binary: true }),
  onEcho: (ws, fn) => ws.on('message', fn),
  echoOk: (data, size) => data.length === size,
});
