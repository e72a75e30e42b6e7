/**
 * The sidecar's configuration schema (zod). Every field has a default except the source, so
 * `serve --scrape URL` is a complete configuration; every message is "must be ..." so the
 * loader can prefix it with the field's origin (`config: listen.port`, `TIDEWATCH_PORT`,
 * `--port`) and the value that was given.
 */

import { metricName } from '@tidewatch/conventions';
import { type Calendar, MODEL_NAMES } from '@tidewatch/forecast';
import { z } from 'zod';
import { cron, httpUrl, int, k8sName, METRIC_NAME, must, num, text, timeZone } from '../fields.js';
import {
  DEFAULT_SOURCES,
  kindList,
  prometheusKind,
  type prometheusSchema,
  type SourceRegistry,
  scrapeKind,
  type scrapeSchema,
} from '../sources/index.js';
import { nowcastSchema } from './nowcast-config.js';
import { checkShadow, modeSchema, shadowSchema } from './shadow-config.js';

/**
 * Patch mode (off by default): the sidecar writes its dynamic threshold into the HPA's or the
 * ScaledObject's actual-load target. `namespace` and `name` are required once enabled.
 */
const patchSchema = z
  .strictObject({
    enabled: z.boolean(must('true or false')).default(false),
    kind: z.enum(['scaledobject', 'hpa'], must('"scaledobject" or "hpa"')).default('scaledobject'),
    namespace: k8sName().optional(),
    name: k8sName().optional(),
    /** Default: the generated trigger / external metric on the actual load. */
    triggerName: text().optional(),
    /** Relative change below which a write is skipped. */
    hysteresis: z
      .number(must('a number in [0, 1)'))
      .min(0, must('a number in [0, 1)'))
      .lt(1, must('a number in [0, 1)'))
      .default(0.05),
    timeoutSeconds: num(0).default(10),
    fieldManager: text().default('tidewatch-predictor'),
  })
  .prefault({});

/**
 * Leader election (off by default): one replica of the fleet trains, publishes the scaling
 * signals and patches; the others collect and serve their page (docs/sidecar.md "Leader
 * election"). Namespace and identity default at start (the service account's namespace,
 * `POD_NAME` or the host name); the timings follow client-go (lease > renew > retry x 1.2).
 */
const electionSchema = z
  .strictObject({
    enabled: z.boolean(must('true or false')).default(false),
    leaseName: k8sName().default('tidewatch-predictor'),
    namespace: k8sName().optional(),
    identity: text('a non-empty identity (the pod name)').optional(),
    leaseDurationSeconds: int(1, 86_400).default(15),
    renewDeadlineSeconds: num(0).default(10),
    retryPeriodSeconds: num(0).default(2),
    /** Default in-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. */
    apiServer: httpUrl().optional(),
    /** Where the leader stores its fitted model for the next leader; none by default. */
    modelConfigMap: k8sName().optional(),
  })
  .prefault({});

const lead = z
  .strictObject({
    podStartSeconds: num(0, true).optional(),
    readinessSeconds: num(0, true).optional(),
    metricLagSeconds: num(0, true).optional(),
    pollingSeconds: num(0, true).optional(),
  })
  .default({});

/**
 * The configuration file's schema (JSON or YAML) for the kinds of `sources`; every field
 * optional except `source`. Parsing fills the defaults; {@link resolveConfig} then derives the
 * ones that depend on other fields (history capacity from the step, a source's defaults).
 */
export function configSchemaFor(sources: SourceRegistry): typeof configSchema {
  if (sources === DEFAULT_SOURCES) return configSchema;
  let schema = schemas.get(sources);
  if (!schema) {
    // Every kind's schema is a strict object with a literal `kind`, as SourceKind requires;
    // the result is typed as the shipped kinds' (a registered kind's block is its own shape).
    const kinds = sources.kinds.map((k) => k.schema) as unknown as typeof BUILTIN_KINDS;
    schema = buildSchema(z.discriminatedUnion('kind', kinds, must(kindList(sources))), sources);
    schemas.set(sources, schema);
  }
  return schema;
}

const schemas = new WeakMap<SourceRegistry, typeof configSchema>();

const BUILTIN_KINDS = [scrapeKind.schema, prometheusKind.schema] as [
  typeof scrapeSchema,
  typeof prometheusSchema,
];

/** Default ring capacity, points: 28 days of steps (four weeks for the weekly models). */
export const defaultHistoryPoints = (stepSeconds: number): number =>
  Math.ceil((28 * 86_400) / stepSeconds);

