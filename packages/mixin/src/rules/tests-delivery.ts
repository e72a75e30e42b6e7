/**
 * Test scenarios of the proxy-cut, delivery-lag and broker-error alerts and of their recording
 * rules (`alerts/tests/delivery.yaml`). Proxy cuts: a WebSocket fleet whose unclean closes
 * cluster at 60 s and a gRPC one clustered at 1-2 min fire, each with its band; a spread of
 * lifetimes, clean closes clustered on purpose and a fleet with too few closes stay silent.
 * Every number follows the config's thresholds, and generation throws when a scenario could
 * no longer mean what its name says.
 */
import { CATALOG } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { lifetimeBands } from '../lifetime.js';
import { metric } from './naming.js';
import {
  checks,
  counter,
  type ExprCheck,
  fleetValues,
  type Scenario,
  type SeriesSpec,
  seriesText,
  type TestFileSpec,
  withBelow,
  withDecoys,
} from './tests-gen.js';
import { bucketQuantile } from './tests-recording.js';
import { inScope } from './tests-scope.js';
import { CUT_WINDOW_SECONDS, transportRecords } from './transports.js';

/** Minutes every scenario's series run; checks at {@link AT}. */
const RUN = 40;
const AT = 30;

/** Closes (or messages) per minute in each bucket, by the bucket's upper bound. */
type PerBucket = ReadonlyArray<readonly [upper: number, perMinute: number]>;

/** Cumulative per-minute counts for every bound of `bounds` and `+Inf`. */
function cumulative(bounds: readonly number[], perBucket: PerBucket): Array<[string, number]> {
  for (const [b] of perBucket)
    if (b !== Infinity && !bounds.includes(b)) throw new Error(`tests: ${b} is not a bucket bound`);
  const upTo = (le: number) => perBucket.reduce((n, [b, c]) => (b <= le ? n + c : n), 0);
  return [...bounds.map((b): [string, number] => [String(b), upTo(b)]), ['+Inf', upTo(Infinity)]];
}

/** `rate(counter[w])` at minute AT of a counter growing `perMinute` from 0, as Prometheus 2.42. */
const rateAt = (perMinute: number, windowMinutes: number) =>
  perMinute * Math.min(windowMinutes, AT) * (1 / (windowMinutes * 60));

