/**
 * The "Hottest pod vs fleet average" panel of the "Realtime fleet" dashboard's Connections
 * row (split from fleet.ts to keep files small). Connections stay on the pod that accepted
 * them, so the busiest pod can overload while the average, which the autoscaler scales on,
 * looks fine; RealtimeHotPod alerts on the same figures (recorded per fleet in `hotpod.ts`).
 */
import type { MixinConfig } from '../config.js';
import { TimeseriesPanel } from '../grafana/panels.js';
import { promTarget as q } from '../grafana/targets.js';
import { metricName, selector } from './common.js';

/** The panel: the hottest and the average pod's connections, and their ratio on the right axis. */
export function hotPodPanel(c: MixinConfig): TimeseriesPanel {
  const perPod = `sum by (job, instance) (${metricName(c, 'connections')}${selector(c)})`;
  const hottest = `max by (job) (${perPod})`;
  const average = `avg by (job) (${perPod})`;
  const t = c.thresholds;
  return new TimeseriesPanel({
    description:
      `Open connections of the busiest pod (instance) and of the average pod, per job, and their ratio (right axis; 1 is balanced). ` +
      `RealtimeHotPod fires when the ratio stays above ${t.hotPodSkewRatio} for 10 minutes with at least ${t.hotPodMinConnections} connections per pod on average` +
      (c.capacityPerReplica === undefined
        ? '.'
        : `, or the busiest pod stays above ${Number((t.hotPodUtilisation * 100).toPrecision(12))} % of the ${c.capacityPerReplica} connections one replica carries.`) +
      ' A ratio that climbs after a scale-up is round-robin keeping old pods loaded; a jump after a scale-down is a reconnect wave.',
    fillOpacity: 0,
    overrides: [
      {
        matcher: { id: 'byRegexp', options: '^ratio .*' },
        properties: [
          { id: 'unit', value: 'none' },
          { id: 'custom.axisPlacement', value: 'right' },
          { id: 'custom.lineStyle', value: { dash: [10, 10], fill: 'dash' } },
        ],
      },
    ],
    targets: [
      q(hottest, { legendFormat: 'hottest {{job}}' }),
      q(average, { legendFormat: 'average {{job}}' }),
      q(`${hottest} / ${average}`, { legendFormat: 'ratio {{job}}' }),
    ],
    title: 'Hottest pod vs fleet average',
    unit: 'short',
  });
}
