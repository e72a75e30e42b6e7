/**
 * The config's fields as paths: every setting the schema declares (walked from the schema
 * itself, so a new field is listed without anyone listing it), and how a path is written,
 * read and set in a config document.
 */
import type { z } from 'zod';

/** One setting of the config file, as the schema declares it. */
export interface ConfigField {
  /** Its path, e.g. `['planner', 'lead', 'podStartSeconds']`. */
  readonly path: readonly string[];
  /** For a field of a source kind's block (`source.urls`): that kind. */
  readonly sourceKind?: string;
  /** Whether it is a group of settings (an object) rather than a value. */
  readonly group: boolean;
}

/** The parts of a zod definition the walk reads. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Wrappers that hold one schema: optional, default, prefault, a transform's input. */
function unwrap(schema: z.ZodType): z.ZodType {
  let at = schema;
  for (;;) {
    const def = defOf(at);
    const inner = def.innerType ?? (def.type === 'pipe' ? def.in : undefined);
    if (inner === undefined) return at;
    at = inner;
  }
}

/**
 * Every field of a config schema, groups before their members, in declaration order. A
 * discriminated union (`source`) lists its discriminator once and each option's fields with
 * the option's kind; lists and records are values (their elements are not fields).
 */
export function configFields(schema: z.ZodType): ConfigField[] {
  const out: ConfigField[] = [];
  walk(schema, [], undefined, out);
  return out;
}

function walk(
  schema: z.ZodType,
  path: readonly string[],
  kind: string | undefined,
  out: ConfigField[],
): void {
  const def = defOf(unwrap(schema));
  const tag = kind === undefined ? {} : { sourceKind: kind };
  if (def.type === 'object' && def.shape) {
    if (path.length > 0) out.push({ path, group: true, ...tag });
    for (const [key, field] of Object.entries(def.shape)) walk(field, [...path, key], kind, out);
    return;
  }
  const discriminator = def.discriminator;
  if (def.type === 'union' && discriminator !== undefined) {
    out.push({ path, group: true }, { path: [...path, discriminator], group: false });
    for (const option of def.options ?? []) {
      const shape = defOf(unwrap(option)).shape ?? {};
      const literal = shape[discriminator];
      const name = literal ? String(defOf(literal).values?.[0]) : undefined;
      for (const [key, field] of Object.entries(shape))
        if (key !== discriminator) walk(field, [...path, key], name, out);
    }
    return;
  }
  out.push({ path, group: false, ...tag });
}

/** `a.b[2].c`: a path as messages write it. */
export function pathText(path: ReadonlyArray<string | number>): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** A plain object (not null, not a list). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path` in a document, or undefined. */
export function valueAt(doc: unknown, path: ReadonlyArray<string | number>): unknown {
  let at = doc;
  for (const p of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string | number, unknown>)[p];
  }
  return at;
}

/** Sets `path` in a document, making (or replacing non-object) groups on the way. */
export function setPath(
  doc: Record<string, unknown>,
  path: readonly string[],
  value: unknown,
): void {
  let at = doc;
  for (const p of path.slice(0, -1)) {
    if (!isRecord(at[p])) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[path[path.length - 1] as string] = value;
}
