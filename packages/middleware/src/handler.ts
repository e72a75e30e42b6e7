import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { TidewatchConfigError } from './errors.js';
import type { ValueSeries } from './internal/family.js';
import { fail, noUnknownKeys, optObject } from './internal/validate.js';
import { internalsOf, type RealtimeMetrics } from './metrics.js';

/** Credentials a scraper must present. Several entries allow rotating a secret. */
export type MetricsAuth =
  | { bearer: string | readonly string[] }
  | {
      basic:
        | { username: string; password: string }
        | ReadonlyArray<{ username: string; password: string }>;
    };

/** Options of {@link metricsHandler}. */
export interface MetricsHandlerOptions {
  /** Required credentials; without this option the endpoint is open. */
  auth?: MetricsAuth;
  /** Serve OpenMetrics when the scraper's `Accept` asks for it. Default true. */
  openMetrics?: boolean;
}

/** A `(req, res)` handler for express and plain `node:http`. */
export type MetricsRequestHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: unknown,
) => void;

const kInstances = Symbol.for('tidewatch.instances');
const PROM = Registry.PROMETHEUS_CONTENT_TYPE;
const OM = Registry.OPENMETRICS_CONTENT_TYPE;

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Compares through fixed-length digests, so neither length nor content leaks by timing. */
function matchesAny(presented: string, expected: readonly Buffer[]): boolean {
  const d = digest(presented);
  let ok = false;
  for (const e of expected) ok = timingSafeEqual(d, e) || ok;
  return ok;
}

function nonEmpty(option: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) fail(option, 'a non-empty string', v);
  return v;
}

type Check = (header: string | undefined) => boolean;

function buildCheck(auth: unknown): { check: Check; challenge: string } | undefined {
  const a = optObject('auth', auth);
  if (a === undefined) return undefined;
  noUnknownKeys('auth', a, ['bearer', 'basic']);
  if ('bearer' in a === 'basic' in a) {
    throw new TidewatchConfigError('auth', 'must have exactly one of "bearer" or "basic"');
  }
  if ('bearer' in a) {
    const list = Array.isArray(a.bearer) ? a.bearer : [a.bearer];
    if (list.length === 0) fail('auth.bearer', 'a non-empty string or list', a.bearer);
    const tokens = list.map((t, i) =>
      digest(nonEmpty(list.length > 1 ? `auth.bearer[${i}]` : 'auth.bearer', t)),
    );
    return {
      challenge: 'Bearer realm="metrics"',
      check: (h) => {
        const m = h === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(h);
        return m !== null && matchesAny(m[1]!, tokens);
      },
    };
  }
  const list = Array.isArray(a.basic) ? a.basic : [a.basic];
  if (list.length === 0) fail('auth.basic', 'a credential or a non-empty list', a.basic);
  const creds = list.map((c, i) => {
    const at = list.length > 1 ? `auth.basic[${i}]` : 'auth.basic';
    const o = optObject(at, c);
    if (o === undefined) fail(at, 'an object { username, password }', c);
    const user = nonEmpty(`${at}.username`, o.username);
    if (user.includes(':')) fail(`${at}.username`, 'a name without ":"', user);
    return digest(`${user}:${nonEmpty(`${at}.password`, o.password)}`);
  });
  return {
    challenge: 'Basic realm="metrics", charset="UTF-8"',
    check: (h) => {
      const m = h === undefined ? null : /^Basic +([A-Za-z0-9+/=]+)\s*$/i.exec(h);
      return m !== null && matchesAny(Buffer.from(m[1]!, 'base64').toString('utf8'), creds);
    },
  };
}

function wantsOpenMetrics(accept: string | undefined): boolean {
  return accept !== undefined && accept.includes('application/openmetrics-text');
}

interface PromMetricLike {
  name: string;
  type?: string;
  get(): Promise<{ name: string }> | { name: string };
}

/**
 * Renders every metric of the registry on its own, so one failing collector costs only
 * its own lines. Rendering goes through a view of the registry with the wanted content
 * type, so negotiating OpenMetrics never changes the user's registry.
 */
