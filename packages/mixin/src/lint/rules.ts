/**
 * A TypeScript port of the rules of Grafana's dashboard-linter (github.com/grafana/dashboard-linter)
 * that monitoring mixins run with `--strict`; the Go tool is not available here. Messages
 * follow the originals. Where a rule is stricter than upstream, its description says so.
 */
import type { DashboardJson, PanelJson, TargetJson, VariableJson } from '../grafana/types.js';
import { analysePromql, type SelectorInfo } from './promql.js';

/** One finding. */
export interface LintProblem {
  rule: string;
  /** Dashboard uid (or title). */
  dashboard: string;
  panel?: string;
  refId?: string;
  message: string;
}

/** A linter rule. */
export interface LintRule {
  name: string;
  description: string;
  check(dashboard: DashboardJson): LintProblem[];
}

/** Datasource references the panel/template rules accept (as dashboard-linter does). */
const ALLOWED_DATASOURCES = new Set([
  '$datasource',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  '${datasource}',
  '$prometheus_datasource',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  '${prometheus_datasource}',
]);

/** Panel types that show query results and so need targets, units and a datasource. */
const DATA_PANELS = new Set([
  'timeseries',
  'stat',
  'gauge',
  'bargauge',
  'heatmap',
  'graph',
  'singlestat',
  'table',
]);

/**
 * Grafana unit ids (packages/grafana-data/src/valueFormats/categories.ts) that these
 * dashboards could use: misc, data, data rate, throughput, time, date.
 */
export const VALID_UNITS: ReadonlySet<string> = new Set([
  'none',
  'short',
  'percent',
  'percentunit',
  'humidity',
  'dB',
  'hex0x',
  'hex',
  'sci',
  'locale',
  'pixel',
  'bytes',
  'decbytes',
  'bits',
  'decbits',
  'kbytes',
  'deckbytes',
  'mbytes',
  'decmbytes',
  'gbytes',
  'decgbytes',
  'tbytes',
  'dectbytes',
  'pbytes',
  'decpbytes',
  'pps',
  'binBps',
  'Bps',
  'binbps',
  'bps',
  'KiBs',
  'Kibits',
  'KBs',
  'Kbits',
  'MiBs',
  'Mibits',
  'MBs',
  'Mbits',
  'GiBs',
  'Gibits',
  'GBs',
  'Gbits',
  'TiBs',
  'Tibits',
  'TBs',
  'Tbits',
  'cps',
  'ops',
  'reqps',
  'rps',
  'wps',
  'iops',
  'eps',
  'mps',
  'recps',
  'rowsps',
  'cpm',
  'opm',
  'reqpm',
  'rpm',
  'wpm',
  'epm',
  'mpm',
  'recpm',
  'rowspm',
  'hertz',
  'ns',
  'µs',
  'ms',
  's',
  'm',
  'h',
  'd',
  'dtdurationms',
  'dtdurations',
  'dthms',
  'dtdhms',
  'timeticks',
  'clockms',
  'clocks',
  'dateTimeAsIso',
  'dateTimeAsUS',
  'dateTimeFromNow',
]);

/** Counters must only appear inside these (dashboard-linter's target-counter-agg). */
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase']);

const dashName = (d: DashboardJson) => d.uid ?? String(d.title ?? '');

