/**
 * Reading a mixin config file for `tidewatch-mixin generate`: JSON, or a JavaScript module
 * (`.js`, `.mjs`, `.cjs`) whose default export is the config. Unknown fields and values of the
 * wrong type are errors naming the field (a typo must not silently fall back to a default);
 * ranges are checked by `mixinConfig()` and `deployConfig()` themselves.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CONFIG } from '../config.js';
import { DEFAULT_PROVISIONING } from '../dashboards/index.js';
import { DEFAULT_DEPLOY_CONFIG } from '../deploy/config.js';
import { DEFAULT_INGRESS } from '../deploy/ingress-config.js';
import type { MixinFileConfig } from '../generate.js';
import { show } from '../validate.js';

/** A config file that cannot be read, parsed, or has a field that does not fit. */
export class MixinFileError extends Error {
  override readonly name = 'MixinFileError';
}

/** The shape a field must have: a type word, or an object's own fields. */
type Shape = 'string' | 'number' | 'boolean' | 'string[]' | 'record' | 'secret' | Fields;
interface Fields {
  [field: string]: Shape;
}

/** The shape of a default value: what a given value must be like. */
function shapeOf(value: unknown): Shape {
  if (Array.isArray(value)) return 'string[]';
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value as 'string' | 'number' | 'boolean';
}

/** Every field a file may set, with its shape (from the defaults, so new fields join by themselves). */
function fileShape(): Fields {
  const mixin = shapeOf({ ...DEFAULT_CONFIG, capacityPerReplica: 0 }) as Fields;
  const deploy = shapeOf({
    ...DEFAULT_DEPLOY_CONFIG,
    fallbackReplicas: 0,
    election: false,
  }) as Fields;
  deploy.ingress = {
    ...(shapeOf(DEFAULT_INGRESS) as Fields),
    annotations: 'record',
    tlsSecretName: 'secret',
    timeoutSeconds: 'number',
  };
  return { ...mixin, deploy, provisioning: shapeOf(DEFAULT_PROVISIONING) };
}

/** What a shape reads as in a message. */
function expected(shape: Shape): string {
  if (typeof shape === 'object') return 'an object';
  if (shape === 'string[]') return 'a list of strings';
  if (shape === 'record') return 'an object of strings';
  if (shape === 'secret') return 'a string or null';
  return `a ${shape}`;
}

function fits(value: unknown, shape: Shape): boolean {
  if (typeof shape === 'object' || shape === 'record')
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  if (shape === 'string[]')
    return Array.isArray(value) && value.every((v) => typeof v === 'string');
  if (shape === 'secret') return value === null || typeof value === 'string';
  return typeof value === shape;
}

/** The known field closest to `name` (edit distance <= 3), for "did you mean". */
function closest(name: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++)
        next[j] = Math.min(
          (row[j] as number) + 1,
          (next[j - 1] as number) + 1,
          (row[j - 1] as number) + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
        );
      row = next;
    }
    return row[b.length] as number;
  };
  const ranked = known.map((k) => [k, distance(name, k)] as const).sort((x, y) => x[1] - y[1]);
  const best = ranked[0];
  return best && best[1] <= 3 ? best[0] : undefined;
}

function checkFields(value: Record<string, unknown>, fields: Fields, prefix: string): void {
  for (const [key, given] of Object.entries(value)) {
    const field = `${prefix}${key}`;
    const shape = fields[key];
    if (shape === undefined) {
      const near = closest(key, Object.keys(fields));
      throw new MixinFileError(
        `unknown field ${field}${near ? ` (did you mean ${prefix}${near}?)` : ''}`,
      );
    }
    // Absent and undefined mean "the default"; a JS config may spread undefined values.
    if (given === undefined) continue;
    if (!fits(given, shape))
      throw new MixinFileError(`${field} must be ${expected(shape)}, got ${show(given)}`);
    if (typeof shape === 'object')
      checkFields(given as Record<string, unknown>, shape, `${field}.`);
  }
}

/**
 * Checks that `raw` is a mixin config: an object of known fields, each of the right type.
 * @throws MixinFileError naming the first unknown or mistyped field (`thresholds.fdRatoi`).
 */
export function mixinFileConfig(raw: unknown): MixinFileConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new MixinFileError(`the config must be an object, got ${show(raw)}`);
  checkFields(raw as Record<string, unknown>, fileShape(), '');
  return raw as MixinFileConfig;
}

/**
 * Reads a config file: `.json` parsed as JSON; `.js`, `.mjs`, `.cjs` imported, the default
 * export taken (a `module.exports` object in CommonJS).
 * @throws MixinFileError naming the file when it cannot be read, parsed or imported, or a
 *   field is unknown or mistyped.
 */
export async function loadMixinConfigFile(file: string): Promise<MixinFileConfig> {
  const ext = extname(file).toLowerCase();
  const fail = (why: string) => new MixinFileError(`${file}: ${why}`);
  let raw: unknown;
  if (ext === '.json') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw fail(code === 'ENOENT' ? 'no such file' : (error as Error).message);
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw fail(`not JSON: ${(error as Error).message}`);
    }
  } else if (['.js', '.mjs', '.cjs'].includes(ext)) {
    // Checked first: a module the config itself imports can be missing too.
    if (!existsSync(file)) throw fail('no such file');
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
    } catch (error) {
      throw fail(`cannot load: ${(error as Error).message}`);
    }
    if (mod.default === undefined) throw fail('no default export (export default { ... })');
    raw = mod.default;
  } else throw fail('must be .json, .js, .mjs or .cjs');
  try {
    return mixinFileConfig(raw);
  } catch (error) {
    throw fail((error as Error).message);
  }
}
