/**
 * Modern Grafana panels (timeseries, stat, gauge, heatmap, table, row) for grafana-dash-gen.
 *
 * dash-gen 4 only knows the Angular-era `graph`/`singlestat`, which Grafana 11 no longer
 * renders natively. Its `Row.addPanel()` accepts any object with a `generate()` method and
 * copies the result through unchanged, so these classes plug into dash-gen rows as they are.
 * `generate()` still carries dash-gen's layout hints (`span`, `height`); the modernise pass
 * turns them into `gridPos` and removes them.
 */
import type { PromTarget } from './targets.js';
import { refIdAt } from './targets.js';
import { type PanelJson, PROMETHEUS_DATASOURCE } from './types.js';

/** One threshold step; the first step's value is `null` (minus infinity). */
export interface ThresholdStep {
  color: string;
  value: number | null;
}

/** Options every Prometheus-backed panel takes. */
export interface PanelOptions {
  title: string;
  /** Shown as the panel's (i) tooltip: what the panel shows and how to read it. Required. */
  description: string;
  /** Grafana unit id (`s`, `bytes`, `cps`, `percentunit`, `short`, ...). Required. */
  unit: string;
  targets: PromTarget[];
  /** Width in dash-gen spans (1..12, a span is 2 grid columns). Default 6 (half width). */
  span?: number;
  /** Height in grid rows (30 px each). Default 8. */
  height?: number;
  min?: number;
  max?: number;
  decimals?: number;
  /** Threshold steps; default one green step. */
  thresholds?: ThresholdStep[];
  /** Field overrides, passed through (`fieldConfig.overrides`). */
  overrides?: unknown[];
}

/** The layout hints a generated panel carries until modernise turns them into gridPos. */
export interface LayoutHints {
  span: number;
  height: number;
}

/** A generated panel still carrying dash-gen layout hints. */
export type GeneratedPanel = PanelJson & LayoutHints;

const DEFAULT_THRESHOLDS: ThresholdStep[] = [{ color: 'green', value: null }];

/** Shared rendering of a Prometheus panel; subclasses add type and options. */
abstract class PromPanel {
  /** The options given at construction. */
  readonly opts: Readonly<PanelOptions>;

  constructor(opts: PanelOptions) {
    for (const field of ['title', 'description', 'unit'] as const) {
      if (!opts[field] || opts[field].trim() === '')
        throw new TypeError(`panel "${opts.title}": ${field} is required`);
    }
    if (opts.targets.length === 0) throw new TypeError(`panel "${opts.title}": no targets`);
    const span = opts.span ?? 6;
    if (!Number.isInteger(span) || span < 1 || span > 12)
      throw new RangeError(`panel "${opts.title}": span must be an integer 1..12, got ${span}`);
    this.opts = { ...opts };
  }

  protected abstract readonly type: string;

  /** Options of the visualisation (`options`). */
  protected abstract panelOptions(): Record<string, unknown>;

  /** `fieldConfig.defaults.custom` of the visualisation. */
  protected customFieldConfig(): Record<string, unknown> | undefined {
    return undefined;
  }

  /** Colour mode of the field config. */
  protected colorMode(): string {
    return 'palette-classic';
  }

  /** The panel's JSON with dash-gen layout hints. */
  generate(): GeneratedPanel {
    const o = this.opts;
    const defaults: Record<string, unknown> = {
      color: { mode: this.colorMode() },
      thresholds: {
        mode: 'absolute',
        steps: (o.thresholds ?? DEFAULT_THRESHOLDS).map((s) => ({ ...s })),
      },
      unit: o.unit,
    };
    const custom = this.customFieldConfig();
    if (custom) defaults.custom = custom;
    if (o.min !== undefined) defaults.min = o.min;
    if (o.max !== undefined) defaults.max = o.max;
    if (o.decimals !== undefined) defaults.decimals = o.decimals;
    return {
      type: this.type,
      title: o.title,
      description: o.description,
      datasource: { ...PROMETHEUS_DATASOURCE },
      fieldConfig: { defaults, overrides: [...(o.overrides ?? [])] },
      options: this.panelOptions(),
      targets: o.targets.map((t, i) => t.generate(refIdAt(i))),
      span: o.span ?? 6,
      height: o.height ?? 8,
    };
  }
}

