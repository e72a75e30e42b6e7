/**
 * Rules for what sits between the server and its clients: proxies that cut connections at a
 * fixed age, message delivery lag across brokers, and broker failures. Recording rules join
 * the fleet group (so alerts read this step's records); the alerts are spliced into the alert
 * group by `alerts.ts`.
 */
import { type MixinConfig, runbookUrl } from '../config.js';
import { bandsExpr, cutReasonMatcher } from '../lifetime.js';
import { by, metric, num, on, recordName, sel } from './naming.js';
import { fleetTemplate } from './slo.js';
import type { AlertingRule, RecordingRule, Severity } from './types.js';

/** The window over which closes are counted: long enough for a few hundred closes. */
export const CUT_WINDOW = '30m';
/** {@link CUT_WINDOW} in seconds, to turn its per-second rate back into closes. */
export const CUT_WINDOW_SECONDS = 1800;

/** Quantiles recorded for delivery lag. */
export const DELIVERY_QUANTILES = [0.5, 0.99] as const;

/** The record names of this module under a config. */
export interface TransportRecords {
  /** Cumulative per-`le` rate of unclean closes' lifetimes, per fleet and transport (30m). */
  cutBuckets: string;
  /** Rate of unclean closes per lifetime band (label `lifetime`), per fleet and transport. */
  cutBands: string;
  /** Per-second rate of the delivery-lag buckets, per fleet and transport. */
  lagBuckets: string;
  /** Delivery lag quantiles per fleet and transport (label `quantile`). */
  lagQuantile: string;
}

/** The record names under `config`. */
export function transportRecords(config: MixinConfig): TransportRecords {
  const life = metric(config, 'connectionDuration');
  const lag = metric(config, 'deliveryLag');
  return {
    cutBuckets: recordName(config, `${life}_bucket`, 'rate30m', 'transport', 'le'),
    cutBands: recordName(config, `${life}_band`, 'rate30m', 'transport', 'lifetime'),
    lagBuckets: recordName(config, `${lag}_bucket`, 'rate5m', 'transport', 'le'),
    lagQuantile: recordName(config, lag, 'histogram_quantile', 'transport'),
  };
}

/** The recording rules, in evaluation order (each reads only the ones before it). */
export function transportRecordingRules(config: MixinConfig): RecordingRule[] {
  const r = transportRecords(config);
  const life = metric(config, 'connectionDuration', '_bucket');
  const lag = metric(config, 'deliveryLag', '_bucket');
  return [
    {
      // Unclean closes only: clean ones (clients leaving, sessions expiring on schedule)
      // may cluster by design and are not a proxy's doing.
      record: r.cutBuckets,
      expr: `sum ${by(config, 'transport', 'le')} (rate(${life}${sel(config, cutReasonMatcher())}[${CUT_WINDOW}]))`,
    },
    {
      record: r.cutBands,
      expr: bandsExpr((le) => `${r.cutBuckets}{le="${le}"}`),
    },
    {
      record: r.lagBuckets,
      expr: `sum ${by(config, 'transport', 'le')} (rate(${lag}${sel(config)}[5m]))`,
    },
    ...DELIVERY_QUANTILES.map(
      (q): RecordingRule => ({
        record: r.lagQuantile,
        expr: `histogram_quantile(${q}, ${r.lagBuckets})`,
        labels: { quantile: String(q) },
      }),
    ),
  ];
}

/** Builds one alert (as `alerts.ts` does). */
function alert(
  config: MixinConfig,
  name: string,
  severity: Severity,
  forDuration: string,
  expr: string,
  summary: string,
  description: string,
): AlertingRule {
  return {
    alert: name,
    annotations: { description, runbook_url: runbookUrl(config, name), summary },
    expr,
    for: forDuration,
    labels: { severity },
  };
}

/** The alerts of this module, by the place `alerts.ts` puts them. */
export interface TransportAlerts {
  /** After the abnormal-closures alert: a cause of abnormal closes. */
  proxyCuts: AlertingRule;
  /** After the dropped-messages alert: messages that arrive late rather than never. */
  deliveryLag: AlertingRule;
  /** With the causes: a broker that fails. */
  brokerErrors: AlertingRule;
}

/** The alerts under `config`. */
export function transportAlerts(config: MixinConfig): TransportAlerts {
  const t = config.thresholds;
  const r = transportRecords(config);
  const fleet = fleetTemplate(config);
  const total = `${r.cutBuckets}{le="+Inf"}`;
  const fleetTransport = on(config, 'transport');
  return {
    proxyCuts: alert(
      config,
      'RealtimeProxyTimeoutCuts',
      'warning',
      '15m',
      `${r.cutBands}\n/ ${fleetTransport} group_left\n${total}\n> ${num(t.proxyCutRatio)}\n` +
        // A few closes in one band prove nothing.
        `and ${fleetTransport}\n${total} * ${CUT_WINDOW_SECONDS} >= ${num(t.proxyCutMinCloses)}`,
      `{{ $value | humanizePercentage }} of the unclean closes of ${fleet} ({{ $labels.transport }}) happen at a lifetime of {{ $labels.lifetime }}.`,
      `{{ $value | humanizePercentage }} of the ${fleet} {{ $labels.transport }} connections that closed uncleanly ` +
        `(abnormal, going away, error, cancelled) over the last 30 minutes had lived {{ $labels.lifetime }} ` +
        `(threshold ${num(t.proxyCutRatio * 100)}% in one lifetime band, at least ${num(t.proxyCutMinCloses)} closes). ` +
        'Connections dying at the same age are cut by something in the path: a proxy or load-balancer timeout ' +
        '(nginx Ingress proxy-read-timeout is 60 s by default) that the heartbeat does not beat.',
    ),
    deliveryLag: alert(
      config,
      'RealtimeDeliveryLagHigh',
      'warning',
      '10m',
      `${r.lagQuantile}{quantile="0.99"} > ${num(t.deliveryLagSeconds)}`,
      `Messages reach the ${fleet} {{ $labels.transport }} clients {{ $value | humanizeDuration }} after their publish (p99).`,
      `The p99 lag from a message's publish to its write on a ${fleet} {{ $labels.transport }} socket is ` +
        `{{ $value | humanizeDuration }} over the last 5 minutes (threshold ${num(t.deliveryLagSeconds)}s): ` +
        'a broker, the fan-out or slow sockets hold messages back, and clients see stale data.',
    ),
    brokerErrors: alert(
      config,
      'RealtimeBrokerErrors',
      'warning',
      '10m',
      `sum ${by(config, 'broker')} (rate(${metric(config, 'brokerErrors')}${sel(config)}[5m])) > ${num(t.brokerErrorsPerSecond)}`,
      `${fleet} sees {{ $value | humanize }} errors per second from its {{ $labels.broker }} broker.`,
      `The instances of ${fleet} counted {{ $value | humanize }} errors per second with the {{ $labels.broker }} broker ` +
        `over the last 5 minutes (threshold ${num(t.brokerErrorsPerSecond)}/s): lost connections, failed publishes, ` +
        'undecodable messages or timeouts. Messages published through it may not reach the clients on other instances.',
    ),
  };
}
