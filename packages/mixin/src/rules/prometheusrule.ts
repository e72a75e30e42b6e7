/**
 * `deploy/prometheusrule.yaml`: the recording and alert groups as one `PrometheusRule`
 * (monitoring.coreos.com/v1) for the Prometheus Operator / kube-prometheus-stack.
 */
import { GENERATED_HEADER, orderGroup, toYaml } from './render.js';
import type { RuleGroup } from './types.js';

/** Metadata of the generated PrometheusRule. */
export interface PrometheusRuleOptions {
  /** Default `tidewatch-rules`. */
  name?: string;
  /** Omitted by default (applied to the namespace `kubectl apply -n` names). */
  namespace?: string;
  /**
   * Labels the operator's `ruleSelector` matches. kube-prometheus-stack selects
   * `release: <helm release>` by default; default `{ release: 'kube-prometheus-stack' }`
   * plus `app.kubernetes.io/*` labels.
   */
  labels?: Record<string, string>;
}

/** The manifest as a plain object. */
export function prometheusRule(groups: readonly RuleGroup[], opts: PrometheusRuleOptions = {}) {
  const labels = opts.labels ?? { release: 'kube-prometheus-stack' };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: opts.name ?? 'tidewatch-rules',
      ...(opts.namespace ? { namespace: opts.namespace } : {}),
      labels: {
        'app.kubernetes.io/component': 'alerting',
        'app.kubernetes.io/name': 'tidewatch',
        'app.kubernetes.io/part-of': 'tidewatch',
        ...labels,
      },
    },
    spec: { groups: groups.map(orderGroup) },
  };
}

/** The manifest as YAML with the generated header. */
export function renderPrometheusRule(
  groups: readonly RuleGroup[],
  opts: PrometheusRuleOptions = {},
): string {
  return GENERATED_HEADER + toYaml(prometheusRule(groups, opts));
}
