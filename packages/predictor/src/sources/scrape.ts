/** The `scrape` kind, the embedded default: the sidecar reads `/metrics` of every replica itself. */
import { createScrapeSource } from '@tidewatch/forecast';
import { z } from 'zod';
import { bearerToken, httpUrl, must, num } from '../fields.js';
import type { SourceKind } from './kind.js';
import { maxBodyBytesField } from './limits.js';

/** The config block's schema. */
export const scrapeSchema = z.strictObject({
  kind: z.literal('scrape'),
  /** One `/metrics` URL per replica; the metric is summed over them. */
  urls: z.array(httpUrl(), must('a list of http(s) URLs')).min(1, must('a non-empty list of URLs')),
  /** `gauge`: the summed value; `counter`: the summed per-second rate. */
  type: z.enum(['gauge', 'counter'], must('"gauge" or "counter"')).default('gauge'),
  /** Only samples with all these label values are summed. */
  labels: z.record(z.string(), z.string(), must('an object of label: value strings')).default({}),
  /** Per request, seconds. Default 10. */
  timeoutSeconds: num(0).default(10),
  /** Sent as `Authorization: Bearer ...` to every URL. */
  bearerToken: bearerToken().optional(),
  /** Cap on one exposition, bytes. Default 16 MiB. */
  maxBodyBytes: maxBodyBytesField(),
});

/** The `scrape` source block after parsing. */
export type ScrapeSourceConfig = z.output<typeof scrapeSchema>;

/** Scrapes the replicas' `/metrics` (a `pod` source: the manifests give it the sidecar's own server). */
export const scrapeKind: SourceKind<ScrapeSourceConfig> = {
  kind: 'scrape',
  schema: scrapeSchema,
  scope: 'pod',
  live: true,
  settings: [
    {
      name: 'TIDEWATCH_SCRAPE_URLS',
      field: 'urls',
      type: 'list',
      selects: true,
      usage: 'TIDEWATCH_SCRAPE_URLS',
    },
    { name: 'TIDEWATCH_SCRAPE_TYPE', field: 'type', type: 'string', selects: false },
    {
      name: '--scrape',
      field: 'urls',
      type: 'list',
      selects: true,
      usage: '--scrape URL (repeatable)',
    },
  ],
  names: (s) => ({
    name: `scrape:${s.urls.join(',')}`,
    errorSources: s.urls.map((url) => `scrape:${url}`),
  }),
  create: (s, ctx) =>
    createScrapeSource({
      urls: s.urls,
      metric: ctx.metric,
      labels: s.labels,
      kind: s.type,
      stepMs: ctx.stepMs,
      timeoutMs: Math.max(1, Math.round(s.timeoutSeconds * 1000)),
      maxBodyBytes: s.maxBodyBytes,
      now: ctx.now,
      ...(s.bearerToken ? { bearerToken: s.bearerToken } : {}),
      ...(ctx.onExposition ? { onExposition: ctx.onExposition } : {}),
      ...(ctx.onCounterReset ? { onCounterReset: ctx.onCounterReset } : {}),
    }),
};