async function render(
  registry: Registry,
  contentType: string,
  onFail: (name: string, err: unknown) => void,
): Promise<string> {
  const om = contentType === OM;
  const view = Object.create(registry, { contentType: { value: contentType } }) as {
    getMetricsAsString?: (m: PromMetricLike) => Promise<string>;
  };
  // An undocumented but long-standing prom-client method (14.x, 15.x); without it, fall
  // back to the registry's own all-or-nothing rendering.
  if (typeof view.getMetricsAsString !== 'function') return registry.metrics();
  const metrics = registry.getMetricsAsArray() as unknown as PromMetricLike[];
  const parts = await Promise.all(
    metrics.map(async (m) => {
      try {
        // OpenMetrics names the counter family without `_total` and adds it per sample.
        const target: PromMetricLike =
          om && m.type === 'counter'
            ? {
                name: m.name,
                get: async () => {
                  const d = await m.get();
                  return { ...d, name: d.name.replace(/_total$/, '') };
                },
              }
            : m;
        return await view.getMetricsAsString!(target);
      } catch (err) {
        onFail(m.name, err);
        return null;
      }
    }),
  );
  const ok = parts.filter((p: string | null): p is string => p !== null);
  return om ? `${ok.join('\n')}\n# EOF\n` : `${ok.join('\n\n')}\n`;
}

/**
 * @internal The method and credential check of {@link metricsHandler}, for handlers that
 * must refuse before doing expensive work (the cluster aggregator asks every worker). Answers
 * 405/401 itself and returns false.
 * @throws {TidewatchConfigError} for a bad `auth`.
 */
export function metricsGate(
  auth: MetricsAuth | undefined,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const check = buildCheck(auth);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end('method not allowed\n');
      return false;
    }
    if (check && !check.check(req.headers.authorization)) {
      res.writeHead(401, { 'WWW-Authenticate': check.challenge, 'Content-Type': 'text/plain' });
      res.end('unauthorized\n');
      return false;
    }
    return true;
  };
}

/**
 * A `/metrics` handler: serves the registry (of `source`, or `source` itself) in the
 * Prometheus text format, or OpenMetrics when the scraper asks. With `auth`, requests
 * without matching credentials get 401 (compared in constant time). A collector that
 * fails is left out of that scrape and counted in `scrape_errors_total{metric}`.
 *
 * @throws {TidewatchConfigError} when `source` or `auth` is invalid (e.g. an empty
 *   token from an unset environment variable: the endpoint fails closed at startup).
 */
export function metricsHandler(
  source: RealtimeMetrics | Registry,
  options: MetricsHandlerOptions = {},
): MetricsRequestHandler {
  const opts = optObject('options', options) ?? {};
  noUnknownKeys('', opts, ['auth', 'openMetrics']);
  const gate = metricsGate(opts.auth as MetricsAuth | undefined);
  const negotiate = opts.openMetrics !== false;
  let registry: Registry;
  if (
    source instanceof Registry ||
    typeof (source as unknown as Registry)?.getMetricsAsArray === 'function'
  ) {
    registry = source as unknown as Registry;
  } else {
    internalsOf(source as RealtimeMetrics, 'source');
    registry = (source as RealtimeMetrics).registry;
  }
  const owner = () => {
    const instances = (registry as unknown as { [kInstances]?: Map<string, RealtimeMetrics> })[
      kInstances
    ];
    return instances?.values().next().value;
  };
  const onFail = (name: string, err: unknown) => {
    const m = owner();
    if (!m) return;
    const r = internalsOf(m).recorder;
    (r.series('scrapeErrors', [name]) as ValueSeries).value++;
    r.error('scrape', err);
  };

  return function tidewatchMetrics(req, res) {
    if (!gate(req, res)) return;
    const contentType = negotiate && wantsOpenMetrics(req.headers.accept) ? OM : PROM;
    render(registry, contentType, onFail).then(
      (body) => {
        res.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        onFail('*', err);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('metrics collection failed\n');
      },
    );
  };
}
