/**
 * The names the generated autoscaling manifests and the sidecar's patch mode must agree on:
 * the KEDA trigger names, the Prometheus Adapter's external metric names, the kinds of object
 * patch mode writes, and how a threshold is written as a Kubernetes quantity.
 */
import { SIGNALS } from './signals.js';

/** Name of the ScaledObject trigger on the actual load (and patch mode's default target). */
export const ACTUAL_TRIGGER = 'actual-load';
/** Name of the ScaledObject trigger on the predicted load. */
export const PREDICTED_TRIGGER = 'predicted-load';
/** External metric name (Prometheus Adapter) of the fleet's actual load. */
export const ACTUAL_EXTERNAL_METRIC = 'tidewatch_actual_load';
/** External metric name (Prometheus Adapter) of the predicted load: the signal's own name. */
export const PREDICTED_EXTERNAL_METRIC: string = SIGNALS.predictedLoad.name;

/** What patch mode writes into: a KEDA ScaledObject trigger or an HPA External metric. */
export const PATCH_KINDS = ['scaledobject', 'hpa'] as const;
/** A patch-mode target kind. */
export type PatchKind = (typeof PATCH_KINDS)[number];

/**
 * How far a source kind's series reaches, which decides how the generated queries fold the
 * sidecars' predicted load: a `fleet` source (Prometheus: every sidecar forecasts the whole
 * fleet) is folded with `max()`, a `pod` source (the embedded scrape of its own server) is
 * summed.
 */
export type SourceScope = 'fleet' | 'pod';

/** The scope of each source kind the sidecar ships (a registered kind declares its own). */
export const SOURCE_SCOPES = {
  scrape: 'pod',
  prometheus: 'fleet',
} as const satisfies Record<string, SourceScope>;

/** A source kind the generated manifests can configure. */
export type DeploySourceKind = keyof typeof SOURCE_SCOPES;
