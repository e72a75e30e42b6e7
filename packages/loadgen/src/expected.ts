/**
 * The bridge between a {@link LoadReport} and a tidewatch-instrumented server's `/metrics`:
 * which `realtime_*` counters a run determines exactly, and reading them back.
 */
import type { TransportName } from './options.js';
import type { LoadReport } from './report.js';

/** The `transport` label the middleware adapters give each loadgen transport. */
export const SERVER_TRANSPORT_LABEL: Readonly<Record<TransportName, string>> = {
  ws: 'websocket',
  // The loadgen's Socket.IO clients use the websocket transport only (no polling upgrade).
  'socket.io': 'socketio_websocket',
  sse: 'sse',
  mqtt: 'mqtt',
  grpc: 'grpc',
};

/** Options of {@link expectedServerCounts}. */
export interface ExpectedCountsOptions {
  /** Metric name prefix of the server's `createRealtimeMetrics`. Default `realtime_`. */
  prefix?: string;
}

/**
 * The `realtime_*` counters a tidewatch-instrumented server should show for this run,
 * keyed by a selector: `name{label="value",...}` stands for the sum of every series of
 * `name` carrying those labels (read them with {@link readServerCounts}). Only counts that
 * are exact by construction are listed, and only for a server that served this run alone:
 *
 * - always: `connections_opened_total` and `handshake_duration_seconds_count` with
 *   `outcome="success"` = opened; `connections_closed_total` with
 *   `reason="normal",initiator="client"` = closedByClient and `reason="abnormal"` = dropped
 *   (gRPC: `reason="cancelled"`; after drops only the total of every close, as a grpc-js
 *   server cannot always tell a cancelled stream from a half-closed one);
 * - unless the server closed a connection abnormally (a `close-*` failure: messages in
 *   flight were lost): `messages_total` and `message_bytes_total` with `direction="in"` =
 *   messages and bytes sent (not for SSE: its POSTs are plain HTTP; not for gRPC after a
 *   drop: a cancelled stream discards the DATA frames still queued with it);
 * - additionally unless we dropped connections: `direction="out"` = messages and bytes
 *   received (a dropped socket loses what the server had in flight to it). Not for SSE: an
 *   SSE client closes by aborting its request, so an event the server wrote as it closed is
 *   counted out by the server and never received (there is no closing handshake to drain).
 *
 * @param report - A final report (after `done` / `stop()`): open connections are not closed
 *   yet and would not match.
 */
export function expectedServerCounts(
  report: LoadReport,
  options: ExpectedCountsOptions = {},
): Record<string, number> {
  const p = options.prefix ?? 'realtime_';
  const t = `transport="${SERVER_TRANSPORT_LABEL[report.transport]}"`;
  const c = report.connections;
  const grpc = report.transport === 'grpc';
  const out: Record<string, number> = {
    [`${p}connections_opened_total{${t}}`]: c.opened,
    [`${p}handshake_duration_seconds_count{${t},outcome="success"}`]: c.opened,
  };
  if (grpc && c.dropped > 0) {
    // grpc-js servers cannot always tell a client's cancel from its half-close (a cancel of
    // an idle stream can arrive as END_STREAM and a NO_ERROR reset): only the total is exact.
    out[`${p}connections_closed_total{${t}}`] = c.closedByClient + c.closedByServer + c.dropped;
  } else {
    out[`${p}connections_closed_total{${t},reason="normal",initiator="client"}`] = c.closedByClient;
    out[
      `${p}connections_closed_total{${t},reason="${grpc ? 'cancelled' : 'abnormal'}",initiator="client"}`
    ] = c.dropped;
  }
  const abnormal = Object.keys(report.failuresByReason).some((k) => k.startsWith('close-'));
  if (abnormal) return out;
  if (report.transport !== 'sse' && (report.transport !== 'grpc' || c.dropped === 0)) {
    out[`${p}messages_total{${t},direction="in"}`] = report.messages.sent;
    out[`${p}message_bytes_total{${t},direction="in"}`] = report.bytes.sent;
  }
  if (c.dropped === 0 && report.transport !== 'sse') {
    out[`${p}messages_total{${t},direction="out"}`] = report.messages.received;
    out[`${p}message_bytes_total{${t},direction="out"}`] = report.bytes.received;
  }
  return out;
}

interface Selector {
  name: string;
  labels: [string, string][];
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function parseLabels(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const m of text.matchAll(LABEL)) {
    pairs.push([m[1]!, m[2]!.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch))]);
  }
  return pairs;
}

function parseSelector(key: string): Selector {
  const i = key.indexOf('{');
  if (i === -1) return { name: key, labels: [] };
  return { name: key.slice(0, i), labels: parseLabels(key.slice(i + 1, key.lastIndexOf('}'))) };
}

/**
 * Reads selectors like those of {@link expectedServerCounts} from a Prometheus text
 * exposition: each key gets the sum of the samples of its metric whose labels include the
 * key's labels (0 when none match).
 * @param metricsText - The body of a `/metrics` response.
 * @param keys - Selectors, e.g. `Object.keys(expectedServerCounts(report))`.
 */
export function readServerCounts(
  metricsText: string,
  keys: Iterable<string>,
): Record<string, number> {
  const selectors = [...keys].map((k) => [k, parseSelector(k)] as const);
  const result: Record<string, number> = {};
  for (const [k] of selectors) result[k] = 0;
  for (const raw of metricsText.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.indexOf(' ');
    const name = line.slice(0, brace !== -1 && brace < space ? brace : space);
    const close = brace !== -1 && brace < space ? line.lastIndexOf('}') : -1;
    const labels = close === -1 ? [] : parseLabels(line.slice(brace + 1, close));
    const value = Number(
      line
        .slice(close === -1 ? space + 1 : close + 1)
        .trim()
        .split(' ')[0],
    );
    for (const [k, s] of selectors) {
      if (s.name !== name) continue;
      if (s.labels.every(([ln, lv]) => labels.some(([n, v]) => n === ln && v === lv))) {
        result[k]! += value;
      }
    }
  }
  return result;
}
