/**
 * The hottest pod (issue 14, item 2): connections stay on the pod that accepted them, so one
 * pod can overload while the fleet average, which the HPA scales on, looks fine. Recording
 * rules per fleet: connections per pod, the hottest pod, the average pod, their ratio (the
 * skew) and, when `capacityPerReplica` is known, the hottest pod's utilisation. They join the
 * fleet group (so the alert reads this step's records); the `RealtimeHotPod` rules are spliced
 * into the alert group by `alerts.ts`, the runbook section into `runbook-content.ts`.
 */
import { type MixinConfig, runbookUrl } from '../config.js';
import { by, metric, num, on, recordName, sel } from './naming.js';
import type { RunbookContent } from './runbook-content.js';
import { fleetTemplate } from './slo.js';
import type { AlertingRule, RecordingRule } from './types.js';

/** Name of the hottest-pod alert. */
export const HOT_POD_ALERT = 'RealtimeHotPod';

/** How long the condition must hold before the alert fires. */
export const HOT_POD_FOR = '10m';

/** Which condition a `RealtimeHotPod` rule checks (its `condition` label). */
export type HotPodCondition = 'skew' | 'utilisation';

/** The record names of this module under a config. */
export interface HotPodRecords {
  /** Open connections per pod (`instance`), per fleet. */
  perPod: string;
  /** The hottest pod's open connections, per fleet. */
  hottest: string;
  /** The average pod's open connections (fleet total / pods reporting), per fleet. */
  average: string;
  /** Hottest ÷ average, per fleet: 1 is perfectly balanced. */
  skew: string;
  /** Hottest ÷ `capacityPerReplica`, per fleet; only recorded when the capacity is known. */
  utilisation: string;
}

/** The record names under `config`. */
export function hotPodRecords(config: MixinConfig): HotPodRecords {
  const conns = metric(config, 'connections');
  return {
    perPod: recordName(config, conns, 'sum', 'instance'),
    hottest: recordName(config, conns, 'max_instance'),
    average: recordName(config, conns, 'avg_instance'),
    skew: recordName(config, `${conns}_hottest_per_average`, 'ratio'),
    utilisation: recordName(config, `${conns}_hottest_per_capacity`, 'ratio'),
  };
}

/** The recording rules, in evaluation order (each reads only the ones before it). */
export function hotPodRecordingRules(config: MixinConfig): RecordingRule[] {
  const r = hotPodRecords(config);
  const capacity = config.capacityPerReplica;
  return [
    {
      record: r.perPod,
      expr: `sum ${by(config, 'instance')} (${metric(config, 'connections')}${sel(config)})`,
    },
    { record: r.hottest, expr: `max ${by(config)} (${r.perPod})` },
    {
      // sum / count rather than avg(): Prometheus' avg() is an incremental mean whose last
      // bits depend on the order of the series; one division is exact and stable.
      record: r.average,
      expr: `sum ${by(config)} (${r.perPod})\n/\ncount ${by(config)} (${r.perPod})`,
    },
    { record: r.skew, expr: `${r.hottest}\n/ ${on(config)}\n${r.average}` },
    ...(capacity === undefined
      ? []
      : [{ record: r.utilisation, expr: `${r.hottest} / ${num(capacity)}` }]),
  ];
}

/** One `RealtimeHotPod` rule. */
function rule(
  config: MixinConfig,
  condition: HotPodCondition,
  expr: string,
  summary: string,
  description: string,
): AlertingRule {
  return {
    alert: HOT_POD_ALERT,
    annotations: { description, runbook_url: runbookUrl(config, HOT_POD_ALERT), summary },
    expr,
    for: HOT_POD_FOR,
    labels: { condition, severity: 'warning' },
  };
}

/**
 * The `RealtimeHotPod` rules: the skew rule always, the utilisation rule when
 * `capacityPerReplica` is set. Two rules rather than one `or`, so each `$value` means one thing.
 */
export function hotPodAlerts(config: MixinConfig): AlertingRule[] {
  const t = config.thresholds;
  const r = hotPodRecords(config);
  const fleet = fleetTemplate(config);
  const capacity = config.capacityPerReplica;
  const skew = rule(
    config,
    'skew',
    `${r.skew} > ${num(t.hotPodSkewRatio)}\n` +
      // Small fleets and idle nights: one pod with 6 connections against 2 is not a problem.
      `and ${on(config)}\n${r.average} >= ${num(t.hotPodMinConnections)}`,
    `The hottest pod of ${fleet} holds {{ $value | humanize }} times the average pod's connections.`,
    `The busiest instance of ${fleet} has held {{ $value | humanize }} times the average open connections per instance ` +
      `for ${HOT_POD_FOR} (threshold ${num(t.hotPodSkewRatio)}x, with at least ${num(t.hotPodMinConnections)} connections per instance on average). ` +
      'Connections stay on the pod that accepted them: the fleet average the autoscaler reads looks fine while this pod runs hot, ' +
      'its clients see latency and drops first, and if it dies they reconnect in one wave onto the others.',
  );
  if (capacity === undefined) return [skew];
  return [
    skew,
    rule(
      config,
      'utilisation',
      `${r.utilisation} > ${num(t.hotPodUtilisation)}`,
      `The hottest pod of ${fleet} is at {{ $value | humanizePercentage }} of its connection capacity.`,
      `The busiest instance of ${fleet} has held {{ $value | humanizePercentage }} of the ${num(capacity)} connections one replica carries ` +
        `for ${HOT_POD_FOR} (threshold ${num(t.hotPodUtilisation * 100)}%), whatever the fleet average says. ` +
        'New clients the load balancer sends it are refused or slow, and it is the first pod to fall over.',
    ),
  ];
}

