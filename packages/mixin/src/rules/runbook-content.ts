/**
 * What each runbook section says: meaning, impact, diagnosis (with PromQL an operator can
 * paste) and mitigation, written for WebSocket/SSE/long-polling fleets on Node.js. Metric and
 * record names come from the config, so the queries stay valid under another prefix.
 */
import { CLOSE_REASONS, HANDSHAKE_OUTCOMES } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { matcher } from '../labels.js';
import { hotPodRunbooks } from './hotpod.js';
import { metric, num, sel } from './naming.js';
import { fleetRecords } from './recording.js';
import { autoscalingRunbooks } from './runbook-autoscaling.js';
import { transportRunbooks } from './runbook-transports.js';
import { shadowRunbooks } from './shadow.js';
import { slis } from './slo.js';

/** One diagnosis step: what to look at, and the query that shows it. */
export interface DiagnosisStep {
  text: string;
  query?: string;
}

/** The content of one runbook section. */
export interface RunbookContent {
  meaning: string;
  impact: string;
  diagnosis: DiagnosisStep[];
  mitigation: string[];
}

/** Runbook content per alert name. */
export function runbookContent(config: MixinConfig): Record<string, RunbookContent> {
  const m = (k: Parameters<typeof metric>[1], suffix = '') => metric(config, k, suffix);
  const s = (...extra: string[]) => sel(config, ...extra);
  const r = fleetRecords(config);
  const [errSli, latSli] = slis(config);
  if (!errSli || !latSli) throw new Error('runbooks: expected two SLIs');
  const t = config.thresholds;
  const hs = m('handshakeDuration');
  const closed = m('connectionsClosed');
  return {
    RealtimeHandshakeErrorBudgetBurn: {
      meaning: `The share of handshakes (WebSocket upgrades, Socket.IO/engine.io connects, SSE and long-poll opens) that end \`rejected\` or \`error\` is high enough to spend the error budget of the SLO (${errSli.objectiveText}) too fast. \`long_window\`/\`short_window\` say which pair fired: 1h/5m and 6h/30m page (the budget is gone within days), 1d/2h and 3d/6h open a ticket (a slow leak). Aborted handshakes (the client left first) do not count.`,
      impact:
        'Clients cannot connect or reconnect. Realtime clients retry with backoff, so a failing fleet also sees a reconnect storm that adds load, and users sit on "connecting…" screens.',
      diagnosis: [
        {
          query: `sum by (job, outcome) (rate(${hs}_count${s()}[5m]))`,
          text: 'Which outcome grows: `rejected` (4xx, auth, origin checks, verifyClient, Socket.IO middleware `next(err)`) or `error` (5xx, server faults)?',
        },
        {
          query: `sum by (job, instance) (rate(${hs}_count${s(matcher('outcome', HANDSHAKE_OUTCOMES, 'rejected', 'error'))}[5m]))`,
          text: 'One instance or all? A single instance points at its config, certificates or a dependency it alone reaches.',
        },
        {
          query: `sum by (job, type) (rate(${m('errors')}${s()}[5m]))`,
          text: 'Transport errors by type (e.g. `forbidden`, `unknown_sid`, `http_5xx`) usually name the cause.',
        },
        {
          query: `sum by (job, transport) (${m('handshakesInFlight')}${s()})`,
          text: 'Handshakes piling up in flight mean the server is too slow to answer, not refusing.',
        },
        {
          text: 'Check recent deploys of the server and of the auth/session service the handshake calls, expired TLS certificates, and load-balancer changes (idle timeouts, missing `Upgrade`/`Connection` header forwarding).',
        },
      ],
      mitigation: [
        'Roll back a deploy that coincides with the start of the burn.',
        'If the auth or session store behind the handshake is failing, restore it first; consider a short-lived fallback (accept cached tokens) rather than rejecting everyone.',
        'If only some instances fail, take them out of the load balancer and replace them.',
        'If rejections are intended (a blocked abusive client), exclude that traffic from the SLI rather than tolerating a burning alert.',
      ],
    },
    RealtimeHandshakeLatencyBudgetBurn: {
      meaning: `Successful handshakes are too slow: the share slower than ${num(config.handshakeLatencySlo.thresholdSeconds)}s spends the budget of the SLO (${latSli.objectiveText}) too fast. The window labels say which pair fired, as for the error-budget alert.`,
      impact:
        'Connect and reconnect take long; after a deploy or a network blip every client reconnects at once, and slow handshakes stretch that storm. Users see stale data until they are connected.',
      diagnosis: [
        {
          query: `${r.handshakeQuantile}${s()}`,
          text: 'Handshake latency quantiles per fleet (recorded):',
        },
        {
          query: `histogram_quantile(0.99, sum by (job, instance, le) (rate(${hs}_bucket${s(matcher('outcome', HANDSHAKE_OUTCOMES, 'success'))}[5m])))`,
          text: 'p99 per instance: one slow instance or the whole fleet?',
        },
        {
          query: `max by (job, instance) (nodejs_eventloop_lag_p99_seconds${s()})`,
          text: 'Event-loop lag delays every handshake on a busy instance.',
        },
        {
          query: `sum by (job) (${r.opened})`,
          text: 'A connection storm (reconnects after an incident) raises handshake latency by itself.',
        },
        {
          text: "Time spent in authentication (token verification, session lookups) and TLS termination is part of the handshake; check those dependencies' latency.",
        },
      ],
      mitigation: [
        'Scale out if the instances are saturated (event-loop lag, CPU); the predictive trigger should have done so ahead of a known peak, so check TidewatchForecastStale too.',
        'Cache or shorten slow auth lookups in the upgrade path; move work after `open` where the protocol allows.',
        'During a reconnect storm, make sure clients use jittered exponential backoff; rate-limit handshakes per instance rather than letting all of them slow down.',
      ],
    },
    RealtimeMassDisconnect: {
      meaning: `The fleet's open connections fell more than ${num(t.massDisconnectRatio * 100)}% below their peak of the last 10 minutes, and closes with reason \`server_shutdown\` (a graceful drain during a rollout or scale-in) do not explain most of the loss.`,
      impact:
        'Many users lost their live session at once. They will reconnect (a thundering herd on the remaining instances) and may have missed messages sent while disconnected.',
      diagnosis: [
        {
          query: `sum by (job, instance) (${m('connections')}${s()})`,
          text: 'Which instances lost their connections? A whole instance gone points at a crash, OOM kill or eviction.',
        },
        {
          query: `sum by (job, reason, initiator) (increase(${closed}${s()}[10m]))`,
          text: 'How they closed: `abnormal` (1006, no close frame: network path, load balancer, killed process), `ping_timeout` (peers stopped answering), `server_shutdown` (a drain), `going_away` (clients left).',
        },
        {
          query: `changes(process_start_time_seconds${s()}[15m])`,
          text: 'Restarts in the window.',
        },
        { query: `up${s()}`, text: 'Scrape health of the instances.' },
        {
          text: 'Check the load balancer or ingress (idle timeout changes, reloads: NGINX and Envoy reloads drop upgraded connections), network incidents, and node drains.',
        },
      ],
      mitigation: [
        'If instances crashed, find the cause (OOM: see memory and slow consumers; uncaught exceptions: logs) and roll back the change that introduced it.',
        'If the load balancer reloaded or timed out idle connections, lengthen its idle timeout above the heartbeat interval and prefer graceful reloads.',
        'Protect the survivors from the reconnect herd: scale out ahead, and make sure clients reconnect with jitter.',
        'For planned restarts, drain gracefully: close with 1001/1012 (recorded as `server_shutdown`) and keep the pod alive one scrape interval after the last close, so the drain is visible and this alert stays quiet.',
      ],
    },
    RealtimeAbnormalClosuresHigh: {
      meaning: `More than ${num(t.abnormalCloseRatio * 100)}% of closed connections ended without a clean close: reason \`abnormal\` (1006, the TCP connection vanished without a close frame) or \`error\` (1011 and unmapped codes).`,
      impact:
        'Clients see unexpected disconnects and reconnect; in-flight messages may be lost. On mobile networks some abnormal closes are normal, which is why this is a warning.',
      diagnosis: [
        { query: r.closedByReason, text: 'Closes per second by reason per fleet (recorded):' },
        {
          query: `sum by (job, instance, transport) (rate(${closed}${s(matcher('reason', CLOSE_REASONS, 'abnormal', 'error'))}[5m]))`,
          text: 'Per instance and transport: one instance, one transport (e.g. long polling behind a proxy)?',
        },
        {
          query: `histogram_quantile(0.5, sum by (job, le) (rate(${m('connectionDuration')}_bucket${s(matcher('reason', CLOSE_REASONS, 'abnormal'))}[30m])))`,
          text: 'Median lifetime of abnormally closed connections: a sharp peak at a fixed age (60 s, 100 s, 1 h) is a proxy or load-balancer idle timeout (RealtimeProxyTimeoutCuts watches for it).',
        },
        {
          query: `sum by (job, type) (rate(${m('errors')}${s()}[5m]))`,
          text: 'Transport errors such as `econnreset` around the same time.',
        },
      ],
      mitigation: [
        'Set the proxy/load-balancer idle timeout above the heartbeat interval (or shorten the heartbeat) so idle connections are not cut silently.',
        'If one instance dominates, replace it; if it follows deploys, drain gracefully instead of killing processes.',
        'If the cause is client networks (mobile handovers), tune the threshold for that fleet rather than ignoring the alert.',
      ],
    },
    RealtimeMessagesDropped: {
      meaning: `More than ${num(t.droppedMessageRatio * 100)}% of the messages the application tried to send never left: the socket was no longer open (\`not_open\`) or its send buffer was full (\`backpressure\`).`,
      impact:
        'Users miss updates (chat messages, notifications, state diffs). Unless the protocol resends on reconnect, the data is gone.',
      diagnosis: [
        {
          query: `sum by (job, instance, reason) (rate(${m('messagesDropped')}${s()}[5m]))`,
          text: 'Drops by reason and instance.',
        },
        {
          query: `sum by (job, instance) (${m('slowConsumers')}${s()})`,
          text: '`backpressure` drops go with slow consumers and a growing send buffer:',
        },
        {
          query: `sum by (job, instance) (${m('sendBuffer')}${s()})`,
          text: 'Bytes queued for sending per instance.',
        },
        {
          query: `sum by (job) (${r.messagesByDirection}{direction="out"})`,
          text: 'A fan-out spike (a broadcast to a large room) can fill buffers everywhere at once.',
        },
      ],
      mitigation: [
        '`not_open`: the application sends to sockets that are closing; check `readyState` before sending and clean up subscriptions on close.',
        '`backpressure`: disconnect or degrade consumers that cannot keep up (drop intermediate state updates, send snapshots), and bound per-connection queues.',
        'Reduce fan-out (batch or coalesce broadcasts) and scale out if buffers fill on all instances.',
      ],
    },
    RealtimeSlowConsumers: {
      meaning: `An instance has more than ${num(t.slowConsumers)} open connections whose send buffer is above the slow-consumer threshold for 15 minutes.`,
      impact:
        'Buffered data holds memory (risking OOM for the whole instance), and those clients receive messages late. Broadcasts slow down for everyone sharing the event loop.',
      diagnosis: [
        {
          query: `sum by (job, instance, transport) (${m('slowConsumers')}${s()})`,
          text: 'Slow consumers per instance and transport.',
        },
        {
          query: `sum by (job, instance) (${m('sendBuffer')}${s()})`,
          text: 'Buffered bytes per instance, with memory:',
        },
        { query: `process_resident_memory_bytes${s()}`, text: 'Resident memory of the instances.' },
        {
          query: `histogram_quantile(0.99, sum by (job, le) (rate(${m('pingRtt')}_bucket${s()}[5m])))`,
          text: 'Ping round trips: high RTT points at client networks rather than the server.',
        },
      ],
      mitigation: [
        'Disconnect consumers whose buffer stays above a hard limit (close with 1013 "try again later" or 1008); let them resync on reconnect.',
        'Send less to slow clients: coalesce updates, drop superseded state, lower message rates for backgrounded clients.',
        'If all instances are affected, look for a broadcast storm or oversized messages (message size histogram).',
      ],
    },
    RealtimeHeartbeatTimeouts: {
      meaning: `An instance terminates more than ${num(t.heartbeatTimeoutsPerSecond)} peers per second because they did not answer a ping in time.`,
      impact:
        'Those users are disconnected and reconnect; if the cause is the server (a blocked event loop cannot send pings or read pongs), healthy clients are cut too.',
      diagnosis: [
        {
          query: `max by (job, instance) (nodejs_eventloop_lag_p99_seconds${s()})`,
          text: 'Event-loop lag first: a blocked loop misses pongs that did arrive.',
        },
        {
          query: `histogram_quantile(0.99, sum by (job, instance, le) (rate(${m('pingRtt')}_bucket${s()}[5m])))`,
          text: 'Ping round trips per instance.',
        },
        {
          query: `sum by (job, instance) (rate(${m('heartbeats')}${s('outcome="timeout"')}[5m]))`,
          text: 'Timeouts per instance: one instance (server side) or all (network, clients)?',
        },
      ],
      mitigation: [
        'Server-side: fix what blocks the event loop (see RealtimeEventLoopLagHigh), or scale out.',
        'Network-side: check proxies that buffer or delay control frames; make the ping interval and timeout tolerant of mobile networks (e.g. 25 s interval, 2 missed pings).',
      ],
    },
    RealtimeEventLoopLagHigh: {
      meaning: `The p99 event-loop lag of a realtime instance is above ${num(t.eventLoopLagSeconds)}s for 10 minutes. Node runs every connection of the process on this loop.`,
      impact:
        'Every message, ping, pong and handshake on the instance waits that long: latency rises, heartbeats time out, and handshake latency burns its budget.',
      diagnosis: [
        {
          query: `rate(process_cpu_seconds_total${s()}[5m])`,
          text: 'CPU: near 1 core means the loop is saturated by work.',
        },
        {
          query: `rate(nodejs_gc_duration_seconds_sum${s()}[5m])`,
          text: 'Garbage collection time: large heaps with many buffered messages cause long pauses.',
        },
        {
          query: `sum by (job, instance) (${m('connections')}${s()})`,
          text: 'Connections per instance: is this one carrying more than its share?',
        },
        {
          text: 'Profile the instance (`node --cpu-prof`, or `--inspect` with a short CPU profile): synchronous JSON serialisation of large broadcasts, crypto, and regexes on message paths are the usual culprits.',
        },
      ],
      mitigation: [
        'Scale out or rebalance connections; a single hot instance after a reconnect storm evens out as clients reconnect.',
        'Serialise a broadcast once, not per recipient; move CPU-heavy work to worker threads.',
        'Reduce heap pressure (bounded send queues, smaller per-connection state) to shorten GC pauses.',
      ],
    },
    RealtimeFdExhaustion: {
      meaning: `A realtime instance has more than ${num(t.fdRatio * 100)}% of its file-descriptor limit open. Every connection (and every long-poll request) holds one.`,
      impact:
        'At the limit `accept()` fails with EMFILE: new clients cannot connect while existing ones keep working, and outgoing calls (databases, auth) fail too.',
      diagnosis: [
        { query: `process_open_fds${s()} / process_max_fds${s()}`, text: 'Usage per instance:' },
        {
          query: `sum by (job, instance) (${m('connections')}${s()})`,
          text: 'Compare with the connections: fds far above connections means a leak (sockets not closed, files, keep-alive pools).',
        },
      ],
      mitigation: [
        "Raise the limit (`ulimit -n`, the container runtime's `nofile`) to well above the planned connections per instance.",
        'Cap connections per instance (`maxConnections`) so the autoscaler adds instances before fds run out.',
        'If fds grow without connections, find the leak (lsof on the process) and restart the instance meanwhile.',
      ],
    },
    RealtimeMetricsAbsent: {
      meaning: `Prometheus has no \`${m('connections')}\` series${s() === '' ? '' : ` matching \`${s()}\``}: no realtime server is being scraped, or they no longer export tidewatch metrics.`,
      impact:
        'Every other realtime alert and the autoscaling signal are blind. If the fleet is really down, users cannot connect.',
      diagnosis: [
        { query: `up${s()}`, text: 'Are the targets scraped at all?' },
        {
          query: `count by (job) (${m('connectionsOpened')}${s()})`,
          text: 'Do other tidewatch metrics exist (a renamed prefix or a changed selector)?',
        },
        {
          text: 'Check the ServiceMonitor/PodMonitor or scrape config, the `/metrics` authentication (a rotated bearer token returns 401), and whether the deployment exists.',
        },
      ],
      mitigation: [
        'Restore the scrape (selector labels, token, network policy) or the deployment.',
        'If the metric prefix changed, regenerate the rules with the new `metricPrefix`.',
      ],
    },
    RealtimeTargetDown: {
      meaning:
        'One realtime instance fails its scrapes for 5 minutes while the rest of its fleet reports.',
      impact:
        'The instance is down or hung (its clients are disconnected) or only its metrics endpoint fails (the fleet aggregates and the autoscaler undercount load).',
      diagnosis: [
        { query: `up${s()} == 0`, text: 'Which targets are down:' },
        {
          query: `scrape_duration_seconds${s()}`,
          text: 'Scrapes timing out: a blocked event loop answers `/metrics` late.',
        },
        {
          text: 'Check the pod status, restarts and logs; a `/metrics` answering 401/403 means the scrape credentials are wrong.',
        },
      ],
      mitigation: [
        'Restart or replace a hung instance; fix the scrape credentials or network policy if only scraping fails.',
      ],
    },
    ...transportRunbooks(config),
    ...hotPodRunbooks(config),
    ...autoscalingRunbooks(config),
    ...shadowRunbooks(config),
  };
}
