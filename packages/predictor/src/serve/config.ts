/**
 * Loading the sidecar's configuration, 12-factor style. One precedence, field by field:
 * command-line flag > `TIDEWATCH_*` environment variable > config file (JSON or YAML) >
 * default (config-merge.ts has the one exception, the source's kind). Everything is
 * validated once, at start, and every problem names where the value came from and the field:
 * `/etc/tidewatch/sidecar.yaml: planner.capacityPerReplica must be a number > 0, got "abc"`,
 * `TIDEWATCH_PORT: listen.port must be an integer 0..65535, got "x"`, `--port: listen.port ...`.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { shown } from '../fields.js';
import { DEFAULT_SOURCES, type SourceRegistry } from '../sources/index.js';
import { readCalendarSetting } from './config-calendar.js';
import { unknownVariableWarnings } from './config-env.js';
import { type ConfigField, configFields, isRecord } from './config-fields.js';
import { describeIssue } from './config-issues.js';
import { mergeSettings } from './config-merge.js';
import { type ConfigOverride, envOverrides, flagOverrides, nonEmpty } from './config-overrides.js';
import { configSchemaFor, resolveConfig, type ServeConfig } from './config-schema.js';
import { CONFIG_ENV_VAR, envVarsOf, type ServeFlags } from './config-settings.js';
import { createJsonLogger } from './log.js';

export { type ConfigField, configFields } from './config-fields.js';
export {
  type ConfigOverride,
  envOverrides,
  flagOverrides,
  type OverrideLevel,
} from './config-overrides.js';
export {
  configSchema,
  configSchemaFor,
  PLACEHOLDER_CAPACITY,
  resolveConfig,
  type ServeConfig,
  type ServeConfigInput,
} from './config-schema.js';
export {
  CONFIG_ENV_VAR,
  ENV_VARS,
  type EnvVar,
  SERVE_FLAGS,
  type ServeFlag,
  type ServeFlags,
  type SettingType,
} from './config-settings.js';

/** An invalid configuration; `issues` holds one line per problem (the message joins them). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[]) {
    super(issues.join('; '));
  }
}

/** Options of {@link loadServeConfig}. */
export interface LoadOptions {
  /** Command-line flags; `flags.config` (else `TIDEWATCH_CONFIG`) names the config file. */
  flags?: ServeFlags;
  /** The environment. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The source kinds the config may use. Default: the shipped ones (`scrape`, `prometheus`). */
  sources?: SourceRegistry;
  /**
   * Told about settings that were given but are ignored: unknown `TIDEWATCH_*` variables (with
   * the closest known name), source settings of a kind another origin overrode. Once each.
   * Default: a JSON `warn` line on stderr, the shape of the sidecar's log.
   */
  onWarning?: (message: string) => void;
}

/** Options of {@link parseServeConfig}. */
export interface ParseOptions {
  /** The source kinds the config may use. Default: the shipped ones (`scrape`, `prometheus`). */
  sources?: SourceRegistry;
  /** The file `raw` was read from, to name it in messages. Default: messages say `config`. */
  file?: string;
  /** As {@link LoadOptions.onWarning}. */
  onWarning?: (message: string) => void;
}

/** Writes a warning as the sidecar's log would (created on use: stderr may be replaced). */
const warnOnStderr = (message: string): void =>
  createJsonLogger(process.stderr).log('warn', message);

/**
 * Reads the config file (if any), applies `TIDEWATCH_*` variables and the flags by precedence
 * and validates the result. Unknown `TIDEWATCH_*` variables are reported to `onWarning`
 * before anything is validated.
 * @throws ConfigError listing every problem, each naming its origin and field.
 */
