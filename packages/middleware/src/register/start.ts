import { createServer, type Server } from 'node:http';
import { Registry } from 'prom-client';
import { instrumentSocketIo } from '../adapters/socketio/socketio.js';
import { instrumentWs } from '../adapters/ws/ws.js';
import { ErrorCodes, TidewatchConfigError } from '../errors.js';
import { metricsHandler } from '../handler.js';
import { createRealtimeMetrics, type RealtimeMetrics } from '../metrics.js';
import { type RegisterSettings, readSettings, TidewatchEnvError } from './env.js';
import { addServerConsumer } from './hooks.js';

/** What the zero-code entry started. */
export interface Registered {
  readonly settings: RegisterSettings;
  readonly metrics: RealtimeMetrics;
  /** The `/metrics` server; it does not keep the process alive. */
  readonly server: Server;
}

const kRegistered = Symbol.for('tidewatch.register');
const OPTION_VARS: Record<string, string> = {
  prefix: 'TIDEWATCH_PREFIX',
  endpoint: 'TIDEWATCH_ENDPOINT',
  idleAfterMs: 'TIDEWATCH_IDLE_AFTER_MS',
  seriesCap: 'TIDEWATCH_SERIES_CAP',
};

/** One line on stderr, the way every tidewatch message reads. */
function say(line: string): void {
  process.stderr.write(`tidewatch: ${line}\n`);
}

/**
 * Builds the metrics from the environment. A configuration error of createRealtimeMetrics
 * is re-reported under the variable that set the option.
 * @throws {TidewatchEnvError} naming the variable.
 */
function build(settings: RegisterSettings): RealtimeMetrics {
  try {
    return createRealtimeMetrics({
      registry: new Registry(),
      ...(settings.prefix !== undefined && { prefix: settings.prefix }),
      ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
      ...(settings.idleAfterMs !== undefined && { idleAfterMs: settings.idleAfterMs }),
      ...(settings.seriesCap !== undefined && { seriesCap: settings.seriesCap }),
    });
  } catch (err) {
    if (err instanceof TidewatchConfigError) {
      const variable = OPTION_VARS[err.option.split('.')[0] ?? ''] ?? err.option;
      throw new TidewatchEnvError(variable, err.message.replace(/^tidewatch: option "[^"]*" /, ''));
    }
    throw err;
  }
}

/** Serves GET/HEAD /metrics (401 without the token when one is set); every other path 404. */
function serve(settings: RegisterSettings, metrics: RealtimeMetrics): Server {
  const handler = metricsHandler(
    metrics,
    settings.token === undefined ? {} : { auth: { bearer: settings.token } },
  );
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') return handler(req, res);
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('not found: metrics are at /metrics\n');
  });
  server.on('error', (err: NodeJS.ErrnoException) => {
    // The app keeps running either way: losing /metrics must not take the service down.
    const where = `${settings.host}:${settings.port}`;
    if (err.code === 'EADDRINUSE') {
      say(
        `metrics port ${where} is already in use; the app runs without /metrics (set TIDEWATCH_METRICS_PORT to a free port)`,
      );
    } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
      say(
        `cannot listen on ${where} (${err.code}); the app runs without /metrics (check TIDEWATCH_METRICS_HOST)`,
      );
    } else {
      say(
        `metrics server on ${where} failed (${err.code ?? err.message}); the app runs without /metrics`,
      );
    }
  });
  server.listen(settings.port, settings.host);
  // Never what keeps the process alive: the app decides when it ends.
  server.unref();
  return server;
}

/**
 * Starts zero-code instrumentation once per process: reads the `TIDEWATCH_*` variables,
 * creates the metrics, hooks `ws` and Socket.IO and serves `/metrics`. A second call (both
 * `--import` and `--require`, or an extra `import`) returns the first result.
 * @throws {TidewatchEnvError} naming the variable when one is invalid.
 */
export function startRegister(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Registered {
  const g = globalThis as { [kRegistered]?: Registered };
  if (g[kRegistered]) return g[kRegistered];
  const settings = readSettings(env);
  const metrics = build(settings);
  const failedOnce = new Set<string>();
  const attach = (kind: string, fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      // Another metrics instance already instruments it (the app does so itself): fine.
      if ((err as { code?: string })?.code === ErrorCodes.ALREADY_INSTRUMENTED) return;
      if (!failedOnce.has(kind)) {
        failedOnce.add(kind);
        say(`could not instrument a ${kind} server: ${(err as Error)?.message ?? String(err)}`);
      }
    }
  };
  addServerConsumer({
    ws: (wss) => {
      if (settings.instrument.has('ws')) attach('ws', () => instrumentWs(wss as never, metrics));
    },
    socketIo: (io) => {
      if (settings.instrument.has('socket.io'))
        attach('Socket.IO', () => instrumentSocketIo(io as never, metrics));
    },
  });
  const server = serve(settings, metrics);
  g[kRegistered] = { settings, metrics, server };
  return g[kRegistered];
}
