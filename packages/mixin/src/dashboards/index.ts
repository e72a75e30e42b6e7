/**
 * The generated Grafana dashboards and the toolkit they are built with (grafana-dash-gen
 * extended with Prometheus targets, modern panels, variables, annotations and a modernise
 * pass), plus helpers for running their queries elsewhere.
 */
import type { MixinConfig } from '../config.js';
import { stableStringify } from '../grafana/modernise.js';
import type { DashboardJson } from '../grafana/types.js';
import { AUTOSCALING_SLUG, autoscalingDashboard } from './autoscaling.js';
import { FLEET_SLUG, fleetDashboard } from './fleet.js';
import {
  DEFAULT_PROVISIONING,
  type ProvisioningOptions,
  provisioningYaml,
} from './provisioning.js';

export {
  builtInAnnotation,
  PromAnnotation,
  type PromAnnotationOptions,
} from '../grafana/annotations.js';
export { MIN_GRAFANA_VERSION, type RequireEntry, withImportMetadata } from '../grafana/inputs.js';
export {
  type DashGenState,
  type ModerniseOptions,
  modernise,
  renumberPanelIds,
  SCHEMA_VERSION,
  stableStringify,
} from '../grafana/modernise.js';
export {
  GaugePanel,
  type GeneratedPanel,
  type HeatmapOptions,
  HeatmapPanel,
  type LayoutHints,
  type PanelOptions,
  RowPanel,
  type StatOptions,
  StatPanel,
  type TableColumn,
  type TableOptions,
  TablePanel,
  type ThresholdStep,
  type TimeseriesOptions,
  TimeseriesPanel,
} from '../grafana/panels.js';
export {
  DEFAULT_VARIABLE_VALUES,
  type PanelQuery,
  panelQueries,
  substituteVariables,
} from '../grafana/queries.js';
export { PromTarget, type PromTargetOptions, promTarget, refIdAt } from '../grafana/targets.js';
export type {
  AnnotationJson,
  DashboardJson,
  DataSourceRef,
  GridPos,
  PanelJson,
  TargetJson,
  VariableJson,
} from '../grafana/types.js';
export { PROMETHEUS_DATASOURCE } from '../grafana/types.js';
export {
  DatasourceVariable,
  DS_INPUT_PLACEHOLDER,
  PromQueryVariable,
  type PromQueryVariableOptions,
} from '../grafana/variables.js';
export { AUTOSCALING_SLUG, autoscalingDashboard } from './autoscaling.js';
export { buildDashboard, type DashboardSpec, type RowSpec } from './common.js';
export { FLEET_SLUG, fleetDashboard } from './fleet.js';
export {
  DEFAULT_PROVISIONING,
  type ProvisioningOptions,
  provisioningYaml,
} from './provisioning.js';

/** Options of {@link generateDashboards} beyond the mixin config. */
export interface GenerateDashboardsOptions {
  /** Provisioning folder and path. Default {@link DEFAULT_PROVISIONING}. */
  provisioning?: ProvisioningOptions;
}

/** Every generated dashboard as JSON objects, keyed by slug, in a fixed order. */
export function buildDashboards(config: MixinConfig): Map<string, DashboardJson> {
  return new Map([
    [FLEET_SLUG, fleetDashboard(config)],
    [AUTOSCALING_SLUG, autoscalingDashboard(config)],
  ]);
}

/**
 * The committed dashboard files: path relative to the repository root -> content
 * (`dashboards/<slug>.json` in byte-stable JSON, and `dashboards/provisioning/tidewatch.yaml`).
 * Pure: writes nothing; `scripts/generate.mjs` writes or compares.
 */
export function generateDashboards(
  config: MixinConfig,
  options: GenerateDashboardsOptions = {},
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [slug, dashboard] of buildDashboards(config))
    out.set(`dashboards/${slug}.json`, stableStringify(dashboard));
  out.set(
    'dashboards/provisioning/tidewatch.yaml',
    provisioningYaml(options.provisioning ?? DEFAULT_PROVISIONING),
  );
  return out;
}
