/**
 * `tidewatch-predictor simulate`: replays a load trace through the Kubernetes HPA under a
 * policy, with fluid or sticky connections, and prints the contract's JSON (or a table):
 * under-provisioned minutes, overloaded pod-minutes, dropped connections, replica-hours,
 * scaling actions, and the elasticity measures. The HPA and fleet settings come from the
 * shipped deploy configuration unless `--deploy-config` or `--hpa-defaults` says otherwise;
 * explicit flags win over both.
 */
import {
  type ConnectionModel,
  LOAD_BALANCER_POLICIES,
  type LoadBalancerPolicy,
  MODEL_NAMES,
  type RunSimulationResult,
  runSimulation,
  type SimulationPolicy,
} from '@tidewatch/forecast';
import { positiveInt, positiveNumber, type RawOptions } from './args.js';
import type { CliIO } from './commands.js';
import { readSeriesCsv } from './csv.js';
import { CliError } from './errors.js';
import { HPA_DEFAULT_OPTIONS, loadDeployConfig, shippedSimulationOptions } from './shipped.js';
import { renderTable } from './table.js';

/** Where the HPA and fleet settings come from. */
export type SimulateConfigSource = 'shipped' | 'deploy-config' | 'hpa-defaults';

/** `simulate` options, validated. Absent optional fields come from the configuration. */
export interface SimulateArgs {
  input: string;
  capacityPerReplica: number;
  targetUtilization?: number;
  podReadySeconds?: number;
  metricLagSeconds?: number;
  leadSeconds?: number;
  policy: SimulationPolicy;
  model: string;
  warmupDays: number;
  minReplicas?: number;
  maxReplicas?: number;
  configSource: SimulateConfigSource;
  /** `--deploy-config` path. */
  deployConfig?: string;
  connections: ConnectionModel;
  lb: LoadBalancerPolicy;
  meanLifetimeSeconds: number;
  drainSeconds?: number;
  podReadyJitter: number;
  nodeProvisionSeconds: number;
  seed: number;
  /** `--nowcast`: the real nowcaster fed by the simulator takes part (sticky only). */
  nowcast: boolean;
  /** `--disrupt KIND@SECONDS` (repeatable), in the order given; seconds from the trace start. */
  disruptions: CliDisruption[];
  output: 'table' | 'json';
}

/** One `--disrupt`: a pod lost or a rollout at a time, seconds from the trace start. */
export interface CliDisruption {
  kind: 'kill-pod' | 'rollout';
  atSeconds: number;
}

/**
 * Validates `simulate` options.
 * @throws CliError (exit 1) naming the flag.
 */