export function loadServeConfig(options: LoadOptions = {}): ServeConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const sources = options.sources ?? DEFAULT_SOURCES;
  const onWarning = options.onWarning ?? warnOnStderr;
  const known = [CONFIG_ENV_VAR, ...envVarsOf(sources).map((v) => v.name)];
  for (const warning of unknownVariableWarnings(env, known)) onWarning(warning);
  const file = flags.config ?? nonEmpty(env[CONFIG_ENV_VAR]);
  const raw = file === undefined ? {} : readConfigFile(file);
  return parseServeConfig(raw, [...envOverrides(env, sources), ...flagOverrides(flags)], {
    sources,
    onWarning,
    ...(file === undefined ? {} : { file }),
  });
}

/**
 * Validates a config object (the file's content) with overrides applied by precedence:
 * `level: 'flag'` over `'env'` over the file; one level's overrides in the order given.
 * Reads `forecast.calendarFile` when set (the parsed events go to `forecast.calendar`).
 * @throws ConfigError naming each bad field and where its value came from, and
 *   `forecast.calendarFile` when that file is missing, unreadable, over 5 MiB or invalid.
 */
export function parseServeConfig(
  raw: unknown,
  overrides: readonly ConfigOverride[] = [],
  options: ParseOptions = {},
): ServeConfig {
  const sources = options.sources ?? DEFAULT_SOURCES;
  const fileLabel = options.file ?? 'config';
  if (!isRecord(raw))
    throw new ConfigError([`${fileLabel}: must be an object of settings, got ${shown(raw)}`]);
  const merged = mergeSettings(raw, overrides, fileLabel);
  for (const warning of merged.warnings) (options.onWarning ?? warnOnStderr)(warning);
  if (merged.issues.length > 0) throw new ConfigError(merged.issues);
  if (!merged.hasSource) throw new ConfigError([missingSource(sources, fileLabel)]);
  const schema = configSchemaFor(sources);
  const result = schema.safeParse(merged.doc);
  if (!result.success) {
    const context = { ...merged, fileLabel, fields: fieldsOf(schema) };
    throw new ConfigError(result.error.issues.map((i) => describeIssue(i, context)));
  }
  const config = resolveConfig(result.data, sources);
  const calendarFile = config.forecast.calendarFile;
  if (calendarFile === undefined) return config;
  const read = readCalendarSetting(calendarFile, merged.applied, fileLabel);
  if ('issue' in read) throw new ConfigError([read.issue]);
  return { ...config, forecast: { ...config.forecast, calendar: read.calendar } };
}

const fieldLists = new WeakMap<object, readonly ConfigField[]>();

/** The schema's fields, walked once per schema. */
function fieldsOf(schema: ReturnType<typeof configSchemaFor>): readonly ConfigField[] {
  let fields = fieldLists.get(schema);
  if (!fields) {
    fields = configFields(schema);
    fieldLists.set(schema, fields);
  }
  return fields;
}

/** "source is required", with the flags and variables that select a kind. */
function missingSource(sources: SourceRegistry, fileLabel: string): string {
  const usages = sources.kinds.flatMap((k) =>
    (k.settings ?? []).filter((s) => s.selects && s.usage),
  );
  const flags = usages.filter((s) => s.name.startsWith('--')).map((s) => s.usage);
  const vars = usages.filter((s) => !s.name.startsWith('--')).map((s) => s.usage);
  const ways = [
    ...(flags.length ? [`pass ${flags.join(' or ')}`] : []),
    ...(vars.length ? [`set ${vars.join(' or ')}`] : []),
    'or write source in the config file',
  ];
  return `${fileLabel}: source is required: ${ways.join(', ')}`;
}

/**
 * Reads and parses a config file: `.json` as JSON, anything else as YAML (a superset of JSON).
 * @throws ConfigError naming the file when it cannot be read or parsed.
 */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new ConfigError([`config: cannot read ${file}: ${why}`]);
  }
  try {
    const doc = extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
    // An empty YAML file is "no settings", not an error.
    return doc ?? {};
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new ConfigError([`config: cannot parse ${file}: ${message}`]);
  }
}
