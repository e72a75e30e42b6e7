// The zero-code entry is configured only through the environment (`node --import` takes no
// options). Each variable is checked once at start; an error names the variable, what it
// must be and what it was, so a typo stops the app with one readable line instead of
// running unmonitored (or, for the token, running with an open endpoint).

/** Settings of the zero-code entry, read from `TIDEWATCH_*` variables. */
export interface RegisterSettings {
  /** `TIDEWATCH_METRICS_PORT`, default 9464; 0 picks a free port. */
  readonly port: number;
  /** `TIDEWATCH_METRICS_HOST`, default `127.0.0.1` (loopback: not exposed by accident). */
  readonly host: string;
  /** `TIDEWATCH_METRICS_TOKEN`: bearer token `/metrics` requires; unset = open. */
  readonly token: string | undefined;
  /** `TIDEWATCH_PREFIX`, default `realtime_`. */
  readonly prefix: string | undefined;
  /** `TIDEWATCH_ENDPOINT`: one `endpoint` label for every server. Default: each server's path. */
  readonly endpoint: string | undefined;
  /** `TIDEWATCH_IDLE_AFTER_MS`, default 60000. */
  readonly idleAfterMs: number | undefined;
  /** `TIDEWATCH_SERIES_CAP`, default 2000. */
  readonly seriesCap: number | undefined;
  /** `TIDEWATCH_INSTRUMENT`: which servers to instrument, default `ws,socket.io`. */
  readonly instrument: ReadonlySet<'ws' | 'socket.io'>;
}

/** A bad `TIDEWATCH_*` variable; `variable` names it. */
export class TidewatchEnvError extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`tidewatch: ${variable} ${message}`);
    this.name = 'TidewatchEnvError';
    this.variable = variable;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function bad(variable: string, expected: string, got: string): never {
  throw new TidewatchEnvError(variable, `must be ${expected} (got ${JSON.stringify(got)})`);
}

function int(env: Env, variable: string, min: number, max: number): number | undefined {
  const raw = env[variable];
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    bad(variable, `an integer from ${min} to ${max}`, raw);
  }
  return Number(v);
}

function str(env: Env, variable: string, re: RegExp, expected: string): string | undefined {
  const raw = env[variable];
  if (raw === undefined) return undefined;
  if (!re.test(raw)) bad(variable, expected, raw);
  return raw;
}

const KINDS = ['ws', 'socket.io'] as const;

/**
 * Reads and checks the `TIDEWATCH_*` variables of the zero-code entry.
 * @throws {TidewatchEnvError} naming the first bad variable.
 */
export function readSettings(env: Env = process.env): RegisterSettings {
  const token = env.TIDEWATCH_METRICS_TOKEN;
  if (token !== undefined && !/^\S+$/.test(token)) {
    // Fails closed: an empty token usually means a secret that did not arrive.
    bad('TIDEWATCH_METRICS_TOKEN', 'a non-empty token without spaces, or unset', token);
  }
  let instrument = new Set<'ws' | 'socket.io'>(KINDS);
  const list = env.TIDEWATCH_INSTRUMENT;
  if (list !== undefined) {
    const names = list.split(',').map((s) => s.trim());
    if (!names.every((n): n is 'ws' | 'socket.io' => (KINDS as readonly string[]).includes(n))) {
      bad('TIDEWATCH_INSTRUMENT', `a comma-separated list of ${KINDS.join(', ')}`, list);
    }
    instrument = new Set(names);
  }
  return {
    port: int(env, 'TIDEWATCH_METRICS_PORT', 0, 65535) ?? 9464,
    host:
      str(env, 'TIDEWATCH_METRICS_HOST', /^[^\s/]+$/, 'a host name or IP address') ?? '127.0.0.1',
    token,
    prefix: str(
      env,
      'TIDEWATCH_PREFIX',
      /^[a-zA-Z_:][a-zA-Z0-9_:]*$/,
      'a Prometheus name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)',
    ),
    endpoint: str(
      env,
      'TIDEWATCH_ENDPOINT',
      /^\S{1,128}$/,
      'a label value of 1-128 non-space characters',
    ),
    idleAfterMs: int(env, 'TIDEWATCH_IDLE_AFTER_MS', 1, 86_400_000),
    seriesCap: int(env, 'TIDEWATCH_SERIES_CAP', 1, 1_000_000),
    instrument,
  };
}
