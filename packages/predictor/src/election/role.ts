/**
 * The sidecar's role in its fleet, for ../serve/app.ts: `standalone` without election (every
 * sidecar acts alone, as before election existed), else `leader` or `follower` as the Lease
 * says. The app asks {@link SidecarRole.isLeader} before it trains, publishes the scaling
 * signals and patches; the leader stores each new model in the model ConfigMap and a new
 * leader loads it when it takes over.
 */

import type { ServeConfig } from '../serve/config.js';
import { ConfigError } from '../serve/config.js';
import { savedModelMismatch } from '../serve/data-dir.js';
import type { Logger } from '../serve/log.js';
import type { SavedModel } from '../serve/model-file.js';
import type { RoleJson } from '../serve/routes.js';
import type { ElectorClock } from './elector.js';
import { createElection, type Election, KubeConfigError, resolveElection } from './index.js';

/** Options of {@link createSidecarRole}. */
export interface SidecarRoleOptions {
  config: ServeConfig;
  log: Logger;
  env?: Readonly<Record<string, string | undefined>>;
  clock?: ElectorClock;
  /** A failed write of the model ConfigMap (the metrics layer counts a persist error). */
  onModelStoreError?(): void;
}

/** Callbacks of {@link SidecarRole.start}. */
export interface RoleEvents {
  /** Became the leader: take over (load the stored model, forecast, patch). Must not throw. */
  onStartedLeading(): void;
  /** Must stop acting as leader now. Must not throw. */
  onStoppedLeading(reason: string): void;
  /** Became or stopped being the leader (`tidewatch_leader`). Must not throw. */
  onLeadership(identity: string, leading: boolean): void;
}

/** See {@link createSidecarRole}. */
export interface SidecarRole {
  /** Whether election is on. */
  readonly enabled: boolean;
  /** This replica's identity (`null` standalone). */
  readonly identity: string | null;
  /** Whether this replica may act for the fleet now: always when standalone. */
  isLeader(): boolean;
  json(): RoleJson;
  /** Starts the election (no-op standalone). */
  start(events: RoleEvents): void;
  /** Stops leading, releases the lease. Never rejects. */
  stop(): Promise<void>;
  /** The leader stores `model` in the model ConfigMap, when one is configured. Never rejects. */
  storeModel(model: SavedModel): Promise<void>;
  /** The model stored in the ConfigMap, if any and usable (problems are logged). Never rejects. */
  loadModel(): Promise<SavedModel | undefined>;
}

/**
 * Creates the role of a sidecar for `config` (nothing is sent before `start`).
 * @throws ConfigError when election is enabled and its settings cannot be completed
 *   (no namespace, no API server address, timings against client-go's rules).
 */
export function createSidecarRole(options: SidecarRoleOptions): SidecarRole {
  const { config, log } = options;
  if (!config.election?.enabled) {
    return {
      enabled: false,
      identity: null,
      isLeader: () => true,
      json: () => ({ role: 'standalone', leader: null }),
      start() {},
      async stop() {},
      async storeModel() {},
      async loadModel() {
        return undefined;
      },
    };
  }
  const settings = resolveElection(config, options.env);
  if ('problems' in settings) throw new ConfigError(settings.problems.map((p) => `config: ${p}`));
  let events: RoleEvents | undefined;
  let election: Election;
  try {
    election = createElection(settings, {
      log,
      ...(options.env ? { env: options.env } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      onStartedLeading() {
        events?.onLeadership(settings.identity, true);
        events?.onStartedLeading();
      },
      onStoppedLeading(reason) {
        events?.onLeadership(settings.identity, false);
        events?.onStoppedLeading(reason);
      },
    });
  } catch (error) {
    if (error instanceof KubeConfigError) throw new ConfigError([`config: ${error.message}`]);
    throw error;
  }
  const { elector, models } = election;

  return {
    enabled: true,
    identity: settings.identity,
    isLeader: () => elector.isLeader(),
    json() {
      const s = elector.state();
      return { role: s.role, leader: s.leader };
    },
    start(e) {
      events = e;
      e.onLeadership(settings.identity, false);
      log.log('info', 'leader election started', {
        identity: settings.identity,
        lease: `${settings.namespace}/${settings.leaseName}`,
        modelConfigMap: settings.modelConfigMap ?? null,
      });
      elector.start();
    },
    stop: () => elector.stop(),
    async storeModel(model) {
      const epoch = elector.state().epoch;
      if (!models || !elector.isLeader() || epoch === null) return;
      const outcome = await models.save(model, { identity: settings.identity, epoch });
      if (outcome.status === 'saved')
        log.log('info', 'model stored for the next leader', {
          configMap: models.describe,
          bytes: outcome.bytes,
          jsonBytes: outcome.jsonBytes,
        });
      else if (outcome.status === 'skipped')
        log.log('info', 'model not stored', { configMap: models.describe, reason: outcome.reason });
      else {
        options.onModelStoreError?.();
        log.log('error', 'storing the model failed', {
          configMap: models.describe,
          error: outcome.reason,
        });
      }
    },
    async loadModel() {
      if (!models) return undefined;
      try {
        const model = await models.load();
        const why = !model ? 'none stored yet' : savedModelMismatch(model, config);
        if (why) {
          log.log('info', `stored model not used: ${why}`, { configMap: models.describe });
          return undefined;
        }
        return model;
      } catch (error) {
        log.log('warn', 'reading the stored model failed: training instead', {
          configMap: models.describe,
          error,
        });
        return undefined;
      }
    },
  };
}
