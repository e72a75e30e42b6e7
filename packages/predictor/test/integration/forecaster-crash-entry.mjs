/**
 * The sidecar's forecast worker (the built `dist/forecaster-worker.js`) with a kill switch for
 * tests: on the BroadcastChannel `tidewatch-forecaster-test`, `exit` ends the worker at once
 * (a crash while idle), `exit-on-forecast` ends it when the next forecast is about to answer
 * (a crash mid-forecast), and `hang-on-forecast` makes that answer never come (a forecast
 * that never ends); the last two are acknowledged with `armed:<what>`. Only forecasts are
 * answered, so the next answer is the next forecast's. Plain JavaScript: worker threads
 * cannot load TypeScript on Node 20.
 */
import { parentPort } from 'node:worker_threads';
import '../../dist/forecaster-worker.js';

const port = parentPort;
const answer = port.postMessage.bind(port);
const channel = new BroadcastChannel('tidewatch-forecaster-test');
// The channel must not keep the worker (or the process) alive.
channel.unref();
channel.onmessage = (event) => {
  if (event.data === 'exit') process.exit(3);
  port.postMessage = () => {
    port.postMessage = answer;
    if (event.data === 'exit-on-forecast') process.exit(4);
    for (;;);
  };
  // The test waits for this before the forecast that must fail.
  channel.postMessage(`armed:${event.data}`);
};
