/**
 * Shared pieces of the generated dashboards: metric names from the catalogue, selectors from
 * the config, the standard variables and annotations, and the build pipeline
 * (grafana-dash-gen container -> our panels -> modernise -> import metadata).
 */
import { metricName as catalogueName, type MetricKey } from '@tidewatch/conventions';
import dashgen from 'grafana-dash-gen';
import type { MixinConfig } from '../config.js';
import { PromAnnotation } from '../grafana/annotations.js';
import { withImportMetadata } from '../grafana/inputs.js';
import { modernise } from '../grafana/modernise.js';
import type {
  GaugePanel,
  HeatmapPanel,
  StatPanel,
  TablePanel,
  TimeseriesPanel,
} from '../grafana/panels.js';
import type { DashboardJson } from '../grafana/types.js';
import { DatasourceVariable, PromQueryVariable } from '../grafana/variables.js';

/** Any of our panel classes. */
export type AnyPanel = TimeseriesPanel | StatPanel | GaugePanel | HeatmapPanel | TablePanel;

/** A titled row of panels. */
export interface RowSpec {
  title: string;
  panels: AnyPanel[];
}

/** The exported name of catalogue metric `key` under `config.metricPrefix`. */
export function metricName(config: MixinConfig, key: MetricKey): string {
  return catalogueName(key, config.metricPrefix);
}

/**
 * A label selector `{...}`: the config's server selector plus `extra` matchers. Every panel
 * query goes through this, so dashboard-linter's target-job/target-instance hold by
 * construction as long as the server selector carries `job=~"$job", instance=~"$instance"`.
 */
export function selector(config: MixinConfig, ...extra: string[]): string {
  const parts = [config.serverSelector.trim(), ...extra].filter((p) => p !== '');
  return parts.length === 0 ? '' : `{${parts.join(', ')}}`;
}

/** `rate(metric{selector}[$__rate_interval])`. */
export function rate(metric: string, config: MixinConfig, ...extra: string[]): string {
  return `rate(${metric}${selector(config, ...extra)}[$__rate_interval])`;
}

/** `histogram_quantile(q, sum by (le) (rate(metric_bucket{...}[$__rate_interval])))`. */
export function quantile(
  q: number,
  metric: string,
  config: MixinConfig,
  ...extra: string[]
): string {
  return `histogram_quantile(${q}, sum by (le) (${rate(`${metric}_bucket`, config, ...extra)}))`;
}

/**
 * The datasource, job and instance variables. `jobSource` is the selector whose series list
 * the jobs (`label_values(<jobSource>, job)`).
 */
export function standardVariables(
  jobSource: string,
): Array<DatasourceVariable | PromQueryVariable> {
  return [
    new DatasourceVariable(),
    new PromQueryVariable({ name: 'job', query: `label_values(${jobSource}, job)` }),
    new PromQueryVariable({
      name: 'instance',
      query: `label_values(${withMatcher(jobSource, 'job=~"$job"')}, instance)`,
    }),
  ];
}

/** Adds a matcher to a selector written as `name` or `{...}`. */
function withMatcher(source: string, matcher: string): string {
  return source.endsWith('}') ? `${source.slice(0, -1)}, ${matcher}}` : `${source}{${matcher}}`;
}

/**
 * Restart and scaling annotations. Restarts: `process_start_time_seconds` (prom-client
 * default) changed. Scaling: the number of instances exporting the connections gauge changed,
 * i.e. a replica joined or left, whatever scaled it.
 */
export function standardAnnotations(config: MixinConfig): PromAnnotation[] {
  const conns = metricName(config, 'connections');
  return [
    new PromAnnotation({
      expr: `changes(process_start_time_seconds${selector(config)}[2m]) > 0`,
      iconColor: 'orange',
      name: 'Restarts',
      tagKeys: 'job,instance',
      textFormat: '{{instance}} restarted',
      titleFormat: 'Restart',
    }),
    new PromAnnotation({
      expr: `changes(count(count by (instance) (${conns}${selector(config)}))[2m:30s]) > 0`,
      iconColor: 'purple',
      name: 'Scaling',
      textFormat: 'instances reporting connections changed',
      titleFormat: 'Scaling event',
    }),
  ];
}

/** Everything a dashboard is built from. */
export interface DashboardSpec {
  /** The uid suffix (after `config.grafana.uidPrefix`), also the file name. */
  slug: string;
  /** Title after `config.grafana.titlePrefix`. */
  title: string;
  description: string;
  variables: Array<DatasourceVariable | PromQueryVariable>;
  annotations: PromAnnotation[];
  rows: RowSpec[];
}

type DashgenPanel = Parameters<InstanceType<typeof dashgen.Row>['addPanel']>[0];
type DashgenTemplate = Parameters<InstanceType<typeof dashgen.Dashboard>['addTemplate']>[0];
type DashgenAnnotation = Parameters<InstanceType<typeof dashgen.Dashboard>['addAnnotation']>[0];

/**
 * Builds one dashboard: a grafana-dash-gen `Dashboard` with `Row`s is the container (our
 * panels, variables and annotations enter through its `generate()` hooks), then the
 * modernise pass and the import metadata.
 */
export function buildDashboard(config: MixinConfig, spec: DashboardSpec): DashboardJson {
  const g = config.grafana;
  const dashboard = new dashgen.Dashboard({
    tags: [...g.tags],
    title: `${g.titlePrefix}${spec.title}`,
  });
  for (const v of spec.variables) dashboard.addTemplate(v as unknown as DashgenTemplate);
  for (const a of spec.annotations) dashboard.addAnnotation(a as unknown as DashgenAnnotation);
  for (const r of spec.rows) {
    const row = new dashgen.Row({ title: r.title });
    for (const p of r.panels) row.addPanel(p as unknown as DashgenPanel);
    dashboard.addRow(row);
  }
  const modern = modernise(dashboard.generate() as never, {
    description: spec.description,
    from: g.from,
    links: [
      {
        asDropdown: true,
        icon: 'external link',
        includeVars: true,
        keepTime: true,
        tags: [...g.tags.slice(0, 1)],
        targetBlank: false,
        title: 'Tidewatch dashboards',
        tooltip: '',
        type: 'dashboards',
        url: '',
      },
    ],
    refresh: g.refresh,
    uid: `${g.uidPrefix}${spec.slug}`,
  });
  return withImportMetadata(modern);
}