export function parseSimulateArgs(raw: RawOptions): SimulateArgs {
  const input = raw.input;
  if (typeof input !== 'string' || input === '') throw new CliError('--input FILE.csv is required');
  const policy = String(raw.policy ?? 'reactive');
  if (policy !== 'reactive' && policy !== 'predictive' && policy !== 'oracle')
    throw new CliError(`--policy must be reactive, predictive or oracle, got "${policy}"`);
  const model = String(raw.model ?? 'seasonal-profile');
  if (!(MODEL_NAMES as readonly string[]).includes(model))
    throw new CliError(`unknown model "${model}" (known: ${MODEL_NAMES.join(', ')})`);
  const output = raw.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new CliError(`--output must be "table" or "json", got "${String(output)}"`);
  const connections = String(raw.connections ?? 'fluid');
  if (connections !== 'fluid' && connections !== 'sticky')
    throw new CliError(`--connections must be fluid or sticky, got "${connections}"`);
  const lb = String(raw.lb ?? 'round-robin') as LoadBalancerPolicy;
  if (!LOAD_BALANCER_POLICIES.includes(lb))
    throw new CliError(`--lb must be ${LOAD_BALANCER_POLICIES.join(', ')}, got "${lb}"`);
  if (raw.deployConfig !== undefined && raw.hpaDefaults === true)
    throw new CliError('--deploy-config and --hpa-defaults exclude each other');
  const args: SimulateArgs = {
    input,
    capacityPerReplica: positiveNumber(
      raw.capacityPerReplica,
      '--capacity-per-replica',
      'load per replica',
    ),
    policy,
    model,
    warmupDays: nonNegative(raw.warmupDays ?? '14', '--warmup-days'),
    configSource:
      raw.hpaDefaults === true
        ? 'hpa-defaults'
        : raw.deployConfig !== undefined
          ? 'deploy-config'
          : 'shipped',
    connections,
    lb,
    meanLifetimeSeconds: positiveNumber(
      raw.meanLifetimeSeconds ?? '900',
      '--mean-lifetime-seconds',
      'seconds',
    ),
    podReadyJitter: nonNegative(raw.podReadyJitter ?? '0', '--pod-ready-jitter'),
    nodeProvisionSeconds: nonNegative(raw.nodeProvisionSeconds ?? '0', '--node-provision-seconds'),
    seed: nonNegativeInt(raw.seed ?? '1', '--seed'),
    nowcast: raw.nowcast === true,
    disruptions: parseDisruptions(raw.disrupt),
    output,
  };
  if (args.nowcast && connections !== 'sticky')
    throw new CliError('--nowcast needs --connections sticky');
  if (args.nowcast && policy === 'oracle')
    throw new CliError('--nowcast applies to --policy reactive or predictive, not oracle');
  if (args.disruptions.length > 0 && connections !== 'sticky')
    throw new CliError('--disrupt needs --connections sticky');
  if (args.podReadyJitter >= 1)
    throw new CliError(`--pod-ready-jitter must be below 1, got "${raw.podReadyJitter}"`);
  if (raw.deployConfig !== undefined) args.deployConfig = String(raw.deployConfig);
  if (raw.targetUtilization !== undefined) {
    const target = positiveNumber(raw.targetUtilization, '--target-utilization', 'a share');
    if (target > 1)
      throw new CliError(`--target-utilization must be at most 1, got "${raw.targetUtilization}"`);
    args.targetUtilization = target;
  }
  if (raw.podReadySeconds !== undefined)
    args.podReadySeconds = nonNegative(raw.podReadySeconds, '--pod-ready-seconds');
  if (raw.metricLagSeconds !== undefined)
    args.metricLagSeconds = nonNegative(raw.metricLagSeconds, '--metric-lag-seconds');
  if (raw.leadSeconds !== undefined)
    args.leadSeconds = positiveNumber(raw.leadSeconds, '--lead-seconds', 'seconds');
  if (raw.drainSeconds !== undefined)
    args.drainSeconds = nonNegative(raw.drainSeconds, '--drain-seconds');
  if (raw.minReplicas !== undefined)
    args.minReplicas = positiveInt(raw.minReplicas, '--min-replicas', 'replicas');
  if (raw.maxReplicas !== undefined)
    args.maxReplicas = positiveInt(raw.maxReplicas, '--max-replicas', 'replicas');
  if (
    args.minReplicas !== undefined &&
    args.maxReplicas !== undefined &&
    args.maxReplicas < args.minReplicas
  )
    throw new CliError(
      `--max-replicas (${args.maxReplicas}) must be at least --min-replicas (${args.minReplicas})`,
    );
  return args;
}

/**
 * Runs the simulation and writes the result to `io.stdout`.
 * @throws CliError for bad input or a trace too short for the warm-up.
 */
export async function simulateCommand(args: SimulateArgs, io: CliIO): Promise<void> {
  const base =
    args.configSource === 'hpa-defaults'
      ? { ...HPA_DEFAULT_OPTIONS, leadSeconds: undefined }
      : shippedSimulationOptions(loadDeployConfig(args.deployConfig));
  const series = readSeriesCsv(args.input);
  const traceS = (series.values.length * series.stepMs) / 1000;
  if (args.connections === 'sticky' && args.meanLifetimeSeconds > traceS)
    throw new CliError(
      `--mean-lifetime-seconds ${args.meanLifetimeSeconds} is longer than the trace ${args.input} (${traceS} s)`,
    );
  const minReplicas = args.minReplicas ?? base.hpa.minReplicas;
  const maxReplicas = args.maxReplicas ?? base.hpa.maxReplicas;
  if (minReplicas !== undefined && maxReplicas !== undefined && maxReplicas < minReplicas)
    throw new CliError(
      `max replicas (${maxReplicas}) must be at least min replicas (${minReplicas}): set --min-replicas and --max-replicas`,
    );
  const leadSeconds = args.leadSeconds ?? base.leadSeconds;
  for (const d of args.disruptions)
    if (d.atSeconds >= traceS)
      throw new CliError(
        `--disrupt ${d.kind}@${d.atSeconds} is not within the trace ${args.input} (${traceS} s)`,
      );
  let result: RunSimulationResult;
  try {
    result = runSimulation(series, {
      policy: args.policy,
      capacityPerReplica: args.capacityPerReplica,
      targetUtilization: args.targetUtilization ?? base.targetUtilization,
      podReadySeconds: args.podReadySeconds ?? base.podReadySeconds,
      metricLagSeconds: args.metricLagSeconds ?? base.metricLagSeconds,
      ...(leadSeconds === undefined ? {} : { leadSeconds }),
      model: args.model,
      warmupSteps: Math.round((args.warmupDays * 86_400_000) / series.stepMs),
      hpa: {
        ...base.hpa,
        ...(minReplicas === undefined ? {} : { minReplicas }),
        ...(maxReplicas === undefined ? {} : { maxReplicas }),
      },
      connections: args.connections,
      ...(args.connections === 'sticky'
        ? {
            lb: args.lb,
            meanLifetimeSeconds: args.meanLifetimeSeconds,
            drainSeconds: args.drainSeconds ?? base.drainSeconds,
            podReadyJitter: args.podReadyJitter,
            nodeProvisionSeconds: args.nodeProvisionSeconds,
            seed: args.seed,
            nowcast: args.nowcast,
            disruptions: args.disruptions.map((d) =>
              d.kind === 'rollout' ? { ...d, kind: 'rollout' as const, ...base.rollout } : d,
            ),
          }
        : {}),
    });
  } catch (error) {
    throw new CliError(`${args.input}: ${error instanceof Error ? error.message : String(error)}`);
  }
  io.stdout.write(
    args.output === 'json'
      ? `${JSON.stringify(simulateJson(result, args.configSource, args.disruptions))}\n`
      : renderSimulation(result, args.configSource),
  );
}

