/**
 * The one config everything in the mixin is generated from, in the monitoring-mixin style:
 * selectors, SLOs, thresholds, the runbook URL pattern and Grafana settings. Users override
 * any part with {@link mixinConfig}; the committed `dashboards/` and `alerts/` use the defaults.
 */
import { DEFAULT_PREFIX } from '@tidewatch/conventions';
import { checker, isMetricName, isNum, isShare } from './validate.js';

/** A service-level objective over a rolling window. */
export interface Slo {
  /** Target share of good events, e.g. 0.999. */
  objective: number;
  /** Rolling window of the error budget, days. */
  windowDays: number;
}

/** The mixin's config. Every field has a default ({@link DEFAULT_CONFIG}). */
export interface MixinConfig {
  /** Prefix of the middleware's metrics (the middleware's `prefix` option). Default `realtime_`. */
  metricPrefix: string;
  /** Selector dashboards put on the realtime servers' series. Default `job=~"$job", instance=~"$instance"`. */
  serverSelector: string;
  /** Selector recording rules and alerts put on the servers' series (empty: every job). Default ``. */
  ruleSelector: string;
  /** Selector of the predictor sidecar's series. Default `job=~".*(tidewatch|predictor).*"`. */
  predictorSelector: string;
  /**
   * Selector of kube-state-metrics' HPA series for the autoscaling alerts. Narrow it to the
   * realtime fleets' HPAs (e.g. `job="kube-state-metrics", horizontalpodautoscaler=~"chat.*"`),
   * otherwise every HPA in the cluster is watched. Default `job="kube-state-metrics"`.
   */
  hpaSelector: string;
  /** Labels that identify one fleet in aggregations (recording rules keep them). Default `["job"]`. */
  fleetLabels: string[];
  /**
   * Open connections one replica (pod) carries at full capacity, when known (the deploy
   * config's `capacityPerReplica`, the middleware's `maxConnections`). Adds the hottest pod's
   * utilisation record and RealtimeHotPod's `utilisation` condition. Default `undefined`
   * (unknown: only the skew between pods is watched).
   */
  capacityPerReplica?: number | undefined;
  /** `{{alertname}}` is replaced by the alert's name. */
  runbookUrlPattern: string;
  /** Handshake success SLO: share of handshakes that succeed (rejected/error count as bad). */
  handshakeSlo: Slo;
  /** Handshake latency SLO: share of successful handshakes faster than `thresholdSeconds` (a bucket bound). */
  handshakeLatencySlo: Slo & { thresholdSeconds: number };
  thresholds: {
    /** Fleet connections drop by more than this share within 10 min. */
    massDisconnectRatio: number;
    /**
     * A fleet smaller than this (connections at its 10-minute peak) never raises
     * RealtimeMassDisconnect: 3 of 4 test clients leaving is not an incident. Default 100.
     */
    massDisconnectMinConnections: number;
    /**
     * Share of the lost connections that closes with reason `server_shutdown` must explain for
     * a drop to count as a drain (rollout, scale-in) rather than a mass disconnect, in (0, 1].
     * Default 0.5.
     */
    drainExplainedRatio: number;
    /** Abnormal closes / all closes above this. */
    abnormalCloseRatio: number;
    /** Dropped / sent messages above this. */
    droppedMessageRatio: number;
    /** Slow consumers per instance above this. */
    slowConsumers: number;
    /** Heartbeat timeouts per second per instance above this. */
    heartbeatTimeoutsPerSecond: number;
    /** Event-loop lag p99 above this, seconds. */
    eventLoopLagSeconds: number;
    /** Open fds / max fds above this. */
    fdRatio: number;
    /** Forecast older than this, seconds. */
    forecastAgeSeconds: number;
    /**
     * RealtimeProxyTimeoutCuts: share of a fleet's unclean closes (per transport) whose
     * lifetimes fall in one lifetime band (one bucket of `connection_duration_seconds`), in
     * (0, 1]. A spread of lifetimes puts at most about 40 % in one band. Default 0.5.
     */
    proxyCutRatio: number;
    /**
     * RealtimeProxyTimeoutCuts: fewest unclean closes within 30 minutes (per fleet and
     * transport) before a cluster counts: a handful of closes proves nothing. Default 100.
     */
    proxyCutMinCloses: number;
    /** RealtimeDeliveryLagHigh: p99 publish-to-socket-write lag above this, seconds (0, 30). */
    deliveryLagSeconds: number;
    /** RealtimeBrokerErrors: broker errors per second per fleet and broker above this (>= 0). */
    brokerErrorsPerSecond: number;
    /**
     * TidewatchPredictionWouldHavePrevented (info): overloaded pod-minutes over 7 days that
     * prediction would have prevented, per scale target, above this (> 0). Default 60.
     */
    shadowPreventedPodMinutes: number;
    /**
     * RealtimeHotPod: the hottest pod's open connections / the average pod's above this
     * (> 1; 1 is perfectly balanced). Default 1.5.
     */
    hotPodSkewRatio: number;
    /**
     * RealtimeHotPod: fewest open connections per pod on average before a skew counts (> 0),
     * so small fleets and idle nights stay silent. Default 100.
     */
    hotPodMinConnections: number;
    /**
     * RealtimeHotPod (only with `capacityPerReplica`): the hottest pod's open connections /
     * `capacityPerReplica` above this, in (0, 1]. Default 0.9.
     */
    hotPodUtilisation: number;
  };
  grafana: {
    /** Prefix of dashboard titles. Default `Tidewatch / `. */
    titlePrefix: string;
    /** Prefix of dashboard uids (stable: the same config gives the same uids). */
    uidPrefix: string;
    tags: string[];
    /** Default refresh, e.g. `30s`. */
    refresh: string;
    /** Default time range, e.g. `now-6h`. */
    from: string;
  };
}

