/**
 * The sidecar's settings outside the config file: every `TIDEWATCH_*` variable and `serve`
 * flag, the config path it sets and how its text becomes a value. Source kinds contribute
 * their own (`SourceKind.settings`); docs/sidecar.md lists them all.
 */
import {
  BUILTIN_SOURCE_KINDS,
  DEFAULT_SOURCES,
  type SourceKind,
  type SourceRegistry,
} from '../sources/index.js';

/** How the text of a variable or a flag becomes a value. */
export type SettingType = 'string' | 'int' | 'number' | 'bool' | 'list';

/** One `TIDEWATCH_*` variable: the config path it sets and how it is read. */
export interface EnvVar {
  /** `TIDEWATCH_PORT`. */
  readonly name: string;
  /** The config path it sets, e.g. `['listen', 'port']`. */
  readonly path: readonly string[];
  /** How its text is read. */
  readonly kind: SettingType;
  /** Setting it selects this source kind. */
  readonly sourceKind?: string;
  /**
   * The source kind it belongs to (a kind's own setting, e.g. `TIDEWATCH_SCRAPE_TYPE`);
   * absent for general settings, which apply to whichever kind is selected.
   */
  readonly appliesTo?: string;
}

/** The command-line flags of `serve` as commander gives them (strings; `scrape` repeated). */
export interface ServeFlags {
  config?: string;
  scrape?: readonly string[];
  prometheus?: string;
  query?: string;
  prometheusMaxPoints?: string;
  sourceMaxBodyBytes?: string;
  port?: string;
  host?: string;
  dataDir?: string;
  shutdownTimeoutSeconds?: string;
  capacityPerReplica?: string;
}

/** A `serve` flag: the config path it sets. */
export interface ServeFlag extends Omit<EnvVar, 'name'> {
  /** `--data-dir`. */
  readonly name: string;
  /** Its property in {@link ServeFlags} (commander's camel case of the name). */
  readonly key: Exclude<keyof ServeFlags, 'config'>;
}

/** The variables and flags of source kinds, as config paths (each bound to its kind). */
function sourceSettings(kinds: readonly SourceKind[], env: boolean): EnvVar[] {
  return kinds.flatMap((k) =>
    (k.settings ?? [])
      .filter((s) => s.name.startsWith('--') !== env)
      .map((s) => ({
        name: s.name,
        path: ['source', s.field],
        kind: s.type,
        appliesTo: k.kind,
        ...(s.selects ? { sourceKind: k.kind } : {}),
      })),
  );
}

/** General source settings: they apply to whichever kind is selected, from any origin. */
const SOURCE_ENV_VARS: readonly EnvVar[] = [
  { name: 'TIDEWATCH_SOURCE_TIMEOUT_SECONDS', path: ['source', 'timeoutSeconds'], kind: 'number' },
  { name: 'TIDEWATCH_SOURCE_BEARER_TOKEN', path: ['source', 'bearerToken'], kind: 'string' },
  { name: 'TIDEWATCH_SOURCE_MAX_BODY_BYTES', path: ['source', 'maxBodyBytes'], kind: 'int' },
];

