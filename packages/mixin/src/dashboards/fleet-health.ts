/**
 * The health and self-monitoring rows of the "Realtime fleet" dashboard (split from
 * fleet.ts to keep files small): liveness of connections and of the Node.js process, and of
 * the instrumentation itself.
 */
import type { MixinConfig } from '../config.js';
import { GaugePanel, TimeseriesPanel } from '../grafana/panels.js';
import { promTarget as q } from '../grafana/targets.js';
import { metricName, quantile, type RowSpec, rate, selector } from './common.js';

/** The "Health" row: heartbeats, backpressure, drops, errors and the Node.js process. */
export function healthRow(c: MixinConfig): RowSpec {
  const rtt = metricName(c, 'pingRtt');
  const hb = metricName(c, 'heartbeats');
  const buf = metricName(c, 'sendBuffer');
  const slow = metricName(c, 'slowConsumers');
  const dropped = metricName(c, 'messagesDropped');
  const errors = metricName(c, 'errors');
  const t = c.thresholds;
  return {
    panels: [
      new TimeseriesPanel({
        description:
          'Round trip from a server ping to its pong, p50 and p99. Rising RTT with flat CPU points at the network or clients.',
        targets: [0.5, 0.99].map((x) =>
          q(quantile(x, rtt, c), { legendFormat: `p${Math.round(x * 100)}` }),
        ),
        title: 'Ping RTT',
        unit: 's',
      }),
      new TimeseriesPanel({
        description: `Heartbeat outcomes per second: pongs, and timeouts (peers terminated after missing pongs). Alert threshold: ${t.heartbeatTimeoutsPerSecond}/s timeouts per instance.`,
        targets: [q(`sum by (outcome) (${rate(hb, c)})`, { legendFormat: '{{outcome}}' })],
        title: 'Heartbeats',
        unit: 'cps',
      }),
      new TimeseriesPanel({
        description:
          'Bytes queued for sending over open connections, per instance, at scrape time. Growth means clients read slower than the server writes.',
        targets: [q(`sum by (instance) (${buf}${selector(c)})`, { legendFormat: '{{instance}}' })],
        title: 'Send buffer',
        unit: 'bytes',
      }),
      new TimeseriesPanel({
        description: `Open connections whose send buffer exceeds slowConsumerBytes, per instance. Alert threshold: ${t.slowConsumers}.`,
        targets: [q(`sum by (instance) (${slow}${selector(c)})`, { legendFormat: '{{instance}}' })],
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: t.slowConsumers },
        ],
        title: 'Slow consumers',
        unit: 'short',
      }),
      new TimeseriesPanel({
        description:
          'Messages the application tried to send that never left, per second, by reason (not_open: socket closing; backpressure).',
        targets: [q(`sum by (reason) (${rate(dropped, c)})`, { legendFormat: '{{reason}}' })],
        title: 'Dropped messages',
        unit: 'mps',
      }),
      new TimeseriesPanel({
        description:
          'Transport errors per second by normalised type (invalid frames, resets, HTTP 4xx/5xx of long-polling, engine.io errors).',
        targets: [q(`sum by (type) (${rate(errors, c)})`, { legendFormat: '{{type}}' })],
        title: 'Errors',
        unit: 'cps',
      }),
      new TimeseriesPanel({
        description: `Event-loop lag p99 per instance (prom-client default metric). Above ${t.eventLoopLagSeconds * 1000} ms every message and ping waits that long.`,
        targets: [
          q(`max by (instance) (nodejs_eventloop_lag_p99_seconds${selector(c)})`, {
            legendFormat: '{{instance}}',
          }),
        ],
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: t.eventLoopLagSeconds },
        ],
        title: 'Event-loop lag p99',
        unit: 's',
      }),
      new TimeseriesPanel({
        description:
          'CPU used per instance, in cores (1 = 100 % of one core). A Node.js process saturates near 1.',
        targets: [
          q(`sum by (instance) (rate(process_cpu_seconds_total${selector(c)}[$__rate_interval]))`, {
            legendFormat: '{{instance}}',
          }),
        ],
        title: 'CPU',
        unit: 'percentunit',
      }),
      new TimeseriesPanel({
        description: 'Resident memory and V8 heap used per instance.',
        targets: [
          q(`sum by (instance) (process_resident_memory_bytes${selector(c)})`, {
            legendFormat: 'rss {{instance}}',
          }),
          q(`sum by (instance) (nodejs_heap_size_used_bytes${selector(c)})`, {
            legendFormat: 'heap {{instance}}',
          }),
        ],
        title: 'Memory',
        unit: 'bytes',
      }),
      new GaugePanel({
        description: `Open file descriptors over the limit, highest instance. Every connection holds one; at 100 % new connections fail. Alert threshold: ${t.fdRatio * 100} %.`,
        max: 1,
        min: 0,
        span: 6,
        height: 8,
        targets: [
          q(`max(process_open_fds${selector(c)} / process_max_fds${selector(c)})`, {
            instant: true,
            legendFormat: 'fds',
          }),
        ],
        thresholds: [
          { color: 'green', value: null },
          { color: 'red', value: t.fdRatio },
        ],
        title: 'File descriptors used',
        unit: 'percentunit',
      }),
    ],
    title: 'Health',
  };
}

/** The "Self-monitoring" row: tidewatch's own errors and cardinality guard. */
export function selfMonitoringRow(c: MixinConfig): RowSpec {
  const instErr = metricName(c, 'instrumentationErrors');
  const dropped = metricName(c, 'seriesDropped');
  const scrapeErr = metricName(c, 'scrapeErrors');
  return {
    panels: [
      new TimeseriesPanel({
        description:
          'Errors caught inside tidewatch per second, by site (the host kept serving). Non-zero means a classifier throws or requests are malformed.',
        span: 4,
        targets: [q(`sum by (site) (${rate(instErr, c)})`, { legendFormat: '{{site}}' })],
        title: 'Instrumentation errors',
        unit: 'cps',
      }),
      new TimeseriesPanel({
        description:
          'Label sets folded into __overflow__ per second, by metric, because the metric reached its series cap. Raise the cap or bound the label.',
        span: 4,
        targets: [q(`sum by (metric) (${rate(dropped, c)})`, { legendFormat: '{{metric}}' })],
        title: 'Series dropped (cardinality guard)',
        unit: 'cps',
      }),
      new TimeseriesPanel({
        description:
          'Metrics whose collection failed during a scrape, per second; the rest of the scrape was served.',
        span: 4,
        targets: [q(`sum by (metric) (${rate(scrapeErr, c)})`, { legendFormat: '{{metric}}' })],
        title: 'Scrape errors',
        unit: 'cps',
      }),
    ],
    title: 'Self-monitoring',
  };
}