/** The defaults (what the committed files are generated with). */
export const DEFAULT_CONFIG: MixinConfig = {
  metricPrefix: DEFAULT_PREFIX,
  serverSelector: 'job=~"$job", instance=~"$instance"',
  ruleSelector: '',
  predictorSelector: 'job=~".*(tidewatch|predictor).*"',
  hpaSelector: 'job="kube-state-metrics"',
  fleetLabels: ['job'],
  capacityPerReplica: undefined,
  runbookUrlPattern:
    'https://github.com/tidewatch/tidewatch/blob/main/docs/runbooks.md#{{alertname}}',
  handshakeSlo: { objective: 0.999, windowDays: 30 },
  handshakeLatencySlo: { objective: 0.99, windowDays: 30, thresholdSeconds: 0.25 },
  thresholds: {
    massDisconnectRatio: 0.25,
    massDisconnectMinConnections: 100,
    drainExplainedRatio: 0.5,
    abnormalCloseRatio: 0.05,
    droppedMessageRatio: 0.01,
    slowConsumers: 10,
    heartbeatTimeoutsPerSecond: 1,
    eventLoopLagSeconds: 0.1,
    fdRatio: 0.8,
    forecastAgeSeconds: 300,
    proxyCutRatio: 0.5,
    proxyCutMinCloses: 100,
    deliveryLagSeconds: 1,
    brokerErrorsPerSecond: 0.1,
    shadowPreventedPodMinutes: 60,
    hotPodSkewRatio: 1.5,
    hotPodMinConnections: 100,
    hotPodUtilisation: 0.9,
  },
  grafana: {
    titlePrefix: 'Tidewatch / ',
    uidPrefix: 'tidewatch-',
    tags: ['tidewatch', 'realtime'],
    refresh: '30s',
    from: 'now-6h',
  },
};

/** Deep partial of {@link MixinConfig} for overrides. */
export type MixinConfigInput = {
  [K in keyof MixinConfig]?: MixinConfig[K] extends unknown[]
    ? MixinConfig[K]
    : MixinConfig[K] extends object
      ? Partial<MixinConfig[K]>
      : MixinConfig[K];
};

const check = checker('mixinConfig');

/**
 * The defaults with `overrides` merged in (one level deep for the nested groups).
 * @throws ConfigError (a RangeError) naming the field: an objective outside (0, 1), a
 *   non-positive window, a prefix that is not a metric-name prefix, a runbook pattern without
 *   `{{alertname}}`, no fleet label, a mass-disconnect minimum that is not > 0, a drain or
 *   proxy-cut ratio outside (0, 1], a proxy-cut minimum that is not > 0, a delivery-lag
 *   threshold outside (0, 30) s, a negative broker error rate, a capacity per replica that is
 *   set and not > 0, a hot-pod skew ratio not > 1, a hot-pod minimum not > 0, or a hot-pod
 *   utilisation outside (0, 1].
 */
