/**
 * Loading the sidecar's configuration, 12-factor style: defaults < the config file (JSON or
 * YAML) < `TIDEWATCH_*` environment variables < command-line flags. Everything is validated
 * once, at start, and every problem names where the value came from:
 * `config: planner.capacityPerReplica must be a number > 0, got "abc"`,
 * `TIDEWATCH_PORT: must be an integer 0..65535, got "x"`, `--port: ...`.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { shown } from '../fields.js';
import {
  BUILTIN_SOURCE_KINDS,
  DEFAULT_SOURCES,
  type SourceKind,
  type SourceRegistry,
} from '../sources/index.js';
import { configSchemaFor, resolveConfig, type ServeConfig } from './config-schema.js';

export {
  configSchema,
  configSchemaFor,
  PLACEHOLDER_CAPACITY,
  resolveConfig,
  type ServeConfig,
  type ServeConfigInput,
} from './config-schema.js';

/** An invalid configuration; `issues` holds one line per problem (the message joins them). */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: readonly string[]) {
    super(issues.join('; '));
  }
}

/** How an environment variable's text becomes a value. */
type Kind = 'string' | 'int' | 'number' | 'bool' | 'list';

/** One `TIDEWATCH_*` variable: the config path it sets and how it is read. */
export interface EnvVar {
  readonly name: string;
  readonly path: readonly string[];
  readonly kind: Kind;
  /** Setting it selects this source kind (the other kinds' fields are dropped). */
  readonly sourceKind?: string;
}

/** The environment variables and flags of source kinds, as config paths. */
function sourceSettings(
  kinds: readonly SourceKind[],
  env: boolean,
): Array<{ name: string; path: readonly string[]; kind: Kind; sourceKind?: string }> {
  return kinds.flatMap((k) =>
    (k.settings ?? [])
      .filter((s) => s.name.startsWith('--') !== env)
      .map((s) => ({
        name: s.name,
        path: ['source', s.field],
        kind: s.type,
        ...(s.selects ? { sourceKind: k.kind } : {}),
      })),
  );
}

const GENERAL_ENV_VARS: readonly EnvVar[] = [
  { name: 'TIDEWATCH_SOURCE_TIMEOUT_SECONDS', path: ['source', 'timeoutSeconds'], kind: 'number' },
  { name: 'TIDEWATCH_SOURCE_BEARER_TOKEN', path: ['source', 'bearerToken'], kind: 'string' },
  { name: 'TIDEWATCH_METRIC', path: ['metric'], kind: 'string' },
  { name: 'TIDEWATCH_TARGET', path: ['target'], kind: 'string' },
  { name: 'TIDEWATCH_STEP_SECONDS', path: ['stepSeconds'], kind: 'int' },
  { name: 'TIDEWATCH_HISTORY_POINTS', path: ['historyPoints'], kind: 'int' },
  { name: 'TIDEWATCH_DATA_DIR', path: ['dataDir'], kind: 'string' },
  { name: 'TIDEWATCH_SCHEDULE_COLLECT', path: ['schedule', 'collect'], kind: 'string' },
  { name: 'TIDEWATCH_SCHEDULE_FORECAST', path: ['schedule', 'forecast'], kind: 'string' },
  { name: 'TIDEWATCH_SCHEDULE_RETRAIN', path: ['schedule', 'retrain'], kind: 'string' },
  { name: 'TIDEWATCH_SCHEDULE_TIMEZONE', path: ['schedule', 'timezone'], kind: 'string' },
  { name: 'TIDEWATCH_FORECAST_HORIZON_STEPS', path: ['forecast', 'horizonSteps'], kind: 'int' },
  { name: 'TIDEWATCH_FORECAST_MODELS', path: ['forecast', 'models'], kind: 'list' },
  {
    name: 'TIDEWATCH_FORECAST_TIME_BUDGET_SECONDS',
    path: ['forecast', 'timeBudgetSeconds'],
    kind: 'number',
  },
  {
    name: 'TIDEWATCH_CAPACITY_PER_REPLICA',
    path: ['planner', 'capacityPerReplica'],
    kind: 'number',
  },
  { name: 'TIDEWATCH_TARGET_UTILIZATION', path: ['planner', 'targetUtilization'], kind: 'number' },
  { name: 'TIDEWATCH_MIN_REPLICAS', path: ['planner', 'minReplicas'], kind: 'int' },
  { name: 'TIDEWATCH_MAX_REPLICAS', path: ['planner', 'maxReplicas'], kind: 'int' },
  { name: 'TIDEWATCH_SEED_FILE', path: ['seed', 'file'], kind: 'string' },
  { name: 'TIDEWATCH_HISTORY_MINUTES', path: ['historyMinutes'], kind: 'int' },
  { name: 'TIDEWATCH_PATCH_ENABLED', path: ['patch', 'enabled'], kind: 'bool' },
  { name: 'TIDEWATCH_PATCH_KIND', path: ['patch', 'kind'], kind: 'string' },
  { name: 'TIDEWATCH_PATCH_NAMESPACE', path: ['patch', 'namespace'], kind: 'string' },
  { name: 'TIDEWATCH_PATCH_NAME', path: ['patch', 'name'], kind: 'string' },
  { name: 'TIDEWATCH_PATCH_TRIGGER', path: ['patch', 'triggerName'], kind: 'string' },
];

