/**
 * `@tidewatch/middleware/register`: zero-code instrumentation. Load it before the app:
 *
 * ```sh
 * TIDEWATCH_METRICS_PORT=9464 node --import @tidewatch/middleware/register app.mjs
 * TIDEWATCH_METRICS_PORT=9464 node --require @tidewatch/middleware/register app.cjs
 * ```
 *
 * Every `ws` WebSocketServer and Socket.IO Server the app creates is instrumented and
 * `/metrics` is served on `TIDEWATCH_METRICS_HOST:TIDEWATCH_METRICS_PORT` (default
 * 127.0.0.1:9464), with `TIDEWATCH_METRICS_TOKEN` as bearer token when set. Importing it
 * has side effects by design; a bad variable ends the process with one line naming it.
 * @packageDocumentation
 */
import { isMainThread } from 'node:worker_threads';
import { TidewatchEnvError } from './env.js';
import { registerImportHook } from './hooks.js';
import { type Registered, startRegister } from './start.js';

export type { RegisterSettings } from './env.js';
export { TidewatchEnvError } from './env.js';
export type { Registered } from './start.js';

// Node runs --require/--import preloads in every worker thread too, its own module-loader
// thread included: only the main thread instruments and serves (one /metrics port).
// The loader is registered from --require too: an ESM app run with --require is covered.
if (isMainThread) registerImportHook();

let started: Registered | undefined;
if (isMainThread) {
  try {
    started = startRegister();
  } catch (err) {
    if (!(err instanceof TidewatchEnvError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}

/**
 * What the entry started: the settings, the metrics and the `/metrics` server; undefined
 * in worker threads, which the entry leaves alone.
 */
export const registered: Registered | undefined = started;
