import { CATALOG } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { analysePromql, metricNames } from '../../src/lint/index.js';
import { buildRuleGroups, KSM, runbookContent } from '../../src/rules/index.js';
import { catalogueNames, STANDARD_METRICS, sidecarSignals } from './known-metrics.js';

/** Standard metrics: Prometheus' own per-target series, prom-client defaults, kube-state-metrics. */
const ALLOWLIST = new Set<string>([
  ...STANDARD_METRICS,
  'scrape_duration_seconds',
  ...Object.values(KSM),
]);

const groups = buildRuleGroups(DEFAULT_CONFIG);
const records = new Set(groups.recording.flatMap((g) => g.rules.map((r) => r.record)));

/** Every expression: rules, then runbook diagnosis queries. */
function expressions(): Array<{ where: string; expr: string }> {
  const out = [
    ...groups.recording.flatMap((g) =>
      g.rules.map((r) => ({ expr: r.expr, where: `record ${r.record}` })),
    ),
    ...groups.alerts.rules.map((r) => ({ expr: r.expr, where: `alert ${r.alert}` })),
  ];
  for (const [alert, c] of Object.entries(runbookContent(DEFAULT_CONFIG)))
    for (const d of c.diagnosis)
      if (d.query) out.push({ expr: d.query, where: `runbook ${alert}` });
  return out;
}

/** Names in `exprs` that are neither catalogued, recorded, sidecar signals nor allowlisted. */
function phantoms(exprs: Array<{ where: string; expr: string }>): string[] {
  const known = new Set([
    ...catalogueNames('realtime_'),
    ...records,
    ...sidecarSignals(),
    ...ALLOWLIST,
  ]);
  return exprs.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((n) => !known.has(n))
      .map((n) => `${where}: ${n}`),
  );
}

describe('rules: no phantom metrics', () => {
  const all = expressions();

  it('every rule and runbook query parses (lezer-promql) and names its metrics', () => {
    // records, alert rules, runbook queries (the hottest pod: 4, 1, 6; the shadow report: 0, 1, 3)
    expect(all.length).toBe(32 + 25 + 66);
    for (const { where, expr } of all) {
      const a = analysePromql(expr);
      expect(a.errors, `${where}: ${expr}`).toEqual([]);
      for (const s of a.selectors) expect(s.name, `${where}: ${s.text}`).toBeDefined();
    }
  });

  it('every metric is catalogued, a recording rule, a sidecar signal or allowlisted', () => {
    expect(phantoms(all)).toEqual([]);
  });

  it('reads the catalogue metrics the alerts are about', () => {
    const used = new Set(all.flatMap((e) => metricNames(e.expr)));
    for (const n of [
      'realtime_connections',
      'realtime_connections_closed_total',
      'realtime_handshake_duration_seconds_count',
      'realtime_handshake_duration_seconds_bucket',
      'realtime_messages_total',
      'realtime_messages_dropped_total',
      'realtime_slow_consumers',
      'realtime_heartbeats_total',
      'tidewatch_recommended_replicas',
      'tidewatch_forecast_stale',
      'tidewatch_forecast',
    ])
      expect(used.has(n), n).toBe(true);
  });

  it('uses only closed label values the catalogue defines', () => {
    const closed = CATALOG.connectionsClosed.labels.find((l) => l.name === 'reason')?.values ?? [];
    const outcomes =
      CATALOG.handshakeDuration.labels.find((l) => l.name === 'outcome')?.values ?? [];
    const text = all.map((e) => e.expr).join('\n');
    for (const m of text.matchAll(/reason(?:=~|=)"([^"]+)"/g))
      for (const v of (m[1] as string).split('|'))
        expect([...closed, 'backpressure', 'not_open'], v).toContain(v);
    for (const m of text.matchAll(/outcome(?:=~|=)"([^"]+)"/g))
      for (const v of (m[1] as string).split('|'))
        expect([...outcomes, 'pong', 'timeout'], v).toContain(v);
  });

  it('catches a phantom: a typo, a histogram without suffix, a foreign metric', () => {
    expect(
      phantoms([
        { expr: 'sum(rate(realtime_mesages_total[5m]))', where: 'typo' },
        { expr: 'histogram_quantile(0.9, rate(realtime_ping_rtt_seconds[5m]))', where: 'suffix' },
        { expr: 'websocket_connections_total', where: 'foreign' },
        {
          expr: 'job:realtime_connections:sum > on (job) kube_horizontalpodautoscaler_info',
          where: 'fine',
        },
      ]),
    ).toEqual([
      'typo: realtime_mesages_total',
      'suffix: realtime_ping_rtt_seconds',
      'foreign: websocket_connections_total',
    ]);
  });
});
