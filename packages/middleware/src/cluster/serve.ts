import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import {
  type MetricsAuth,
  type MetricsRequestHandler,
  metricsGate,
  metricsHandler,
} from '../handler.js';

/**
 * A `(req, res)` handler that serves `aggregate()`'s registry through `metricsHandler`.
 *
 * Method and credentials are checked first (`metricsGate`, the same check `metricsHandler`
 * runs): an unauthenticated request is refused before any worker is asked, so it cannot make
 * every worker serialise its metrics. An accepted request's registry is then served by a
 * per-scrape `metricsHandler` without auth, which brings OpenMetrics negotiation, HEAD and
 * per-family failure isolation.
 *
 * @throws {TidewatchConfigError} from `metricsHandler` for a bad `auth` or `openMetrics`.
 */
export function serveAggregated(
  aggregate: () => Promise<Registry>,
  options: { auth?: MetricsAuth; openMetrics?: boolean },
): MetricsRequestHandler {
  const openMetrics = options.openMetrics;
  const serveOptions = openMetrics !== undefined ? { openMetrics } : {};
  // Validates `openMetrics` at construction, as metricsHandler would.
  metricsHandler(new Registry(), serveOptions);
  const gate = metricsGate(options.auth);
  const failed = (res: ServerResponse) => {
    if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
    res.end('metrics aggregation failed\n');
  };
  return function tidewatchAggregatedMetrics(req: IncomingMessage, res: ServerResponse) {
    if (!gate(req, res)) return;
    aggregate().then(
      (registry) => metricsHandler(registry, serveOptions)(req, res),
      () => failed(res),
    );
  };
}
