/**
 * Shadow mode's settings: `mode` (`active` | `shadow`) and the `shadow` block, with the
 * cross-checks that only apply in shadow mode, and how the replicas query is derived. In
 * shadow mode the sidecar forecasts as usual but publishes no scaling signal and never
 * patches; it reports what the predictive policy would have done instead (docs/sidecar.md,
 * "Shadow mode").
 */
import { z } from 'zod';
import { bearerToken, httpUrl, k8sName, must, num, text } from '../fields.js';

/** The sidecar's modes. `active` publishes the scaling signals; `shadow` only reports. */
export const MODES = ['active', 'shadow'] as const;
/** A sidecar mode. */
export type Mode = (typeof MODES)[number];

/** `mode`: default `active`. */
export const modeSchema = z.enum(MODES, must('"active" or "shadow"')).default('active');

/** Where the actual replicas are read: the HPA's status or the Deployment's available replicas. */
export const REPLICA_SOURCES = ['hpa', 'deployment'] as const;

/**
 * The `shadow` block. Every field is optional in `active` mode; in `shadow` mode
 * {@link checkShadow} requires a Prometheus and a way to name the replicas.
 */
export const shadowSchema = z
  .strictObject({
    /** Prometheus holding kube-state-metrics. Default: `source.url` of a `prometheus` source. */
    prometheusUrl: httpUrl().optional(),
    /** Sent as `Authorization: Bearer ...` to `prometheusUrl`. Default: the source's, when it is that Prometheus. */
    bearerToken: bearerToken().optional(),
    /** `hpa`: kube_horizontalpodautoscaler_status_current_replicas; `deployment`: kube_deployment_status_replicas_available. */
    replicas: z.enum(REPLICA_SOURCES, must('"hpa" or "deployment"')).default('hpa'),
    /** Namespace of the HPA or Deployment. */
    namespace: k8sName().optional(),
    /** Name of the HPA (`replicas: hpa`) or the Deployment (`replicas: deployment`). */
    name: k8sName().optional(),
    /** PromQL returning one number, the replicas running now; replaces the derived query. */
    replicasQuery: text().optional(),
    /** Deadline of each replicas query, seconds. */
    timeoutSeconds: num(0).default(10),
    /** Longest interval between two observations that is still counted, seconds. */
    maxGapSeconds: num(0).default(120),
  })
  .prefault({});

/** The parts of a parsed config the checks and derivations read. */
interface ShadowSettings {
  mode?: Mode;
  shadow?: z.output<typeof shadowSchema>;
  source?: unknown;
}

/** Adds an issue per setting shadow mode needs and lacks (nothing in active mode). */
export function checkShadow(c: ShadowSettings, ctx: z.RefinementCtx): void {
  if (c.mode !== 'shadow' || !c.shadow) return;
  const s = c.shadow;
  const source = c.source as { kind?: unknown } | undefined;
  if (s.prometheusUrl === undefined && source?.kind !== 'prometheus')
    ctx.addIssue({
      code: 'custom',
      path: ['shadow', 'prometheusUrl'],
      message:
        'must be set when mode is "shadow" (the Prometheus with kube-state-metrics) unless source.kind is prometheus',
    });
  if (s.replicasQuery === undefined)
    for (const field of ['namespace', 'name'] as const)
      if (s[field] === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['shadow', field],
          message: 'must be set when mode is "shadow" (or set shadow.replicasQuery)',
        });
}

/** kube-state-metrics' series of the replicas running, per {@link REPLICA_SOURCES}. */
const KSM_REPLICAS = {
  hpa: {
    metric: 'kube_horizontalpodautoscaler_status_current_replicas',
    label: 'horizontalpodautoscaler',
  },
  deployment: { metric: 'kube_deployment_status_replicas_available', label: 'deployment' },
} as const;

/**
 * The PromQL the actual replicas are read with: `shadow.replicasQuery`, or kube-state-metrics'
 * series for `shadow.namespace`/`shadow.name` (`max`: several kube-state-metrics replicas
 * export the same series).
 */
export function replicasQueryOf(s: z.output<typeof shadowSchema>): string {
  if (s.replicasQuery !== undefined) return s.replicasQuery;
  const k = KSM_REPLICAS[s.replicas];
  return `max(${k.metric}{namespace="${s.namespace ?? ''}",${k.label}="${s.name ?? ''}"})`;
}

/** The Prometheus the replicas are read from, and its token (see {@link shadowSchema}). */
export function shadowPrometheusOf(c: ShadowSettings): { url: string; bearerToken?: string } {
  const s = c.shadow;
  const source = c.source as { kind?: string; url?: string; bearerToken?: string } | undefined;
  const fromSource = source?.kind === 'prometheus' ? source : undefined;
  const url = s?.prometheusUrl ?? fromSource?.url ?? '';
  const token =
    s?.bearerToken ?? (fromSource && fromSource.url === url ? fromSource.bearerToken : undefined);
  return { url, ...(token ? { bearerToken: token } : {}) };
}
