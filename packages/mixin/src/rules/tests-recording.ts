/**
 * A `promql_expr_test` for every recording rule. Expected values are computed with the same
 * float operations Prometheus performs (see `rate` and `sum` below; `histogram_quantile` is
 * ported), because promtool compares sample values exactly.
 */
import type { MixinConfig } from '../config.js';
import { durationMinutes, metric } from './naming.js';
import { fleetRecords, HANDSHAKE_QUANTILES } from './recording.js';
import { SLI_WINDOWS, slis } from './slo.js';
import {
  constant,
  counter,
  type ExprCheck,
  fleetValues,
  otherFleet,
  type SeriesSpec,
  seriesText,
  type TestFileSpec,
} from './tests-gen.js';
import { decoys, inScope, matches } from './tests-scope.js';

/** Evaluation minute of every check; series run a little longer. */
const AT = 30;
const RUN = 40;

/**
 * `rate()` of a counter growing `perMinute` from minute 0, at minute AT, over `window`, as
 * Prometheus 2.42 computes it: increase x (extrapolated / sampled interval, here exactly 1:
 * the window starts on a sample or the counter starts at 0) / range seconds, the factor
 * divided first.
 */
function rate(perMinute: number, window: string): number {
  const w = durationMinutes(window);
  return perMinute * Math.min(w, AT) * (1 / (w * 60));
}

/**
 * `sum()` of `terms` as an expected value. promtool adds series in an order that varies from
 * run to run, and float addition is not associative, so a fixture is only valid when every
 * order gives the same bits (always true for two terms).
 * @throws Error when the result depends on the order.
 */
function sum(...terms: number[]): number {
  const orders = (xs: number[]): number[][] =>
    xs.length <= 1
      ? [xs]
      : xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map((o) => [x, ...o]));
  const results = new Set(orders(terms).map((o) => o.reduce((a, b) => a + b)));
  if (results.size !== 1)
    throw new Error(
      `tests: the sum of ${terms.join(', ')} depends on the order of the series; choose other rates`,
    );
  return [...results][0] as number;
}

/**
 * Prometheus 2.42's `bucketQuantile` for sorted, monotonic buckets ending in +Inf.
 * @param buckets - `[upperBound, cumulative rate]`, ascending.
 */
export function bucketQuantile(
  q: number,
  buckets: ReadonlyArray<readonly [number, number]>,
): number {
  const n = buckets.length;
  const total = (buckets[n - 1] as readonly [number, number])[1];
  let rank = q * total;
  let b = 0;
  while (b < n - 1 && (buckets[b] as readonly [number, number])[1] < rank) b++;
  if (b === n - 1) return (buckets[n - 2] as readonly [number, number])[0];
  const [end, c] = buckets[b] as readonly [number, number];
  let start = 0;
  let count = c;
  if (b > 0) {
    const [prevBound, prevCount] = buckets[b - 1] as readonly [number, number];
    start = prevBound;
    count -= prevCount;
    rank -= prevCount;
  }
  return start + (end - start) * (rank / count);
}

