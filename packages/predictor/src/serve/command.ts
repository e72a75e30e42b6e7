/**
 * `tidewatch-predictor serve`: load the configuration (file, `TIDEWATCH_*`, flags), run the
 * sidecar until SIGTERM or SIGINT, then shut down gracefully (jobs stopped, history and model
 * persisted, server closed) and exit 0.
 */
import { CliError } from '../cli/errors.js';
import { createSidecar, type Sidecar } from './app.js';
import { ConfigError, loadServeConfig, type ServeFlags } from './config.js';
import { createJsonLogger } from './log.js';

/** Where `serve` writes its log (JSON lines on `stderr`). */
export interface ServeIO {
  stderr: NodeJS.WritableStream;
}

/** How long a clean shutdown may leave the process alive before it exits anyway, ms. */
const EXIT_GRACE_MS = 5000;

/**
 * Runs the sidecar until a termination signal, then stops it. Resolves once stopped.
 * @throws CliError for an invalid configuration (each problem naming its field and origin)
 *   or a failed start (port in use, history written with another step, bad seed file).
 */
export async function serveCommand(
  flags: ServeFlags,
  io: ServeIO = { stderr: process.stderr },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const log = createJsonLogger(io.stderr);
  let sidecar: Sidecar;
  try {
    sidecar = createSidecar(loadServeConfig({ flags, env }), { log });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  // Installed before start: a SIGTERM during a long first collection still shuts down cleanly.
  const stopped = new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.log('warn', `${signal} again: exiting without waiting`);
        process.exit(1);
      }
      signalled = true;
      log.log('info', `${signal} received: shutting down`);
      sidecar.stop().then(resolve, (error: unknown) => {
        log.log('error', 'shutdown failed', { error });
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await sidecar.start();
  } catch (error) {
    await sidecar.stop().catch(() => {});
    throw new CliError(`cannot start: ${(error as Error).message}`);
  }
  await stopped;
  // Everything is persisted and closed; a stray handle (a keep-alive socket the client
  // holds) must not keep a terminating pod around.
  setTimeout(() => {
    log.log('warn', 'handles still open after shutdown: exiting');
    process.exit(process.exitCode ?? 0);
  }, EXIT_GRACE_MS).unref();
}
