/**
 * The nowcast's leading signals for the `prometheus` source, which has no expositions of its
 * own to read them from: one round of three instant queries per collection, against the
 * source's Prometheus with the source's auth, deadline and body cap, and the source's selector
 * (the label matchers of its `sum(<connections>{...})` query):
 *
 * - `sum(<prefix>connections{sel})`: the fleet's open connections;
 * - `sum(rate(<prefix>handshake_duration_seconds_count{sel,outcome="success"}[60s]))`:
 *   successful handshakes per second;
 * - `sum(rate(<prefix>connections_closed_total{sel,reason=~"abnormal|error|..."}[60s]))`:
 *   closes whose clients come back (the reasons the scrape source's live figures count).
 *
 * Why 60 s: `rate()` needs two samples in its range, and Prometheus' advice is a range of at
 * least four scrape intervals so one missed scrape does not empty it; at the usual 15 s scrape
 * interval that is one minute. A shorter range would see a surge sooner but flap to nothing
 * whenever a scrape is late.
 */
import { CATALOG, type HandshakeOutcome, metricName } from '@tidewatch/conventions';
import { queryPrometheusInstant } from '@tidewatch/forecast';
import { ABNORMAL_CLOSE_REASONS } from '../serve/live.js';
import type { LeadingContext, LeadingReader } from './kind.js';
import type { PrometheusSourceConfig } from './prometheus.js';

/** The range of the two `rate()` queries, seconds (see the module comment). */
export const LEADING_RATE_WINDOW_SECONDS = 60;

/** The three instant queries of one round. */
export interface LeadingQueries {
  readonly connections: string;
  readonly handshakes: string;
  readonly abnormalCloses: string;
}

/** Options of {@link leadingQueries}. */
export interface LeadingQueryOptions {
  /** The middleware's metric prefix, e.g. `realtime_`. */
  readonly prefix: string;
  /** Label matchers without braces, e.g. `namespace="realtime",job="chat"`; `''` for none. */
  readonly matchers: string;
  /** Range of the rates, seconds. Default {@link LEADING_RATE_WINDOW_SECONDS}. */
  readonly rateWindowSeconds?: number;
}

const SUCCESS: HandshakeOutcome = 'success';

/** The PromQL of one round, names from the metric catalogue. */
export function leadingQueries(options: LeadingQueryOptions): LeadingQueries {
  const { prefix, matchers } = options;
  const range = `[${options.rateWindowSeconds ?? LEADING_RATE_WINDOW_SECONDS}s]`;
  const sel = (...extra: string[]) => `{${[matchers, ...extra].filter(Boolean).join(',')}}`;
  const handshakes = `${metricName('handshakeDuration', prefix)}_count`;
  return {
    connections: `sum(${metricName('connections', prefix)}${sel()})`,
    handshakes: `sum(rate(${handshakes}${sel(`outcome="${SUCCESS}"`)}${range}))`,
    abnormalCloses: `sum(rate(${metricName('connectionsClosed', prefix)}${sel(
      `reason=~"${ABNORMAL_CLOSE_REASONS.join('|')}"`,
    )}${range}))`,
  };
}

/** A `{...}` selector: any character but braces and quotes, or a quoted string with escapes. */
const SELECTOR = String.raw`\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}`;

/**
 * The label matchers of a query of the form `sum(<metric>{matchers})` (also `sum(<metric>)`,
 * `sum by () (...)`, `sum without () (...)`): the selector the leading signals reuse, without
 * braces or a trailing comma (`''` for none).
 * @returns `undefined` for any other query: its selector cannot be known.
 */
export function selectorOf(query: string, metric: string): string | undefined {
  const name = metric.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const grouping = String.raw`(?:(?:by|without)\s*\(\s*\)\s*)?`;
  const re = new RegExp(
    String.raw`^\s*sum\s*${grouping}\(\s*${name}\s*(?:${SELECTOR})?\s*\)\s*${grouping}$`,
  );
  const m = re.exec(query);
  if (!m) return undefined;
  return (m[1] ?? '').trim().replace(/\s*,\s*$/, '');
}

/**
 * The leading-signal reader of a `prometheus` source, or one line saying why there is none
 * (its query is not a plain sum of the connections gauge, so the fleet's selector is unknown).
 * Each `read()` sends the three {@link leadingQueries} at once, each under the source's
 * `timeoutSeconds` and `maxBodyBytes` (and at most 16 samples: every query is one `sum`).
 */
export function prometheusLeading(
  source: PrometheusSourceConfig,
  context: LeadingContext,
): LeadingReader | string {
  const connections = context.prefix + CATALOG.connections.name;
  const query = source.query ?? `sum(${context.metric})`;
  const matchers = selectorOf(query, connections);
  if (matchers === undefined)
    return `off: the source query ${query} is not sum(${connections}{...}), so the fleet's selector is unknown`;
  const queries = leadingQueries({ prefix: context.prefix, matchers });
  const timeoutMs = Math.max(1, Math.round(source.timeoutSeconds * 1000));
  const ask = (q: string, signal: AbortSignal | undefined) =>
    queryPrometheusInstant({
      url: source.url,
      query: q,
      timeoutMs,
      maxBodyBytes: source.maxBodyBytes,
      maxSamples: 16,
      ...(source.bearerToken ? { bearerToken: source.bearerToken } : {}),
      ...(signal ? { signal } : {}),
    }).then((samples) => (samples.length === 0 ? null : samples.reduce((a, s) => a + s.value, 0)));
  return {
    async read(signal) {
      const atMs = context.now();
      // allSettled, not all: a failure must not leave the other requests running unobserved.
      const settled = await Promise.allSettled([
        ask(queries.connections, signal),
        ask(queries.handshakes, signal),
        ask(queries.abnormalCloses, signal),
      ]);
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const [c, h, a] = settled.map((r) => (r as PromiseFulfilledResult<number | null>).value);
      // No connections series: the fleet is not there (the source's own read says so). No
      // handshake or close series yet: none happened since the servers started.
      if (c === null || c === undefined) return null;
      return {
        atMs,
        connections: c,
        handshakesPerSecond: h ?? 0,
        abnormalClosesPerSecond: a ?? 0,
        readyPods: 0,
      };
    },
  };
}