/** The recording-rule test file. */
export function recordingTests(config: MixinConfig): TestFileSpec {
  const fleet = fleetValues(config);
  const other = otherFleet(config);
  const r = fleetRecords(config);
  const ws = { endpoint: '/ws', transport: 'websocket' };
  const srv = (instance: string, extra: Record<string, string>) =>
    inScope(config.ruleSelector, { ...fleet, instance, ...extra });
  // The second fleet keeps its name: counted when the selector reads it, ignored when not.
  const feed = (extra: Record<string, string>) =>
    other.inScope
      ? inScope(config.ruleSelector, { ...other.labels, instance: 'feed-0', ...extra })
      : { ...other.labels, instance: 'feed-0', ...extra };
  const series = (name: string, labels: Record<string, string>, values: string): SeriesSpec => ({
    labels,
    name,
    values,
  });
  const grow = (perMinute: number) => counter([[perMinute, RUN]]);
  const conns = metric(config, 'connections');
  const closed = metric(config, 'connectionsClosed');
  const msgs = metric(config, 'messages');
  const dropped = metric(config, 'messagesDropped');
  const count = metric(config, 'handshakeDuration', '_count');
  const bucket = metric(config, 'handshakeDuration', '_bucket');
  const le = String(config.handshakeLatencySlo.thresholdSeconds);
  // Successful-handshake buckets per minute (cumulative counts), deliberately off the bounds
  // so no quantile lands on a tie.
  const bucketRates: Array<readonly [string, number]> = [
    ['0.1', 40],
    ['0.25', 80],
    ['0.5', 95],
    ['+Inf', 100],
  ];
  const inputs: SeriesSpec[] = [
    series(conns, srv('chat-0', { ...ws, state: 'active' }), constant(300, RUN)),
    series(conns, srv('chat-0', { ...ws, state: 'idle' }), constant(50, RUN)),
    series(conns, srv('chat-1', { ...ws, state: 'active' }), constant(150, RUN)),
    series(conns, feed({ ...ws, state: 'active' }), constant(40, RUN)),
    series(metric(config, 'connectionsOpened'), srv('chat-0', ws), grow(60)),
    series(metric(config, 'connectionsOpened'), srv('chat-1', ws), grow(120)),
    series(closed, srv('chat-0', { ...ws, initiator: 'client', reason: 'normal' }), grow(30)),
    series(closed, srv('chat-0', { ...ws, initiator: 'server', reason: 'normal' }), grow(30)),
    series(closed, srv('chat-0', { ...ws, initiator: 'client', reason: 'abnormal' }), grow(6)),
    series(msgs, srv('chat-0', { ...ws, client_type: 'browser', direction: 'in' }), grow(600)),
    series(msgs, srv('chat-0', { ...ws, client_type: 'browser', direction: 'out' }), grow(900)),
    series(msgs, srv('chat-0', { ...ws, client_type: 'mobile', direction: 'out' }), grow(300)),
    series(dropped, srv('chat-0', { reason: 'backpressure', transport: 'websocket' }), grow(3)),
    series(dropped, srv('chat-0', { reason: 'not_open', transport: 'websocket' }), grow(6)),
    ...bucketRates.map(([b, v]) =>
      series(bucket, srv('chat-0', { ...ws, le: b, outcome: 'success' }), grow(v)),
    ),
    // Rejections answer fast; they must not enter the latency buckets or quantiles.
    series(bucket, srv('chat-0', { ...ws, le: '+Inf', outcome: 'rejected' }), grow(50)),
    series(bucket, srv('chat-0', { ...ws, le: '0.1', outcome: 'rejected' }), grow(50)),
    // The SLIs: 1.2 % of valid handshakes fail, 1 % of successful ones are slower than the
    // bound. Two valid outcomes only: see `sum`.
    series(count, srv('chat-0', { ...ws, outcome: 'success' }), grow(9800)),
    series(count, srv('chat-0', { ...ws, outcome: 'error' }), grow(120)),
    series(count, srv('chat-0', { ...ws, outcome: 'aborted' }), grow(500)),
  ];
  // The latency SLI reads its own pair of series in a second scenario (the bucket above at
  // `le` would collide with the quantile fixture when the bound is 0.25).
  const sliLatency: SeriesSpec[] = [
    series(count, srv('chat-0', { ...ws, outcome: 'success' }), grow(10_000)),
    series(bucket, srv('chat-0', { ...ws, le, outcome: 'success' }), grow(9900)),
    series(bucket, srv('chat-0', { ...ws, le: '+Inf', outcome: 'success' }), grow(10_000)),
  ];
  // Decoys: every series the selector reads, once per matcher with that matcher broken, at
  // rates of its own (7, 8, 9... per minute, so that no ratio survives a leak by scaling):
  // were the selector lost, each record would change or gain a series.
  const plusDecoys = (list: SeriesSpec[]): SeriesSpec[] => [
    ...list,
    ...decoys(config.ruleSelector).flatMap((d) =>
      list
        .filter((x) => matches(config.ruleSelector, x.labels))
        .flatMap((x, i) => {
          const labels = d.relabel(x.labels);
          return labels ? [series(x.name, labels, grow(7 + i))] : [];
        }),
    ),
  ];
  const s = (name: string, labels: Record<string, string>, value: number) => ({
    labels: seriesText(name, labels),
    value,
  });
  const at = (expr: string, samples: ExprCheck['samples']): ExprCheck => ({
    at: AT,
    expr,
    samples,
  });
  const r5 = (perMinute: number) => rate(perMinute, '5m');
  const bucketValues = bucketRates.map(
    ([b, v]) => [b === '+Inf' ? Infinity : Number(b), r5(v)] as const,
  );
  const [errors, latency] = slis(config);
  if (!errors || !latency) throw new Error('tests: expected two SLIs');
  const fleetChecks: ExprCheck[] = [
    at(r.connections, [
      s(r.connections, fleet, 500),
      ...(other.inScope ? [s(r.connections, other.labels, 40)] : []),
    ]),
    at(r.opened, [s(r.opened, fleet, sum(r5(60), r5(120)))]),
    at(r.closedByReason, [
      s(r.closedByReason, { ...fleet, reason: 'abnormal' }, r5(6)),
      s(r.closedByReason, { ...fleet, reason: 'normal' }, sum(r5(30), r5(30))),
    ]),
    at(r.messagesByDirection, [
      s(r.messagesByDirection, { ...fleet, direction: 'in' }, r5(600)),
      s(r.messagesByDirection, { ...fleet, direction: 'out' }, sum(r5(900), r5(300))),
    ]),
    at(r.dropped, [s(r.dropped, fleet, sum(r5(3), r5(6)))]),
    at(
      r.handshakeBuckets,
      bucketRates.map(([b, v]) => s(r.handshakeBuckets, { ...fleet, le: b }, r5(v))),
    ),
    ...HANDSHAKE_QUANTILES.map((q) =>
      at(`${r.handshakeQuantile}{quantile="${q}"}`, [
        s(r.handshakeQuantile, { ...fleet, quantile: String(q) }, bucketQuantile(q, bucketValues)),
      ]),
    ),
    ...SLI_WINDOWS.map((w) => {
      const bad = rate(120, w);
      return at(errors.record(w), [s(errors.record(w), fleet, bad / sum(rate(9800, w), bad))]);
    }),
  ];
  const latencyChecks = SLI_WINDOWS.map((w) =>
    at(latency.record(w), [s(latency.record(w), fleet, 1 - rate(9900, w) / rate(10_000, w))]),
  );
  return {
    path: 'alerts/tests/recording-rules.yaml',
    scenarios: [
      {
        exprs: fleetChecks,
        name: 'fleet aggregates, handshake quantiles and the handshake-error SLI',
        series: plusDecoys(inputs),
      },
      { exprs: latencyChecks, name: 'the handshake-latency SLI', series: plusDecoys(sliLatency) },
    ],
  };
}