export function mixinConfig(overrides: MixinConfigInput = {}): MixinConfig {
  const c: MixinConfig = {
    ...DEFAULT_CONFIG,
    ...overrides,
    handshakeSlo: { ...DEFAULT_CONFIG.handshakeSlo, ...overrides.handshakeSlo },
    handshakeLatencySlo: {
      ...DEFAULT_CONFIG.handshakeLatencySlo,
      ...overrides.handshakeLatencySlo,
    },
    thresholds: { ...DEFAULT_CONFIG.thresholds, ...overrides.thresholds },
    grafana: { ...DEFAULT_CONFIG.grafana, ...overrides.grafana },
  } as MixinConfig;
  check(
    'metricPrefix',
    c.metricPrefix,
    isMetricName(c.metricPrefix),
    `a metric-name prefix like "${DEFAULT_PREFIX}"`,
  );
  for (const key of ['handshakeSlo', 'handshakeLatencySlo'] as const) {
    const { objective, windowDays } = c[key];
    check(
      `${key}.objective`,
      objective,
      isNum(objective) && objective > 0 && objective < 1,
      'a share between 0 and 1 (exclusive)',
    );
    check(
      `${key}.windowDays`,
      windowDays,
      isNum(windowDays) && windowDays > 0,
      'a number of days > 0',
    );
  }
  check(
    'runbookUrlPattern',
    c.runbookUrlPattern,
    typeof c.runbookUrlPattern === 'string' && c.runbookUrlPattern.includes('{{alertname}}'),
    'a URL containing {{alertname}}',
  );
  check(
    'fleetLabels',
    c.fleetLabels,
    Array.isArray(c.fleetLabels) && c.fleetLabels.length > 0,
    'at least one label',
  );
  const t = c.thresholds;
  check(
    'thresholds.massDisconnectMinConnections',
    t.massDisconnectMinConnections,
    isNum(t.massDisconnectMinConnections) && t.massDisconnectMinConnections > 0,
    'a number of connections > 0',
  );
  check(
    'thresholds.drainExplainedRatio',
    t.drainExplainedRatio,
    isShare(t.drainExplainedRatio),
    'a share in (0, 1]',
  );
  check('thresholds.proxyCutRatio', t.proxyCutRatio, isShare(t.proxyCutRatio), 'a share in (0, 1]');
  check(
    'thresholds.proxyCutMinCloses',
    t.proxyCutMinCloses,
    isNum(t.proxyCutMinCloses) && t.proxyCutMinCloses > 0,
    'a number of closes > 0',
  );
  // The lag histogram ends at 30 s: a p99 beyond its last bound reads as that bound.
  check(
    'thresholds.deliveryLagSeconds',
    t.deliveryLagSeconds,
    isNum(t.deliveryLagSeconds) && t.deliveryLagSeconds > 0 && t.deliveryLagSeconds < 30,
    'a number of seconds in (0, 30)',
  );
  check(
    'thresholds.brokerErrorsPerSecond',
    t.brokerErrorsPerSecond,
    isNum(t.brokerErrorsPerSecond) && t.brokerErrorsPerSecond >= 0,
    'a rate >= 0',
  );
  check(
    'thresholds.shadowPreventedPodMinutes',
    t.shadowPreventedPodMinutes,
    isNum(t.shadowPreventedPodMinutes) && t.shadowPreventedPodMinutes > 0,
    'a number of pod-minutes > 0',
  );
  check(
    'capacityPerReplica',
    c.capacityPerReplica,
    c.capacityPerReplica === undefined || (isNum(c.capacityPerReplica) && c.capacityPerReplica > 0),
    'a number of connections > 0 (or undefined)',
  );
  check(
    'thresholds.hotPodSkewRatio',
    t.hotPodSkewRatio,
    isNum(t.hotPodSkewRatio) && t.hotPodSkewRatio > 1,
    'a ratio > 1',
  );
  check(
    'thresholds.hotPodMinConnections',
    t.hotPodMinConnections,
    isNum(t.hotPodMinConnections) && t.hotPodMinConnections > 0,
    'a number of connections > 0',
  );
  check(
    'thresholds.hotPodUtilisation',
    t.hotPodUtilisation,
    isShare(t.hotPodUtilisation),
    'a share in (0, 1]',
  );
  return c;
}

/** The runbook URL of `alertname` under `config`. */
export function runbookUrl(config: MixinConfig, alertname: string): string {
  return config.runbookUrlPattern.replaceAll('{{alertname}}', alertname.toLowerCase());
}
