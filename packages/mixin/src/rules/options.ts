/**
 * Settings the rules need beyond the shared {@link MixinConfig}. They live here (not in
 * `config.ts`) until the shared config adopts them; every field has a default, so
 * `generateRules(config)` needs no second argument.
 */
import type { MixinConfig } from '../config.js';

/** Rule-only settings. */
export interface RulesOptions {
  /**
   * Selector of kube-state-metrics' HPA series for the autoscaling alerts. Narrow it to the
   * realtime fleets' HPAs (e.g. `job="kube-state-metrics", horizontalpodautoscaler=~"chat.*"`),
   * otherwise every HPA in the cluster is watched. Default `job="kube-state-metrics"`.
   */
  hpaSelector: string;
  /**
   * A fleet smaller than this (connections, at its 10-minute peak) never raises
   * RealtimeMassDisconnect: 3 of 4 test clients leaving is not an incident. Default 100.
   */
  massDisconnectMinConnections: number;
  /**
   * Share of the lost connections that closes with reason `server_shutdown` must explain for
   * a drop to count as a drain (rollout, scale-in) rather than a mass disconnect. Default 0.5.
   */
  drainExplainedRatio: number;
}

/** The defaults. */
export const DEFAULT_RULES_OPTIONS: RulesOptions = {
  hpaSelector: 'job="kube-state-metrics"',
  massDisconnectMinConnections: 100,
  drainExplainedRatio: 0.5,
};

/** Everything the rule builders read: the shared config plus the rule-only options. */
export interface RulesContext {
  config: MixinConfig;
  options: RulesOptions;
}

/**
 * The defaults with `overrides` merged in.
 * @throws RangeError for a non-positive minimum or a drain ratio outside (0, 1].
 */
export function rulesOptions(overrides: Partial<RulesOptions> = {}): RulesOptions {
  const o = { ...DEFAULT_RULES_OPTIONS, ...overrides };
  if (!(o.massDisconnectMinConnections > 0))
    throw new RangeError(
      `rulesOptions: massDisconnectMinConnections must be > 0, got ${o.massDisconnectMinConnections}`,
    );
  if (!(o.drainExplainedRatio > 0 && o.drainExplainedRatio <= 1))
    throw new RangeError(
      `rulesOptions: drainExplainedRatio must be in (0, 1], got ${o.drainExplainedRatio}`,
    );
  return o;
}