const LISTEN_ENV_VARS: readonly EnvVar[] = [
  { name: 'TIDEWATCH_HOST', path: ['listen', 'host'], kind: 'string' },
  { name: 'TIDEWATCH_PORT', path: ['listen', 'port'], kind: 'int' },
];

/** The environment variables of a registry's kinds and the general ones, in docs order. */
function envVarsOf(sources: SourceRegistry): readonly EnvVar[] {
  return [...LISTEN_ENV_VARS, ...sourceSettings(sources.kinds, true), ...GENERAL_ENV_VARS];
}

/** Every environment variable the sidecar reads (docs/sidecar.md lists them). */
export const ENV_VARS: readonly EnvVar[] = envVarsOf(DEFAULT_SOURCES);

/** The command-line flags of `serve` (strings as commander gives them). */
export interface ServeFlags {
  config?: string;
  scrape?: readonly string[];
  prometheus?: string;
  query?: string;
  port?: string;
  host?: string;
  dataDir?: string;
}

/** A `serve` flag: the config path it sets. */
interface Flag {
  key: Exclude<keyof ServeFlags, 'config'>;
  flag: string;
  path: readonly string[];
  kind: Kind;
  sourceKind?: string;
}

const GENERAL_FLAGS: readonly Flag[] = [
  { key: 'port', flag: '--port', path: ['listen', 'port'], kind: 'int' },
  { key: 'host', flag: '--host', path: ['listen', 'host'], kind: 'string' },
  { key: 'dataDir', flag: '--data-dir', path: ['dataDir'], kind: 'string' },
];

/** The shipped kinds' flags (`--scrape`, `--prometheus`, `--query`), then the general ones. */
const FLAGS: readonly Flag[] = [
  ...sourceSettings(BUILTIN_SOURCE_KINDS as unknown as SourceKind[], false).map((f) => ({
    ...f,
    key: f.name.slice(2) as Flag['key'],
    flag: f.name,
  })),
  ...GENERAL_FLAGS,
];

/** A value set by an environment variable or a flag, with where it came from (for messages). */
export interface ConfigOverride {
  origin: string;
  path: readonly string[];
  raw: unknown;
  value: unknown;
  /** The source kind setting it selects, if any. */
  sourceKind: string | undefined;
}

/** Options of {@link loadServeConfig}. */
export interface LoadOptions {
  /** Command-line flags; `flags.config` (else `TIDEWATCH_CONFIG`) names the config file. */
  flags?: ServeFlags;
  /** The environment. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The source kinds the config may use. Default: the shipped ones (`scrape`, `prometheus`). */
  sources?: SourceRegistry;
}

/** Options of {@link parseServeConfig}. */
export interface ParseOptions {
  /** The source kinds the config may use. Default: the shipped ones (`scrape`, `prometheus`). */
  sources?: SourceRegistry;
}

/**
 * Reads the config file (if any), applies `TIDEWATCH_*` variables and the flags on top, and
 * validates the result.
 * @throws ConfigError listing every problem, each naming its field and origin.
 */
export function loadServeConfig(options: LoadOptions = {}): ServeConfig {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const file = flags.config ?? nonEmpty(env.TIDEWATCH_CONFIG);
  const raw = file === undefined ? {} : readConfigFile(file);
  const sources = options.sources ?? DEFAULT_SOURCES;
  return parseServeConfig(raw, [...envOverrides(env, sources), ...flagOverrides(flags)], {
    sources,
  });
}

/**
 * Validates a config object (the file's content) with overrides applied in order.
 * @throws ConfigError naming each bad field.
 */