/**
 * The contract's JSON: policy, underProvisionedMinutes, replicaHours, scalingActions first,
 * then the per-pod figures (overloadedPodMinutes, droppedConnections, reconnects,
 * hottestPodUtilisationP99), then the rest; `nowcast` says whether the nowcaster took part
 * (the table labels such a run "reactive + nowcast"), `disruptions` what was injected.
 */
export function simulateJson(
  r: RunSimulationResult,
  configuration: SimulateConfigSource = 'shipped',
  disruptions: readonly CliDisruption[] = [],
): object {
  return {
    policy: r.policy,
    underProvisionedMinutes: r.underProvisionedMinutes,
    replicaHours: round(r.replicaHours, 2),
    scalingActions: r.scalingActions,
    overloadedPodMinutes: r.overloadedPodMinutes,
    droppedConnections: round(r.droppedConnections, 1),
    reconnects: round(r.reconnects, 1),
    hottestPodUtilisationP99: round(r.hottestPodUtilisationP99, 4),
    connections: r.connections,
    nowcast: r.nowcast,
    disruptions: disruptions.map((d) => `${d.kind}@${d.atSeconds}`),
    configuration,
    scoredMinutes: r.scoredMinutes,
    maxReplicas: r.maxReplicas,
    leadTimeSeconds: r.leadTimeSeconds,
    model: r.model,
    elasticity: Object.fromEntries(Object.entries(r.elasticity).map(([k, v]) => [k, round(v, 4)])),
  };
}

function renderSimulation(r: RunSimulationResult, configuration: SimulateConfigSource): string {
  const e = r.elasticity;
  const rows: Array<[string, string]> = [
    [
      'policy',
      r.policy +
        (r.nowcast ? ' + nowcast' : '') +
        (r.model ? ` (${r.model}, lead ${r.leadTimeSeconds} s)` : ''),
    ],
    ['connections', `${r.connections} (${configuration} configuration)`],
    ['under-provisioned minutes', fmt(r.underProvisionedMinutes, 2)],
    ['overloaded pod-minutes', fmt(r.overloadedPodMinutes, 2)],
    ['hottest pod utilisation p99', fmt(r.hottestPodUtilisationP99, 3)],
    ['dropped connections', fmt(r.droppedConnections, 0)],
    ['reconnects', fmt(r.reconnects, 0)],
    ['replica-hours', fmt(r.replicaHours, 1)],
    ['scaling actions', String(r.scalingActions)],
    ['max replicas', String(r.maxReplicas)],
    ['scored minutes', fmt(r.scoredMinutes, 0)],
    ['under-provisioning accuracy %', fmt(e.underAccuracyPct, 3)],
    ['over-provisioning accuracy %', fmt(e.overAccuracyPct, 2)],
    ['under-provisioned time %', fmt(e.underTimeSharePct, 3)],
    ['over-provisioned time %', fmt(e.overTimeSharePct, 2)],
    ['jitter (changes/h)', fmt(e.jitterPerHour, 2)],
  ];
  return `${renderTable(['measure', 'value'], rows, ['left', 'right'])}\n`;
}

const DISRUPTION = /^(kill-pod|rollout)@(\d+(?:\.\d+)?)$/;

/** `--disrupt` values (one string or commander's collected list). */
function parseDisruptions(value: unknown): CliDisruption[] {
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.map((v) => {
    const m = DISRUPTION.exec(String(v).trim());
    if (!m)
      throw new CliError(
        `--disrupt must be kill-pod@SECONDS or rollout@SECONDS (seconds from the trace start), got "${String(v)}"`,
      );
    return { kind: m[1] as CliDisruption['kind'], atSeconds: Number(m[2]) };
  });
}

function nonNegative(value: unknown, flag: string): number {
  const text = String(value).trim();
  const n = /^\+?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n))
    throw new CliError(`${flag} must be a number >= 0, got "${String(value)}"`);
  return n;
}

function nonNegativeInt(value: unknown, flag: string): number {
  const text = String(value).trim();
  const n = /^\+?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > 2 ** 32 - 1)
    throw new CliError(`${flag} must be an integer 0..4294967295, got "${String(value)}"`);
  return n;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
const fmt = (v: number, digits: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
