/**
 * Lifetime bands of closed connections, shared by the proxy-cut recording rules, the alert,
 * its tests and the dashboard panel. A proxy or load balancer that cuts idle (or too old)
 * connections cuts them all at the same age: nginx Ingress' `proxy-read-timeout` (60 s by
 * default), AWS ALB's idle timeout (60 s), API Gateway's 10 min idle / 2 h limit. Their
 * lifetimes then pile up in one bucket of `connection_duration_seconds`, while connections
 * lost to networks and clients spread over many. A band is one bucket `(lower, upper]`.
 */
import { CATALOG, CLOSE_REASONS } from '@tidewatch/conventions';
import { matcher } from './labels.js';

/**
 * The close reasons a cut by something in the path looks like to the server: `abnormal` (the
 * TCP connection ended without a close frame, 1006: nginx, ALB, a NAT), `going_away` (1001:
 * API Gateway and some CDNs close with it at their limit), `error` (1011 and unmapped codes)
 * and `cancelled` (a gRPC stream reset by a proxy). Clean closes (`normal`), the server's own
 * decisions (`idle_timeout`, `ping_timeout`, `auth`, `server_shutdown`, ...) are left out: a
 * session that expires on schedule is not a proxy.
 */
export const CUT_REASONS = ['abnormal', 'going_away', 'error', 'cancelled'] as const;

/** The PromQL matcher on {@link CUT_REASONS}. */
export const cutReasonMatcher = (): string => matcher('reason', CLOSE_REASONS, ...CUT_REASONS);

/** One lifetime band: closes with `lower < lifetime <= upper` seconds. */
export interface LifetimeBand {
  /** The `le` of the bucket below, as Prometheus labels it. */
  lower: string;
  /** The band's own `le`. */
  upper: string;
  /** The `lifetime` label of the band's series, e.g. `30s-1m`. */
  label: string;
}

/** Bands start here: shorter lives are failed starts, not timeouts a proxy would have. */
const FIRST_LOWER_SECONDS = 5;

/** `90` -> `90s`, `120` -> `2m`, `7200` -> `2h`. */
function duration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

/**
 * The bands, from the catalogue's lifetime buckets: every finite bucket whose lower bound is
 * at least 5 s (5s-15s, 15s-30s, 30s-1m, 1m-2m, ... 12h-24h).
 */
export function lifetimeBands(): LifetimeBand[] {
  const bounds = CATALOG.connectionDuration.buckets;
  const bands: LifetimeBand[] = [];
  for (let i = 1; i < bounds.length; i++) {
    const lower = bounds[i - 1] as number;
    const upper = bounds[i] as number;
    if (lower < FIRST_LOWER_SECONDS) continue;
    bands.push({
      label: `${duration(lower)}-${duration(upper)}`,
      lower: String(lower),
      upper: String(upper),
    });
  }
  return bands;
}

/**
 * One series per band, labelled `lifetime`: `cumulative(upper) - cumulative(lower)`, the two
 * cumulative bucket expressions matched ignoring `le`. `cumulative(le)` must return the same
 * label set for every `le` apart from `le` itself.
 */
export function bandsExpr(cumulative: (le: string) => string): string {
  return lifetimeBands()
    .map(
      (b) =>
        `label_replace(\n  ${cumulative(b.upper)}\n  - ignoring (le)\n  ${cumulative(b.lower)},\n  "lifetime", "${b.label}", "", ""\n)`,
    )
    .join('\nor\n');
}
