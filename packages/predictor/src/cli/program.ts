/**
 * The `tidewatch-predictor` command line (forecast, backtest, simulate), as DESIGN.md fixes it. Built
 * by a function and run by {@link run}, so nothing happens at import time and tests can drive
 * it in-process with their own streams.
 */

import { MODEL_NAMES } from '@tidewatch/forecast';
import { Command, CommanderError, Option } from 'commander';
import { parseBacktestArgs, parseForecastArgs, type RawOptions } from './args.js';
import { backtestCommand, type CliIO, forecastCommand } from './commands.js';
import { CliError, EXIT_FAILURE, EXIT_USAGE, errorLine, PROGRAM } from './errors.js';
import { addSimulateCommand } from './simulate-flags.js';
import { packageVersion } from './version.js';

const INPUT_HELP =
  'CSV with header "timestamp,value"; timestamps ISO-8601 or unix seconds, evenly spaced';

/** Builds the commander program writing to `io`. Usage errors throw a CommanderError. */
export function buildProgram(io: CliIO): Command {
  const program = new Command(PROGRAM)
    .description(
      'Forecast load (p50/p90) and compare forecasting models by rolling-origin backtest.',
    )
    // Set before the subcommands are added: they inherit it. Usage errors then reach run()
    // (exit code 2) instead of commander's process.exit(1).
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // One line, same prefix as every other error.
      outputError: (s, write) => write(errorLine(s.replace(/^error: /, ''))),
    })
    .showSuggestionAfterError(true)
    .version(packageVersion(), '-V, --version', 'print the version (semver) and exit');

  const shared = (cmd: Command) =>
    cmd
      .requiredOption('--input <file>', INPUT_HELP)
      .requiredOption('--horizon <steps>', 'steps ahead to forecast (positive integer)')
      .option(
        '--step <seconds>',
        'expected spacing of the file, checked against it (default: inferred from the file)',
      )
      .option('--origins <k>', 'rolling origins of the backtest (default 7)')
      .option('--every <steps>', 'steps between backtest origins (default: the horizon)')
      .option(
        '--time-budget <seconds>',
        'wall-clock budget: neural training stops early when it runs out; the run is stopped at max(2 x budget, budget + 10 s)',
      )
      .option(
        '--calendar <file>',
        'known events (holidays, launches): CSV "name,start,end,factor" or JSON; their effect is learnt from history, or taken from factor when they have none',
      )
      .addOption(
        new Option('--output <format>', 'result format on stdout')
          .choices(['table', 'json'])
          .default('table'),
      );

  shared(
    program.command('forecast').description('forecast the next --horizon steps with p50 and p90'),
  )
    .option('--model <name>', 'model to forecast with, or "auto": the backtest winner', 'auto')
    .option('--models <list>', 'comma-separated models "auto" chooses from (default: all)')
    .action(async (options: RawOptions) => forecastCommand(parseForecastArgs(options), io));

  shared(
    program
      .command('backtest')
      .description('score models by rolling-origin backtest (MASE, WAPE, p90 coverage)'),
  )
    .option('--models <list>', 'comma-separated models to compare (default: all)')
    .action(async (options: RawOptions) => backtestCommand(parseBacktestArgs(options), io));

  program
    .command('serve')
    .description('run the predictor sidecar: collect, forecast, serve /metrics and /forecast')
    .option('--config <file>', 'JSON or YAML config file (default: $TIDEWATCH_CONFIG)')
    .option(
      '--scrape <url>',
      '/metrics URL to scrape (repeat for each replica)',
      (url: string, urls: string[] | undefined) => [...(urls ?? []), url],
    )
    .option('--prometheus <url>', 'Prometheus base URL to read the metric from instead')
    .option('--query <promql>', 'PromQL for --prometheus (default: sum(<metric>))')
    .option(
      '--prometheus-max-points <points>',
      'most points one --prometheus read takes in (default 110000)',
    )
    .option(
      '--source-max-body-bytes <bytes>',
      'largest response the source accepts, bytes (default 16777216)',
    )
    .option('--port <port>', 'port to listen on (default 9464)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data-dir <dir>', 'where history and model are persisted (default: memory only)')
    .option(
      '--shutdown-timeout-seconds <seconds>',
      'how long a shutdown may take before the process exits anyway (default 15)',
    )
    .option(
      '--capacity-per-replica <load>',
      'load one replica carries at 100 % (planner.capacityPerReplica; over the file and TIDEWATCH_CAPACITY_PER_REPLICA)',
    )
    .action(async (options: import('../serve/config.js').ServeFlags) => {
      // Loaded on use: the other commands do not pay for express and the scheduler.
      const { serveCommand } = await import('../serve/command.js');
      await serveCommand(options, io);
    });

  addSimulateCommand(program, io, INPUT_HELP);

  program.addHelpText(
    'after',
    `\nModels: ${MODEL_NAMES.join(', ')}.\nExit codes: 0 ok, 1 bad input or failed run (one line on stderr), 2 usage error.`,
  );
  return program;
}

/**
 * Runs the CLI on `argv` (`process.argv` layout: node, script, args...) and resolves with
 * the exit code: 0 success (and --help), 1 bad input or failed run, 2 usage error. Errors
 * are written to `io.stderr` as one line `tidewatch-predictor: <message>`; never rejects.
 */
export async function run(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    await buildProgram(io).parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has already printed its message (or the help).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    io.stderr.write(errorLine(error));
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}
