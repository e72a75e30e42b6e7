import { CATALOG } from '@tidewatch/conventions';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { buildDashboards, type DashboardJson, panelQueries } from '../../src/dashboards/index.js';
import { analysePromql, metricNames } from '../../src/lint/index.js';
import { catalogueNames, STANDARD_METRICS, sidecarSignals } from './known-metrics.js';

/** Standard metrics a realtime server or its cluster exposes without tidewatch. */
const ALLOWLIST = new Set<string>([
  ...STANDARD_METRICS,
  // more of prom-client's collectDefaultMetrics()
  'nodejs_heap_size_used_bytes',
  'nodejs_heap_size_total_bytes',
  // kube-state-metrics
  'kube_horizontalpodautoscaler_status_current_replicas',
  'kube_horizontalpodautoscaler_status_desired_replicas',
  'kube_horizontalpodautoscaler_spec_max_replicas',
]);

/** Every PromQL expression of a dashboard: panel targets and annotations. */
function expressions(d: DashboardJson): Array<{ where: string; expr: string }> {
  return [
    ...panelQueries(d).map((q) => ({
      expr: q.expr,
      where: `${q.dashboard} / ${q.panel} / ${q.refId}`,
    })),
    ...(d.annotations?.list ?? [])
      .filter((a) => typeof a.expr === 'string')
      .map((a) => ({ expr: a.expr as string, where: `${d.uid} / annotation ${a.name}` })),
  ];
}

/** Metric names in `exprs` that are neither catalogue, sidecar nor allowlisted. */
function phantoms(exprs: Array<{ where: string; expr: string }>, prefix: string): string[] {
  const known = new Set([...catalogueNames(prefix), ...sidecarSignals(), ...ALLOWLIST]);
  return exprs.flatMap(({ where, expr }) =>
    metricNames(expr)
      .filter((n) => !known.has(n))
      .map((n) => `${where}: ${n}`),
  );
}

describe('no phantom metrics', () => {
  const dashboards = [...buildDashboards(DEFAULT_CONFIG).values()];

  it('knows the 25 sidecar signals of the conventions catalogue', () => {
    const signals = sidecarSignals();
    expect(signals.size).toBe(25);
    expect(signals.has('tidewatch_recommended_replicas')).toBe(true);
    expect(signals.has('tidewatch_patch_requests_total')).toBe(true);
  });

  it('every metric named in a panel or annotation is catalogued, a sidecar signal or allowlisted', () => {
    const all = dashboards.flatMap(expressions);
    expect(all.length).toBeGreaterThan(60);
    expect(phantoms(all, DEFAULT_CONFIG.metricPrefix)).toEqual([]);
  });

  it('every selector names its metric (no __name__ regex a name check cannot see)', () => {
    for (const d of dashboards)
      for (const { where, expr } of expressions(d))
        for (const s of analysePromql(expr).selectors)
          expect(s.name, `${where}: ${s.text}`).toBeDefined();
  });

  it('catches a phantom: a typo, a histogram without suffix, a foreign metric', () => {
    const exprs = [
      { expr: 'sum(rate(realtime_mesages_total{job=~"$job"}[$__rate_interval]))', where: 'typo' },
      {
        expr: 'histogram_quantile(0.9, sum by (le) (rate(realtime_ping_rtt_seconds[5m])))',
        where: 'suffix',
      },
      { expr: 'websocket_connections_total', where: 'foreign' },
      { expr: 'sum(realtime_connections) / tidewatch_recommended_replicas', where: 'fine' },
    ];
    expect(phantoms(exprs, 'realtime_')).toEqual([
      'typo: realtime_mesages_total',
      'suffix: realtime_ping_rtt_seconds',
      'foreign: websocket_connections_total',
    ]);
  });

  it('uses the catalogue metrics a realtime fleet dashboard needs', () => {
    const used = new Set(dashboards.flatMap(expressions).flatMap((e) => metricNames(e.expr)));
    for (const key of [
      'connections',
      'connectionsOpened',
      'connectionsClosed',
      'handshakesInFlight',
      'messages',
      'messageBytes',
      'heartbeats',
      'sendBuffer',
      'slowConsumers',
      'messagesDropped',
      'errors',
      'instrumentationErrors',
      'seriesDropped',
      'scrapeErrors',
    ] as const)
      expect(used.has(`realtime_${CATALOG[key].name}`), key).toBe(true);
    for (const key of [
      'connectionDuration',
      'handshakeDuration',
      'messageSize',
      'pingRtt',
    ] as const)
      expect(used.has(`realtime_${CATALOG[key].name}_bucket`), key).toBe(true);
  });
});
