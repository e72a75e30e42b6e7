/**
 * Prometheus targets for grafana-dash-gen panels. dash-gen's own `Target` renders Graphite
 * (`{"target": "..."}`), which a Prometheus datasource ignores, so every panel would come out
 * empty; these render the fields the Prometheus datasource reads.
 */
import { PROMETHEUS_DATASOURCE, type TargetJson } from './types.js';

/** Options of one Prometheus query. */
export interface PromTargetOptions {
  /** Legend template, e.g. `{{instance}}`. Default `__auto`. */
  legendFormat?: string;
  /** `time_series` (default), `heatmap` (for `sum by (le)` bucket rates) or `table`. */
  format?: 'time_series' | 'heatmap' | 'table';
  /** Run as an instant query (stat/gauge panels) instead of a range query. */
  instant?: boolean;
  /** Hide the series from the visualisation (still usable by overrides). */
  hide?: boolean;
}

/** One PromQL query of a panel; `generate(refId)` renders it. */
export class PromTarget {
  /** The PromQL expression, with Grafana variables (`$job`, `$__rate_interval`) unexpanded. */
  readonly expr: string;
  /** The options given at construction. */
  readonly options: Readonly<PromTargetOptions>;

  /**
   * @param expr - PromQL, may contain Grafana variables.
   * @param options - legend, format, instant/range.
   * @throws TypeError for an empty expression (a panel that silently shows nothing).
   */
  constructor(expr: string, options: PromTargetOptions = {}) {
    if (expr.trim() === '') throw new TypeError('PromTarget: expr must not be empty');
    this.expr = expr;
    this.options = { ...options };
  }

  /**
   * The target's JSON. `refId` is given by the panel (A, B, ...), so targets can be shared
   * between panels without carrying state.
   */
  generate(refId: string): TargetJson {
    const instant = this.options.instant === true;
    const json: TargetJson = {
      datasource: { ...PROMETHEUS_DATASOURCE },
      editorMode: 'code',
      expr: this.expr,
      format: this.options.format ?? 'time_series',
      instant,
      legendFormat: this.options.legendFormat ?? '__auto',
      range: !instant,
      refId,
    };
    if (this.options.hide) json.hide = true;
    return json;
  }
}

/** Shorthand for `new PromTarget(expr, options)`. */
export function promTarget(expr: string, options: PromTargetOptions = {}): PromTarget {
  return new PromTarget(expr, options);
}

/**
 * The refId of the `index`-th target: A..Z, then AA, AB, ... (dash-gen's own counter runs out
 * of bounds after Z).
 */
export function refIdAt(index: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let n = index;
  let id = '';
  do {
    id = letters[n % 26] + id;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return id;
}
