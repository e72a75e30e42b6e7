/**
 * The alerting rules: the handshake SLO burns first (symptoms users feel), then the other
 * symptoms (mass disconnects, abnormal closes and proxy cuts, dropped and late messages), then
 * causes as warnings (slow consumers, heartbeats, broker errors, event-loop lag, fds), blindness (metrics absent, target
 * down) and the autoscaling and forecast alerts. Thresholds, selectors and the runbook URL
 * come from the config; every rule has `for`, a `severity` and the three annotations.
 */
import { CLOSE_REASONS, SIGNALS } from '@tidewatch/conventions';
import { type MixinConfig, runbookUrl } from '../config.js';
import { matcher } from '../labels.js';
import { hotPodAlerts } from './hotpod.js';
import { braces, by, metric, num, on, sel } from './naming.js';
import { fleetRecords } from './recording.js';
import { shadowAlert } from './shadow.js';
import { burnRateAlerts, fleetTemplate } from './slo.js';
import { transportAlerts } from './transports.js';
import type { AlertingRule, RuleGroup, Severity } from './types.js';

/**
 * Name of the alert group. promtool evaluates groups in name order at each step, so this name
 * sorts after the recording groups (`-` < `.`) and the alerts read this step's records.
 */
export const ALERT_GROUP = 'tidewatch.alerts';

/** kube-state-metrics names the autoscaling alerts read. */
export const KSM = {
  condition: 'kube_horizontalpodautoscaler_status_condition',
  current: 'kube_horizontalpodautoscaler_status_current_replicas',
  info: 'kube_horizontalpodautoscaler_info',
  max: 'kube_horizontalpodautoscaler_spec_max_replicas',
} as const;

/** The HPA identity labels of kube-state-metrics. */
const HPA = 'namespace, horizontalpodautoscaler';

/** Builds one alert; `alert` also names its runbook section. */
function alert(
  config: MixinConfig,
  name: string,
  severity: Severity,
  forDuration: string,
  expr: string,
  summary: string,
  description: string,
): AlertingRule {
  return {
    alert: name,
    annotations: { description, runbook_url: runbookUrl(config, name), summary },
    expr,
    for: forDuration,
    labels: { severity },
  };
}