/** Proxy-cut scenarios and the checks of the lifetime records. */
function cutScenarios(config: MixinConfig): Scenario[] {
  const t = config.thresholds;
  const fleet = fleetValues(config);
  const r = transportRecords(config);
  const bounds = CATALOG.connectionDuration.buckets;
  const bucket = metric(config, 'connectionDuration', '_bucket');
  const closes = (instance: string, transport: string, reason: string, per: PerBucket) =>
    cumulative(bounds, per).map(
      ([le, n]): SeriesSpec => ({
        labels: inScope(config.ruleSelector, {
          ...fleet,
          endpoint: transport === 'grpc' ? '/chat.Chat/Subscribe' : '/ws',
          instance,
          le,
          reason,
          transport,
        }),
        name: bucket,
        values: counter([[n, RUN]]),
      }),
    );
  // Enough closes per minute for the minimum within the window, in units of 100.
  const unit = 100 * Math.max(1, Math.ceil(t.proxyCutMinCloses / (CUT_WINDOW_SECONDS / 60) / 50));
  const share = Math.max(0.9, (1 + t.proxyCutRatio) / 2);
  const clustered = Math.round(unit * share);
  if (clustered / unit <= t.proxyCutRatio)
    throw new Error(`tests: proxyCutRatio ${t.proxyCutRatio} leaves no share that can fire`);
  // The rest of the unclean closes, spread over long lifetimes.
  const rest = (n: number): PerBucket => [
    [300, Math.ceil(n / 3)],
    [1800, Math.ceil((n - Math.ceil(n / 3)) / 2)],
    [3600, n - Math.ceil(n / 3) - Math.ceil((n - Math.ceil(n / 3)) / 2)],
  ];
  // A healthy spread: no band holds more than a fifth.
  const spread: PerBucket = [
    [5, 2],
    [15, 5],
    [30, 8],
    [60, 12],
    [120, 15],
    [300, 20],
    [600, 18],
    [1800, 12],
    [3600, 5],
    [7200, 3],
  ].map(([b, n]) => [b as number, ((n as number) * unit) / 100] as const);
  const spreadMax = Math.max(...spread.map(([, n]) => n)) / unit;
  if (spreadMax >= t.proxyCutRatio)
    throw new Error(
      `tests: proxyCutRatio ${t.proxyCutRatio} would fire on a healthy spread (${spreadMax} in one band)`,
    );
  const band = (upper: number) => lifetimeBands().find((b) => b.upper === String(upper));
  const at60 = band(60)?.label as string;
  const at120 = band(120)?.label as string;
  const ws = [
    ...closes('chat-0', 'websocket', 'abnormal', [[60, clustered], ...rest(unit - clustered)]),
  ];
  const grpc = closes('chat-1', 'grpc', 'cancelled', [[120, clustered], ...rest(unit - clustered)]);
  // Clean closes of clients that reconnect every minute by design: not a proxy, ignored.
  const clean = closes('chat-0', 'websocket', 'normal', [[60, unit * 5]]);
  const mqtt = closes('chat-1', 'mqtt', 'abnormal', spread);
  const warn = (transport: string, lifetime: string) => ({
    ...fleet,
    lifetime,
    severity: 'warning',
    transport,
  });
  const s = (name: string, labels: Record<string, string>, value: number) => ({
    labels: seriesText(name, labels),
    value,
  });
  const at = (expr: string, samples: ExprCheck['samples']): ExprCheck => ({
    at: AT,
    expr,
    samples,
  });
  const w = CUT_WINDOW_SECONDS / 60;
  const recordChecks: ExprCheck[] = [
    at(`${r.cutBuckets}{transport="websocket", le="+Inf"}`, [
      s(r.cutBuckets, { ...fleet, le: '+Inf', transport: 'websocket' }, rateAt(unit, w)),
    ]),
    at(`${r.cutBands}{transport="websocket", lifetime="${at60}"}`, [
      s(
        r.cutBands,
        { ...fleet, lifetime: at60, transport: 'websocket' },
        rateAt(clustered, w) - rateAt(0, w),
      ),
    ]),
  ];
  // Few closes, all at one lifetime: below the minimum within the window.
  const fewPerMinute = Math.floor((t.proxyCutMinCloses - 1) / Math.min(w, RUN));
  const lowVolume: Scenario[] =
    fewPerMinute >= 1
      ? [
          {
            alerts: [{ alert: 'RealtimeProxyTimeoutCuts', at: AT + 8, firing: [] }],
            name: 'proxy cuts: a small fleet whose few closes all happen at 60 s stays silent',
            series: closes('chat-0', 'websocket', 'abnormal', [[60, fewPerMinute]]),
          },
        ]
      : [];
  return [
    {
      alerts: checks(
        'RealtimeProxyTimeoutCuts',
        [
          { labels: warn('grpc', at120), value: clustered / unit },
          { labels: warn('websocket', at60), value: clustered / unit },
        ],
        AT,
        10,
      ),
      exprs: recordChecks,
      name: 'proxy cuts: unclean closes clustered at 60 s (websocket) and 1-2 min (grpc) fire with their band; clean closes and an MQTT spread do not',
      series: [...ws, ...grpc, ...clean, ...mqtt],
    },
    {
      alerts: [{ alert: 'RealtimeProxyTimeoutCuts', at: AT, firing: [] }],
      name: 'proxy cuts: lifetimes spread over many bands stay silent',
      series: [...closes('chat-0', 'websocket', 'abnormal', spread), ...clean],
    },
    ...lowVolume,
  ];
}

