/**
 * @tidewatch/mixin: Grafana dashboards and Prometheus alert and recording rules for realtime
 * servers, generated from the `@tidewatch/middleware` metric catalogue and one config, in the
 * monitoring-mixin style.
 *
 * @packageDocumentation
 */

/** The package version, so generated files can say what made them. */
export const MIXIN_VERSION = '0.1.0';

export {
  DEFAULT_CONFIG,
  type MixinConfig,
  type MixinConfigInput,
  mixinConfig,
  runbookUrl,
  type Slo,
} from './config.js';

// dashboards
export {
  type AnnotationJson,
  AUTOSCALING_SLUG,
  autoscalingDashboard,
  buildDashboard,
  buildDashboards,
  builtInAnnotation,
  type DashboardJson,
  type DashboardSpec,
  type DashGenState,
  type DataSourceRef,
  DatasourceVariable,
  DEFAULT_PROVISIONING,
  DEFAULT_VARIABLE_VALUES,
  DS_INPUT_PLACEHOLDER,
  FLEET_SLUG,
  fleetDashboard,
  GaugePanel,
  type GenerateDashboardsOptions,
  type GeneratedPanel,
  type GridPos,
  generateDashboards,
  type HeatmapOptions,
  HeatmapPanel,
  type LayoutHints,
  MIN_GRAFANA_VERSION,
  type ModerniseOptions,
  modernise,
  type PanelJson,
  type PanelOptions,
  type PanelQuery,
  PROMETHEUS_DATASOURCE,
  PromAnnotation,
  type PromAnnotationOptions,
  PromQueryVariable,
  type PromQueryVariableOptions,
  PromTarget,
  type PromTargetOptions,
  type ProvisioningOptions,
  panelQueries,
  promTarget,
  provisioningYaml,
  type RequireEntry,
  RowPanel,
  type RowSpec,
  refIdAt,
  renumberPanelIds,
  SCHEMA_VERSION,
  type StatOptions,
  StatPanel,
  stableStringify,
  substituteVariables,
  type TargetJson,
  type ThresholdStep,
  type TimeseriesOptions,
  TimeseriesPanel,
  type VariableJson,
  withImportMetadata,
} from './dashboards/index.js';
export {
  allPanels,
  analysePromql,
  expandForLint,
  LINT_RULES,
  type LintOptions,
  type LintProblem,
  type LintRule,
  lintDashboard,
  MAGIC_DURATIONS,
  type Matcher,
  metricNames,
  type PromqlAnalysis,
  type RangeInfo,
  type SelectorInfo,
  VALID_UNITS,
} from './lint/index.js';
export {
  dashboardForApi,
  GrafanaPublishError,
  type PublishCommandIo,
  type PublishOptions,
  type PublishResult,
  publishDashboard,
  runPublishCommand,
} from './publish.js';
