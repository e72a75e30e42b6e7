/**
 * Runbook sections of the alerts on what sits between the server and its clients: proxies
 * cutting connections at a fixed age, late message delivery, and broker errors. Queries use
 * the config's metric names and selector, so they stay valid under another prefix.
 */
import type { MixinConfig } from '../config.js';
import { cutReasonMatcher } from '../lifetime.js';
import { metric, num, sel } from './naming.js';
import type { RunbookContent } from './runbook-content.js';
import { CUT_WINDOW, transportRecords } from './transports.js';

/** Runbook content of the proxy-cut, delivery-lag and broker-error alerts, per alert name. */
export function transportRunbooks(config: MixinConfig): Record<string, RunbookContent> {
  const t = config.thresholds;
  const r = transportRecords(config);
  const s = (...extra: string[]) => sel(config, ...extra);
  const life = metric(config, 'connectionDuration', '_bucket');
  const lag = metric(config, 'deliveryLag', '_bucket');
  const brokerErrors = metric(config, 'brokerErrors');
  return {
    RealtimeProxyTimeoutCuts: {
      meaning: `More than ${num(t.proxyCutRatio * 100)}% of the connections of one fleet and transport that closed uncleanly (\`abnormal\`: no close frame, 1006; \`going_away\`; \`error\`; gRPC \`cancelled\`) over the last ${CUT_WINDOW} had the same lifetime, within one bucket of the lifetime histogram (the \`lifetime\` label, e.g. \`1m-2m\`), and at least ${num(t.proxyCutMinCloses)} closed. Networks and clients end connections at every age; connections that all die at one age are cut by a timer in the path. The classic one is the nginx Ingress controller: \`proxy-read-timeout\` and \`proxy-send-timeout\` are 60 s by default, and an upgraded WebSocket (or an SSE stream, or a gRPC stream) that carries no data for 60 s in one direction is closed without a close frame. AWS ALB (60 s idle), GCP load balancers (30 s backend timeout), Azure (4 min TCP idle), Cloudflare (100 s) and API Gateway (10 min idle, 2 h maximum) do the same at their own ages.`,
      impact:
        'Every quiet client is disconnected at that age and reconnects: handshake load and reconnect churn for nothing, messages in flight at the cut are lost, and clients that were idle see a gap. Mobile clients pay battery and data for each reconnect.',
      diagnosis: [
        {
          query: `${r.cutBands}${s()}\n/ on (job, transport) group_left\n${r.cutBuckets}${s('le="+Inf"')}`,
          text: 'Share of unclean closes per lifetime band (recorded): the band above the threshold is the timeout. A cut at 60 s lands in `30s-1m` or `1m-2m`, depending on when the timer started.',
        },
        {
          query: `sum by (job, transport, endpoint, le) (rate(${life}${s(cutReasonMatcher())}[30m]))`,
          text: 'Per endpoint: the Ingress (or route) whose path the cut endpoints share is the one to fix.',
        },
        {
          query: `sum by (job, transport, reason, initiator) (rate(${metric(config, 'connectionsClosed')}${s()}[30m]))`,
          text: 'Who closed: a cut by a proxy is `abnormal` from the `client` side as the server sees it (the proxy is its client).',
        },
        {
          query: `sum by (job, transport, outcome) (rate(${metric(config, 'heartbeats')}${s()}[30m]))`,
          text: 'Does the server send heartbeats on this transport at all? No pongs means no pings, and nothing keeps an idle connection alive through the proxy.',
        },
        {
          text: 'Read the timeouts on the path: `kubectl get ingress -o yaml` for the `nginx.ingress.kubernetes.io/proxy-read-timeout` and `proxy-send-timeout` annotations (seconds; absent = 60), the controller ConfigMap defaults, the cloud load balancer idle timeout, and any service mesh (Envoy `stream_idle_timeout`, 5 min).',
        },
      ],
      mitigation: [
        'Send heartbeats more often than the shortest timeout on the path, in both directions: server pings (ws `ping()`, Socket.IO `pingInterval`, an SSE comment line, gRPC keepalive or an application message) every 25-30 s keep a 60 s timeout from firing. nginx counts reads and writes separately, so the pong must reach the server too.',
        'Raise the timeout for the realtime paths only: on ingress-nginx, annotate their Ingress with `nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"` and `nginx.ingress.kubernetes.io/proxy-send-timeout: "3600"` (seconds), and keep the heartbeat below it anyway.',
        'For a cloud load balancer, raise its idle timeout (ALB `idle_timeout.timeout_seconds`, GCP backend service `timeoutSec`) above the heartbeat interval.',
        'If the cut is a maximum connection age by design (API Gateway 2 h), reconnect from the client shortly before it, on a clean close, so the cut never happens.',
      ],
    },
    RealtimeDeliveryLagHigh: {
      meaning: `The p99 time from a message's publish (the stamp the publisher set) to its write on a recipient's socket is above ${num(t.deliveryLagSeconds)}s for 10 minutes, for one fleet and transport. It covers the broker hop (Redis pub/sub, the Socket.IO Redis adapter, MQTT), the fan-out loop and the socket write; across hosts it also includes their clock skew.`,
      impact:
        'Clients see stale data: chat messages, prices or positions arrive seconds late, and ordering across rooms can look wrong. Real backlogs grow until messages are dropped.',
      diagnosis: [
        {
          query: `${r.lagQuantile}${s()}`,
          text: 'Lag quantiles per fleet and transport (recorded): one transport or all?',
        },
        {
          query: `histogram_quantile(0.99, sum by (job, instance, le) (rate(${lag}${s()}[5m])))`,
          text: 'p99 per instance: one slow instance (event loop, slow consumers) or the whole fleet (broker)?',
        },
        {
          query: `sum by (job, broker, direction) (rate(${metric(config, 'brokerMessages')}${s()}[5m]))`,
          text: 'Broker traffic: `out` published by this fleet, `in` received for delivery. A jump in `in` is a fan-out storm.',
        },
        {
          query: `sum by (job, instance) (${metric(config, 'sendBuffer')}${s()})`,
          text: 'Bytes waiting in send buffers: slow sockets delay everything queued behind them.',
        },
        {
          text: 'Lag that is constant and about equal on every transport is usually clock skew between the publishing and delivering hosts: check NTP/chrony on both.',
        },
      ],
      mitigation: [
        'If the broker is slow (Redis CPU, network, a full output buffer), relieve it: fewer channels per message, a larger instance, or sharded pub/sub.',
        'If instances are saturated (event-loop lag), scale out; serialise a broadcast once, not per recipient.',
        'Shed slow consumers (see RealtimeSlowConsumers) so they stop holding back the rest.',
      ],
    },
    RealtimeBrokerErrors: {
      meaning: `A fleet counts more than ${num(t.brokerErrorsPerSecond)} errors per second with one broker (the \`broker\` label: \`redis\`, \`socketio_redis\`, or the name given to the broker helper) for 10 minutes: lost connections, failed publishes, messages it cannot decode, or timeouts (the \`type\` label).`,
      impact:
        'Messages published on one instance may never reach the clients connected to the others: rooms split by instance, presence and broadcasts go missing. Clients rarely notice until they compare notes.',
      diagnosis: [
        {
          query: `sum by (job, instance, broker, type) (rate(${brokerErrors}${s()}[5m]))`,
          text: 'Errors by instance and type: every instance (the broker is down or unreachable) or one (its connection)?',
        },
        {
          query: `sum by (job, broker, direction) (rate(${metric(config, 'brokerMessages')}${s()}[5m]))`,
          text: 'Is traffic still flowing? `in` at zero while `out` goes on means subscriptions are lost.',
        },
        {
          text: 'Check the broker itself: Redis `INFO clients` (rejected connections, `maxclients`), `client-output-buffer-limit pubsub` disconnects in the Redis log, failovers, network policies and credentials.',
        },
      ],
      mitigation: [
        'Restore the broker or the path to it; clients reconnect and the adapter resubscribes on its own.',
        '`decode` errors mean a publisher writes another format: find it by channel and fix or version the payloads.',
        'Raise Redis `client-output-buffer-limit pubsub` if subscribers are disconnected for falling behind.',
      ],
    },
  };
}