/** Options of a {@link TimeseriesPanel}. */
export interface TimeseriesOptions extends PanelOptions {
  /** Stack series: `true` = normal, `'percent'` = each series as its share of the stack. Default false. */
  stack?: boolean | 'percent';
  /** Area fill opacity 0..100. Default 10. */
  fillOpacity?: number;
  /** Legend calculations. Default mean and max. */
  legendCalcs?: string[];
}

/** A `timeseries` panel (the successor of dash-gen's `graph`). */
export class TimeseriesPanel extends PromPanel {
  protected readonly type = 'timeseries';
  declare readonly opts: Readonly<TimeseriesOptions>;

  /** @param opts - title, description, unit, targets and display options. */
  constructor(opts: TimeseriesOptions) {
    super(opts);
  }

  protected override customFieldConfig(): Record<string, unknown> {
    return {
      drawStyle: 'line',
      fillOpacity: this.opts.fillOpacity ?? 10,
      lineWidth: 1,
      showPoints: 'never',
      spanNulls: false,
      stacking: {
        group: 'A',
        mode: this.opts.stack === 'percent' ? 'percent' : this.opts.stack ? 'normal' : 'none',
      },
    };
  }

  protected panelOptions(): Record<string, unknown> {
    return {
      legend: {
        calcs: [...(this.opts.legendCalcs ?? ['mean', 'max'])],
        displayMode: 'table',
        placement: 'bottom',
        showLegend: true,
      },
      tooltip: { mode: 'multi', sort: 'desc' },
    };
  }
}

/** Options of a {@link StatPanel}. */
export interface StatOptions extends PanelOptions {
  /** `area` shows a sparkline (needs range queries). Default `none` (stats here are instant). */
  graphMode?: 'area' | 'none';
  /** `name` shows the series name (e.g. a model label) instead of the value. Default `auto`. */
  textMode?: 'auto' | 'value' | 'name' | 'value_and_name';
}

/** A `stat` panel (the successor of dash-gen's `singlestat`). */
export class StatPanel extends PromPanel {
  protected readonly type = 'stat';
  declare readonly opts: Readonly<StatOptions>;

  /** @param opts - title, description, unit, targets and display options. */
  constructor(opts: StatOptions) {
    super({ span: 2, height: 4, ...opts });
  }

  protected override colorMode(): string {
    return 'thresholds';
  }

  protected panelOptions(): Record<string, unknown> {
    return {
      colorMode: 'value',
      graphMode: this.opts.graphMode ?? 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      textMode: this.opts.textMode ?? 'auto',
    };
  }
}

/** A `gauge` panel: a value against min/max with threshold colours. */
export class GaugePanel extends PromPanel {
  protected readonly type = 'gauge';

  /** @param opts - as {@link PanelOptions}; set `min`/`max` for a meaningful dial. */
  constructor(opts: PanelOptions) {
    super({ span: 2, height: 4, ...opts });
  }

  protected override colorMode(): string {
    return 'thresholds';
  }

  protected panelOptions(): Record<string, unknown> {
    return {
      orientation: 'auto',
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      showThresholdLabels: false,
      showThresholdMarkers: true,
    };
  }
}

/** Options of a {@link HeatmapPanel}. */
export interface HeatmapOptions extends PanelOptions {
  /** Unit of the bucket bounds (the y axis), e.g. `s` or `bytes`. */
  yUnit: string;
}

/**
 * A `heatmap` of pre-bucketed Prometheus histograms: the targets should be
 * `sum by (le) (rate(x_bucket[$__rate_interval]))` with `format: 'heatmap'`, so Grafana
 * takes the buckets as they are (`calculate: false`) instead of re-bucketing the values.
 */
export class HeatmapPanel extends PromPanel {
  protected readonly type = 'heatmap';
  declare readonly opts: Readonly<HeatmapOptions>;

  /** @param opts - as {@link PanelOptions} plus the y-axis unit. */
  constructor(opts: HeatmapOptions) {
    if (!opts.yUnit) throw new TypeError(`heatmap "${opts.title}": yUnit is required`);
    super(opts);
  }

