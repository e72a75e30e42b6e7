// The configuration `deploy/` ships, as simulator options: read from the built
// @tidewatch/mixin/deploy (deployConfig() defaults, behavior() and the Deployment's
// rolling-update strategy: the same functions that generate the manifests), so the bench runs
// what is deployed unless told otherwise.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../common/resolve.mjs';

/**
 * The one deviation from the shipped defaults: maxReplicas. deploy/ ships 50 as an example an
 * operator sizes to their fleet; traces here peak at 40 pods at the target and a x3 flash
 * crowd needs 120, so a cap of 50 would make every policy fail the surge the same way.
 */
export const BENCH_MAX_REPLICAS = 200;

/**
 * Simulator options for the shipped config, and a description for the docs. The mapping is
 * the CLI's (`shippedSimulationOptions` in packages/predictor/src/cli/shipped.ts: the
 * predictor's package entry does not export it, and its dist/cli.js runs the CLI when
 * imported), mirrored field for field so that `tidewatch-predictor simulate` and this bench
 * run the same thing. `options.rollout` is the generated Deployment's
 * `spec.strategy.rollingUpdate` (what a `rollout` disruption uses), not a simulator option:
 * sim.mjs takes it out before a replay.
 */
export async function shippedOptions() {
  const M = await import(pathToFileURL(path.join(ROOT, 'packages/mixin/dist/deploy.js')).href);
  const c = M.deployConfig({ maxReplicas: BENCH_MAX_REPLICAS });
  const b = M.behavior(c);
  // Read from the manifest itself, so a change to the generated strategy reaches the bench;
  // Kubernetes' defaults (25 % / 25 %) where the manifest leaves a bound out, as the CLI.
  const strategy = M.deployment(c).spec?.strategy?.rollingUpdate;
  const rollout = {
    maxSurge: strategy?.maxSurge ?? '25%',
    maxUnavailable: strategy?.maxUnavailable ?? '25%',
  };
  const lead = M.leadTimeSeconds(c);
  const podReadySeconds = c.lead.podStartSeconds + c.lead.readinessSeconds;
  const metricLagSeconds = c.lead.metricLagSeconds;
  // The pod leaves the endpoints at once, sleeps preStop, then drains; the simulator keeps
  // every connection to the end and drops the rest then.
  const drainSeconds = c.preStopSeconds + c.drainSeconds;
  const options = {
    capacityPerReplica: c.capacityPerReplica,
    targetUtilization: c.targetUtilization,
    podReadySeconds,
    metricLagSeconds,
    leadSeconds: lead,
    hpa: {
      minReplicas: c.minReplicas,
      maxReplicas: c.maxReplicas,
      scaleUp: b.scaleUp,
      scaleDown: b.scaleDown,
    },
    drainSeconds,
    rollout,
  };
  const down = b.scaleDown;
  const describe =
    `shipped deploy config (@tidewatch/mixin/deploy deployConfig() + behavior() + deployment()): ${c.capacityPerReplica} connections per pod, ` +
    `target ${c.targetUtilization} (${c.capacityPerReplica * c.targetUtilization} per pod), minReplicas ${c.minReplicas}, ` +
    `maxReplicas ${c.maxReplicas} (shipped example 50, raised: see below), scale-up max(+4 pods, +100 %) per 15 s, ` +
    `scale-down stabilisation ${down.stabilizationWindowSeconds} s then max(1 pod, 10 %) per 60 s, ` +
    `lead ${lead} s (pods ready ${podReadySeconds} s after the decision, metric ${metricLagSeconds} s old, 15 s HPA sync), drain ${drainSeconds} s (preStop ${c.preStopSeconds} s + drain ${c.drainSeconds} s), ` +
    `rollouts within the Deployment's maxSurge ${rollout.maxSurge} and maxUnavailable ${rollout.maxUnavailable}`;
  return { options, describe, config: c };
}
