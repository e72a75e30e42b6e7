/**
 * The shadow report's alert and runbook (the predictor sidecar in `mode: shadow`): an `info`
 * alert when prediction would have prevented more than
 * `thresholds.shadowPreventedPodMinutes` overloaded pod-minutes over the last 7 days, i.e.
 * the evidence an operator waits for before switching prediction on. Every sidecar of a fleet
 * computes the same fleet-level report, so the series fold with `max`, never `sum`.
 */
import { SIGNALS } from '@tidewatch/conventions';
import { type MixinConfig, runbookUrl } from '../config.js';
import { signalMatcher } from '../labels.js';
import { braces, num } from './naming.js';
import type { RunbookContent } from './runbook-content.js';
import type { AlertingRule } from './types.js';

/** Name of the shadow-report alert. */
export const SHADOW_ALERT = 'TidewatchPredictionWouldHavePrevented';

/** The window the alert and the dashboard's weekly figures read. */
export const SHADOW_WINDOW = '7d';

/** The identity of a scale target in the sidecar's series. */
const TARGET = 'namespace, target';

/**
 * `max by (namespace, target) (increase(overloaded{policy}[7d]))`: the overloaded pod-minutes
 * of `policy` over the window, one series per scale target.
 */
export function shadowOverloaded(
  config: MixinConfig,
  policy: 'actual' | 'predictive',
  window = SHADOW_WINDOW,
): string {
  const m = `${SIGNALS.shadowOverloadedPodMinutes.name}${braces(config.predictorSelector, signalMatcher('shadowOverloadedPodMinutes', 'policy', policy))}`;
  return `max by (${TARGET}) (increase(${m}[${window}]))`;
}

/** Overloaded pod-minutes prediction would have prevented over `window`, per scale target. */
export function shadowPrevented(config: MixinConfig, window = SHADOW_WINDOW): string {
  return `${shadowOverloaded(config, 'actual', window)}\n- on (${TARGET})\n${shadowOverloaded(config, 'predictive', window)}`;
}

/** The alert. */
export function shadowAlert(config: MixinConfig): AlertingRule {
  const limit = config.thresholds.shadowPreventedPodMinutes;
  const who = '{{ $labels.namespace }}/{{ $labels.target }}';
  return {
    alert: SHADOW_ALERT,
    annotations: {
      description:
        `In shadow mode the predictor of ${who} found that over the last 7 days predictive scaling would have prevented ` +
        `{{ $value | humanize }} overloaded pod-minutes (load above the replicas' full capacity) that the HPA let happen ` +
        `(threshold ${num(limit)}). Compare the replica-hours it would have cost on the Autoscaling dashboard, then switch the sidecar to mode: active.`,
      runbook_url: runbookUrl(config, SHADOW_ALERT),
      summary: `Prediction would have prevented {{ $value | humanize }} overloaded pod-minutes of ${who} this week.`,
    },
    expr: `(\n  ${shadowPrevented(config).replaceAll('\n', '\n  ')}\n) > ${num(limit)}`,
    for: '30m',
    labels: { severity: 'info' },
  };
}

/** The alert's runbook section. */
export function shadowRunbooks(config: MixinConfig): Record<string, RunbookContent> {
  const cost = (policy: 'actual' | 'predictive') =>
    `${SIGNALS.shadowReplicaSeconds.name}{${signalMatcher('shadowReplicaSeconds', 'policy', policy)}}`;
  return {
    [SHADOW_ALERT]: {
      meaning: `A predictor sidecar runs in shadow mode (it publishes no scaling signal) and its report says that over the last 7 days the predictive policy would have prevented more than ${num(config.thresholds.shadowPreventedPodMinutes)} overloaded pod-minutes: load above the full capacity of the replicas the HPA ran, which the replicas the forecast recommended one lead time earlier would have carried.`,
      impact:
        'Nothing is broken: this is information. The fleet ran overloaded pods that prediction would have avoided; users saw the latency and drops that come with them.',
      diagnosis: [
        {
          query: shadowPrevented(config),
          text: 'Pod-minutes prediction would have prevented, per scale target:',
        },
        {
          query: `max by (${TARGET}) (increase(${cost('predictive')}[${SHADOW_WINDOW}])) / on (${TARGET}) max by (${TARGET}) (increase(${cost('actual')}[${SHADOW_WINDOW}])) - 1`,
          text: 'What it would have cost: extra replica-hours of the predictive policy as a share of the actual ones.',
        },
        {
          query: SIGNALS.shadowReplicas.name,
          text: 'Replicas now: what the HPA runs (`actual`) and what the predictive policy would run (`predictive`).',
        },
        {
          text: 'The sidecar\'s status page shows the same report in one sentence ("Shadow report: this week ...").',
        },
      ],
      mitigation: [
        'If the extra replica-hours are acceptable, switch the sidecar to `mode: active` (`TIDEWATCH_MODE=active`) and add the predicted trigger (deploy/ generates it).',
        `If the cost is too high, look at the forecast quality (\`${SIGNALS.forecastError.name}\`) and the capacity per replica before switching.`,
        `To silence it, raise \`thresholds.shadowPreventedPodMinutes\` (now ${num(config.thresholds.shadowPreventedPodMinutes)}) in the mixin config.`,
      ],
    },
  };
}
