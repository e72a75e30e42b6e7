/**
 * Worker-thread entry of the sidecar's forecaster (built to `dist/forecaster-worker.js`,
 * started by `createForecaster` of ./forecaster.ts). Listening on its port on load is its
 * whole purpose, so this module does work at import time: never import it from the main
 * thread. It keeps the last model it was sent and answers each forecast with its points or
 * with the model's error (name and message intact).
 */
import { parentPort } from 'node:worker_threads';
import type { FittedForecaster } from '@tidewatch/forecast';
import type { ForecasterReply, ForecasterRequest } from './forecaster.js';
import { forecastFromFitted } from './reuse.js';

const port = parentPort;
if (!port) throw new Error('the tidewatch forecast worker must run in a worker thread');

let model: { id: number; fitted: FittedForecaster } | undefined;
const post = (reply: ForecasterReply): void => port.postMessage(reply);

port.on('message', (request: ForecasterRequest) => {
  if (request.type === 'model') {
    model = { id: request.modelId, fitted: request.fitted };
    return;
  }
  try {
    // Messages arrive in order, so the model of a forecast always came first.
    if (model?.id !== request.modelId)
      throw new Error(`forecast worker: model ${request.modelId} was never sent`);
    const points = forecastFromFitted(
      model.fitted,
      request.series,
      request.horizon,
      request.adaptation,
    );
    post({ type: 'points', id: request.id, points });
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    post({
      type: 'error',
      id: request.id,
      name: e.name,
      message: e.message,
      ...(e.stack ? { stack: e.stack } : {}),
    });
  }
});
