import { CATALOG, CLOSE_REASONS, DEFAULT_PREFIX, METRIC_KEYS } from '@tidewatch/conventions';

function fmtBucket(v: number, unit: string): string {
  if (unit === 'seconds') {
    if (v < 0.001) return `${+(v * 1e6).toFixed(3)} µs`;
    if (v < 1) return `${+(v * 1e3).toFixed(3)} ms`;
    if (v < 60) return `${v} s`;
    if (v < 3600) return `${v / 60} min`;
    return `${v / 3600} h`;
  }
  if (unit === 'bytes') {
    if (v >= 1 << 20) return `${v / (1 << 20)} MiB`;
    if (v >= 1024) return `${v / 1024} KiB`;
    return `${v} B`;
  }
  return String(v);
}

/**
 * Renders the metric catalogue as Markdown (the source of `docs/metrics.md`).
 * @param prefix Prometheus prefix to show. Default `realtime_`.
 */
export function renderCatalogMarkdown(prefix = DEFAULT_PREFIX): string {
  const otelPrefix = `${prefix.replace(/_+$/, '')}.`;
  const lines: string[] = [
    '# Metric catalogue',
    '',
    '<!-- Generated from packages/conventions/src/metrics.ts by `npm run generate`. Do not edit. -->',
    '',
    `Prometheus names use the prefix \`${prefix}\` (option \`prefix\`); OpenTelemetry instruments`,
    `carry the same meaning and labels (as attributes) under \`${otelPrefix}*\`. Gauges marked`,
    '*scrape* are computed from live state when scraped, so they cannot drift or go negative.',
    'Open-ended labels (no fixed value set) pass the per-metric series cap (`seriesCap`,',
    'default 2000, in exposed series: a histogram label set counts as buckets + 3, a counter or',
    'gauge label set as 1; room for the overflow label sets is reserved, so the cap holds after',
    'overflow) and fold into `__overflow__` past it, counted by',
    `\`${prefix}series_dropped_total{metric}\`.`,
    '',
    '| Prometheus name | type | labels | OpenTelemetry | unit | meaning |',
    '|---|---|---|---|---|---|',
  ];
  for (const key of METRIC_KEYS) {
    const m = CATALOG[key];
    const labels = m.labels.map((l) => `\`${l.name}\``).join(', ');
    const kind = m.source === 'scrape' ? `${m.type} (scrape)` : m.type;
    lines.push(
      `| \`${prefix}${m.name}\` | ${kind} | ${labels} | \`${otelPrefix}${m.otel}\` | \`${m.otelUnit}\` | ${m.help} |`,
    );
  }
  lines.push('', '## Labels', '', '| metric | label | values | meaning |', '|---|---|---|---|');
  for (const key of METRIC_KEYS) {
    const m = CATALOG[key];
    for (const l of m.labels) {
      const values = 'values' in l && l.values ? l.values.join(', ') : '*open-ended, capped*';
      lines.push(`| \`${prefix}${m.name}\` | \`${l.name}\` | ${values} | ${l.help} |`);
    }
  }
  lines.push('', '## Histogram buckets', '');
  for (const key of METRIC_KEYS) {
    const m = CATALOG[key];
    if (!('buckets' in m)) continue;
    lines.push(
      `- \`${prefix}${m.name}\`: ${m.buckets.map((b) => fmtBucket(b, m.unit)).join(', ')}`,
    );
  }
  lines.push(
    '',
    '## Close reasons',
    '',
    `\`reason\` is one of: ${CLOSE_REASONS.join(', ')}. WebSocket close codes map as: 1000, 1005 ->`,
    'normal; 1001 -> going_away (client) or server_shutdown (server); 1012 -> server_shutdown;',
    '1002, 1003, 1007, 1010 and ws protocol errors -> protocol_error; 1006 -> abnormal;',
    '1008, 3000, 3003 -> auth; 1009 and `maxPayload` overruns -> message_too_big; 1013 ->',
    'going_away; 3008 -> idle_timeout; other 3000-4999 -> normal unless mapped with the',
    '`closeCodes` option; anything else -> error. A peer terminated by the heartbeat (or by',
    'the application while a ping has gone unanswered for 1 s or more) -> ping_timeout.',
    '`initiator` is `server` when the server sent the close frame or dropped the socket first.',
    '',
  );
  return lines.join('\n');
}
