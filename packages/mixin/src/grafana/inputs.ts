/**
 * Import metadata, as Grafana's "Export for sharing externally" writes it: `__inputs` makes
 * the import dialog ask for a Prometheus datasource and substitute `${DS_PROMETHEUS}`;
 * `__requires` lists the Grafana version, datasource and panel plugins the dashboard needs.
 * Provisioning and the HTTP API ignore both keys.
 */
import type { DashboardJson, PanelJson } from './types.js';

/** Minimum Grafana version the generated JSON targets (schemaVersion 39). */
export const MIN_GRAFANA_VERSION = '10.4.0';

/** Display names of the panel plugins we emit, as `__requires` names them. */
const PANEL_NAMES: Record<string, string> = {
  gauge: 'Gauge',
  heatmap: 'Heatmap',
  stat: 'Stat',
  table: 'Table',
  timeseries: 'Time series',
};

/** One `__requires` entry. */
export interface RequireEntry {
  type: 'grafana' | 'datasource' | 'panel';
  id: string;
  name: string;
  version: string;
}

/**
 * Returns a copy of `dashboard` with `__inputs`, `__elements` and `__requires` added (the
 * panel list is derived from the panels present, sorted by id, so it is stable).
 */
export function withImportMetadata(dashboard: DashboardJson): DashboardJson {
  const types = new Set<string>();
  const visit = (panels: PanelJson[]) => {
    for (const p of panels) {
      if (p.type !== 'row') types.add(p.type);
      if (Array.isArray(p.panels)) visit(p.panels);
    }
  };
  visit(dashboard.panels ?? []);
  const requires: RequireEntry[] = [
    { id: 'grafana', name: 'Grafana', type: 'grafana', version: MIN_GRAFANA_VERSION },
    { id: 'prometheus', name: 'Prometheus', type: 'datasource', version: '1.0.0' },
    ...[...types]
      .sort()
      .map((id): RequireEntry => ({ id, name: PANEL_NAMES[id] ?? id, type: 'panel', version: '' })),
  ];
  return {
    __elements: {},
    __inputs: [
      {
        description: 'Prometheus that scrapes the realtime servers and the tidewatch predictor',
        label: 'Prometheus',
        name: 'DS_PROMETHEUS',
        pluginId: 'prometheus',
        pluginName: 'Prometheus',
        type: 'datasource',
      },
    ],
    __requires: requires,
    ...dashboard,
  };
}
