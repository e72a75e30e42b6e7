// Load generator for grpc-echo: one bidirectional stream per "connection", all streams of the
// process multiplexed over grpc-js' shared channel (as a real client would), in a separate
// process pinned to its own core by run.mjs. The measuring loop is bench/common/client-core.mjs.
import grpc from '@grpc/grpc-js';
import { runClient } from '../common/client-core.mjs';
import { ECHO_SERVICE } from './common.mjs';

const Echo = grpc.makeGenericClientConstructor(ECHO_SERVICE, 'Echo');
let client;

runClient({
  urlHelp: 'grpc://127.0.0.1:PORT',
  open: async (url) => {
    client ??= new Echo(url.replace(/^grpc:\/\//, ''), grpc.credentials.createInsecure());
    const call = client.stream();
    call.on('error', (err) => {
      if (err.code !== grpc.status.CANCELLED) console.error('stream error:', err.message);
    });
    // A stream is open once the server's metadata arrives; wait for it like a ws open.
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('stream open timed out')), 10_000);
      call.once('metadata', () => {
        clearTimeout(t);
        resolve();
      });
      call.once('error', (err) => {
        clearTimeout(t);
        reject(err);
      });
    });
    return call;
  },
  /** Half-closes every stream and waits for its OK status, then cancels what is left. */
  async closeAll(calls, graceMs) {
    const pending = calls.filter(Boolean).map(
      (call) =>
        new Promise((resolve) => {
          call.once('status', resolve);
          call.once('error', resolve);
          call.end();
        }),
    );
    const timeout = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([Promise.all(pending), timeout]);
    for (const call of calls) call?.cancel();
    client?.close();
  },
  payload: (size) => Buffer.alloc(size, 0x61),
  send: (call, payload) => call.write(payload),
  onEcho: (call, fn) => call.on('data', fn),
  echoOk: (data, size) => data.length === size,
});
