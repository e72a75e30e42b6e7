/**
 * `tidewatch-predictor serve`: load the configuration (file, `TIDEWATCH_*`, flags), run the
 * sidecar until SIGTERM or SIGINT, then shut down within `shutdownTimeoutSeconds` (default
 * 15 s; phases in ./shutdown.ts) and exit: 0 when everything stopped and the state was written,
 * 1 when the deadline forced the exit or the final write failed (one line says which).
 */
import { CliError } from '../cli/errors.js';
import { createSidecar, type Sidecar } from './app.js';
import { ConfigError, loadServeConfig, type ServeFlags } from './config.js';
import { createJsonLogger } from './log.js';
import type { ShutdownReport } from './shutdown.js';

/** Where `serve` writes its log (JSON lines on `stderr`). */
export interface ServeIO {
  stderr: NodeJS.WritableStream;
}

/** The least time the process is given to exit by itself after a shutdown, ms. */
const MIN_EXIT_GRACE_MS = 250;

/**
 * Runs the sidecar until a termination signal, then stops it. Resolves once stopped cleanly.
 * @throws CliError for an invalid configuration (each problem naming its field and origin),
 *   a failed start (port in use, history written with another step, bad seed file), or a
 *   shutdown that was not clean (deadline reached, final write failed): exit code 1.
 */
export async function serveCommand(
  flags: ServeFlags,
  io: ServeIO = { stderr: process.stderr },
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<void> {
  const log = createJsonLogger(io.stderr);
  let sidecar: Sidecar;
  try {
    sidecar = createSidecar(
      loadServeConfig({ flags, env, onWarning: (message) => log.log('warn', message) }),
      { log },
    );
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  let signalled = false;
  // Installed before start: a SIGTERM during a long first collection still shuts down cleanly.
  const stopped = new Promise<ShutdownReport>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) {
        log.log('warn', `${signal} again: exiting without waiting`);
        process.exit(1);
      }
      signalled = true;
      log.log('info', `${signal} received: shutting down`);
      // stop() never rejects: it reports what it could not finish.
      void sidecar.stop().then(resolve);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  try {
    await sidecar.start();
  } catch (error) {
    // Stopped while starting: the shutdown's report decides the exit, not the start.
    if (!signalled) {
      await sidecar.stop();
      throw new CliError(`cannot start: ${(error as Error).message}`);
    }
  }
  const report = await stopped;
  // A stray handle (a socket the aborted work left, a keep-alive client) must not keep a
  // terminating pod around past its deadline.
  const graceMs = Math.max(MIN_EXIT_GRACE_MS, report.timeoutMs - report.elapsedMs);
  const code = report.clean ? 0 : 1;
  setTimeout(() => {
    if (report.clean) log.log('warn', 'handles still open after shutdown: exiting');
    process.exit(code);
  }, graceMs).unref();
  if (report.clean) return;
  throw new CliError(
    report.stillRunning.length > 0
      ? `shutdown deadline of ${report.timeoutMs / 1000} s reached; still running: ${report.stillRunning.join(', ')}`
      : 'shutdown: the final write failed; the last state is not on disk',
  );
}
