/**
 * Fleet-level recording rules: the aggregates the alerts and dashboards read often, named
 * `level:metric:operations` (level = the labels kept, `_total` dropped after `rate`,
 * numerator and denominator aggregated before any division). The SLI ratios are in `slo.ts`.
 */
import { HANDSHAKE_OUTCOMES } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { matcher } from '../labels.js';
import { hotPodRecordingRules } from './hotpod.js';
import { by, metric, recordName, sel } from './naming.js';
import { transportRecordingRules } from './transports.js';
import type { RecordingRule, RuleGroup } from './types.js';

/** Name of the fleet recording group. Sorts before the alert group (see `alerts.ts`). */
export const FLEET_GROUP = 'tidewatch-fleet.rules';

/** Quantiles recorded for handshake latency. */
export const HANDSHAKE_QUANTILES = [0.5, 0.9, 0.99] as const;

/** The record names of the fleet group, for alerts and tests to refer to. */
export interface FleetRecords {
  /** Open connections per fleet. */
  connections: string;
  /** Connections opened per second per fleet. */
  opened: string;
  /** Connections closed per second by reason. */
  closedByReason: string;
  /** Data messages per second by direction. */
  messagesByDirection: string;
  /** Messages dropped per second. */
  dropped: string;
  /** Per-second rate of the successful-handshake latency buckets. */
  handshakeBuckets: string;
  /** Handshake latency quantiles (label `quantile`). */
  handshakeQuantile: string;
}

/** The fleet record names under `config`. */
export function fleetRecords(config: MixinConfig): FleetRecords {
  return {
    connections: recordName(config, metric(config, 'connections'), 'sum'),
    opened: recordName(config, metric(config, 'connectionsOpened'), 'rate5m'),
    closedByReason: recordName(config, metric(config, 'connectionsClosed'), 'rate5m', 'reason'),
    messagesByDirection: recordName(config, metric(config, 'messages'), 'rate5m', 'direction'),
    dropped: recordName(config, metric(config, 'messagesDropped'), 'rate5m'),
    handshakeBuckets: recordName(
      config,
      metric(config, 'handshakeDuration', '_bucket'),
      'rate5m',
      'le',
    ),
    handshakeQuantile: recordName(
      config,
      metric(config, 'handshakeDuration'),
      'histogram_quantile',
    ),
  };
}

/** The fleet recording group. */
export function fleetRecordingGroup(config: MixinConfig): RuleGroup<RecordingRule> {
  const r = fleetRecords(config);
  const rate5m = (name: string, ...extra: string[]) => `rate(${name}${sel(config, ...extra)}[5m])`;
  const rules: RecordingRule[] = [
    {
      record: r.connections,
      expr: `sum ${by(config)} (${metric(config, 'connections')}${sel(config)})`,
    },
    {
      record: r.opened,
      expr: `sum ${by(config)} (${rate5m(metric(config, 'connectionsOpened'))})`,
    },
    {
      record: r.closedByReason,
      expr: `sum ${by(config, 'reason')} (${rate5m(metric(config, 'connectionsClosed'))})`,
    },
    {
      record: r.messagesByDirection,
      expr: `sum ${by(config, 'direction')} (${rate5m(metric(config, 'messages'))})`,
    },
    {
      record: r.dropped,
      expr: `sum ${by(config)} (${rate5m(metric(config, 'messagesDropped'))})`,
    },
    {
      // Successful handshakes only: rejections answer fast and would flatter the latency.
      record: r.handshakeBuckets,
      expr: `sum ${by(config, 'le')} (${rate5m(metric(config, 'handshakeDuration', '_bucket'), matcher('outcome', HANDSHAKE_OUTCOMES, 'success'))})`,
    },
    ...HANDSHAKE_QUANTILES.map(
      (q): RecordingRule => ({
        record: r.handshakeQuantile,
        expr: `histogram_quantile(${q}, ${r.handshakeBuckets})`,
        labels: { quantile: String(q) },
      }),
    ),
    // Closes clustering at one lifetime, delivery lag (`transports.ts`).
    ...transportRecordingRules(config),
    // The hottest pod against the average pod (`hotpod.ts`).
    ...hotPodRecordingRules(config),
  ];
  return { name: FLEET_GROUP, rules };
}