/** The alert's runbook section. */
export function hotPodRunbooks(config: MixinConfig): Record<string, RunbookContent> {
  const t = config.thresholds;
  const r = hotPodRecords(config);
  const conns = metric(config, 'connections');
  const s = (...extra: string[]) => sel(config, ...extra);
  const capacity = config.capacityPerReplica;
  const target =
    capacity === undefined
      ? 'capacity per replica × target utilisation'
      : `${num(capacity)} × the target utilisation, e.g. ${num(capacity * 0.7)} at 0.7`;
  const fleets = config.fleetLabels.join(', ');
  return {
    [HOT_POD_ALERT]: {
      meaning:
        `One pod of a fleet holds more than ${num(t.hotPodSkewRatio)} times the average pod's open connections for ${HOT_POD_FOR}, ` +
        `while the fleet carries at least ${num(t.hotPodMinConnections)} connections per pod on average (condition \`skew\`)` +
        (capacity === undefined
          ? '. With `capacityPerReplica` set in the mixin config, it also fires when the hottest pod passes `thresholds.hotPodUtilisation` of that capacity (condition `utilisation`).'
          : `; or the hottest pod holds more than ${num(t.hotPodUtilisation * 100)}% of the ${num(capacity)} connections one replica carries (condition \`utilisation\`).`) +
        ' WebSocket, SSE, long-polling, MQTT and gRPC streams stay on the pod that accepted them: nothing rebalances them. ' +
        'How pods get hot: a round-robin (or random) balancer keeps giving every pod, hot or not, the same share of new connections, so a pod that started hot stays hot; ' +
        'new pods from a scale-up receive only new connections; a scale-down or a crashed pod drops its sockets and they reconnect in a wave onto the pods that are left, ' +
        'piling onto whichever accepted them first; a terminating pod holds its sockets for up to its drain time; and long-lived clients (dashboards, devices) never leave.',
      impact:
        'The autoscaler scales on the fleet total (sum ÷ target per pod), so it sees a healthy average and adds nothing. The hot pod runs out of event loop, memory or file descriptors first: ' +
        'its clients see latency, dropped messages and heartbeat timeouts, and if it is OOM-killed or fails its probes all of its clients reconnect at once onto the others, which can make the next pod hot.',
      diagnosis: [
        {
          query: `${r.hottest}${s()}\n/ ${on(config)}\n${r.average}${s()}`,
          text: 'Skew per fleet (recorded): the hottest pod against the average pod.',
        },
        {
          query: `topk(5, ${r.perPod}${s()})`,
          text: 'Which pods are hot (recorded per pod): the names to look at in `kubectl top pod` and the pod logs.',
        },
        {
          query: `sum by (${fleets}, instance) (${conns}${s()})\n/ on (${fleets}) group_left\nmax by (${fleets}) (${r.average}${s()})`,
          text: 'Every pod against the average: a new pod far below 1 after a scale-up, and old ones above it, is the balancer keeping the old pods loaded.',
        },
        {
          query: `sum by (${fleets}, instance) (rate(${metric(config, 'connectionsOpened')}${s()}[5m]))`,
          text: 'New connections per pod: equal rates on unequal pods mean round-robin (it never compensates); more new connections on the hot pod mean affinity (sticky sessions, hashing on a client address behind one NAT).',
        },
        {
          query: `sum by (${fleets}, instance) (increase(${metric(config, 'reconnects')}${s()}[15m]))`,
          text: 'A reconnect wave on the hot pod right after a scale-down, a rollout or a crashed pod: its sockets came from the pod that went away.',
        },
        {
          query: `max(sum by (instance) (${conns}${s()}))`,
          text: 'What a scaling trigger on the hottest pod reads (see Mitigation): the connections of the busiest pod, to compare with the per-pod target.',
        },
      ],
      mitigation: [
        'Balance on connections, not requests: `least_conn` on nginx (ingress-nginx `nginx.ingress.kubernetes.io/load-balance: "ewma"` or a `least_conn` upstream), HAProxy `balance leastconn`, Envoy/Istio `LEAST_REQUEST`; round-robin keeps hot pods hot.',
        'Rebalance slowly and on purpose: give connections a maximum age (close cleanly with 1001/1012 after e.g. 30-60 min plus jitter, and let the client reconnect through the balancer), and drain a hot pod gradually rather than all at once. Spread reconnects with client backoff and jitter, so a scale-down does not land in one wave on one pod.',
        `Scale on the hottest pod too: next to the trigger on the fleet sum, add a KEDA prometheus trigger on the maximum with \`metricType: Value\` and a threshold of the per-pod target (${target}); the HPA then wants \`ceil(replicas × hottest ÷ threshold)\` and takes the larger of the two triggers. Query: \`max(sum by (instance) (${conns}${s()}))\` (or the recorded \`max(${r.hottest}${s()})\`). New pods only help if the balancer sends them the new connections (least connections), and this trigger holds replicas while the hot pod stays hot, so pair it with a maximum connection age.`,
        `Tune it: \`thresholds.hotPodSkewRatio\` (now ${num(t.hotPodSkewRatio)}), \`thresholds.hotPodMinConnections\` (now ${num(t.hotPodMinConnections)} per pod), \`capacityPerReplica\` and \`thresholds.hotPodUtilisation\` (now ${num(t.hotPodUtilisation)}) in the mixin config.`,
      ],
    },
  };
}