/** Every panel, rows' nested panels included. */
export function allPanels(d: DashboardJson): PanelJson[] {
  const out: PanelJson[] = [];
  const visit = (list: PanelJson[]) => {
    for (const p of list) {
      out.push(p);
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(d.panels ?? []);
  return out;
}

const variables = (d: DashboardJson): VariableJson[] => d.templating?.list ?? [];

function templateRule(name: 'job' | 'instance'): LintRule {
  return {
    name: `template-${name}`,
    description: `A '${name}' query variable on $datasource, labelled '${name}', multi-select, allValue '.+'.`,
    check(d) {
      const problem = (message: string): LintProblem[] => [
        { dashboard: dashName(d), message, rule: `template-${name}` },
      ];
      const t = variables(d).find((v) => v.name === name);
      if (!t) return problem(`'${dashName(d)}' is missing the ${name} template`);
      const uid = t.datasource?.uid ?? '';
      if (!ALLOWED_DATASOURCES.has(uid))
        return problem(
          `'${dashName(d)}' ${name} template should use datasource '$datasource', is currently '${uid}'`,
        );
      if (t.type !== 'query')
        return problem(`${name} template should be a Prometheus query, is currently '${t.type}'`);
      if (t.label !== name)
        return problem(
          `'${dashName(d)}' ${name} template should be a labeled '${name}', is currently '${t.label ?? ''}'`,
        );
      if (t.multi !== true) return problem(`${name} template should be a multi select`);
      if (t.allValue !== '.+')
        return problem(
          `${name} template allValue should be '.+', is currently '${t.allValue ?? ''}'`,
        );
      return [];
    },
  };
}

/** A rule over every data panel. */
function panelRule(
  name: string,
  description: string,
  fn: (p: PanelJson) => string | undefined,
  types = DATA_PANELS,
): LintRule {
  return {
    name,
    description,
    check(d) {
      const out: LintProblem[] = [];
      for (const p of allPanels(d)) {
        if (!types.has(p.type)) continue;
        const message = fn(p);
        if (message)
          out.push({
            dashboard: dashName(d),
            message: `'${p.title ?? ''}' ${message}`,
            panel: p.title ?? '',
            rule: name,
          });
      }
      return out;
    },
  };
}

/** A rule over every Prometheus target of every data panel. */
function targetRule(
  name: string,
  description: string,
  fn: (t: TargetJson, selectors: SelectorInfo[], expr: string) => string[],
): LintRule {
  return {
    name,
    description,
    check(d) {
      const out: LintProblem[] = [];
      for (const p of allPanels(d)) {
        if (!DATA_PANELS.has(p.type)) continue;
        for (const t of p.targets ?? []) {
          if (typeof t.expr !== 'string') continue;
          for (const message of fn(t, analysePromql(t.expr).selectors, t.expr))
            out.push({
              dashboard: dashName(d),
              message: `'${p.title ?? ''}' target ${t.refId}: ${message}`,
              panel: p.title ?? '',
              refId: t.refId,
              rule: name,
            });
        }
      }
      return out;
    },
  };
}

function matcherRule(label: 'job' | 'instance'): LintRule {
  return targetRule(
    `target-${label}`,
    `Every selector carries ${label}=~"$${label}".`,
    (_t, selectors) => {
      const out: string[] = [];
      for (const s of selectors) {
        const m = s.matchers.find((x) => x.label === label);
        if (!m) out.push(`invalid PromQL query '${s.text}': ${label} selector not found`);
        else if (m.op !== '=~')
          out.push(`invalid PromQL query '${s.text}': ${label} selector is ${m.op}, not =~`);
        else if (m.value !== `$${label}` && m.value !== `\${${label}}`)
          out.push(
            `invalid PromQL query '${s.text}': ${label} selector is ${m.value}, not $${label}`,
          );
      }
      return out;
    },
  );
}

/** All ported rules, in dashboard-linter's grouping: templates, panels, targets. */
export const LINT_RULES: readonly LintRule[] = [
  {
    name: 'template-datasource',
    description: "A 'datasource' variable, labelled 'Data source'.",
    check(d) {
      const ds = variables(d).filter((v) => v.type === 'datasource');
      const problem = (message: string): LintProblem => ({
        dashboard: dashName(d),
        message,
        rule: 'template-datasource',
      });
      if (ds.length === 0)
        return [problem(`'${dashName(d)}' does not have a templated data source`)];
      return ds.flatMap((v) => {
        const query = typeof v.query === 'string' ? v.query.toLowerCase() : '';
        const out: LintProblem[] = [];
        if (v.name !== 'datasource' && v.name !== `${query}_datasource`)
          out.push(
            problem(
              `'${dashName(d)}' templated data source variable named '${v.name}', should be named 'datasource' or '${query}_datasource'`,
            ),
          );
        if (v.label !== 'Data source' && v.label !== 'Data Source')
          out.push(
            problem(
              `'${dashName(d)}' templated data source variable labeled '${v.label ?? ''}', should be labeled 'Data source'`,
            ),
          );
        return out;
      });
    },
  },
  templateRule('job'),
  templateRule('instance'),
  {
    name: 'template-on-time-change-reload',
    description: 'Query variables refresh on time range change (refresh: 2).',
    check(d) {
      return variables(d)
        .filter((v) => v.type === 'query' && v.refresh !== 2)
        .map((v) => ({
          dashboard: dashName(d),
          message: `'${dashName(d)}' templated datasource variable named '${v.name}', should be set to be refreshed 'On Time Range Change (value 2)', is currently '${String(v.refresh)}'`,
          rule: 'template-on-time-change-reload',
        }));
    },
  },
  panelRule('panel-datasource', 'Panels and their targets query $datasource.', (p) => {
    const uids = [
      p.datasource?.uid ?? '',
      ...(p.targets ?? []).filter((t) => t.datasource).map((t) => t.datasource?.uid ?? ''),
    ];
    const bad = uids.find((u) => !ALLOWED_DATASOURCES.has(u));
    return bad === undefined ? undefined : `does not use a templated datasource, uses '${bad}'`;
  }),
  {
    // Stricter than upstream: covers every panel type, and rows need a title.
    name: 'panel-title-description',
    description: 'Every panel has a title and a description; rows have a title.',
    check(d) {
      return allPanels(d)
        .filter((p) => (p.type === 'row' ? !p.title : !p.title || !p.description))
        .map((p) => ({
          dashboard: dashName(d),
          message: `'${p.title ?? ''}' has missing title or description`,
          panel: p.title ?? '',
          rule: 'panel-title-description',
        }));
    },
  },
  panelRule(
    'panel-units',
    'Every data panel has a valid unit (heatmaps also on the y axis).',
    (p) => {
      const unit = p.fieldConfig?.defaults?.unit ?? '';
      if (!VALID_UNITS.has(unit)) return `has no or invalid units defined: '${unit}'`;
      if (p.type === 'heatmap') {
        const y = ((p.options?.yAxis ?? {}) as { unit?: string }).unit ?? '';
        if (!VALID_UNITS.has(y)) return `has no or invalid y-axis units defined: '${y}'`;
      }
      return undefined;
    },
  ),
  panelRule('panel-no-targets', 'Every data panel has at least one target.', (p) =>
    (p.targets ?? []).length === 0 ? 'has no targets' : undefined,
  ),
  targetRule('target-promql', 'Every target is valid PromQL (after variable expansion).', (t) =>
    analysePromql(t.expr ?? '').errors.map((e) => `invalid PromQL query '${t.expr}': ${e}`),
  ),
  // Stricter than upstream (rate-like functions only): every range and subquery range.
  targetRule('target-rate-interval', 'Every range is [$__rate_interval].', (t) =>
    analysePromql(t.expr ?? '')
      .ranges.filter((r) => !r.isRateInterval)
      .map(
        (r) =>
          `invalid PromQL query '${t.expr}': should use $__rate_interval, uses '${r.duration}' in '${r.text}'`,
      ),
  ),
  matcherRule('job'),
  matcherRule('instance'),
  targetRule(
    'target-counter-agg',
    'Counters (_total) only inside rate, irate or increase.',
    (_t, selectors) =>
      selectors
        .filter((s) => s.name?.endsWith('_total') && !COUNTER_FUNCTIONS.has(s.rangeFunction ?? ''))
        .map((s) => `counter metric '${s.name}' is not aggregated with rate, irate, or increase`),
  ),
];
