/**
 * The values `TIDEWATCH_*` variables and `serve` flags set, each with where it came from, so
 * the merge can rank them (flag > environment > file) and a message can name the origin.
 */
import { DEFAULT_SOURCES, type SourceRegistry } from '../sources/index.js';
import { convertText, envVarsOf, SERVE_FLAGS, type ServeFlags } from './config-settings.js';

/** Where an override came from, lowest precedence first (the file and defaults are below). */
export type OverrideLevel = 'env' | 'flag';

/** A value set by an environment variable or a flag, with where it came from (for messages). */
export interface ConfigOverride {
  /** The variable or flag, e.g. `TIDEWATCH_PORT`, `--port`. */
  origin: string;
  /** The config path it sets. */
  path: readonly string[];
  /** The text (or, for a repeated flag, the list) as given. */
  raw: unknown;
  /** The value it sets (text that does not convert stays text; the schema says why). */
  value: unknown;
  /** The source kind setting it selects, if any. */
  sourceKind: string | undefined;
  /**
   * Its precedence: `flag` wins over `env`, which wins over the file. Absent: ranked as a flag
   * (a caller's own overrides are its most specific word).
   */
  level?: OverrideLevel;
  /** The source kind it belongs to, for a kind's own setting; absent for general ones. */
  appliesTo?: string | undefined;
}

/** Unset and blank variables and flags count as not given (a template's empty default). */
export function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/**
 * The overrides the environment makes, one per known variable that is set and not blank.
 * Unknown `TIDEWATCH_*` names make none (see `unknownVariableWarnings`).
 */
export function envOverrides(
  env: Readonly<Record<string, string | undefined>>,
  sources: SourceRegistry = DEFAULT_SOURCES,
): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const v of envVarsOf(sources)) {
    const text = nonEmpty(env[v.name]);
    if (text === undefined) continue;
    out.push({
      origin: v.name,
      path: v.path,
      raw: text,
      value: convertText(text, v.kind),
      sourceKind: v.sourceKind,
      level: 'env',
      appliesTo: v.appliesTo,
    });
  }
  return out;
}

/** The overrides the command-line flags make (one per flag given; `--scrape` repeated is one). */
export function flagOverrides(flags: ServeFlags): ConfigOverride[] {
  const out: ConfigOverride[] = [];
  for (const f of SERVE_FLAGS) {
    const given = flags[f.key];
    if (given === undefined || (Array.isArray(given) && given.length === 0)) continue;
    const value = Array.isArray(given) ? [...given] : convertText(given as string, f.kind);
    out.push({
      origin: f.name,
      path: f.path,
      raw: given,
      value,
      sourceKind: f.sourceKind,
      level: 'flag',
      appliesTo: f.appliesTo,
    });
  }
  return out;
}
