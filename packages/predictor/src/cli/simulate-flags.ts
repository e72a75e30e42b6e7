/**
 * The `simulate` subcommand's flags (commander checks the shape; {@link parseSimulateArgs}
 * the values). Flags without a default here take theirs from the configuration: the shipped
 * deploy config, `--deploy-config FILE`, or `--hpa-defaults`.
 */
import { LOAD_BALANCER_POLICIES } from '@tidewatch/forecast';
import { type Command, Option } from 'commander';
import type { RawOptions } from './args.js';
import type { CliIO } from './commands.js';
import { parseSimulateArgs, simulateCommand } from './simulate.js';

/** Adds `simulate` to `program`, writing to `io`. */
export function addSimulateCommand(program: Command, io: CliIO, inputHelp: string): Command {
  return program
    .command('simulate')
    .description(
      'replay a load trace through the Kubernetes HPA as deploy/ configures it, reactive or fed the forecast too, with fluid or sticky connections, and score it',
    )
    .requiredOption('--input <file>', `${inputHelp}; values are the load (e.g. connections)`)
    .requiredOption('--capacity-per-replica <load>', 'load one replica carries at 100 %')
    .option(
      '--deploy-config <file>',
      'JSON deploy config (DeployConfigInput of @tidewatch/mixin/deploy) to simulate instead of the shipped one',
    )
    .option(
      '--hpa-defaults',
      "Kubernetes' HPA defaults instead of the deploy config (min 1, max 1000, ready 120 s, lag 60 s, drain 30 s)",
    )
    .option('--target-utilization <share>', 'HPA target utilisation, (0, 1] (default: config)')
    .option(
      '--pod-ready-seconds <s>',
      'from the scaling decision until a new pod serves; the median with jitter (default: config)',
    )
    .option('--metric-lag-seconds <s>', 'age of the metric when the HPA reads it (default: config)')
    .option('--lead-seconds <s>', 'how far ahead the prediction looks (default: config)')
    .addOption(
      new Option(
        '--policy <policy>',
        'reactive: the actual load; predictive: max(actual, forecast); oracle: the actual future',
      )
        .choices(['reactive', 'predictive', 'oracle'])
        .default('reactive'),
    )
    .option('--model <name>', 'forecasting model of the predictive policy', 'seasonal-profile')
    .option(
      '--warmup-days <days>',
      'history before scoring starts (the forecaster learns on it)',
      '14',
    )
    .option('--min-replicas <n>', 'HPA minReplicas (default: config)')
    .option('--max-replicas <n>', 'HPA maxReplicas (default: config)')
    .addOption(
      new Option(
        '--connections <model>',
        'fluid: load spreads evenly over ready pods; sticky: connections stay on their pod',
      )
        .choices(['fluid', 'sticky'])
        .default('fluid'),
    )
    .addOption(
      new Option('--lb <policy>', 'sticky: how the balancer places new connections')
        .choices([...LOAD_BALANCER_POLICIES])
        .default('round-robin'),
    )
    .option('--mean-lifetime-seconds <s>', 'sticky: mean connection lifetime', '900')
    .option(
      '--drain-seconds <s>',
      'sticky: a terminating pod keeps its connections this long, then drops them (default: config)',
    )
    .option('--pod-ready-jitter <share>', 'sticky: spread of the start-up delay, [0, 1)', '0')
    .option(
      '--node-provision-seconds <s>',
      'sticky: extra wait of a pod beyond the nodes of the last 10 minutes',
      '0',
    )
    .option('--seed <n>', 'sticky: seed of the start-up jitter and the random balancer', '1')
    .option(
      '--nowcast',
      'sticky: also run the nowcaster (createNowcaster) on the simulated handshakes, abnormal closes and connections, as the sidecar does; with --policy reactive this is "reactive + nowcast", with predictive the full sidecar',
    )
    .option(
      '--disrupt <kind@seconds>',
      "sticky: kill-pod@S (the hottest ready pod is lost) or rollout@S (every pod replaced within the Deployment's maxSurge/maxUnavailable), S seconds from the trace start; repeatable",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addOption(
      new Option('--output <format>', 'result format on stdout')
        .choices(['table', 'json'])
        .default('table'),
    )
    .action(async (options: RawOptions) => simulateCommand(parseSimulateArgs(options), io));
}
