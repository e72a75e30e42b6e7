/**
 * The `tidewatch-mixin` command line: `generate` (the mixin's files from a config, for users,
 * what `npm run generate` does for the repository) and `publish` (dashboards to Grafana). Run
 * by {@link runMixinCli}, so nothing happens at import time and tests drive it in-process.
 *
 * Exit codes: 0 ok (and --help, --version), 1 bad input or failed run (one line on stderr),
 * 2 usage error.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DeployConfigError } from '../deploy/config.js';
import { generateMixin, type MixinFileConfig, syncGenerated } from '../generate.js';
import { runPublishCommand } from '../publish.js';
import { ConfigError } from '../validate.js';
import { loadMixinConfigFile } from './config-file.js';
import { packageVersion } from './version.js';

/** Name in front of every error line. */
export const PROGRAM = 'tidewatch-mixin';

/** Where the CLI writes and reads its environment. */
export interface MixinCliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
  /** For `publish` (tests). Default the global fetch. */
  fetch?: typeof fetch;
}

/** A usage error: exit code 2. */
class UsageError extends Error {}

const GENERATE_USAGE = `usage: ${PROGRAM} generate [--config FILE] --out DIR [--check]

Writes the mixin's files under DIR: dashboards/ (Grafana JSON and provisioning), alerts/
(recording and alert rules), alerts/tests/ (promtool unit tests), docs/runbooks.md, deploy/
(Kubernetes manifests, Ingress included) and mixin.libsonnet (monitoring-mixin layout).

  --config FILE  mixin config: .json, or .js/.mjs/.cjs with a default export (default: the
                 defaults the repository's files are made with). Top-level fields are the
                 mixin's (thresholds, selectors, grafana, ...), "deploy" holds the manifests'
                 config, "provisioning" Grafana's.
  --out DIR      where to write (created if missing)
  --check        write nothing; exit 1 listing the files that differ from DIR's
`;

const PUBLISH_USAGE = `usage: ${PROGRAM} publish [--url URL] [--folder-uid UID] [--message TEXT] [--datasource-uid UID] [--no-overwrite] FILE.json...

Publishes dashboards through Grafana's HTTP API. The token comes from GRAFANA_TOKEN (a
service-account token), the URL from --url or GRAFANA_URL.
`;

const USAGE = `usage: ${PROGRAM} <command> [options]

Grafana dashboards, Prometheus rules and Kubernetes manifests for realtime Node.js servers.

Commands:
  generate [--config FILE] --out DIR [--check]  write dashboards, rules, rule tests, runbooks,
                                                manifests and mixin.libsonnet from a config
  publish [options] FILE.json...                publish dashboards to Grafana
  help [COMMAND]                                show this help, or a command's

Options:
  -h, --help     show help
  -V, --version  print the version (semver) and exit

Exit codes: 0 ok, 1 bad input or failed run (one line on stderr), 2 usage error.
`;

const COMMAND_USAGE: Record<string, string> = {
  generate: GENERATE_USAGE,
  publish: PUBLISH_USAGE,
};

/** The single stderr line for an error. */
function errorLine(message: string): string {
  return `${PROGRAM}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`;
}

/**
 * A config error as the file's user reads it: the field relative to the file
 * (`deploy.ingress.timeoutSeconds` for the deploy group), without the library's prefix.
 */
function configMessage(error: ConfigError): string {
  const detail = error.message.slice(error.message.indexOf(error.field));
  return error instanceof DeployConfigError ? `deploy.${detail}` : detail;
}

/** `generate`: resolves once written (or checked); throws a line's worth of why not. */
async function generate(args: string[], io: MixinCliIo): Promise<number> {
  let values: { config?: string; out?: string; check?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        config: { type: 'string' },
        out: { type: 'string' },
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`generate: ${(error as Error).message}`);
  }
  if (values.help) {
    io.stdout.write(GENERATE_USAGE);
    return 0;
  }
  if (values.out === undefined) throw new UsageError('generate: --out DIR is required');
  const input: MixinFileConfig =
    values.config === undefined ? {} : await loadMixinConfigFile(values.config);
  let files: Map<string, string>;
  try {
    files = generateMixin(input);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new Error(`${values.config ?? 'config'}: ${configMessage(error)}`);
    throw error;
  }
  const dir = resolve(values.out);
  const result = syncGenerated(files, dir, { check: values.check === true });
  if (values.check) {
    if (result.stale.length > 0)
      throw new Error(
        `${result.stale.length} file(s) in ${dir} differ: ${result.stale.join(', ')}`,
      );
    io.stdout.write(`${files.size} files in ${dir} are up to date\n`);
  } else
    io.stdout.write(
      `wrote ${result.written.length} of ${files.size} files to ${dir} (${result.unchanged.length} unchanged)\n`,
    );
  return 0;
}

/**
 * Runs the CLI on `argv` (`process.argv` layout: node, script, args...) and resolves with the
 * exit code; never rejects. Errors are one line `tidewatch-mixin: <message>` on stderr.
 */
export async function runMixinCli(
  argv: readonly string[],
  io: MixinCliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const [command, ...rest] = argv.slice(2);
  try {
    if (command === '--version' || command === '-V') {
      io.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    if (command === undefined || command === '--help' || command === '-h') {
      io[command === undefined ? 'stderr' : 'stdout'].write(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (command === 'help') {
      const topic = rest[0];
      if (topic !== undefined && COMMAND_USAGE[topic] === undefined)
        throw new UsageError(`help: unknown command "${topic}"`);
      io.stdout.write(topic === undefined ? USAGE : (COMMAND_USAGE[topic] as string));
      return 0;
    }
    if (command === 'generate') return await generate(rest, io);
    if (command === 'publish') {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.stdout.write(PUBLISH_USAGE);
        return 0;
      }
      await runPublishCommand(rest, {
        env: io.env,
        log: (line) => io.stdout.write(`${line}\n`),
        ...(io.fetch ? { fetch: io.fetch } : {}),
      });
      return 0;
    }
    throw new UsageError(
      `unknown command "${command}" (commands: generate, publish, help; see --help)`,
    );
  } catch (error) {
    io.stderr.write(errorLine(error instanceof Error ? error.message : String(error)));
    return error instanceof UsageError ? 2 : 1;
  }
}
