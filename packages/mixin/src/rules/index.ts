/**
 * Prometheus recording and alert rules, their promtool unit tests, the runbooks and the
 * PrometheusRule manifest, all generated from the middleware's catalogue and the mixin config.
 */
import type { MixinConfig } from '../config.js';
import { alertGroup } from './alerts.js';
import { renderPrometheusRule } from './prometheusrule.js';
import { fleetRecordingGroup } from './recording.js';
import { renderRuleFile } from './render.js';
import { renderRunbooks } from './runbooks.js';
import { sloRecordingGroup } from './slo.js';
import { alertTests } from './tests-alerts.js';
import { deliveryTests } from './tests-delivery.js';
import { renderTestFile, type TestFileSpec } from './tests-gen.js';
import { hotPodTests } from './tests-hotpod.js';
import { recordingTests } from './tests-recording.js';
import { shadowTests } from './tests-shadow.js';
import { burnRateTests } from './tests-slo.js';
import { transportTests } from './tests-transports.js';
import type { AlertingRule, RecordingRule, RuleGroup } from './types.js';

/** Where the generated files go, relative to the repository root. */
export const RULE_PATHS = {
  alerts: 'alerts/tidewatch-alerts.yaml',
  prometheusRule: 'deploy/prometheusrule.yaml',
  recording: 'alerts/tidewatch-rules.yaml',
  runbooks: 'docs/runbooks.md',
  testsDir: 'alerts/tests',
} as const;

/** The rule groups of `config`: recording groups first, then the alert group. */
export interface RuleGroups {
  recording: RuleGroup<RecordingRule>[];
  alerts: RuleGroup<AlertingRule>;
}

/** The recording and alert groups under `config`. */
export function buildRuleGroups(config: MixinConfig): RuleGroups {
  return {
    alerts: alertGroup(config),
    recording: [fleetRecordingGroup(config), sloRecordingGroup(config)],
  };
}

/**
 * Every promtool test file spec under `config` (recording rules, SLO burns, other alerts, the
 * newer transports, proxy cuts, delivery lag and brokers, the hottest pod).
 */
export function buildRuleTests(config: MixinConfig): TestFileSpec[] {
  return [
    recordingTests(config),
    ...burnRateTests(config),
    ...alertTests(config),
    transportTests(config),
    deliveryTests(config),
    hotPodTests(config),
    shadowTests(config),
  ];
}

/**
 * Generates every rules artifact: `alerts/tidewatch-rules.yaml`, `alerts/tidewatch-alerts.yaml`,
 * `alerts/tests/*.yaml`, `deploy/prometheusrule.yaml` and `docs/runbooks.md`. Pure and
 * byte-stable: the same config gives the same bytes.
 *
 * @param config - The mixin config (selectors, SLOs, thresholds, runbook URL pattern).
 * @returns Relative path -> file content.
 * @throws RangeError for an SLO latency bound that is not a bucket bound; Error when a test
 *   scenario no longer means what it states under `config`.
 */
export function generateRules(config: MixinConfig): Map<string, string> {
  const groups = buildRuleGroups(config);
  const out = new Map<string, string>();
  out.set(RULE_PATHS.recording, renderRuleFile({ groups: groups.recording }));
  out.set(RULE_PATHS.alerts, renderRuleFile({ groups: [groups.alerts] }));
  const ruleFiles = [RULE_PATHS.recording, RULE_PATHS.alerts].map(
    (p) => `../${p.split('/').at(-1)}`,
  );
  const order = [...groups.recording.map((g) => g.name), groups.alerts.name];
  for (const spec of buildRuleTests(config))
    out.set(spec.path, renderTestFile(spec, ruleFiles, groups.alerts.rules, order));
  out.set(RULE_PATHS.prometheusRule, renderPrometheusRule([...groups.recording, groups.alerts]));
  out.set(RULE_PATHS.runbooks, renderRunbooks(config, groups.alerts.rules));
  return out;
}

export { ALERT_GROUP, alertGroup, alertingRules, alertNames, KSM } from './alerts.js';
export {
  HOT_POD_ALERT,
  HOT_POD_FOR,
  type HotPodCondition,
  type HotPodRecords,
  hotPodAlerts,
  hotPodRecordingRules,
  hotPodRecords,
  hotPodRunbooks,
} from './hotpod.js';
export {
  type PrometheusRuleOptions,
  prometheusRule,
  renderPrometheusRule,
} from './prometheusrule.js';
export {
  FLEET_GROUP,
  type FleetRecords,
  fleetRecordingGroup,
  fleetRecords,
  HANDSHAKE_QUANTILES,
} from './recording.js';
export { GENERATED_HEADER, renderRuleFile, toYaml } from './render.js';
export { type DiagnosisStep, type RunbookContent, runbookContent } from './runbook-content.js';
export { renderRunbooks } from './runbooks.js';
export {
  BURN_WINDOWS,
  type BurnWindow,
  burnFactor,
  burnRateAlerts,
  errorBudget,
  SLI_WINDOWS,
  SLO_GROUP,
  type SliSpec,
  type SliWindow,
  slis,
  sloRecordingGroup,
} from './slo.js';
export { goG, humanize, humanizeDuration, humanizePercentage, renderTemplate } from './template.js';
export {
  type AlertCheck,
  type ExpectedAlert,
  type ExprCheck,
  renderTestFile,
  type Scenario,
  type SeriesSpec,
  type TestFileSpec,
} from './tests-gen.js';
export {
  CUT_WINDOW,
  DELIVERY_QUANTILES,
  type TransportAlerts,
  type TransportRecords,
  transportAlerts,
  transportRecordingRules,
  transportRecords,
} from './transports.js';
export type {
  AlertAnnotations,
  AlertingRule,
  RecordingRule,
  RuleFile,
  RuleGroup,
  Severity,
} from './types.js';