  protected override customFieldConfig(): Record<string, unknown> {
    return { scaleDistribution: { type: 'linear' } };
  }

  protected override colorMode(): string {
    return 'fixed';
  }

  protected panelOptions(): Record<string, unknown> {
    return {
      calculate: false,
      cellGap: 1,
      color: {
        exponent: 0.5,
        fill: 'dark-orange',
        mode: 'scheme',
        scale: 'exponential',
        scheme: 'Oranges',
        steps: 64,
      },
      exemplars: { color: 'rgba(255,0,255,0.7)' },
      filterValues: { le: 1e-9 },
      legend: { show: true },
      rowsFrame: { layout: 'auto' },
      tooltip: { mode: 'single', showColorScale: false, yHistogram: true },
      yAxis: { axisPlacement: 'left', reverse: false, unit: this.opts.yUnit },
    };
  }
}

/** One column of a {@link TablePanel}: the value of one target, under a header. */
export interface TableColumn {
  /** Column header. */
  header: string;
  /** Grafana unit id of the column. */
  unit: string;
}

/** Options of a {@link TablePanel}. */
export interface TableOptions extends PanelOptions {
  /**
   * The label the targets' results are joined on (e.g. `room`); it becomes the first column.
   * Each target must be an instant query in `table` format.
   */
  joinOn: string;
  /** One value column per target, in target order; the first is sorted descending. */
  columns: TableColumn[];
}

/**
 * A `table` of instant queries joined on one label: each target gives one value column
 * (`Value #A`, `Value #B`, ... in Grafana's frames), merged into rows by the label and
 * renamed to the column headers, `Time` hidden, sorted by the first column.
 */
export class TablePanel extends PromPanel {
  protected readonly type = 'table';
  declare readonly opts: Readonly<TableOptions>;

  /** @param opts - as {@link PanelOptions} plus the join label and the value columns. */
  constructor(opts: TableOptions) {
    if (opts.columns.length !== opts.targets.length)
      throw new TypeError(`table "${opts.title}": one column per target`);
    for (const t of opts.targets) {
      if (t.options.instant !== true || t.options.format !== 'table')
        throw new TypeError(`table "${opts.title}": targets must be instant, format table`);
    }
    super({ span: 12, ...opts });
  }

  private valueField(i: number): string {
    return `Value #${String.fromCharCode(65 + i)}`;
  }

  protected override customFieldConfig(): Record<string, unknown> {
    return { align: 'auto', cellOptions: { type: 'auto' }, inspect: false };
  }

  protected override colorMode(): string {
    return 'thresholds';
  }

  /** Adds the merge/organize transformations and a per-column unit. */
  override generate(): GeneratedPanel {
    const json = super.generate();
    const cols = this.opts.columns;
    const rename: Record<string, string> = {};
    const index: Record<string, number> = { [this.opts.joinOn]: 0 };
    cols.forEach((c, i) => {
      rename[this.valueField(i)] = c.header;
      index[this.valueField(i)] = i + 1;
    });
    json.transformations = [
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: { excludeByName: { Time: true }, indexByName: index, renameByName: rename },
      },
    ];
    json.fieldConfig!.overrides = [
      ...cols.map((c) => ({
        matcher: { id: 'byName', options: c.header },
        properties: [{ id: 'unit', value: c.unit }],
      })),
      ...json.fieldConfig!.overrides,
    ];
    return json;
  }

  protected panelOptions(): Record<string, unknown> {
    return {
      cellHeight: 'sm',
      footer: { countRows: false, fields: '', reducer: ['sum'], show: false },
      showHeader: true,
      sortBy: [{ desc: true, displayName: this.opts.columns[0]!.header }],
    };
  }
}

/** A `row` panel: the modern replacement of dash-gen's `rows[]` container. */
export class RowPanel {
  /** @param title - the row's title. @param collapsed - start collapsed. */
  constructor(
    readonly title: string,
    readonly collapsed = false,
  ) {}

  /** The row's JSON (gridPos and id are set by the modernise pass). */
  generate(): PanelJson {
    return { collapsed: this.collapsed, panels: [], title: this.title, type: 'row' };
  }
}
