import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import dashgen from 'grafana-dash-gen';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, mixinConfig } from '../../src/config.js';
import {
  AUTOSCALING_SLUG,
  autoscalingDashboard,
  buildDashboards,
  type DashboardJson,
  FLEET_SLUG,
  fleetDashboard,
  generateDashboards,
  type PanelJson,
  stableStringify,
} from '../../src/dashboards/index.js';
import { allPanels, analysePromql } from '../../src/lint/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const dashboards = [...buildDashboards(DEFAULT_CONFIG).values()];
const dataPanels = (d: DashboardJson): PanelJson[] => allPanels(d).filter((p) => p.type !== 'row');

describe('generateDashboards', () => {
  it('produces exactly the committed paths', () => {
    expect([...generateDashboards(DEFAULT_CONFIG).keys()]).toEqual([
      'dashboards/realtime-fleet.json',
      'dashboards/autoscaling-forecast.json',
      'dashboards/provisioning/tidewatch.yaml',
    ]);
  });

  it('matches the committed files byte for byte (run `npm run generate` if not)', () => {
    for (const [rel, content] of generateDashboards(DEFAULT_CONFIG))
      expect(readFileSync(join(root, rel), 'utf8'), rel).toBe(content);
  });

  it('is byte-stable: twice, and in the other order with dash-gen panels built in between', () => {
    const first = generateDashboards(DEFAULT_CONFIG);
    const second = generateDashboards(DEFAULT_CONFIG);
    expect([...second]).toEqual([...first]);
    // dash-gen's panel id counter is module-global: bump it, build in reverse order.
    for (let i = 0; i < 7; i++) new dashgen.Panels.Graph({ title: `noise ${i}` });
    const auto = stableStringify(autoscalingDashboard(DEFAULT_CONFIG));
    new dashgen.Panels.SingleStat({ title: 'noise' });
    const fleet = stableStringify(fleetDashboard(DEFAULT_CONFIG));
    expect(auto).toBe(first.get(`dashboards/${AUTOSCALING_SLUG}.json`));
    expect(fleet).toBe(first.get(`dashboards/${FLEET_SLUG}.json`));
  });

  it('writes sorted keys and a final newline', () => {
    const text = generateDashboards(DEFAULT_CONFIG).get('dashboards/realtime-fleet.json') ?? '';
    expect(text.endsWith('}\n')).toBe(true);
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(JSON.parse(text)).sort());
  });
});

describe('modern model', () => {
  it('has stable uids, titles, refresh and time from the config', () => {
    expect(dashboards.map((d) => [d.uid, d.title, d.refresh, d.time])).toEqual([
      [
        'tidewatch-realtime-fleet',
        'Tidewatch / Realtime fleet',
        '30s',
        { from: 'now-6h', to: 'now' },
      ],
      [
        'tidewatch-autoscaling-forecast',
        'Tidewatch / Autoscaling & forecast',
        '30s',
        { from: 'now-6h', to: 'now' },
      ],
    ]);
  });

  it('has schemaVersion 39, panels with gridPos, no rows and no Angular panels or legacy keys', () => {
    for (const d of dashboards) {
      expect(d.schemaVersion).toBe(39);
      for (const key of [
        'rows',
        'style',
        'originalTitle',
        'hideControls',
        'sharedCrosshair',
        'hideAllLegends',
      ])
        expect(d).not.toHaveProperty(key);
      for (const p of allPanels(d)) {
        expect(['row', 'timeseries', 'stat', 'gauge', 'heatmap', 'table']).toContain(p.type);
        expect(p.gridPos).toBeDefined();
        expect(p).not.toHaveProperty('span');
        expect(p).not.toHaveProperty('height');
      }
    }
  });

  it('numbers panel ids 1..n per dashboard', () => {
    for (const d of dashboards) {
      const ids = allPanels(d).map((p) => p.id);
      expect(ids).toEqual(ids.map((_, i) => i + 1));
    }
  });

  it('lays panels out on the 24-column grid without overlap', () => {
    for (const d of dashboards) {
      const taken = new Set<string>();
      for (const p of allPanels(d)) {
        const g = p.gridPos ?? { h: 0, w: 0, x: 0, y: 0 };
        expect(g.x + g.w).toBeLessThanOrEqual(24);
        for (let x = g.x; x < g.x + g.w; x++)
          for (let y = g.y; y < g.y + g.h; y++) {
            expect(taken.has(`${x},${y}`), `${p.title} overlaps at ${x},${y}`).toBe(false);
            taken.add(`${x},${y}`);
          }
      }
    }
  });

  it('has the rows the issue asks for', () => {
    const rows = (d: DashboardJson) =>
      allPanels(d)
        .filter((p) => p.type === 'row')
        .map((p) => p.title);
    expect(rows(fleetDashboard(DEFAULT_CONFIG))).toEqual([
      'Overview',
      'Connections',
      'Handshakes',
      'Traffic',
      'Delivery and brokers',
      'MQTT',
      'Health',
      'Self-monitoring',
    ]);
    expect(rows(autoscalingDashboard(DEFAULT_CONFIG))).toEqual([
      'Overview',
      'Forecast and scaling',
      'Forecast quality',
      'Shadow report',
    ]);
  });

  it('has datasource, job and instance variables and restart/scaling annotations', () => {
    for (const d of dashboards) {
      expect(d.templating?.list?.map((v) => [v.name, v.type, v.refresh])).toEqual([
        ['datasource', 'datasource', 1],
        ['job', 'query', 2],
        ['instance', 'query', 2],
      ]);
      expect(d.annotations?.list?.map((a) => a.name)).toEqual([
        'Annotations & Alerts',
        'Restarts',
        'Scaling',
      ]);
      expect(d.annotations?.list?.[1]?.expr).toBe(
        'changes(process_start_time_seconds{job=~"$job", instance=~"$instance"}[2m]) > 0',
      );
    }
  });

  it('carries __inputs and __requires for manual import', () => {
    const d = fleetDashboard(DEFAULT_CONFIG);
    expect((d.__inputs as Array<{ name: string }>).map((i) => i.name)).toEqual(['DS_PROMETHEUS']);
    expect((d.__requires as Array<{ id: string }>).map((r) => r.id)).toEqual([
      'grafana',
      'prometheus',
      'gauge',
      'heatmap',
      'stat',
      'table',
      'timeseries',
    ]);
    expect(d.templating?.list?.[0]?.current).toEqual({
      selected: false,
      text: 'Prometheus',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
      value: '${DS_PROMETHEUS}',
    });
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
    expect(JSON.stringify(d).split('${DS_PROMETHEUS}').length - 1).toBe(1);
  });
});

