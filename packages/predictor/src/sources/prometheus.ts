/** The `prometheus` kind: range queries against a Prometheus server (the fleet total). */
import { createPrometheusSource } from '@tidewatch/forecast';
import { z } from 'zod';
import { bearerToken, httpUrl, num, text } from '../fields.js';
import type { SourceKind } from './kind.js';
import { maxBodyBytesField, maxPointsField } from './limits.js';
import { prometheusLeading } from './prometheus-leading.js';

/** The config block's schema. */
export const prometheusSchema = z.strictObject({
  kind: z.literal('prometheus'),
  url: httpUrl(),
  /** PromQL returning one series; default `sum(<metric>)` (the fleet: summed over replicas). */
  query: text('a non-empty PromQL expression').optional(),
  /** Per request, seconds. Default 30. */
  timeoutSeconds: num(0).default(30),
  /** Sent as `Authorization: Bearer ...`. */
  bearerToken: bearerToken().optional(),
  /** Cap on one response body, bytes. Default 16 MiB. */
  maxBodyBytes: maxBodyBytesField(),
  /** Cap on the points one read takes in. Default 110,000. */
  maxPoints: maxPointsField(),
});

/** The `prometheus` source block after parsing (`query` is filled by `resolve`). */
export type PrometheusSourceConfig = z.output<typeof prometheusSchema>;

/**
 * Reads everything since the newest stored point from Prometheus, so a restart backfills the
 * gap (a `fleet` source: every sidecar sees the whole fleet).
 */
export const prometheusKind: SourceKind<PrometheusSourceConfig> = {
  kind: 'prometheus',
  schema: prometheusSchema,
  scope: 'fleet',
  live: false,
  settings: [
    {
      name: 'TIDEWATCH_PROMETHEUS_URL',
      field: 'url',
      type: 'string',
      selects: true,
      usage: 'TIDEWATCH_PROMETHEUS_URL',
    },
    { name: 'TIDEWATCH_PROMETHEUS_QUERY', field: 'query', type: 'string', selects: false },
    { name: 'TIDEWATCH_PROMETHEUS_MAX_POINTS', field: 'maxPoints', type: 'int', selects: false },
    {
      name: '--prometheus',
      field: 'url',
      type: 'string',
      selects: true,
      usage: '--prometheus URL',
    },
    { name: '--query', field: 'query', type: 'string', selects: false },
    { name: '--prometheus-max-points', field: 'maxPoints', type: 'int', selects: false },
  ],
  resolve: (s, config) => ({ ...s, query: s.query ?? `sum(${config.metric})` }),
  // A fresh sidecar's first collection asks for the whole history ring: with a ring longer
  // than maxPoints that read would fail the same way at every collection, forever.
  check: (s, config) =>
    s.maxPoints < config.historyPoints
      ? [
          {
            field: 'maxPoints',
            message: `must be >= historyPoints (${config.historyPoints}): the first collection reads the whole history`,
            value: s.maxPoints,
          },
        ]
      : [],
  // The nowcast's leading signals: instant queries with the source's selector (./prometheus-leading.ts).
  leading: prometheusLeading,
  names: (s) => {
    const name = `prometheus:${new URL(s.url).href.replace(/\/+$/, '')}`;
    return { name, errorSources: [name] };
  },
  create: (s, ctx) =>
    createPrometheusSource({
      url: s.url,
      query: s.query as string,
      stepMs: ctx.stepMs,
      timeoutMs: Math.max(1, Math.round(s.timeoutSeconds * 1000)),
      // One quick retry, for what is worth one: a 5xx, a 429 or a refused connection. The
      // library does not retry a timeout (the server is slow, asking again only doubles the
      // wait), so a collection takes at most about two timeouts; the next collection is the
      // real retry, and a long backoff here would only delay noticing that the source is down.
      retries: 1,
      maxBodyBytes: s.maxBodyBytes,
      maxPoints: s.maxPoints,
      ...(s.bearerToken ? { bearerToken: s.bearerToken } : {}),
    }),
};
