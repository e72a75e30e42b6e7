/**
 * Worker-thread entry (built to `dist/worker.js`, spawned by {@link runInWorker}). Running
 * the task on load is its whole purpose, so this module does work at import time: never
 * import it from the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerMessage, WorkerRequest } from './protocol.js';
import { runTaskAsync } from './task.js';

const port = parentPort;
if (!port) throw new Error('tidewatch worker entry must run in a worker thread');

const post = (message: WorkerMessage): void => port.postMessage(message);

runTaskAsync(workerData as WorkerRequest, (progress) => post({ type: 'progress', progress })).then(
  (result) => post({ type: 'result', result }),
  (error: unknown) => {
    // Posted rather than thrown so the main thread gets the original name and message intact
    // (an uncaught error would also arrive, but as an 'error' event racing the exit).
    const e = error instanceof Error ? error : new Error(String(error));
    post({
      type: 'error',
      name: e.name,
      message: e.message,
      ...(e.stack ? { stack: e.stack } : {}),
    });
  },
);
