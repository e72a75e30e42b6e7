/**
 * The "Shadow report" row of the "Autoscaling & forecast" dashboard: a predictor sidecar in
 * `mode: shadow` publishes no scaling signal, only what the predictive policy would have done
 * next to what the HPA did (docs/sidecar.md, "Shadow mode"). Every sidecar of a fleet reports
 * the same fleet-level figures, so series fold with `max`. Panels read rates over
 * `$__rate_interval` (the dashboards' rule); the weekly total is the alert's
 * (`TidewatchPredictionWouldHavePrevented`, a 7-day increase) and the status page's.
 */
import { SIGNALS } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { TimeseriesPanel } from '../grafana/panels.js';
import { promTarget as q } from '../grafana/targets.js';
import { signalMatcher } from '../labels.js';
import { type RowSpec, rate, selector } from './common.js';

type Policy = 'actual' | 'predictive';

/** The "Shadow report" row. */
export function shadowRow(c: MixinConfig): RowSpec {
  const over = SIGNALS.shadowOverloadedPodMinutes.name;
  const cost = SIGNALS.shadowReplicaSeconds.name;
  /** `max by (target) (rate(name{policy}[$__rate_interval]))`: one series per scale target. */
  const perTarget = (
    name: string,
    key: 'shadowOverloadedPodMinutes' | 'shadowReplicaSeconds',
    p: Policy,
  ) => `max by (target) (${rate(name, c, signalMatcher(key, 'policy', p))})`;
  return {
    panels: [
      new TimeseriesPanel({
        description:
          'Replicas the HPA ran (actual, from kube-state-metrics) against what the predictive policy would have run: max(actual, the replicas the forecast recommended one lead time earlier).',
        fillOpacity: 0,
        targets: [
          q(`max by (target, policy) (${SIGNALS.shadowReplicas.name}${selector(c)})`, {
            legendFormat: '{{policy}} {{target}}',
          }),
        ],
        title: 'Shadow: replicas actual vs predictive',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'Pods of load above full capacity, on average (overloaded pod-minutes per minute), under each policy. The gap between the lines is the overload prediction would have covered.',
        fillOpacity: 0,
        targets: [
          q(`max by (target, policy) (${rate(over, c)}) * 60`, {
            legendFormat: '{{policy}} {{target}}',
          }),
        ],
        title: 'Shadow: overloaded pods by policy',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'Pods of overload the predictive policy would have covered (actual minus predictive overloaded pod-minutes per minute). The alert TidewatchPredictionWouldHavePrevented adds it up over 7 days.',
        fillOpacity: 10,
        targets: [
          q(
            `(${perTarget(over, 'shadowOverloadedPodMinutes', 'actual')} - on (target) ${perTarget(over, 'shadowOverloadedPodMinutes', 'predictive')}) * 60`,
            { legendFormat: '{{target}}' },
          ),
        ],
        title: 'Shadow: overload prediction would have covered',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'Extra replicas the predictive policy would have paid for, as a share of what the HPA ran (replica-seconds per second of each policy).',
        fillOpacity: 0,
        targets: [
          q(
            `${perTarget(cost, 'shadowReplicaSeconds', 'predictive')} / on (target) ${perTarget(cost, 'shadowReplicaSeconds', 'actual')} - 1`,
            { legendFormat: '{{target}}' },
          ),
        ],
        title: 'Shadow: extra replica cost',
        unit: 'percentunit',
      }),
    ],
    title: 'Shadow report',
  };
}
