/**
 * The slice of Grafana's dashboard JSON model (schemaVersion 39+) that the generator writes
 * and the linter reads. Deliberately loose (`[key: string]: unknown`): the authoritative
 * check is the JSON schema derived from `@grafana/schema` (packages/mixin/schema/), these
 * types only keep our own code honest.
 */

/** A reference to a datasource instance, e.g. `{ type: 'prometheus', uid: '${datasource}' }`. */
export interface DataSourceRef {
  type?: string;
  uid?: string;
}

/** A Prometheus query of a panel. */
export interface TargetJson {
  refId: string;
  expr?: string;
  legendFormat?: string;
  /** `time_series` (default), `heatmap` (buckets sorted by `le`) or `table`. */
  format?: string;
  instant?: boolean;
  range?: boolean;
  datasource?: DataSourceRef;
  [key: string]: unknown;
}

/** Position and size of a panel on the 24-column grid. */
export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A panel (or a row panel, `type: 'row'`). */
export interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: DataSourceRef;
  gridPos?: GridPos;
  targets?: TargetJson[];
  fieldConfig?: {
    defaults: { unit?: string; [key: string]: unknown };
    overrides: unknown[];
  };
  options?: Record<string, unknown>;
  /** Nested panels of a collapsed row. */
  panels?: PanelJson[];
  [key: string]: unknown;
}

/** A template variable. */
export interface VariableJson {
  name: string;
  type: string;
  label?: string;
  query?: string | Record<string, unknown>;
  datasource?: DataSourceRef | null;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  /** 0 never, 1 on dashboard load, 2 on time range change. */
  refresh?: number;
  [key: string]: unknown;
}

/** An annotation query. */
export interface AnnotationJson {
  name: string;
  datasource: DataSourceRef;
  enable: boolean;
  iconColor: string;
  expr?: string;
  [key: string]: unknown;
}

/** A whole dashboard in the modern (panels + gridPos) model. */
export interface DashboardJson {
  uid?: string;
  title?: string;
  schemaVersion: number;
  panels?: PanelJson[];
  templating?: { list?: VariableJson[] };
  annotations?: { list?: AnnotationJson[] };
  refresh?: string;
  [key: string]: unknown;
}

/** The datasource reference every generated panel, target and variable uses. */
export const PROMETHEUS_DATASOURCE: Readonly<DataSourceRef> = Object.freeze({
  type: 'prometheus',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  uid: '${datasource}',
});
