/**
 * The modernising pass: turns grafana-dash-gen's Graphite-era output (`rows[]` with `span`,
 * `schemaVersion: 6`, boolean `refresh`, legacy top-level keys, ids from a module-global
 * counter) into the model Grafana 10.4+ saves: `panels[]` with `gridPos`, row panels,
 * `schemaVersion` 39, a stable `uid`, a string `refresh`, and ids numbered per dashboard so
 * the output does not depend on what else was built in the same process.
 */
import { builtInAnnotation } from './annotations.js';
import { RowPanel } from './panels.js';
import type { AnnotationJson, DashboardJson, PanelJson, VariableJson } from './types.js';

/** The schemaVersion written (Grafana 10.4/11.0); Grafana migrates it forward on load. */
export const SCHEMA_VERSION = 39;

/** Grid columns of a Grafana dashboard. */
const GRID_WIDTH = 24;

/** Top-level keys of dash-gen's output that the modern model does not have. */
const LEGACY_KEYS = [
  'rows',
  'style',
  'originalTitle',
  'hideControls',
  'sharedCrosshair',
  'hideAllLegends',
];

/** What modernise needs beyond dash-gen's state. */
export interface ModerniseOptions {
  /** Stable uid (<= 40 characters, Grafana's limit). */
  uid: string;
  /** Refresh interval string, e.g. `30s`. */
  refresh: string;
  /** Default time range start, e.g. `now-6h`. */
  from: string;
  description?: string;
  /** Dashboard links, passed through. */
  links?: unknown[];
}

/** The subset of dash-gen's generated state that modernise reads. */
export interface DashGenState {
  title: string;
  tags?: string[];
  timezone?: string;
  editable?: boolean;
  rows: Array<{ title?: string; collapse?: boolean; height?: string; panels: unknown[] }>;
  templating?: { list?: unknown[] };
  annotations?: { list?: unknown[] };
  [key: string]: unknown;
}

/**
 * Converts dash-gen's generated state into a modern dashboard.
 *
 * Layout: every dash-gen row becomes a row panel (h 1, full width) followed by its panels,
 * placed left to right with `w = span x 2`, wrapping to a new line when the next panel does
 * not fit; the line's height is its tallest panel.
 *
 * @param state - `Dashboard.generate()` output whose rows hold panels with `span`/`height`.
 * @param opts - uid, refresh, time range, description, links.
 * @returns A new object; `state` is not modified.
 * @throws RangeError for a uid longer than 40 characters or with characters Grafana rejects.
 */
export function modernise(state: DashGenState, opts: ModerniseOptions): DashboardJson {
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(opts.uid))
    throw new RangeError(`dashboard uid must be 1..40 of [a-zA-Z0-9_-], got "${opts.uid}"`);
  const panels: PanelJson[] = [];
  let y = 0;
  for (const row of state.rows) {
    const rowPanel = new RowPanel(row.title ?? '', row.collapse === true).generate();
    rowPanel.gridPos = { h: 1, w: GRID_WIDTH, x: 0, y };
    panels.push(rowPanel);
    y += 1;
    const defaultHeight = heightFromPixels(row.height);
    let x = 0;
    let lineHeight = 0;
    for (const raw of row.panels) {
      const { span, height, ...panel } = raw as PanelJson & { span?: number; height?: number };
      const w = Math.min(GRID_WIDTH, Math.max(1, Math.round((span ?? 12) * 2)));
      const h = height ?? defaultHeight;
      if (x + w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      panel.gridPos = { h, w, x, y };
      panels.push(panel);
      x += w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
  }
  renumberPanelIds(panels);

  const modern: Record<string, unknown> = { ...state };
  for (const key of LEGACY_KEYS) delete modern[key];
  return {
    ...modern,
    annotations: {
      list: [builtInAnnotation(), ...((state.annotations?.list ?? []) as AnnotationJson[])],
    },
    description: opts.description ?? '',
    editable: state.editable ?? true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [...(opts.links ?? [])],
    liveNow: false,
    panels,
    refresh: opts.refresh,
    schemaVersion: SCHEMA_VERSION,
    tags: [...(state.tags ?? [])],
    templating: { list: [...((state.templating?.list ?? []) as VariableJson[])] },
    time: { from: opts.from, to: 'now' },
    timepicker: {},
    timezone: state.timezone ?? 'browser',
    title: state.title,
    uid: opts.uid,
    version: 1,
    weekStart: '',
  };
}

/**
 * Numbers panels 1..n in layout order, including panels nested in collapsed rows, replacing
 * whatever ids they carried (dash-gen's counter is global to the module).
 */
export function renumberPanelIds(panels: PanelJson[]): void {
  let next = 1;
  const visit = (list: PanelJson[]) => {
    for (const p of list) {
      p.id = next++;
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(panels);
}

/** dash-gen row heights are CSS pixels (`'250px'`); a grid row is 30 px. */
function heightFromPixels(height: string | undefined): number {
  const px = Number.parseInt(height ?? '', 10);
  return Number.isFinite(px) && px > 0 ? Math.max(1, Math.round(px / 30)) : 8;
}

/**
 * JSON with object keys sorted (arrays keep their order), two-space indented, with a final
 * newline: the byte-stable form the committed files use. Key order then never depends on the
 * order code happened to assign properties in.
 */
export function stableStringify(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}
