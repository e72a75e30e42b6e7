/**
 * The shapes of Prometheus rule files as this package builds them, before YAML rendering.
 * Field order here is the order in the rendered YAML (`record`/`alert` first, as promtool and
 * the Prometheus docs write them).
 */

/** A recording rule: `record` is named `level:metric:operations`. */
export interface RecordingRule {
  record: string;
  expr: string;
  /** Extra labels on the recorded series (e.g. `quantile`). */
  labels?: Record<string, string>;
}

/** The annotations every alert carries. */
export interface AlertAnnotations {
  summary: string;
  description: string;
  runbook_url: string;
}

/** An alerting rule. Every alert has `for`, a `severity` label and the three annotations. */
export interface AlertingRule {
  alert: string;
  expr: string;
  /** A Prometheus duration, e.g. `10m`. */
  for: string;
  labels: { severity: Severity } & Record<string, string>;
  annotations: AlertAnnotations;
}

/** The severities the alerts use (routing keys for Alertmanager). */
export type Severity = 'critical' | 'warning' | 'info';

/** A rule group. */
export interface RuleGroup<R = RecordingRule | AlertingRule> {
  name: string;
  /** Evaluation interval override; omitted = the global one. */
  interval?: string;
  rules: R[];
}

/** A Prometheus rule file: `{ groups: [...] }`. */
export interface RuleFile {
  groups: RuleGroup[];
}