function buildSchema<S extends z.ZodType>(source: S, sources: SourceRegistry) {
  return z
    .strictObject({
      listen: z
        .strictObject({
          // One rule for empty and inner space alike (one message per bad value).
          host: z
            .string(must('a host name or IP address'))
            .trim()
            .regex(/^\S+$/, must('a host name or IP address'))
            .default('127.0.0.1'),
          port: int(0, 65535).default(9464),
        })
        .prefault({}),
      source,
      metric: z
        .string(must('a Prometheus metric name'))
        .regex(METRIC_NAME, must('a Prometheus metric name'))
        .default(metricName('connections')),
      target: text('a non-empty label value').default('default'),
      stepSeconds: int(1, 86_400).default(60),
      historyPoints: int(2, 5_000_000).optional(),
      dataDir: text('a directory path').optional(),
      /**
       * How long a shutdown (SIGTERM) may take before the process exits anyway, seconds.
       * Default 15: half of Kubernetes' default terminationGracePeriodSeconds (30), so the
       * final history and model writes finish well before the kubelet's SIGKILL.
       */
      shutdownTimeoutSeconds: num(0).default(15),
      schedule: z
        .strictObject({
          collect: cron().default('*/15 * * * * *'),
          forecast: cron().default('0 * * * * *'),
          retrain: cron().default('0 0 3 * * *'),
          timezone: timeZone().optional(),
        })
        .prefault({}),
      forecast: z
        .strictObject({
          horizonSteps: int(1, 100_000).default(60),
          models: z
            .array(
              z.enum(MODEL_NAMES, must(`one of ${MODEL_NAMES.join(', ')}`)),
              must('a list of model names'),
            )
            .min(1, must('a non-empty list of model names'))
            .default([...MODEL_NAMES]),
          origins: int(1, 1000).default(7),
          timeBudgetSeconds: num(0).default(300),
          season: z
            .strictObject({
              daySteps: num(0).optional(),
              weekSteps: num(0).optional(),
            })
            .optional(),
          /** Known events (holidays, launches): read at validation (./config-calendar.ts). */
          calendarFile: text('a file path').optional(),
          /** The live adaptive correction of the p90 band (./band.ts). */
          bandAdaptation: z
            .strictObject({
              enabled: z.boolean(must('true or false')).default(true),
              gamma: num(0, false, 'a number in (0, 0.1]')
                .max(0.1, must('a number in (0, 0.1]'))
                .default(0.005),
            })
            .prefault({}),
        })
        .prefault({}),
      planner: z
        .strictObject({
          capacityPerReplica: num(0).optional(),
          targetUtilization: num(0, false, 'a number in (0, 1]')
            .max(1, must('a number in (0, 1]'))
            .default(0.7),
          minReplicas: int(0, 100_000).default(1),
          maxReplicas: int(1, 100_000).default(100),
          maxStep: int(1, 100_000).optional(),
          lead,
        })
        .prefault({}),
      staleness: z
        .strictObject({
          maxForecastAgeSeconds: num(0).optional(),
          maxDataAgeSeconds: num(0).optional(),
          maxRollingMase: num(0).optional(),
          maxModelMase: num(0).optional(),
        })
        .default({}),
      seed: z
        .strictObject({
          file: text('a file path'),
          retime: z.boolean(must('true or false')).default(true),
        })
        .optional(),
      historyMinutes: int(1, 10_080).default(360),
      patch: patchSchema,
      /** Short-horizon nowcast from leading signals (live figures, or Prometheus queries): ./nowcast.ts. */
      nowcast: nowcastSchema,
      election: electionSchema,
      /** The status page's live figures (scrape source only). */
      live: z
        .strictObject({
          prefix: z
            .string(must('a metric name prefix'))
            .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, must('a metric name prefix, e.g. "realtime_"'))
            .default('realtime_'),
          windowSeconds: num(0).default(30),
        })
        .prefault({}),
      /** `active` publishes the scaling signals; `shadow` only reports (./shadow-config.ts). */
      mode: modeSchema,
      shadow: shadowSchema,
    })
    .superRefine((c, ctx) => {
      // zod runs this even when fields failed; cross-checks only make sense on valid values.
      const valid = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
      checkShadow(c, ctx);
      const e = c.election;
      if (
        e?.enabled === true &&
        [e.leaseDurationSeconds, e.renewDeadlineSeconds, e.retryPeriodSeconds].every(
          (v) => typeof v === 'number' && v > 0,
        )
      ) {
        if (!(e.leaseDurationSeconds > e.renewDeadlineSeconds))
          ctx.addIssue({
            code: 'custom',
            path: ['election', 'leaseDurationSeconds'],
            params: { value: e.leaseDurationSeconds },
            message: `must be greater than election.renewDeadlineSeconds (${e.renewDeadlineSeconds})`,
          });
        // client-go's JitterFactor (1.2): a renew must fit in the deadline with retries jittered.
        if (!(e.renewDeadlineSeconds > 1.2 * e.retryPeriodSeconds))
          ctx.addIssue({
            code: 'custom',
            path: ['election', 'renewDeadlineSeconds'],
            params: { value: e.renewDeadlineSeconds },
            message: `must be greater than election.retryPeriodSeconds x 1.2 (${1.2 * e.retryPeriodSeconds})`,
          });
      }
      if (c.patch?.enabled === true)
        for (const field of ['namespace', 'name'] as const)
          if (c.patch[field] === undefined)
            ctx.addIssue({
              code: 'custom',
              path: ['patch', field],
              message: 'must be set when patch.enabled is true',
            });
      if (!valid(c.stepSeconds)) return;
      const block = (c as { source?: { kind?: unknown } }).source;
      const kind = typeof block?.kind === 'string' ? sources.get(block.kind) : undefined;
      const historyPoints = c.historyPoints ?? defaultHistoryPoints(c.stepSeconds);
      // Only a block that is valid on its own (re-parsing an output block changes nothing).
      const parsed = kind?.check && valid(historyPoints) ? kind.schema.safeParse(block) : undefined;
      if (kind?.check && parsed?.success)
        for (const p of kind.check(parsed.data, { historyPoints, stepSeconds: c.stepSeconds }))
          ctx.addIssue({
            code: 'custom',
            path: ['source', p.field],
            params: { value: p.value },
            message: p.message,
          });
      if (!valid(c.forecast.horizonSteps) || !valid(c.planner.maxReplicas)) return;
      if (c.planner.maxReplicas < c.planner.minReplicas)
        ctx.addIssue({
          code: 'custom',
          path: ['planner', 'maxReplicas'],
          params: { value: c.planner.maxReplicas },
          message: `must be >= planner.minReplicas (${c.planner.minReplicas})`,
        });
      const l = c.planner.lead;
      const leadSeconds =
        (l.podStartSeconds ?? 60) +
        (l.readinessSeconds ?? 30) +
        (l.metricLagSeconds ?? 30) +
        (l.pollingSeconds ?? 30);
      if (c.forecast.horizonSteps * c.stepSeconds < leadSeconds) {
        const need = Math.ceil(leadSeconds / c.stepSeconds);
        ctx.addIssue({
          code: 'custom',
          path: ['forecast', 'horizonSteps'],
          params: { value: c.forecast.horizonSteps },
          message: `must cover the planner's lead time of ${leadSeconds} s (at least ${need} steps of ${c.stepSeconds} s)`,
        });
      }
    });
}

