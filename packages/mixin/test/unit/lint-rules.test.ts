import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { type DashboardJson, fleetDashboard, type PanelJson } from '../../src/dashboards/index.js';
import { LINT_RULES, lintDashboard } from '../../src/lint/index.js';

/** A fresh copy of the (passing) fleet dashboard to break. */
const good = (): DashboardJson => structuredClone(fleetDashboard(DEFAULT_CONFIG));
const panel = (d: DashboardJson, title: string): PanelJson => {
  const p = d.panels?.find((x) => x.title === title);
  if (!p) throw new Error(`no panel ${title}`);
  return p;
};
const variable = (d: DashboardJson, name: string) => {
  const v = d.templating?.list?.find((x) => x.name === name);
  if (!v) throw new Error(`no variable ${name}`);
  return v;
};
const setExpr = (d: DashboardJson, title: string, expr: string) => {
  const t = panel(d, title).targets?.[0];
  if (!t) throw new Error('no target');
  t.expr = expr;
};
const messages = (d: DashboardJson, rule: string) =>
  lintDashboard(d, { rules: [rule] }).map((p) => p.message);

/** One bad dashboard per rule and exactly what the rule must say about it. */
const CASES: Record<string, { breakIt(d: DashboardJson): void; expected: string[] }> = {
  'template-datasource': {
    breakIt: (d) => {
      const v = variable(d, 'datasource');
      v.name = 'ds';
      v.label = 'DS';
    },
    expected: [
      "'tidewatch-realtime-fleet' templated data source variable named 'ds', should be named 'datasource' or 'prometheus_datasource'",
      "'tidewatch-realtime-fleet' templated data source variable labeled 'DS', should be labeled 'Data source'",
    ],
  },
  'template-job': {
    breakIt: (d) => {
      variable(d, 'job').allValue = '.*';
    },
    expected: ["job template allValue should be '.+', is currently '.*'"],
  },
  'template-instance': {
    breakIt: (d) => {
      variable(d, 'instance').datasource = { type: 'prometheus', uid: 'P1809F7CD0C75ACF3' };
    },
    expected: [
      "'tidewatch-realtime-fleet' instance template should use datasource '$datasource', is currently 'P1809F7CD0C75ACF3'",
    ],
  },
  'template-on-time-change-reload': {
    breakIt: (d) => {
      variable(d, 'job').refresh = 1;
    },
    expected: [
      "'tidewatch-realtime-fleet' templated datasource variable named 'job', should be set to be refreshed 'On Time Range Change (value 2)', is currently '1'",
    ],
  },
  'panel-datasource': {
    breakIt: (d) => {
      panel(d, 'Bytes').datasource = { type: 'prometheus', uid: 'prometheus-prod' };
    },
    expected: ["'Bytes' does not use a templated datasource, uses 'prometheus-prod'"],
  },
  'panel-title-description': {
    breakIt: (d) => {
      panel(d, 'Errors').description = '';
    },
    expected: ["'Errors' has missing title or description"],
  },
  'panel-units': {
    breakIt: (d) => {
      const p = panel(d, 'Memory');
      if (p.fieldConfig) p.fieldConfig.defaults.unit = 'megabytes';
      (panel(d, 'Message size').options?.yAxis as { unit?: string }).unit = undefined;
    },
    expected: [
      "'Message size' has no or invalid y-axis units defined: ''",
      "'Memory' has no or invalid units defined: 'megabytes'",
    ],
  },
  'panel-no-targets': {
    breakIt: (d) => {
      panel(d, 'CPU').targets = [];
    },
    expected: ["'CPU' has no targets"],
  },
  'target-promql': {
    breakIt: (d) => {
      setExpr(
        d,
        'Heartbeats',
        'sum by (outcome) (rate(realtime_heartbeats_total{job=~"$job", instance=~"$instance"}[$__rate_interval])) >> 1',
      );
      setExpr(
        d,
        'Send buffer',
        'sum by (instance) (realtime_send_buffer_bytes{job=~"$job", instance=~"$instance"}',
      );
    },
    expected: [
      `'Heartbeats' target A: invalid PromQL query 'sum by (outcome) (rate(realtime_heartbeats_total{job=~"$job", instance=~"$instance"}[$__rate_interval])) >> 1': syntax error near "> 1"`,
      `'Send buffer' target A: invalid PromQL query 'sum by (instance) (realtime_send_buffer_bytes{job=~"$job", instance=~"$instance"}': syntax error: unexpected end of expression`,
    ],
  },
  'target-rate-interval': {
    breakIt: (d) =>
      setExpr(
        d,
        'Errors',
        'sum by (type) (rate(realtime_errors_total{job=~"$job", instance=~"$instance"}[5m]))',
      ),
    expected: [
      `'Errors' target A: invalid PromQL query 'sum by (type) (rate(realtime_errors_total{job=~"$job", instance=~"$instance"}[5m]))': should use $__rate_interval, uses '5m' in 'realtime_errors_total{job=~"$job", instance=~"$instance"}[5m]'`,
    ],
  },
  'target-job': {
    breakIt: (d) =>
      setExpr(
        d,
        'Slow consumers',
        'sum by (instance) (realtime_slow_consumers{job="chat", instance=~"$instance"})',
      ),
    expected: [
      `'Slow consumers' target A: invalid PromQL query 'realtime_slow_consumers{job="chat", instance=~"$instance"}': job selector is =, not =~`,
    ],
  },
  'target-instance': {
    breakIt: (d) =>
      setExpr(
        d,
        'Slow consumers',
        'sum(realtime_slow_consumers{job=~"$job"}) / sum(up{job=~"$job", instance=~"$node"})',
      ),
    expected: [
      `'Slow consumers' target A: invalid PromQL query 'realtime_slow_consumers{job=~"$job"}': instance selector not found`,
      `'Slow consumers' target A: invalid PromQL query 'up{job=~"$job", instance=~"$node"}': instance selector is $node, not $instance`,
    ],
  },
  'target-counter-agg': {
    breakIt: (d) => {
      setExpr(
        d,
        'Errors',
        'sum by (type) (realtime_errors_total{job=~"$job", instance=~"$instance"})',
      );
      setExpr(
        d,
        'Dropped messages',
        'sum(delta(realtime_messages_dropped_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))',
      );
    },
    expected: [
      "'Dropped messages' target A: counter metric 'realtime_messages_dropped_total' is not aggregated with rate, irate, or increase",
      "'Errors' target A: counter metric 'realtime_errors_total' is not aggregated with rate, irate, or increase",
    ],
  },
};

