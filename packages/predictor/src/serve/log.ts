/**
 * The sidecar's log: one JSON object per line on stderr (`{"time","level","msg",...}`), the
 * shape log collectors in a cluster parse without configuration. A logger never throws.
 */

/** Severity of a log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where the sidecar reports what it does. */
export interface Logger {
  /** Writes one line; `fields` are added to it (errors become their message). */
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger writing JSON lines to `stream` (default `process.stderr`) at `minLevel` (default
 * `info`) and above.
 */
export function createJsonLogger(
  stream: NodeJS.WritableStream = process.stderr,
  minLevel: LogLevel = 'info',
): Logger {
  return {
    log(level, msg, fields = {}) {
      if (ORDER[level] < ORDER[minLevel]) return;
      try {
        const line: Record<string, unknown> = { time: new Date().toISOString(), level, msg };
        for (const [k, v] of Object.entries(fields)) line[k] = v instanceof Error ? v.message : v;
        stream.write(`${JSON.stringify(line)}\n`);
      } catch {
        // A log line is never worth a crash (closed stream, a cyclic field).
      }
    },
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { log() {} };
