/**
 * What runs is what is simulated: the simulator's HPA behaviour, replica bounds, target, lead
 * time, pod start-up and drain come from the same {@link DeployConfig} that generates
 * `deploy/` (`@tidewatch/mixin/deploy`). The forecast library may not import mixin, so the
 * mapping lives here, in the CLI.
 */
import { readFileSync } from 'node:fs';
import type { HpaRules, RolloutDisruption, RunSimulationOptions } from '@tidewatch/forecast';
import {
  behavior,
  type DeployConfig,
  type DeployConfigInput,
  deployConfig,
  deployment,
  leadTimeSeconds,
} from '@tidewatch/mixin/deploy';
import { CliError } from './errors.js';

/** A rollout's bounds: `spec.strategy.rollingUpdate` of the Deployment. */
export type RollingUpdate = Required<Pick<RolloutDisruption, 'maxSurge' | 'maxUnavailable'>>;

/** The simulator options a deploy configuration fixes (everything but the trace and policy). */
export type ShippedOptions = Required<
  Pick<
    RunSimulationOptions,
    | 'targetUtilization'
    | 'podReadySeconds'
    | 'metricLagSeconds'
    | 'leadSeconds'
    | 'drainSeconds'
    | 'hpa'
  >
> & {
  /** The rolling-update bounds a `--disrupt rollout@S` uses. */
  rollout: RollingUpdate;
};

/**
 * Maps a deploy configuration to simulator options:
 * - `hpa`: `minReplicas`, `maxReplicas` and `behavior(c)` (scale-up and scale-down rules) as
 *   the generated ScaledObject/HPA carry them; the HPA's own 15 s sync and 0.1 tolerance.
 * - `targetUtilization`: `c.targetUtilization` (the manifests round capacity x target to
 *   milli-units; the simulator keeps the exact product).
 * - `podReadySeconds`: `lead.podStartSeconds + lead.readinessSeconds` (scheduled -> Ready).
 * - `metricLagSeconds`: `lead.metricLagSeconds`.
 * - `leadSeconds`: `leadTimeSeconds(c)`, the planner's lead time (the sum of the lead parts).
 * - `drainSeconds`: `preStopSeconds + drainSeconds`: the pod leaves the endpoints at once,
 *   sleeps preStop, then the server closes its connections over the drain; the generated
 *   Deployment's terminationGracePeriodSeconds adds 15 s of slack that a server finishing
 *   its drain does not use. The simulator keeps every connection to the end of the drain
 *   and drops the rest then (the server spreads its closes over the drain: the simulator's
 *   reconnect wave is more concentrated than the real one).
 * - `rollout`: the generated Deployment's `spec.strategy.rollingUpdate` (read from
 *   `deployment(c)` itself, so a change there reaches the simulator).
 * The node provisioning time and the connection lifetime are not in the deploy config: they
 * keep the simulator's defaults unless flags set them.
 */
export function shippedSimulationOptions(c: DeployConfig): ShippedOptions {
  const b = behavior(c) as { scaleUp: HpaRules; scaleDown: HpaRules };
  const strategy = (deployment(c).spec as { strategy?: { rollingUpdate?: Partial<RollingUpdate> } })
    .strategy?.rollingUpdate;
  return {
    // Kubernetes' defaults where the manifest leaves a bound out.
    rollout: {
      maxSurge: strategy?.maxSurge ?? '25%',
      maxUnavailable: strategy?.maxUnavailable ?? '25%',
    },
    targetUtilization: c.targetUtilization,
    podReadySeconds: c.lead.podStartSeconds + c.lead.readinessSeconds,
    metricLagSeconds: c.lead.metricLagSeconds,
    leadSeconds: leadTimeSeconds(c),
    drainSeconds: c.preStopSeconds + c.drainSeconds,
    hpa: {
      minReplicas: c.minReplicas,
      maxReplicas: c.maxReplicas,
      scaleUp: b.scaleUp,
      scaleDown: b.scaleDown,
    },
  };
}

/**
 * Kubernetes' defaults instead of the shipped configuration (`--hpa-defaults`): default HPA
 * behaviour (scale-up max(+4, +100 %) per 15 s; scale-down -100 % per 15 s after a 300 s
 * window), minReplicas 1, maxReplicas 1000, pods ready after 120 s, metric lag 60 s, the lead
 * time derived from those (metric lag + pod ready + sync), drain 30 s (the default
 * terminationGracePeriodSeconds), rollouts within Kubernetes' default maxSurge and
 * maxUnavailable of 25 %. These are the simulator's own defaults (the CLI's before the shipped
 * configuration became the default), but for the rollout bounds.
 */
export const HPA_DEFAULT_OPTIONS: Readonly<Omit<ShippedOptions, 'leadSeconds'>> = {
  rollout: { maxSurge: '25%', maxUnavailable: '25%' },
  targetUtilization: 0.7,
  podReadySeconds: 120,
  metricLagSeconds: 60,
  drainSeconds: 30,
  hpa: { minReplicas: 1, maxReplicas: 1000 },
};

/**
 * Reads `--deploy-config FILE` (a JSON object of `DeployConfigInput`, any subset of the
 * fields) and validates it as the manifest generator does; without a path, the shipped
 * defaults (what the committed `deploy/` was generated from).
 * @throws CliError naming the file and the bad field, in one line.
 */
export function loadDeployConfig(path?: string): DeployConfig {
  if (path === undefined) return deployConfig();
  let input: unknown;
  try {
    input = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError(`--deploy-config file not found: ${path}`);
    throw new CliError(
      `--deploy-config ${path}: not a JSON deploy config (${(error as Error).message})`,
    );
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new CliError(`--deploy-config ${path}: must be a JSON object of deploy config fields`);
  try {
    return deployConfig(input as DeployConfigInput);
  } catch (error) {
    throw new CliError(`--deploy-config ${path}: ${(error as Error).message}`);
  }
}
