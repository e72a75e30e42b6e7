/**
 * Helpers for running a dashboard's queries outside Grafana (the end-to-end test runs every
 * panel query against a real Prometheus): list them, and expand Grafana's variables.
 */
import type { DashboardJson, PanelJson } from './types.js';

/** One panel query. */
export interface PanelQuery {
  /** Dashboard uid (or title when there is no uid). */
  dashboard: string;
  /** Panel title. */
  panel: string;
  /** Panel id (unique within the dashboard). */
  panelId: number | undefined;
  refId: string;
  /** PromQL with Grafana variables unexpanded. */
  expr: string;
  /** True when the target is an instant query. */
  instant: boolean;
}

/**
 * Every Prometheus query of every panel (rows' nested panels included) in layout order.
 * Targets without an `expr` are skipped.
 */
export function panelQueries(dashboard: DashboardJson): PanelQuery[] {
  const name = dashboard.uid ?? String(dashboard.title ?? '');
  const out: PanelQuery[] = [];
  const visit = (panels: PanelJson[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) {
        if (typeof t.expr !== 'string') continue;
        out.push({
          dashboard: name,
          expr: t.expr,
          instant: t.instant === true,
          panel: p.title ?? '',
          panelId: p.id,
          refId: t.refId,
        });
      }
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(dashboard.panels ?? []);
  return out;
}

/**
 * Values that make a dashboard query runnable against Prometheus directly: every
 * multi-select variable at "All" (`.+`), and Grafana's interval variables at one minute
 * (at least 4x a 15 s scrape interval, as `$__rate_interval` would be).
 */
export const DEFAULT_VARIABLE_VALUES: Readonly<Record<string, string>> = Object.freeze({
  __interval: '1m',
  __interval_ms: '60000',
  __range: '1h',
  __range_ms: '3600000',
  __range_s: '3600',
  __rate_interval: '1m',
  __rate_interval_ms: '60000',
  instance: '.+',
  job: '.+',
});

/**
 * Replaces `$name`, `${name}`, `${name:format}` and `[[name]]` with `vars[name]`. Names are
 * matched whole (`$__rate_interval` is not `$__rate` + `_interval`); unknown variables are
 * left as they are, so a missing value shows up as a parse error rather than a silent guess.
 *
 * @param expr - the query text.
 * @param vars - variable values, default {@link DEFAULT_VARIABLE_VALUES}.
 */
export function substituteVariables(
  expr: string,
  vars: Readonly<Record<string, string>> = DEFAULT_VARIABLE_VALUES,
): string {
  return expr.replace(
    /\$\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (
      whole,
      braced: string | undefined,
      bracketed: string | undefined,
      bare: string | undefined,
    ) => {
      const name = braced ?? bracketed ?? bare ?? '';
      return Object.hasOwn(vars, name) ? (vars[name] as string) : whole;
    },
  );
}
