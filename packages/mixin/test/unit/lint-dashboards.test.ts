import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, mixinConfig } from '../../src/config.js';
import {
  buildDashboards,
  DEFAULT_VARIABLE_VALUES,
  panelQueries,
  substituteVariables,
} from '../../src/dashboards/index.js';
import {
  analysePromql,
  expandForLint,
  LINT_RULES,
  lintDashboard,
  metricNames,
} from '../../src/lint/index.js';

describe('every linter rule passes on every generated dashboard', () => {
  for (const config of [DEFAULT_CONFIG, mixinConfig({ metricPrefix: 'ws_' })])
    for (const [slug, dashboard] of buildDashboards(config))
      for (const rule of LINT_RULES)
        it(`${config.metricPrefix} ${slug}: ${rule.name}`, () => {
          expect(rule.check(dashboard)).toEqual([]);
        });

  it('13 rules are ported', () => {
    expect(LINT_RULES.map((r) => r.name)).toEqual([
      'template-datasource',
      'template-job',
      'template-instance',
      'template-on-time-change-reload',
      'panel-datasource',
      'panel-title-description',
      'panel-units',
      'panel-no-targets',
      'target-promql',
      'target-rate-interval',
      'target-job',
      'target-instance',
      'target-counter-agg',
    ]);
  });

  it('lintDashboard over all rules finds nothing', () => {
    for (const d of buildDashboards(DEFAULT_CONFIG).values()) expect(lintDashboard(d)).toEqual([]);
  });
});

describe('PromQL analysis', () => {
  it('expands interval variables to magic durations and leaves label variables alone', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
    expect(expandForLint('rate(x{job=~"$job"}[$__rate_interval]) + rate(x[${__interval}])')).toBe(
      'rate(x{job=~"$job"}[8869990787ms]) + rate(x[4867856611ms])',
    );
  });

  it('finds selectors with matchers, their range and the function applied to it', () => {
    const a = analysePromql(
      'sum(rate(a_total{job=~"$job", "le"="1", __name__!="x"}[$__rate_interval])) / on() b',
    );
    expect(a.errors).toEqual([]);
    expect(a.selectors).toEqual([
      {
        matchers: [
          { label: 'job', op: '=~', value: '$job' },
          { label: '__name__', op: '!=', value: 'x' },
          { label: 'le', op: '=', value: '1' },
        ],
        name: 'a_total',
        range: '8869990787ms',
        rangeFunction: 'rate',
        text: 'a_total{job=~"$job", "le"="1", __name__!="x"}',
      },
      { matchers: [], name: 'b', range: undefined, rangeFunction: undefined, text: 'b' },
    ]);
    expect(a.ranges).toEqual([
      {
        duration: '8869990787ms',
        isRateInterval: true,
        kind: 'matrix',
        text: 'a_total{job=~"$job", "le"="1", __name__!="x"}[8869990787ms]',
      },
    ]);
  });

  it('takes the name from a __name__ matcher and unescapes strings', () => {
    expect(metricNames('{__name__="up", job="a\\"b"} or process_open_fds or up')).toEqual([
      'process_open_fds',
      'up',
    ]);
    expect(analysePromql('{__name__="up", job="a\\"b"}').selectors[0]?.matchers[1]).toEqual({
      label: 'job',
      op: '=',
      value: 'a"b',
    });
  });

  it('reports syntax errors, an unknown function and an empty expression', () => {
    expect(analysePromql('sum(rate(x[5m])').errors).toEqual([
      'syntax error: unexpected end of expression',
    ]);
    expect(analysePromql('rated(x[5m])').errors.length).toBeGreaterThan(0);
    expect(analysePromql('').errors[0]).toBe('empty expression');
  });
});

describe('panelQueries and substituteVariables (for the end-to-end run)', () => {
  it('lists every target with dashboard, panel, refId and expr', () => {
    const fleet = buildDashboards(DEFAULT_CONFIG).get('realtime-fleet');
    if (!fleet) throw new Error('no fleet dashboard');
    const queries = panelQueries(fleet);
    expect(queries.length).toBe(61); // + 3 of "Hottest pod vs fleet average", + 2 of "Busiest rooms"
    expect(queries[1]).toEqual({
      dashboard: 'tidewatch-realtime-fleet',
      expr: 'sum(up{job=~"$job", instance=~"$instance"})',
      instant: true,
      panel: 'Instances up',
      panelId: 3,
      refId: 'A',
    });
    expect(new Set(queries.map((q) => `${q.panelId}/${q.refId}`)).size).toBe(queries.length);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
  it('expands $var, ${var}, ${var:format} and [[var]], whole names only, unknown ones kept', () => {
    expect(
      substituteVariables(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
        'rate(x{job=~"$job",instance=~"${instance:regex}"}[$__rate_interval]) [[job]] $jobs $other',
      ),
    ).toBe('rate(x{job=~".+",instance=~".+"}[1m]) .+ $jobs $other');
    expect(
      substituteVariables('x{job=~"$job"}[$__interval]', {
        ...DEFAULT_VARIABLE_VALUES,
        __interval: '30s',
        job: 'chat',
      }),
    ).toBe('x{job=~"chat"}[30s]');
  });
});
