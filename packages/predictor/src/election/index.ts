/**
 * Leader election for the sidecar (`election.enabled`): resolves the settings that default at
 * start (identity, namespace, API server), builds the Lease elector and the model ConfigMap
 * store. The sidecar (../serve/app.ts) asks `isLeader()` before it trains, publishes the
 * scaling signals or patches, and loads the stored model when it takes over.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { ServeConfig } from '../serve/config.js';
import type { Logger } from '../serve/log.js';
import { createElector, type Elector, type ElectorClock, timingProblems } from './elector.js';
import { createKubeApi, KubeConfigError, SERVICE_ACCOUNT_DIR } from './kube-api.js';
import { createLeaseLock } from './lease.js';
import { createModelStore, type ModelStore } from './model-store.js';

export type { ElectionState, Elector, ElectorClock } from './elector.js';
export type { ModelStore, SaveOutcome } from './model-store.js';

/** What a sidecar in a fleet says about itself: `/forecast`'s and `/healthz`'s `role`. */
export type Role = 'leader' | 'follower' | 'standalone';

/** The election's settings with the start-time defaults filled in. */
export interface ElectionSettings {
  identity: string;
  namespace: string;
  leaseName: string;
  apiServer: string | undefined;
  modelConfigMap: string | undefined;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/**
 * Fills the defaults of `config.election` that depend on the pod: identity (`POD_NAME`, else
 * the host name) and namespace (the service account's namespace file).
 * @returns The settings, or the problems (one line each, naming the field).
 */
export function resolveElection(
  config: ServeConfig,
  env: Readonly<Record<string, string | undefined>> = process.env,
  namespaceFile = `${SERVICE_ACCOUNT_DIR}/namespace`,
): ElectionSettings | { problems: string[] } {
  const e = config.election;
  const problems: string[] = [];
  const identity = e.identity ?? (env.POD_NAME?.trim() || hostname());
  let namespace = e.namespace;
  if (namespace === undefined) {
    try {
      namespace = readFileSync(namespaceFile, 'utf8').trim() || undefined;
    } catch {
      namespace = undefined;
    }
    if (namespace === undefined)
      problems.push(
        `election.namespace must be set (no service account namespace at ${namespaceFile})`,
      );
  }
  const settings = {
    identity,
    namespace: namespace ?? '',
    leaseName: e.leaseName,
    apiServer: e.apiServer,
    modelConfigMap: e.modelConfigMap,
    leaseDurationMs: e.leaseDurationSeconds * 1000,
    renewDeadlineMs: e.renewDeadlineSeconds * 1000,
    retryPeriodMs: e.retryPeriodSeconds * 1000,
  };
  problems.push(...timingProblems(settings).map((p) => `election.${p}`));
  return problems.length > 0 ? { problems } : settings;
}

/** The sidecar's election: the elector and, when configured, the model store. */
export interface Election {
  readonly settings: ElectionSettings;
  readonly elector: Elector;
  readonly models: ModelStore | undefined;
}

/** Options of {@link createElection}. */
export interface ElectionOptions {
  log: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: ElectorClock;
  onStartedLeading(): void;
  onStoppedLeading(reason: string): void;
}

/**
 * Builds the election of a sidecar (nothing is sent until `elector.start()`).
 * @throws KubeConfigError when no API server address is known.
 */
export function createElection(settings: ElectionSettings, options: ElectionOptions): Election {
  const api = createKubeApi({
    ...(settings.apiServer ? { apiServer: settings.apiServer } : {}),
    ...(options.env ? { env: options.env } : {}),
    userAgent: `tidewatch-predictor/${settings.identity}`,
  });
  const elector = createElector({
    lock: createLeaseLock(api, settings.namespace, settings.leaseName),
    identity: settings.identity,
    timings: settings,
    log: options.log,
    ...(options.clock ? { clock: options.clock } : {}),
    onStartedLeading: options.onStartedLeading,
    onStoppedLeading: options.onStoppedLeading,
  });
  const models = settings.modelConfigMap
    ? createModelStore(api, settings.namespace, settings.modelConfigMap, settings.renewDeadlineMs)
    : undefined;
  return { settings, elector, models };
}

export { KubeConfigError };