/** Every alerting rule, in the order of the rendered file and the runbook. */
export function alertingRules(config: MixinConfig): AlertingRule[] {
  const t = config.thresholds;
  const r = fleetRecords(config);
  const fleet = fleetTemplate(config);
  const inst = `{{ $labels.instance }} (${fleet})`;
  const conns = metric(config, 'connections');
  const peak = `max_over_time(${r.connections}[10m])`;
  const pred = (name: string) => `${name}${braces(config.predictorSelector)}`;
  const hpa = (name: string, ...m: string[]) => `${name}${braces(config.hpaSelector, ...m)}`;
  const onInstance = on(config, 'instance');
  const transport = transportAlerts(config);
  return [
    ...burnRateAlerts(config),
    alert(
      config,
      'RealtimeMassDisconnect',
      'critical',
      '2m',
      `(\n  (${peak} - ${r.connections})\n  / ${peak}\n  > ${num(t.massDisconnectRatio)}\n` +
        `  and\n  ${peak} >= ${num(t.massDisconnectMinConnections)}\n)\n` +
        // A drain (rollout, scale-in) closes with server_shutdown; it is not an incident.
        `unless ${on(config)}\n(\n  sum ${by(config)} (increase(${metric(config, 'connectionsClosed')}${sel(config, matcher('reason', CLOSE_REASONS, 'server_shutdown'))}[10m]))\n` +
        `  >= ${num(t.drainExplainedRatio)} * (${peak} - ${r.connections})\n)`,
      `${fleet} lost {{ $value | humanizePercentage }} of its connections within 10 minutes.`,
      `The open connections of ${fleet} fell {{ $value | humanizePercentage }} below their 10-minute peak ` +
        `(threshold ${num(t.massDisconnectRatio * 100)}%), and server_shutdown closes (a drain) explain ` +
        `less than ${num(t.drainExplainedRatio * 100)}% of the loss. Clients were cut off and are reconnecting.`,
    ),
    alert(
      config,
      'RealtimeAbnormalClosuresHigh',
      'warning',
      '15m',
      `sum ${by(config)} (${r.closedByReason}{${matcher('reason', CLOSE_REASONS, 'abnormal', 'error')}})\n/\nsum ${by(config)} (${r.closedByReason})\n> ${num(t.abnormalCloseRatio)}`,
      `{{ $value | humanizePercentage }} of the connections of ${fleet} close abnormally.`,
      `{{ $value | humanizePercentage }} of the connections of ${fleet} closed over the last 5 minutes ended ` +
        `without a clean close (reason abnormal: 1006, no close frame; or error: 1011 and unmapped codes); ` +
        `the threshold is ${num(t.abnormalCloseRatio * 100)}%.`,
    ),
    transport.proxyCuts,
    alert(
      config,
      'RealtimeMessagesDropped',
      'warning',
      '10m',
      `${r.dropped}\n/ ${on(config)}\n(${r.dropped} + ${on(config)} ${r.messagesByDirection}{direction="out"})\n> ${num(t.droppedMessageRatio)}`,
      `${fleet} drops {{ $value | humanizePercentage }} of the messages it sends.`,
      `{{ $value | humanizePercentage }} of the messages ${fleet} tried to send over the last 5 minutes never ` +
        `left (socket no longer open, or send buffer full); the threshold is ${num(t.droppedMessageRatio * 100)}%.`,
    ),
    transport.deliveryLag,
    alert(
      config,
      'RealtimeSlowConsumers',
      'warning',
      '15m',
      `sum ${by(config, 'instance')} (${metric(config, 'slowConsumers')}${sel(config)}) > ${num(t.slowConsumers)}`,
      `${inst} has {{ $value }} slow consumers.`,
      `${inst} has {{ $value }} open connections whose send buffer is above the slow-consumer threshold ` +
        `(alert above ${num(t.slowConsumers)} for 15 minutes). Their buffered messages hold memory and arrive late.`,
    ),
    alert(
      config,
      'RealtimeHeartbeatTimeouts',
      'warning',
      '10m',
      `sum ${by(config, 'instance')} (rate(${metric(config, 'heartbeats')}${sel(config, 'outcome="timeout"')}[5m])) > ${num(t.heartbeatTimeoutsPerSecond)}`,
      `${inst} terminates {{ $value | humanize }} peers per second for missed pongs.`,
      `${inst} terminated {{ $value | humanize }} peers per second over the last 5 minutes because they ` +
        `did not answer a ping in time (threshold ${num(t.heartbeatTimeoutsPerSecond)}/s).`,
    ),
    transport.brokerErrors,
    alert(
      config,
      'RealtimeEventLoopLagHigh',
      'warning',
      '10m',
      `max ${by(config, 'instance')} (nodejs_eventloop_lag_p99_seconds${sel(config)}) > ${num(t.eventLoopLagSeconds)}\n` +
        `and ${onInstance} ${conns}${sel(config)}`,
      `The event loop of ${inst} lags {{ $value | humanizeDuration }} (p99).`,
      `The p99 event-loop lag of ${inst} is {{ $value | humanizeDuration }} (threshold ` +
        `${num(t.eventLoopLagSeconds)}s): every message, ping and handshake on this instance waits that long.`,
    ),
    alert(
      config,
      'RealtimeFdExhaustion',
      'warning',
      '10m',
      `max ${by(config, 'instance')} (process_open_fds${sel(config)} / process_max_fds${sel(config)}) > ${num(t.fdRatio)}\n` +
        `and ${onInstance} ${conns}${sel(config)}`,
      `${inst} uses {{ $value | humanizePercentage }} of its file descriptors.`,
      `${inst} has {{ $value | humanizePercentage }} of its file-descriptor limit open (threshold ` +
        `${num(t.fdRatio * 100)}%). Every connection holds one; at the limit accept() fails with EMFILE and new clients are refused.`,
    ),
    alert(
      config,
      'RealtimeMetricsAbsent',
      'critical',
      '10m',
      `absent(${conns}${sel(config)})`,
      `No realtime server reports ${conns}.`,
      `Prometheus has no ${conns}${sel(config)} series: the realtime fleet is down, not scraped, or no longer ` +
        `instrumented. Every other realtime alert is blind while this fires.`,
    ),
    alert(
      config,
      'RealtimeTargetDown',
      'warning',
      '5m',
      `max ${by(config, 'instance')} (up${sel(config)}) == 0\nand ${on(config)} ${conns}${sel(config)}`,
      `Prometheus cannot scrape ${inst}.`,
      `The /metrics endpoint of ${inst} failed its scrapes for 5 minutes while the rest of ${fleet} reports: ` +
        `the instance is down, hung, or its endpoint rejects the scrape.`,
    ),
    // One pod overloaded while the fleet average the autoscaler reads looks fine (`hotpod.ts`).
    ...hotPodAlerts(config),
    alert(
      config,
      'RealtimeAutoscalerMaxedOut',
      'warning',
      '15m',
      `max by (${HPA}) (${hpa(KSM.current)})\n>=\nmax by (${HPA}) (${hpa(KSM.max)})\n` +
        `and on (${HPA})\nmax by (${HPA}) (${hpa(KSM.condition, 'condition="ScalingLimited"', 'status="true"')}) == 1`,
      'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is at its maximum of {{ $value }} replicas and wants more.',
      'HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maxReplicas ({{ $value }}) ' +
        'for 15 minutes with ScalingLimited=True: the load on its metrics (actual or predicted) is above the target per pod, so every pod runs hotter than planned.',
    ),
    alert(
      config,
      'TidewatchPredictedLoadAboveCapacity',
      'warning',
      '10m',
      `max by (namespace, target) (${pred(SIGNALS.recommendedReplicas.name)})\n>= on (namespace, target)\n` +
        `max by (namespace, target) (\n  label_replace(\n    ${hpa(KSM.max)}\n` +
        `    * on (${HPA}) group_left (scaletargetref_name)\n    ${hpa(KSM.info)},\n` +
        `    "target", "$1", "scaletargetref_name", "(.+)"\n  )\n)`,
      'The forecast for {{ $labels.namespace }}/{{ $labels.target }} needs {{ $value }} replicas, all the HPA allows.',
      'Within the lead time the predicted load of {{ $labels.namespace }}/{{ $labels.target }} needs {{ $value }} ' +
        'replicas at the target utilisation: at or above the maxReplicas of the HPA scaling it. When the peak arrives the ' +
        'fleet cannot scale further and runs above its target utilisation.',
    ),
    alert(
      config,
      'TidewatchForecastStale',
      'warning',
      '15m',
      `max by (job, instance) (${pred(SIGNALS.forecastStale.name)}) > 0\n` +
        `or on (job, instance)\nmax by (job, instance) (${pred(SIGNALS.forecastAgeSeconds.name)}) > ${num(t.forecastAgeSeconds)}\n` +
        // A sidecar that is up without a forecast, or down: either way no forecast reaches the HPA.
        `or on (job, instance)\n(\n  max by (job, instance) (${pred('up')})\n  unless on (job, instance)\n  ${pred(SIGNALS.forecast.name)}\n)`,
      'The predictor {{ $labels.instance }} publishes no usable forecast.',
      'The predictor sidecar {{ $labels.instance }} ({{ $labels.job }}) has published no usable forecast for 15 minutes ' +
        `(stale, older than ${num(t.forecastAgeSeconds)}s, missing, or the sidecar down). The predicted scaling ` +
        'trigger reads nothing, so scaling is reactive only: a surge is met only after new pods start.',
    ),
    shadowAlert(config),
  ];
}

/** The alert group. */
export function alertGroup(config: MixinConfig): RuleGroup<AlertingRule> {
  return { name: ALERT_GROUP, rules: alertingRules(config) };
}

/** The distinct alert names, in file order. */
export function alertNames(config: MixinConfig): string[] {
  return [...new Set(alertingRules(config).map((a) => a.alert))];
}