/** The schema of the shipped source kinds (what {@link parseServeConfig} uses by default). */
export const configSchema = buildSchema(
  z.discriminatedUnion('kind', BUILTIN_KINDS, must(kindList(DEFAULT_SOURCES))),
  DEFAULT_SOURCES,
);

/** The configuration file's content before defaults (what a user writes). */
export type ServeConfigInput = z.input<typeof configSchema>;
/** What the schema gives: defaults filled, derived fields not yet. */
export type ParsedConfig = z.output<typeof configSchema>;

/** A fully resolved sidecar configuration: what {@link createSidecar} takes. */
export interface ServeConfig
  extends Omit<ParsedConfig, 'historyPoints' | 'source' | 'planner' | 'forecast'> {
  forecast: ParsedConfig['forecast'] & {
    /** The events of `forecast.calendarFile`, read when the config was validated. */
    calendar?: Calendar;
  };
  /** Ring capacity per series, points. Default 28 days of steps. */
  historyPoints: number;
  source:
    | Extract<ParsedConfig['source'], { kind: 'scrape' }>
    | (Extract<ParsedConfig['source'], { kind: 'prometheus' }> & { query: string });
  planner: ParsedConfig['planner'] & {
    /** Load one replica carries at 100 %. */
    capacityPerReplica: number;
    /** False when `capacityPerReplica` is the placeholder default (logged at start). */
    capacityConfigured: boolean;
  };
}

/** Load per replica assumed when `planner.capacityPerReplica` is not set. */
export const PLACEHOLDER_CAPACITY = 1000;

/** Fills the defaults that depend on other fields (a source's through its kind). */
export function resolveConfig(
  parsed: ParsedConfig,
  sources: SourceRegistry = DEFAULT_SOURCES,
): ServeConfig {
  const kind = sources.require(parsed.source.kind);
  const source = (
    kind.resolve ? kind.resolve(parsed.source, parsed) : parsed.source
  ) as ServeConfig['source'];
  return {
    ...parsed,
    source,
    historyPoints: parsed.historyPoints ?? defaultHistoryPoints(parsed.stepSeconds),
    planner: {
      ...parsed.planner,
      capacityPerReplica: parsed.planner.capacityPerReplica ?? PLACEHOLDER_CAPACITY,
      capacityConfigured: parsed.planner.capacityPerReplica !== undefined,
    },
  };
}
