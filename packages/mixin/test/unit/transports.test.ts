/**
 * Issue 16, the mixin parts: proxy idle-timeout cuts (closes clustering at one lifetime),
 * delivery lag and broker alerts, every transport on the fleet dashboard, and the connection,
 * handshake and close alerts tested on MQTT and gRPC series. The promtool runs themselves are
 * in test/integration/rules-promtool.test.ts; this checks what the generated files must say.
 */
import { CATALOG, CLOSE_REASONS, TRANSPORTS } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, mixinConfig } from '../../src/config.js';
import { buildDashboards, fleetDashboard, panelQueries } from '../../src/dashboards/index.js';
import { CUT_REASONS, lifetimeBands } from '../../src/lifetime.js';
import { allPanels, analysePromql, metricNames } from '../../src/lint/index.js';
import { buildRuleGroups, buildRuleTests, generateRules } from '../../src/rules/index.js';

const files = generateRules(DEFAULT_CONFIG);
const alerts = buildRuleGroups(DEFAULT_CONFIG).alerts.rules;

interface TestDoc {
  tests: Array<{
    name: string;
    input_series: Array<{ series: string }>;
    alert_rule_test?: Array<{ alertname: string; exp_alerts: Array<{ exp_labels: object }> }>;
  }>;
}
const doc = (path: string) => parse(files.get(path) as string) as TestDoc;

/** Test cases of `path` in which `alert` fires, with the transports of their input series. */
function firingCases(path: string, alert: string) {
  return doc(path)
    .tests.filter((t) =>
      (t.alert_rule_test ?? []).some((a) => a.alertname === alert && a.exp_alerts.length > 0),
    )
    .map((t) => ({
      name: t.name,
      transports: [
        ...new Set(t.input_series.map((s) => /transport="([^"]+)"/.exec(s.series)?.[1])),
      ],
    }));
}

describe('lifetime bands', () => {
  it('are the catalogue lifetime buckets from 5 s to 24 h, labelled by age', () => {
    expect(lifetimeBands().map((b) => b.label)).toEqual([
      '5s-15s',
      '15s-30s',
      '30s-1m',
      '1m-2m',
      '2m-5m',
      '5m-10m',
      '10m-30m',
      '30m-1h',
      '1h-2h',
      '2h-4h',
      '4h-8h',
      '8h-12h',
      '12h-24h',
    ]);
    const bounds = CATALOG.connectionDuration.buckets.map(String);
    for (const b of lifetimeBands()) {
      expect(bounds).toContain(b.lower);
      expect(bounds.indexOf(b.upper)).toBe(bounds.indexOf(b.lower) + 1);
    }
  });

  it('cut reasons are catalogue close reasons, none a clean or deliberate close', () => {
    for (const r of CUT_REASONS) expect(CLOSE_REASONS).toContain(r);
    for (const r of ['normal', 'server_shutdown', 'idle_timeout', 'ping_timeout', 'auth'])
      expect(CUT_REASONS).not.toContain(r);
  });
});

describe('RealtimeProxyTimeoutCuts', () => {
  it('compares one band with all unclean closes, over a minimum of closes, from the config', () => {
    const c = mixinConfig({ thresholds: { proxyCutMinCloses: 250, proxyCutRatio: 0.8 } });
    const rule = buildRuleGroups(c).alerts.rules.find(
      (a) => a.alert === 'RealtimeProxyTimeoutCuts',
    );
    expect(rule?.expr).toBe(
      'job_transport_lifetime:realtime_connection_duration_seconds_band:rate30m\n' +
        '/ on (job, transport) group_left\n' +
        'job_transport_le:realtime_connection_duration_seconds_bucket:rate30m{le="+Inf"}\n> 0.8\n' +
        'and on (job, transport)\n' +
        'job_transport_le:realtime_connection_duration_seconds_bucket:rate30m{le="+Inf"} * 1800 >= 250',
    );
    expect(rule?.annotations.description).toContain('threshold 80% in one lifetime band');
  });

  it('records only unclean closes', () => {
    const records = buildRuleGroups(DEFAULT_CONFIG).recording.flatMap((g) => g.rules);
    const buckets = records.find(
      (r) => r.record === 'job_transport_le:realtime_connection_duration_seconds_bucket:rate30m',
    );
    expect(buckets?.expr).toContain('{reason=~"abnormal|going_away|error|cancelled"}[30m]');
  });

  it('the rule tests fire for closes clustered at 60 s and stay silent for a spread and a small fleet', () => {
    const tests = doc('alerts/tests/delivery.yaml').tests;
    const fire = tests.find((t) => t.name.startsWith('proxy cuts: unclean closes clustered'));
    const labels = fire?.alert_rule_test
      ?.filter((a) => a.alertname === 'RealtimeProxyTimeoutCuts')
      .flatMap((a) => a.exp_alerts.map((e) => e.exp_labels));
    expect(labels).toEqual([
      { job: 'chat', lifetime: '1m-2m', severity: 'warning', transport: 'grpc' },
      { job: 'chat', lifetime: '30s-1m', severity: 'warning', transport: 'websocket' },
    ]);
    for (const name of [
      'proxy cuts: lifetimes spread over many bands stay silent',
      'proxy cuts: a small fleet whose few closes all happen at 60 s stays silent',
    ]) {
      const t = tests.find((x) => x.name === name);
      expect(t, name).toBeDefined();
      expect(t?.alert_rule_test?.every((a) => a.exp_alerts.length === 0)).toBe(true);
    }
  });

  it('the runbook points at the Ingress annotations and at heartbeats below the timeout', () => {
    const md = files.get('docs/runbooks.md') as string;
    const section = md.split('## RealtimeProxyTimeoutCuts\n')[1]?.split('\n## ')[0] ?? '';
    expect(section).toContain('nginx.ingress.kubernetes.io/proxy-read-timeout');
    expect(section).toContain('nginx.ingress.kubernetes.io/proxy-send-timeout');
    expect(section).toMatch(/heartbeats more often than the shortest timeout/);
  });

  it('generation refuses a ratio no scenario can fire, or one a healthy spread would fire', () => {
    expect(() => buildRuleTests(mixinConfig({ thresholds: { proxyCutRatio: 1 } }))).toThrow(
      /proxyCutRatio 1 leaves no share that can fire/,
    );
    expect(() => buildRuleTests(mixinConfig({ thresholds: { proxyCutRatio: 0.1 } }))).toThrow(
      /would fire on a healthy spread/,
    );
  });
});