describe('panels', () => {
  it('every panel has a unit and a description; heatmaps also a y-axis unit', () => {
    for (const d of dashboards)
      for (const p of dataPanels(d)) {
        expect(p.fieldConfig?.defaults.unit, p.title).toMatch(/^\S+$/);
        expect((p.description ?? '').length, p.title).toBeGreaterThan(20);
        if (p.type === 'heatmap')
          expect((p.options?.yAxis as { unit?: string } | undefined)?.unit).toMatch(/^(s|bytes)$/);
      }
  });

  it('every range in every query is [$__rate_interval]', () => {
    let ranges = 0;
    for (const d of dashboards)
      for (const p of dataPanels(d))
        for (const t of p.targets ?? []) {
          expect(t.expr).not.toMatch(/\[\d/);
          for (const r of analysePromql(t.expr ?? '').ranges) {
            ranges++;
            expect(r.isRateInterval, `${p.title}: ${r.text}`).toBe(true);
          }
        }
    expect(ranges).toBeGreaterThan(30);
  });

  it('heatmaps read bucket rates by le in heatmap format', () => {
    const heatmaps = dashboards.flatMap((d) => dataPanels(d)).filter((p) => p.type === 'heatmap');
    expect(heatmaps.map((p) => p.title)).toEqual([
      'Connection lifetime',
      'Handshake latency distribution',
      'Message size',
    ]);
    for (const p of heatmaps) {
      expect(p.targets?.[0]).toMatchObject({
        format: 'heatmap',
        legendFormat: '{{le}}',
        range: true,
      });
      expect(p.targets?.[0]?.expr).toMatch(/^sum by \(le\) \(rate\(realtime_\w+_bucket\{/);
      expect(p.options?.calculate).toBe(false);
    }
  });

  it('stat, gauge and table panels run instant queries, the rest range queries', () => {
    for (const d of dashboards)
      for (const p of dataPanels(d))
        for (const t of p.targets ?? []) {
          const instant = p.type === 'stat' || p.type === 'gauge' || p.type === 'table';
          expect([t.instant, t.range], p.title).toEqual([instant, !instant]);
        }
  });

  it('the forecast panel draws the p90 band down to p50', () => {
    const panel = allPanels(autoscalingDashboard(DEFAULT_CONFIG)).find(
      (p) => p.title === 'Actual vs forecast',
    );
    expect(panel?.targets?.map((t) => t.legendFormat)).toEqual([
      'actual',
      'forecast p50',
      'forecast p90',
      'predicted load',
    ]);
    expect(panel?.targets?.[2]?.expr).toBe(
      'max(tidewatch_forecast{job=~"$job", instance=~"$instance", metric="realtime_connections", quantile="0.9"})',
    );
    expect(JSON.stringify(panel?.fieldConfig?.overrides)).toContain(
      '"custom.fillBelowTo","value":"forecast p50"',
    );
  });
});

describe('config', () => {
  it('prefix, selector and Grafana settings flow into every dashboard', () => {
    const c = mixinConfig({
      grafana: { refresh: '1m', titlePrefix: 'RT / ', uidPrefix: 'rt-' },
      metricPrefix: 'ws_',
    });
    const d = fleetDashboard(c);
    expect([d.uid, d.title, d.refresh]).toEqual(['rt-realtime-fleet', 'RT / Realtime fleet', '1m']);
    const exprs = allPanels(d).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
    expect(exprs.some((e) => e.includes('realtime_'))).toBe(false);
    expect(exprs).toContain('sum(ws_connections{job=~"$job", instance=~"$instance"})');
  });

  it('rejects a uid Grafana would refuse', () => {
    const c = mixinConfig({ grafana: { uidPrefix: 'a-very-long-prefix-that-goes-past-forty-' } });
    expect(() => fleetDashboard(c)).toThrow(
      'dashboard uid must be 1..40 of [a-zA-Z0-9_-], got "a-very-long-prefix',
    );
  });
});

describe('provisioning YAML', () => {
  it('is one file provider for the Tidewatch folder', () => {
    const text =
      generateDashboards(DEFAULT_CONFIG).get('dashboards/provisioning/tidewatch.yaml') ?? '';
    expect(parse(text)).toEqual({
      apiVersion: 1,
      providers: [
        {
          allowUiUpdates: false,
          disableDeletion: false,
          folder: 'Tidewatch',
          folderUid: 'tidewatch',
          name: 'tidewatch',
          options: {
            foldersFromFilesStructure: false,
            path: '/var/lib/grafana/dashboards/tidewatch',
          },
          orgId: 1,
          type: 'file',
          updateIntervalSeconds: 60,
        },
      ],
    });
  });
});
