/**
 * Panels of the "Realtime fleet" dashboard for what sits between the server and its clients
 * (split from fleet.ts to keep files small): closes clustering at one lifetime (a proxy
 * timeout), delivery lag and brokers, and the MQTT broker's own state. Every query aggregates
 * over `transport` or splits by it; none names a transport, so a new one shows up by itself.
 */
import type { MixinConfig } from '../config.js';
import { TimeseriesPanel } from '../grafana/panels.js';
import { promTarget as q } from '../grafana/targets.js';
import { bandsExpr, cutReasonMatcher, lifetimeBands } from '../lifetime.js';
import { metricName, type RowSpec, rate, selector } from './common.js';

/**
 * Share of unclean closes per lifetime band, per transport: the panel of the
 * RealtimeProxyTimeoutCuts alert, over the dashboard's rate interval instead of 30 minutes.
 */
export function lifetimeBandsPanel(c: MixinConfig): TimeseriesPanel {
  const bucket = `${metricName(c, 'connectionDuration')}_bucket`;
  const cut = cutReasonMatcher();
  const cumulative = (le: string) => `sum by (transport) (${rate(bucket, c, `le="${le}"`, cut)})`;
  const bands = lifetimeBands();
  // Rates, stacked as shares: a share computed in PromQL is 0/0 (no series) in every rate
  // interval without an unclean close, while the stack still reads as the share when one
  // band carries it.
  return new TimeseriesPanel({
    description: `Unclean closes per second (abnormal, going away, error, cancelled) by transport and lifetime band (${bands[0]?.label} to ${bands.at(-1)?.label}), stacked as shares of all of them. Networks and clients end connections at every age; one band carrying most of the stack means a proxy or load balancer cuts connections at a fixed timeout, e.g. nginx Ingress proxy-read-timeout (60 s) with no heartbeat below it. RealtimeProxyTimeoutCuts fires above ${c.thresholds.proxyCutRatio * 100} % in one band per transport over 30 minutes.`,
    span: 12,
    stack: 'percent',
    targets: [q(bandsExpr(cumulative), { legendFormat: '{{transport}} {{lifetime}}' })],
    title: 'Unclean closes by lifetime band',
    unit: 'cps',
  });
}

/** The "Delivery and brokers" row: publish-to-write lag, broker traffic and broker errors. */
export function deliveryRow(c: MixinConfig): RowSpec {
  const lag = `${metricName(c, 'deliveryLag')}_bucket`;
  const brokerMessages = metricName(c, 'brokerMessages');
  const brokerErrors = metricName(c, 'brokerErrors');
  const t = c.thresholds;
  return {
    panels: [
      new TimeseriesPanel({
        description: `Time from a message's publish (stamped by the publisher) to its write on each recipient's socket, p50 and p99 per transport. It covers the broker hop, the fan-out and the socket write; across hosts it includes their clock skew. Alert: p99 above ${t.deliveryLagSeconds} s.`,
        span: 12,
        targets: [0.5, 0.99].map((x) =>
          q(`histogram_quantile(${x}, sum by (transport, le) (${rate(lag, c)}))`, {
            legendFormat: `p${Math.round(x * 100)} {{transport}}`,
          }),
        ),
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: t.deliveryLagSeconds },
        ],
        title: 'Delivery lag',
        unit: 's',
      }),
      new TimeseriesPanel({
        description:
          'Messages crossing the broker per second, by broker and direction: out = published by these instances, in = received from it for delivery here. In well above out is fan-in from other fleets; in at zero while out flows means lost subscriptions.',
        targets: [
          q(`sum by (broker, direction) (${rate(brokerMessages, c)})`, {
            legendFormat: '{{broker}} {{direction}}',
          }),
        ],
        title: 'Broker messages',
        unit: 'mps',
      }),
      new TimeseriesPanel({
        description: `Broker failures per second by broker and type (connection, publish, decode, timeout). Messages published during them may not reach clients on other instances. Alert: above ${t.brokerErrorsPerSecond}/s per broker.`,
        targets: [
          q(`sum by (broker, type) (${rate(brokerErrors, c)})`, {
            legendFormat: '{{broker}} {{type}}',
          }),
        ],
        title: 'Broker errors',
        unit: 'cps',
      }),
    ],
    title: 'Delivery and brokers',
  };
}

/** The "MQTT" row: subscriptions, QoS traffic, in-flight and retained messages. */
export function mqttRow(c: MixinConfig): RowSpec {
  return {
    panels: [
      new TimeseriesPanel({
        description:
          'Active subscriptions by topic filter (folded to a bounded set by the topic classifier), at scrape time. A filter that grows without its clients is a subscription leak.',
        targets: [
          q(`sum by (topic) (${metricName(c, 'subscriptions')}${selector(c)})`, {
            legendFormat: '{{topic}}',
          }),
        ],
        title: 'Subscriptions by topic',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'PUBLISH messages per second by quality of service: in = published by clients, out = delivered to subscribers. QoS 1 and 2 cost acknowledgements and in-flight state.',
        targets: [
          q(`sum by (qos, direction) (${rate(metricName(c, 'qosMessages'), c)})`, {
            legendFormat: 'QoS {{qos}} {{direction}}',
          }),
        ],
        title: 'Messages by QoS',
        unit: 'mps',
      }),
      new TimeseriesPanel({
        description:
          'QoS 1 and 2 messages sent to clients and not yet acknowledged, per instance and QoS. A climb means subscribers stopped acknowledging (offline with a persistent session, or too slow).',
        targets: [
          q(`sum by (instance, qos) (${metricName(c, 'inflightMessages')}${selector(c)})`, {
            legendFormat: '{{instance}} QoS {{qos}}',
          }),
        ],
        title: 'In-flight messages',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'Retained messages the broker holds, per instance (a shared store reports the same number everywhere). Every new subscription to a matching filter receives them at once.',
        targets: [
          q(`max by (instance) (${metricName(c, 'retainedMessages')}${selector(c)})`, {
            legendFormat: '{{instance}}',
          }),
        ],
        title: 'Retained messages',
        unit: 'short',
      }),
    ],
    title: 'MQTT',
  };
}
