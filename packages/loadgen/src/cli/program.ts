/**
 * The `tidewatch-loadgen` command line. Built by a function and run by {@link run}, so
 * nothing happens at import time and tests can drive it in-process.
 *
 * Exit codes: 0 the run completed, 1 bad input (one line naming the flag), 2 usage
 * (missing argument, unknown option, conflicting flags), 130 stopped by SIGINT (the
 * report is still printed).
 */
import { Command, CommanderError, Option } from 'commander';
import { LoadgenConfigError } from '../errors.js';
import { createLoadGenerator } from '../generator.js';
import { TRANSPORT_NAMES } from '../options.js';
import {
  flagFor,
  header,
  integer,
  list,
  number,
  type RunFlags,
  toLoadOptions,
  UsageError,
} from './args.js';
import { progressLine, renderReport } from './format.js';
import { packageVersion } from './version.js';

/** Name in front of every error line. */
export const PROGRAM = 'tidewatch-loadgen';
/** Exit code: the run completed. */
export const EXIT_OK = 0;
/** Exit code: bad input, reported as one line naming the flag. */
export const EXIT_BAD_INPUT = 1;
/** Exit code: usage error (missing argument, unknown option, conflicting flags). */
export const EXIT_USAGE = 2;
/** Exit code: stopped by SIGINT (128 + 2, as shells report it); the report was printed. */
export const EXIT_INTERRUPTED = 130;

/** Where the CLI writes, and the process it listens to for SIGINT. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Receives `SIGINT`; default `process`. */
  signals?: Pick<NodeJS.Process, 'once' | 'removeListener'>;
}

/** The single stderr line for an error. */
function errorLine(message: string): string {
  return `${PROGRAM}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`;
}

/** Builds the commander program; `onRun` receives the parsed `run` command. */
function buildProgram(io: CliIO, onRun: (url: string, flags: RunFlags) => Promise<void>): Command {
  const program = new Command(PROGRAM)
    .description(
      'Load a realtime server (WebSocket, Socket.IO, SSE, MQTT, gRPC) with simulated clients.',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(errorLine(s.replace(/^error: /, ''))),
    })
    .showSuggestionAfterError(true)
    .version(packageVersion(), '-V, --version', 'print the version (semver) and exit');

  program
    .command('run')
    .description('open connections at a rate or following a trace, then report what happened')
    .argument(
      '<url>',
      'ws(s):// for ws; http(s):// for socket.io and sse; mqtt(s):// or ws(s):// for mqtt; grpc(s):// for grpc (loopback only by default)',
    )
    .addOption(
      new Option('--transport <name>', 'client protocol').choices(TRANSPORT_NAMES).default('ws'),
    )
    .option('--rate <n>', 'connections opened per second (Poisson)', number)
    .option('--trace <file>', 'arrivals per step from a CSV "timestamp,value"')
    .addOption(
      new Option('--flights <resolution>', "the repo's flights departures trace").choices([
        'minutely',
        'hourly',
      ]),
    )
    .option('--compression <x>', 'trace seconds played per real second (default 1)', number)
    .option('--scale <x>', 'multiply trace values (default 1)', number)
    .option('--session-seconds <s>', 'mean session length, exponential (default 30)', number)
    .option(
      '--message-rate <r>',
      'messages per second per connection, Poisson (default 0.5)',
      number,
    )
    .option('--message-bytes <b>', 'size of each message frame (default 64)', integer)
    .option('--rooms <a,b,c>', 'rooms to join', list)
    .option('--join-rooms <n>', 'rooms each connection joins (default 1 with --rooms)', integer)
    .option(
      '--heartbeat <s>',
      'ws: ping interval, 0 = off; mqtt: keepalive, whole seconds, 0 = 60 (default 0)',
      number,
    )
    .option('--sse-post-url <url>', 'sse: POST each message as JSON here')
    .option('--qos <n>', 'mqtt: QoS of every publish and subscription, 0|1|2 (default 0)', integer)
    .option(
      '--topic-prefix <p>',
      'mqtt: topics are <p><room>, or <p><client id> without rooms (default tidewatch/loadgen/)',
    )
    .option('--no-reconnect', 'never reconnect (default: exponential backoff with jitter)')
    .option('--max-concurrent <n>', 'clients alive at once (default 1000)', integer)
    .option('--max-connections <n>', 'connection attempts in total (default 100000)', integer)
    .option('--duration <s>', 'length of the run in seconds (default 60)', number)
    .option('--drop-ratio <p>', 'share of sessions ended abruptly, 0..1 (default 0)', number)
    .option('--token <t>', 'sent as "Authorization: Bearer <t>" and ?token=<t>')
    .option('--header <name:value>', 'extra handshake header (repeatable)', header)
    .option('--allow-remote', 'allow a host other than loopback')
    .option('--seed <n>', 'PRNG seed for reproducible arrivals and sessions', integer)
    .addOption(
      new Option('--output <format>', 'final report format on stdout')
        .choices(['table', 'json'])
        .default('table'),
    )
    .action(async (url: string, flags: RunFlags) => onRun(url, flags));

  program.addHelpText(
    'after',
    '\nExit codes: 0 completed, 1 bad input (one line naming the flag), 2 usage error, 130 interrupted (report still printed).',
  );
  return program;
}

/**
 * Runs the CLI on `argv` (`process.argv` layout: node, script, args...) and resolves with
 * the exit code. Never rejects.
 */
export async function run(
  argv: readonly string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let code = EXIT_OK;
  const onRun = async (url: string, flags: RunFlags) => {
    const gen = createLoadGenerator(toLoadOptions(url, flags));
    const every = io.stderr.isTTY === true ? 1 : 5;
    let ticks = 0;
    gen.on('progress', (r) => {
      if (++ticks % every === 0) io.stderr.write(`${progressLine(r)}\n`);
    });
    let interrupted = false;
    const signals = io.signals ?? process;
    const onSigint = () => {
      interrupted = true;
      io.stderr.write(`${PROGRAM}: interrupted, closing connections\n`);
      void gen.stop();
    };
    signals.once('SIGINT', onSigint);
    const arrivals =
      flags.rate !== undefined ? `${flags.rate}/s` : (flags.trace ?? `flights ${flags.flights}`);
    io.stderr.write(`${PROGRAM}: ${flags.transport} ${url}, arrivals ${arrivals}\n`);
    try {
      await gen.start();
      const report = await gen.done;
      io.stdout.write(
        flags.output === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : `${renderReport(report)}\n`,
      );
    } finally {
      signals.removeListener('SIGINT', onSigint);
    }
    if (interrupted) code = EXIT_INTERRUPTED;
  };
  try {
    await buildProgram(io, onRun).parseAsync([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed its message already (or the help).
      if (error.exitCode === 0) return EXIT_OK;
      return error.code === 'commander.invalidArgument' ? EXIT_BAD_INPUT : EXIT_USAGE;
    }
    if (error instanceof UsageError) {
      io.stderr.write(errorLine(error.message));
      return EXIT_USAGE;
    }
    if (error instanceof LoadgenConfigError) {
      const flag = flagFor(error.field);
      const detail = error.message.slice(error.field.length).trim();
      io.stderr.write(
        errorLine(`${flag}: ${error.field === 'trace' ? detail : `${error.field} ${detail}`}`),
      );
      return EXIT_BAD_INPUT;
    }
    io.stderr.write(errorLine(error instanceof Error ? error.message : String(error)));
    return EXIT_BAD_INPUT;
  }
}
