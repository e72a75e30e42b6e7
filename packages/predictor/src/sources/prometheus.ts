/** The `prometheus` kind: range queries against a Prometheus server (the fleet total). */
import { createPrometheusSource } from '@tidewatch/forecast';
import { z } from 'zod';
import { httpUrl, must, num, text } from '../fields.js';
import type { SourceKind } from './kind.js';

/** The config block's schema. */
export const prometheusSchema = z.strictObject({
  kind: z.literal('prometheus'),
  url: httpUrl(),
  /** PromQL returning one series; default `sum(<metric>)` (the fleet: summed over replicas). */
  query: text('a non-empty PromQL expression').optional(),
  timeoutSeconds: num(0).default(30),
  bearerToken: z.string(must('a string')).optional(),
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
    {
      name: '--prometheus',
      field: 'url',
      type: 'string',
      selects: true,
      usage: '--prometheus URL',
    },
    { name: '--query', field: 'query', type: 'string', selects: false },
  ],
  resolve: (s, config) => ({ ...s, query: s.query ?? `sum(${config.metric})` }),
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
      // One quick retry: the next collection is the real retry, and a long backoff here would
      // only delay noticing that the source is down.
      retries: 1,
      ...(s.bearerToken ? { bearerToken: s.bearerToken } : {}),
    }),
};