const GENERAL_ENV_VARS: readonly EnvVar[] = [
  ...SOURCE_ENV_VARS,
  { name: 'TIDEWATCH_METRIC', path: ['metric'], kind: 'string' },
  { name: 'TIDEWATCH_TARGET', path: ['target'], kind: 'string' },
  { name: 'TIDEWATCH_STEP_SECONDS', path: ['stepSeconds'], kind: 'int' },
  { name: 'TIDEWATCH_HISTORY_POINTS', path: ['historyPoints'], kind: 'int' },
  { name: 'TIDEWATCH_DATA_DIR', path: ['dataDir'], kind: 'string' },
  {
    name: 'TIDEWATCH_SHUTDOWN_TIMEOUT_SECONDS',
    path: ['shutdownTimeoutSeconds'],
    kind: 'number',
  },
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
    name: 'TIDEWATCH_FORECAST_CALENDAR_FILE',
    path: ['forecast', 'calendarFile'],
    kind: 'string',
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
  { name: 'TIDEWATCH_NOWCAST_ENABLED', path: ['nowcast', 'enabled'], kind: 'bool' },
  { name: 'TIDEWATCH_MODE', path: ['mode'], kind: 'string' },
  {
    name: 'TIDEWATCH_SHADOW_PROMETHEUS_URL',
    path: ['shadow', 'prometheusUrl'],
    kind: 'string',
  },
  { name: 'TIDEWATCH_SHADOW_REPLICAS', path: ['shadow', 'replicas'], kind: 'string' },
  { name: 'TIDEWATCH_SHADOW_NAMESPACE', path: ['shadow', 'namespace'], kind: 'string' },
  { name: 'TIDEWATCH_SHADOW_NAME', path: ['shadow', 'name'], kind: 'string' },
  {
    name: 'TIDEWATCH_SHADOW_REPLICAS_QUERY',
    path: ['shadow', 'replicasQuery'],
    kind: 'string',
  },
  { name: 'TIDEWATCH_ELECTION_ENABLED', path: ['election', 'enabled'], kind: 'bool' },
  { name: 'TIDEWATCH_ELECTION_LEASE_NAME', path: ['election', 'leaseName'], kind: 'string' },
  { name: 'TIDEWATCH_ELECTION_NAMESPACE', path: ['election', 'namespace'], kind: 'string' },
  { name: 'TIDEWATCH_ELECTION_IDENTITY', path: ['election', 'identity'], kind: 'string' },
  { name: 'TIDEWATCH_ELECTION_API_SERVER', path: ['election', 'apiServer'], kind: 'string' },
  {
    name: 'TIDEWATCH_ELECTION_MODEL_CONFIGMAP',
    path: ['election', 'modelConfigMap'],
    kind: 'string',
  },
];

const LISTEN_ENV_VARS: readonly EnvVar[] = [
  { name: 'TIDEWATCH_HOST', path: ['listen', 'host'], kind: 'string' },
  { name: 'TIDEWATCH_PORT', path: ['listen', 'port'], kind: 'int' },
];

/** Names the config file; read by the loader itself, not a setting. */
export const CONFIG_ENV_VAR = 'TIDEWATCH_CONFIG';

/** The environment variables of a registry's kinds and the general ones, in docs order. */
export function envVarsOf(sources: SourceRegistry): readonly EnvVar[] {
  return sources === DEFAULT_SOURCES
    ? ENV_VARS
    : [...LISTEN_ENV_VARS, ...sourceSettings(sources.kinds, true), ...GENERAL_ENV_VARS];
}

/** Every environment variable the sidecar reads with the shipped kinds (docs/sidecar.md lists them). */
export const ENV_VARS: readonly EnvVar[] = [
  ...LISTEN_ENV_VARS,
  ...sourceSettings(DEFAULT_SOURCES.kinds, true),
  ...GENERAL_ENV_VARS,
];

/** `--data-dir` -> `dataDir`, as commander names an option's property. */
const camel = (flag: string) =>
  flag.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

const GENERAL_FLAGS: ReadonlyArray<Omit<ServeFlag, 'key'>> = [
  { name: '--source-max-body-bytes', path: ['source', 'maxBodyBytes'], kind: 'int' },
  { name: '--port', path: ['listen', 'port'], kind: 'int' },
  { name: '--host', path: ['listen', 'host'], kind: 'string' },
  { name: '--data-dir', path: ['dataDir'], kind: 'string' },
  { name: '--shutdown-timeout-seconds', path: ['shutdownTimeoutSeconds'], kind: 'number' },
  { name: '--capacity-per-replica', path: ['planner', 'capacityPerReplica'], kind: 'number' },
];

/**
 * Every `serve` flag but `--config`: the shipped kinds' (`--scrape`, `--prometheus`, `--query`,
 * `--prometheus-max-points`), then the general ones. cli/program.ts declares each (a test
 * checks both lists agree).
 */
export const SERVE_FLAGS: readonly ServeFlag[] = [
  ...sourceSettings(BUILTIN_SOURCE_KINDS as unknown as SourceKind[], false),
  ...GENERAL_FLAGS,
].map((f) => ({ ...f, key: camel(f.name) as ServeFlag['key'] }));

/**
 * Text from the environment or a flag, typed; left as text when it does not parse, so the
 * schema rejects it with its own message and the text shown as given.
 */
export function convertText(text: string, type: SettingType): unknown {
  const t = text.trim();
  switch (type) {
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