describe('each linter rule catches a bad dashboard', () => {
  it('has a case for every rule', () => {
    expect(Object.keys(CASES).sort()).toEqual(LINT_RULES.map((r) => r.name).sort());
  });

  for (const rule of LINT_RULES) {
    it(rule.name, () => {
      const c = CASES[rule.name];
      if (!c) throw new Error(`no case for ${rule.name}`);
      const d = good();
      expect(messages(d, rule.name)).toEqual([]);
      c.breakIt(d);
      expect(messages(d, rule.name).sort()).toEqual([...c.expected].sort());
    });
  }
});

describe('rule details', () => {
  it('template rules report a missing variable', () => {
    const d = good();
    d.templating = { list: [] };
    expect(
      lintDashboard(d, { rules: ['template-datasource', 'template-job', 'template-instance'] }).map(
        (p) => p.message,
      ),
    ).toEqual([
      "'tidewatch-realtime-fleet' does not have a templated data source",
      "'tidewatch-realtime-fleet' is missing the job template",
      "'tidewatch-realtime-fleet' is missing the instance template",
    ]);
  });

  it('template-job wants a multi-select labelled job', () => {
    const d = good();
    variable(d, 'job').multi = false;
    expect(messages(d, 'template-job')).toEqual(['job template should be a multi select']);
    variable(d, 'job').label = 'Job';
    expect(messages(d, 'template-job')).toEqual([
      "'tidewatch-realtime-fleet' job template should be a labeled 'job', is currently 'Job'",
    ]);
  });

  it('panel-datasource also checks each target', () => {
    const d = good();
    const t = panel(d, 'Bytes').targets?.[0];
    if (t) t.datasource = { type: 'prometheus', uid: 'other' };
    expect(messages(d, 'panel-datasource')).toEqual([
      "'Bytes' does not use a templated datasource, uses 'other'",
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  it('target-rate-interval also covers subqueries, and accepts ${__rate_interval}', () => {
    const d = good();
    setExpr(
      d,
      'Errors',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
      'max_over_time(sum(rate(realtime_errors_total{job=~"$job", instance=~"$instance"}[${__rate_interval}]))[1h:])',
    );
    expect(lintDashboard(d, { rules: ['target-rate-interval'] }).map((p) => p.message)).toEqual([
      `'Errors' target A: invalid PromQL query 'max_over_time(sum(rate(realtime_errors_total{job=~"$job", instance=~"$instance"}[\${__rate_interval}]))[1h:])': should use $__rate_interval, uses '1h' in 'sum(rate(realtime_errors_total{job=~"$job", instance=~"$instance"}[8869990787ms]))[1h:]'`,
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  it('target-job accepts ${job}', () => {
    const d = good();
    setExpr(
      d,
      'Slow consumers',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
      'sum(realtime_slow_consumers{job=~"${job}", instance=~"${instance}"})',
    );
    expect(lintDashboard(d, { rules: ['target-job', 'target-instance'] })).toEqual([]);
  });

  it('problems name the rule, dashboard, panel and refId', () => {
    const d = good();
    panel(d, 'CPU').targets = [];
    expect(lintDashboard(d)).toEqual([
      {
        dashboard: 'tidewatch-realtime-fleet',
        message: "'CPU' has no targets",
        panel: 'CPU',
        rule: 'panel-no-targets',
      },
    ]);
  });

  it('rejects an unknown rule name', () => {
    expect(() => lintDashboard(good(), { rules: ['panel-colour'] })).toThrow(
      'lintDashboard: unknown rule(s) panel-colour',
    );
  });
});