describe('delivery lag and broker alerts', () => {
  it('read the recorded p99 and the broker error rate against the config', () => {
    const c = mixinConfig({ thresholds: { brokerErrorsPerSecond: 2, deliveryLagSeconds: 2.5 } });
    const rules = buildRuleGroups(c).alerts.rules;
    expect(rules.find((a) => a.alert === 'RealtimeDeliveryLagHigh')?.expr).toBe(
      'job_transport:realtime_delivery_lag_seconds:histogram_quantile{quantile="0.99"} > 2.5',
    );
    expect(rules.find((a) => a.alert === 'RealtimeBrokerErrors')?.expr).toBe(
      'sum by (job, broker) (rate(realtime_broker_errors_total[5m])) > 2',
    );
  });

  it('reject thresholds outside their range, naming the field', () => {
    expect(() => mixinConfig({ thresholds: { deliveryLagSeconds: 30 } })).toThrow(
      'mixinConfig: thresholds.deliveryLagSeconds must be a number of seconds in (0, 30), got 30',
    );
    expect(() => mixinConfig({ thresholds: { brokerErrorsPerSecond: -1 } })).toThrow(
      /thresholds\.brokerErrorsPerSecond must be a rate >= 0/,
    );
    expect(() => mixinConfig({ thresholds: { proxyCutRatio: 0 } })).toThrow(
      /thresholds\.proxyCutRatio must be a share in \(0, 1\]/,
    );
    expect(() => mixinConfig({ thresholds: { proxyCutMinCloses: 0 } })).toThrow(
      /thresholds\.proxyCutMinCloses must be a number of closes > 0/,
    );
  });
});

describe('MQTT and gRPC', () => {
  it('the connection, close and handshake alerts fire in rule tests on mqtt and grpc series', () => {
    for (const alert of ['RealtimeMassDisconnect', 'RealtimeAbnormalClosuresHigh']) {
      const cases = firingCases('alerts/tests/transports.yaml', alert);
      expect(cases.length, alert).toBeGreaterThan(0);
      expect(cases[0]?.transports.sort(), alert).toEqual(['grpc', 'mqtt']);
    }
    for (const [path, alert] of [
      ['alerts/tests/slo-handshake-errors.yaml', 'RealtimeHandshakeErrorBudgetBurn'],
      ['alerts/tests/slo-handshake-latency.yaml', 'RealtimeHandshakeLatencyBudgetBurn'],
    ] as const) {
      const only = firingCases(path, alert).map((c) => c.transports.join());
      expect(only, alert).toContain('mqtt');
      expect(only, alert).toContain('grpc');
    }
  });

  it('no dashboard query or variable picks transports by name', () => {
    for (const d of buildDashboards(DEFAULT_CONFIG).values()) {
      for (const q of panelQueries(d))
        for (const s of analysePromql(q.expr).selectors)
          expect(s.text, `${q.panel}: ${s.text}`).not.toMatch(/\btransport\s*(=|!=|=~|!~)/);
      for (const v of d.templating?.list ?? [])
        expect(String(v.definition ?? ''), v.name).not.toMatch(/transport/);
    }
  });

  it('a description that lists the transports lists all of them', () => {
    const panel = allPanels(fleetDashboard(DEFAULT_CONFIG)).find(
      (p) => p.title === 'Messages by transport',
    );
    for (const t of TRANSPORTS) expect(panel?.description).toContain(t);
  });

  it('the fleet dashboard charts the delivery, broker and MQTT metrics', () => {
    const used = new Set(
      panelQueries(fleetDashboard(DEFAULT_CONFIG)).flatMap((q) => metricNames(q.expr)),
    );
    for (const key of [
      'brokerMessages',
      'brokerErrors',
      'qosMessages',
      'subscriptions',
      'retainedMessages',
      'inflightMessages',
    ] as const)
      expect(used.has(`realtime_${CATALOG[key].name}`), key).toBe(true);
    expect(used.has('realtime_delivery_lag_seconds_bucket')).toBe(true);
    const titles = allPanels(fleetDashboard(DEFAULT_CONFIG)).map((p) => p.title);
    for (const t of [
      'Unclean closes by lifetime band',
      'Delivery lag',
      'Broker messages',
      'Broker errors',
      'Subscriptions by topic',
      'In-flight messages',
      'Retained messages',
    ])
      expect(titles).toContain(t);
  });

  it('the firing alerts carry the transport they are about', () => {
    for (const name of ['RealtimeProxyTimeoutCuts', 'RealtimeDeliveryLagHigh'])
      expect(alerts.find((a) => a.alert === name)?.annotations.summary).toContain(
        '{{ $labels.transport }}',
      );
  });
});
