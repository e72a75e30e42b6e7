/**
 * `tidewatch-predictor simulate`: replays a load trace through the Kubernetes HPA under a
 * policy and prints the contract's JSON (or a table): under-provisioned minutes,
 * replica-hours, scaling actions, and the elasticity measures.
 */
import {
  MODEL_NAMES,
  type RunSimulationResult,
  runSimulation,
  type SimulationPolicy,
} from '@tidewatch/forecast';
import { positiveInt, positiveNumber, type RawOptions } from './args.js';
import type { CliIO } from './commands.js';
import { readSeriesCsv } from './csv.js';
import { CliError } from './errors.js';
import { renderTable } from './table.js';

/** `simulate` options, validated. */
export interface SimulateArgs {
  input: string;
  capacityPerReplica: number;
  targetUtilization: number;
  podReadySeconds: number;
  metricLagSeconds: number;
  policy: SimulationPolicy;
  model: string;
  warmupDays: number;
  minReplicas: number;
  maxReplicas: number;
  output: 'table' | 'json';
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
  const target = positiveNumber(raw.targetUtilization ?? '0.7', '--target-utilization', 'a share');
  if (target > 1)
    throw new CliError(`--target-utilization must be at most 1, got "${raw.targetUtilization}"`);
  const model = String(raw.model ?? 'seasonal-profile');
  if (!(MODEL_NAMES as readonly string[]).includes(model))
    throw new CliError(`unknown model "${model}" (known: ${MODEL_NAMES.join(', ')})`);
  const minReplicas = positiveInt(raw.minReplicas ?? '1', '--min-replicas', 'replicas');
  const maxReplicas = positiveInt(raw.maxReplicas ?? '1000', '--max-replicas', 'replicas');
  if (maxReplicas < minReplicas)
    throw new CliError(
      `--max-replicas (${maxReplicas}) must be at least --min-replicas (${minReplicas})`,
    );
  const output = raw.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new CliError(`--output must be "table" or "json", got "${String(output)}"`);
  return {
    input,
    capacityPerReplica: positiveNumber(
      raw.capacityPerReplica,
      '--capacity-per-replica',
      'load per replica',
    ),
    targetUtilization: target,
    podReadySeconds: nonNegative(raw.podReadySeconds ?? '120', '--pod-ready-seconds'),
    metricLagSeconds: nonNegative(raw.metricLagSeconds ?? '60', '--metric-lag-seconds'),
    policy,
    model,
    warmupDays: nonNegative(raw.warmupDays ?? '14', '--warmup-days'),
    minReplicas,
    maxReplicas,
    output,
  };
}

/**
 * Runs the simulation and writes the result to `io.stdout`.
 * @throws CliError for bad input or a trace too short for the warm-up.
 */
export async function simulateCommand(args: SimulateArgs, io: CliIO): Promise<void> {
  const series = readSeriesCsv(args.input);
  let result: RunSimulationResult;
  try {
    result = runSimulation(series, {
      policy: args.policy,
      capacityPerReplica: args.capacityPerReplica,
      targetUtilization: args.targetUtilization,
      podReadySeconds: args.podReadySeconds,
      metricLagSeconds: args.metricLagSeconds,
      model: args.model,
      warmupSteps: Math.round((args.warmupDays * 86_400_000) / series.stepMs),
      hpa: { minReplicas: args.minReplicas, maxReplicas: args.maxReplicas },
    });
  } catch (error) {
    throw new CliError(`${args.input}: ${error instanceof Error ? error.message : String(error)}`);
  }
  io.stdout.write(
    args.output === 'json' ? `${JSON.stringify(simulateJson(result))}\n` : renderSimulation(result),
  );
}

/** The contract's JSON: policy, underProvisionedMinutes, replicaHours, scalingActions first. */
export function simulateJson(r: RunSimulationResult): object {
  return {
    policy: r.policy,
    underProvisionedMinutes: r.underProvisionedMinutes,
    replicaHours: round(r.replicaHours, 2),
    scalingActions: r.scalingActions,
    scoredMinutes: r.scoredMinutes,
    maxReplicas: r.maxReplicas,
    leadTimeSeconds: r.leadTimeSeconds,
    model: r.model,
    elasticity: Object.fromEntries(Object.entries(r.elasticity).map(([k, v]) => [k, round(v, 4)])),
  };
}

function renderSimulation(r: RunSimulationResult): string {
  const e = r.elasticity;
  const rows: Array<[string, string]> = [
    ['policy', r.policy + (r.model ? ` (${r.model}, lead ${r.leadTimeSeconds} s)` : '')],
    ['under-provisioned minutes', fmt(r.underProvisionedMinutes, 2)],
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

function nonNegative(value: unknown, flag: string): number {
  const text = String(value).trim();
  const n = /^\+?(\d+\.?\d*|\.\d+)$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isFinite(n))
    throw new CliError(`${flag} must be a number >= 0, got "${String(value)}"`);
  return n;
}

const round = (v: number, digits: number) => Number(v.toFixed(digits));
const fmt = (v: number, digits: number) =>
  v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