/** Delivery-lag scenarios and the checks of its records. */
function lagScenarios(config: MixinConfig): Scenario[] {
  const t = config.thresholds;
  const fleet = fleetValues(config);
  const r = transportRecords(config);
  const bounds = CATALOG.deliveryLag.buckets;
  const name = metric(config, 'deliveryLag', '_bucket');
  // Slow: 5 % of the messages in the bucket above the first bound at or over the threshold.
  const from = bounds.findIndex((b) => b >= t.deliveryLagSeconds);
  const slowBucket = bounds[from + 1];
  if (from < 0 || slowBucket === undefined)
    throw new Error(`tests: no lag bucket above deliveryLagSeconds ${t.deliveryLagSeconds}`);
  const slow: PerBucket = [
    [0.01, 950],
    [slowBucket, 50],
  ];
  const fast: PerBucket = [
    [0.01, 995],
    [0.05, 5],
  ];
  const lag = (instance: string, transport: string, per: PerBucket) =>
    cumulative(bounds, per).map(
      ([le, n]): SeriesSpec => ({
        labels: inScope(config.ruleSelector, { ...fleet, instance, le, transport }),
        name,
        values: counter([[n, RUN]]),
      }),
    );
  const p = (q: number, per: PerBucket) =>
    bucketQuantile(
      q,
      cumulative(bounds, per).map(([le, n]) => [
        le === '+Inf' ? Infinity : Number(le),
        rateAt(n, 5),
      ]),
    );
  const p99 = p(0.99, slow);
  if (!(p99 > t.deliveryLagSeconds) || !(p(0.99, fast) < t.deliveryLagSeconds))
    throw new Error(`tests: the lag scenarios do not straddle ${t.deliveryLagSeconds}s`);
  const quantileChecks = (['0.5', '0.99'] as const).map(
    (q): ExprCheck => ({
      at: AT,
      expr: `${r.lagQuantile}{transport="mqtt", quantile="${q}"}`,
      samples: [
        {
          labels: seriesText(r.lagQuantile, { ...fleet, quantile: q, transport: 'mqtt' }),
          value: p(Number(q), slow),
        },
      ],
    }),
  );
  const bucketCheck: ExprCheck = {
    at: AT,
    expr: `${r.lagBuckets}{transport="mqtt", le="+Inf"}`,
    samples: [
      {
        labels: seriesText(r.lagBuckets, { ...fleet, le: '+Inf', transport: 'mqtt' }),
        value: rateAt(1000, 5),
      },
    ],
  };
  return withBelow([
    {
      alerts: checks(
        'RealtimeDeliveryLagHigh',
        [
          {
            labels: { ...fleet, quantile: '0.99', severity: 'warning', transport: 'mqtt' },
            value: p99,
          },
        ],
        AT,
        8,
      ),
      below: (x) => x.labels.transport !== 'mqtt',
      exprs: [...quantileChecks, bucketCheck],
      name: 'delivery lag: MQTT p99 above the threshold fires; websocket and gRPC below stay silent',
      series: [
        ...lag('chat-0', 'mqtt', slow),
        ...lag('chat-0', 'websocket', fast),
        ...lag('chat-1', 'grpc', fast),
      ],
    },
  ]);
}

/** Broker-error scenarios. */
function brokerScenarios(config: MixinConfig): Scenario[] {
  const t = config.thresholds;
  const fleet = fleetValues(config);
  const name = metric(config, 'brokerErrors');
  const errors = (
    instance: string,
    broker: string,
    type: string,
    perMinute: number,
  ): SeriesSpec => ({
    labels: inScope(config.ruleSelector, { ...fleet, broker, instance, type }),
    name,
    values: counter([[perMinute, RUN]]),
  });
  // Twice the threshold, two thirds from one instance's lost connection, a third from the other's publishes.
  const high = Math.max(3, Math.ceil(t.brokerErrorsPerSecond * 120));
  const highA = Math.ceil((high * 2) / 3);
  const below = Math.floor(t.brokerErrorsPerSecond * 30);
  return withBelow([
    {
      alerts: checks(
        'RealtimeBrokerErrors',
        [
          {
            labels: { ...fleet, broker: 'redis', severity: 'warning' },
            value: rateAt(highA, 5) + rateAt(high - highA, 5),
          },
        ],
        AT,
        8,
      ),
      below: (x) => x.labels.broker !== 'redis',
      name: 'broker errors: redis above the rate fires (summed over instances and types); socketio_redis below stays silent',
      series: [
        errors('chat-0', 'redis', 'connection', highA),
        errors('chat-1', 'redis', 'publish', high - highA),
        errors('chat-0', 'socketio_redis', 'decode', below),
      ],
    },
  ]);
}

/** The test file of the proxy-cut, delivery-lag and broker-error alerts. */
export function deliveryTests(config: MixinConfig): TestFileSpec {
  const scope = [{ field: 'ruleSelector', selector: config.ruleSelector }];
  return {
    path: 'alerts/tests/delivery.yaml',
    scenarios: withDecoys(scope, [
      ...cutScenarios(config),
      ...lagScenarios(config),
      ...brokerScenarios(config),
    ]),
  };
}
