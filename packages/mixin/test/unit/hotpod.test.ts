/**
 * Issue 14, item 2 (the mixin part): the hottest pod. Recording rules per fleet (per pod,
 * hottest, average, skew, and utilisation when the capacity is known), RealtimeHotPod with
 * its two conditions, its runbook, the fleet dashboard's panel and the config fields. The
 * promtool runs are in test/integration/hotpod-promtool.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, mixinConfig } from '../../src/config.js';
import { fleetDashboard } from '../../src/dashboards/index.js';
import { allPanels } from '../../src/lint/index.js';
import {
  buildRuleGroups,
  generateRules,
  HOT_POD_ALERT,
  hotPodAlerts,
  hotPodRecordingRules,
  hotPodRecords,
  RULE_PATHS,
} from '../../src/rules/index.js';

const CAPACITY = mixinConfig({ capacityPerReplica: 500 });

describe('hottest-pod recording rules', () => {
  it('records per pod, hottest, average and skew per fleet; utilisation only with a capacity', () => {
    expect(hotPodRecordingRules(DEFAULT_CONFIG)).toEqual([
      {
        expr: 'sum by (job, instance) (realtime_connections)',
        record: 'job_instance:realtime_connections:sum',
      },
      {
        expr: 'max by (job) (job_instance:realtime_connections:sum)',
        record: 'job:realtime_connections:max_instance',
      },
      {
        expr: 'sum by (job) (job_instance:realtime_connections:sum)\n/\ncount by (job) (job_instance:realtime_connections:sum)',
        record: 'job:realtime_connections:avg_instance',
      },
      {
        expr: 'job:realtime_connections:max_instance\n/ on (job)\njob:realtime_connections:avg_instance',
        record: 'job:realtime_connections_hottest_per_average:ratio',
      },
    ]);
    expect(hotPodRecordingRules(CAPACITY).at(-1)).toEqual({
      expr: 'job:realtime_connections:max_instance / 500',
      record: 'job:realtime_connections_hottest_per_capacity:ratio',
    });
  });

  it('joins the fleet group (so the alert reads this step’s records), under the config’s labels and selector', () => {
    const fleet = buildRuleGroups(DEFAULT_CONFIG).recording[0]?.rules.map((r) => r.record);
    for (const name of Object.values(hotPodRecords(DEFAULT_CONFIG)).slice(0, 4))
      expect(fleet).toContain(name);
    const c = mixinConfig({
      fleetLabels: ['cluster', 'job'],
      metricPrefix: 'ws_',
      ruleSelector: 'job="chat"',
    });
    expect(hotPodRecordingRules(c)[0]).toEqual({
      expr: 'sum by (cluster, job, instance) (ws_connections{job="chat"})',
      record: 'cluster_job_instance:ws_connections:sum',
    });
    expect(hotPodRecords(c).skew).toBe('cluster_job:ws_connections_hottest_per_average:ratio');
  });
});

describe('RealtimeHotPod', () => {
  it('fires on skew with a minimum per pod, and on utilisation only when the capacity is known', () => {
    const [skew, ...rest] = hotPodAlerts(DEFAULT_CONFIG);
    expect(rest).toEqual([]);
    expect(skew?.expr).toBe(
      'job:realtime_connections_hottest_per_average:ratio > 1.5\nand on (job)\njob:realtime_connections:avg_instance >= 100',
    );
    expect(skew?.labels).toEqual({ condition: 'skew', severity: 'warning' });
    expect(skew?.for).toBe('10m');
    const rules = hotPodAlerts(
      mixinConfig({
        capacityPerReplica: 800,
        thresholds: { hotPodMinConnections: 50, hotPodSkewRatio: 2, hotPodUtilisation: 0.85 },
      }),
    );
    expect(rules.map((r) => [r.labels.condition, r.expr])).toEqual([
      [
        'skew',
        'job:realtime_connections_hottest_per_average:ratio > 2\nand on (job)\njob:realtime_connections:avg_instance >= 50',
      ],
      ['utilisation', 'job:realtime_connections_hottest_per_capacity:ratio > 0.85'],
    ]);
    expect(rules[1]?.annotations.description).toContain(
      'of the 800 connections one replica carries',
    );
  });

  it('sits with the causes, before the autoscaling alerts', () => {
    const names = buildRuleGroups(DEFAULT_CONFIG).alerts.rules.map((r) => r.alert);
    expect(names.indexOf(HOT_POD_ALERT)).toBe(names.indexOf('RealtimeAutoscalerMaxedOut') - 1);
  });

  it('has a runbook: why pods get hot, what to do, and the PromQL of a trigger on the hottest pod', () => {
    const md = generateRules(CAPACITY).get(RULE_PATHS.runbooks) as string;
    const section = md.split(`## ${HOT_POD_ALERT}\n`)[1]?.split('\n## ')[0] ?? '';
    for (const text of [
      'round-robin',
      'new pods from a scale-up receive only new connections',
      'reconnect in a wave',
      'least_conn',
      'maximum age',
      'metricType: Value',
      'max(sum by (instance) (realtime_connections))',
      '(condition `skew`)',
      '(condition `utilisation`)',
    ])
      expect(section, text).toContain(text);
  });

  it('the committed test file covers the skewed, balanced and small fleets', () => {
    const doc = parse(generateRules(DEFAULT_CONFIG).get('alerts/tests/hotpod.yaml') as string);
    expect(doc.tests.map((t: { name: string }) => t.name)).toEqual([
      'hot pod: one of 4 pods at 3x the others (100 each) for 15 minutes fires',
      'hot pod: 4 balanced pods (100 each) stay silent on skew',
      'hot pod: the same skew in a small fleet (66 per pod, average below 100) stays silent on skew',
    ]);
    const withCapacity = parse(generateRules(CAPACITY).get('alerts/tests/hotpod.yaml') as string);
    expect(withCapacity.tests.map((t: { name: string }) => t.name).slice(3)).toEqual([
      'hot pod: 4 balanced pods at 451 of 500 connections fire on utilisation',
      'hot pod: 4 balanced pods at 449 of 500 connections stay silent on utilisation',
    ]);
  });

  it('scales the skewed scenario with the ratio, so it still fires', () => {
    const doc = parse(
      generateRules(mixinConfig({ thresholds: { hotPodSkewRatio: 2.5 } })).get(
        'alerts/tests/hotpod.yaml',
      ) as string,
    );
    expect(doc.tests[0].name).toBe(
      'hot pod: one of 5 pods at 5x the others (100 each) for 15 minutes fires',
    );
  });
});

describe('config', () => {
  it('defaults: no capacity, skew 1.5, 100 per pod, 90 %', () => {
    expect(DEFAULT_CONFIG.capacityPerReplica).toBeUndefined();
    expect('capacityPerReplica' in DEFAULT_CONFIG).toBe(true);
    expect(DEFAULT_CONFIG.thresholds).toMatchObject({
      hotPodMinConnections: 100,
      hotPodSkewRatio: 1.5,
      hotPodUtilisation: 0.9,
    });
  });

  it('rejects a capacity, skew ratio, minimum or utilisation out of range, naming the field', () => {
    expect(() => mixinConfig({ capacityPerReplica: 0 })).toThrow(
      'mixinConfig: capacityPerReplica must be a number of connections > 0 (or undefined), got 0',
    );
    expect(() => mixinConfig({ thresholds: { hotPodSkewRatio: 1 } })).toThrow(
      'mixinConfig: thresholds.hotPodSkewRatio must be a ratio > 1, got 1',
    );
    expect(() => mixinConfig({ thresholds: { hotPodMinConnections: 0 } })).toThrow(
      /thresholds\.hotPodMinConnections must be a number of connections > 0/,
    );
    expect(() => mixinConfig({ thresholds: { hotPodUtilisation: 1.2 } })).toThrow(
      /thresholds\.hotPodUtilisation must be a share in \(0, 1\]/,
    );
  });
});

describe('fleet dashboard', () => {
  it('has "Hottest pod vs fleet average" in the Connections row: hottest, average and their ratio', () => {
    const panels = allPanels(fleetDashboard(DEFAULT_CONFIG));
    const rows = panels.filter((p) => p.type === 'row').map((p) => p.title);
    const panel = panels.find((p) => p.title === 'Hottest pod vs fleet average');
    const rowOf = (title: string) => {
      const i = panels.findIndex((p) => p.title === title);
      return panels
        .slice(0, i)
        .filter((p) => p.type === 'row')
        .at(-1)?.title;
    };
    expect(rows).toContain('Connections');
    expect(rowOf('Hottest pod vs fleet average')).toBe('Connections');
    const per = 'sum by (job, instance) (realtime_connections{job=~"$job", instance=~"$instance"})';
    expect(panel?.targets?.map((t) => [t.legendFormat, t.expr])).toEqual([
      ['hottest {{job}}', `max by (job) (${per})`],
      ['average {{job}}', `avg by (job) (${per})`],
      ['ratio {{job}}', `max by (job) (${per}) / avg by (job) (${per})`],
    ]);
    expect(panel?.type).toBe('timeseries');
    expect(JSON.stringify(panel?.fieldConfig?.overrides)).toContain('"custom.axisPlacement"');
  });
});