export function parseServeConfig(
  raw: unknown,
  overrides: readonly ConfigOverride[] = [],
  options: ParseOptions = {},
): ServeConfig {
  const sources = options.sources ?? DEFAULT_SOURCES;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ConfigError([`config: must be an object of settings, got ${shown(raw)}`]);
  const doc = structuredClone(raw) as Record<string, unknown>;
  const issues: string[] = [];
  const selected: Array<{ kind: string; origin: string }> = [];
  for (const o of overrides) {
    if (o.sourceKind) {
      const other = selected.findLast((s) => s.kind !== o.sourceKind)?.origin;
      if (other) issues.push(`${o.origin}: cannot be combined with ${other}; configure one source`);
      selected.push({ kind: o.sourceKind, origin: o.origin });
      const source = doc.source as Record<string, unknown> | undefined;
      if (typeof source !== 'object' || source === null || source.kind !== o.sourceKind)
        doc.source = { kind: o.sourceKind };
    }
    setPath(doc, o.path, o.value);
  }
  if (issues.length > 0) throw new ConfigError(issues);
  if (doc.source === undefined) throw new ConfigError([missingSource(sources)]);
  const result = configSchemaFor(sources).safeParse(doc);
  if (!result.success)
    throw new ConfigError(result.error.issues.map((i) => describe(i, doc, overrides)));
  return resolveConfig(result.data, sources);
}

/** "source is required", with the flags and variables that select a kind. */
function missingSource(sources: SourceRegistry): string {
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
  return `config: source is required: ${ways.join(', ')}`;
}

/** The overrides the environment makes (unset or empty variables make none). */
export function envOverrides(
  env: Readonly<Record<string, string | undefined>>,
  sources: SourceRegistry = DEFAULT_SOURCES,
): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const v of sources === DEFAULT_SOURCES ? ENV_VARS : envVarsOf(sources)) {
    const text = nonEmpty(env[v.name]);
    if (text === undefined) continue;
    out.push({
      origin: v.name,
      path: v.path,
      raw: text,
      value: convert(text, v.kind),
      sourceKind: v.sourceKind,
    });
  }
  return out;
}

/** The overrides the command-line flags make. */
export function flagOverrides(flags: ServeFlags): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const f of FLAGS) {
    const given = flags[f.key];
    if (given === undefined || (Array.isArray(given) && given.length === 0)) continue;
    const value = Array.isArray(given) ? [...given] : convert(given as string, f.kind);
    out.push({ origin: f.flag, path: f.path, raw: given, value, sourceKind: f.sourceKind });
  }
  return out;
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

/** Text from the environment or a flag, typed; left as text when it does not parse (zod says why). */
function convert(text: string, kind: Kind): unknown {
  const t = text.trim();
  switch (kind) {
    case 'int':
      return /^[+-]?\d+$/.test(t) ? Number(t) : text;
    case 'number':
      return t !== '' && Number.isFinite(Number(t)) ? Number(t) : text;
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(t)) return true;
      if (/^(false|0|no|off)$/i.test(t)) return false;
      return text;
    case 'list':
      return t
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    default:
      return text;
  }
}

/** One line for one zod issue, naming the field's origin and showing the value given. */
function describe(
  issue: z.core.$ZodIssue,
  doc: Record<string, unknown>,
  overrides: readonly ConfigOverride[],
): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (issue.code === 'unrecognized_keys') {
    const where = pathText(path);
    return issue.keys
      .map((k) => `config: ${where ? `${where}.` : ''}${k} is not a known setting`)
      .join('; ');
  }
  // The last override that set this field or one of its parents (a list element's list).
  const from = [...overrides].reverse().find((o) => o.path.every((p, i) => path[i] === p));
  if (from) return `${from.origin}: ${issue.message}, got ${shown(from.raw)}`;
  const value = valueAt(doc, path);
  const field = pathText(path) || 'config';
  if (value !== undefined) return `config: ${field} ${issue.message}, got ${shown(value)}`;
  // A cross-field check on a defaulted field: show the default it was checked with.
  const checked =
    issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  if (checked !== undefined)
    return `config: ${field} ${issue.message}, got ${shown(checked)} (the default)`;
  return `config: ${field} is required (${issue.message})`;
}

/** `a.b[2].c` */
function pathText(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(doc: unknown, path: ReadonlyArray<string | number>): unknown {
  let at = doc;
  for (const p of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return at;
}

function setPath(doc: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let at = doc;
  for (const p of path.slice(0, -1)) {
    const next = at[p];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[path[path.length - 1] as string] = value;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}
