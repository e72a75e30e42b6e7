/**
 * One line per validation problem, naming the origin of the value (the file's path, the
 * variable or the flag), the field and the value given:
 * `TIDEWATCH_PORT: listen.port must be an integer 0..65535, got "x"`,
 * `/etc/tidewatch/sidecar.yaml: listen.prot is not a known setting; did you mean listen.port?`.
 */
import type { z } from 'zod';
import { shown } from '../fields.js';
import { closestName } from './config-env.js';
import { type ConfigField, pathText, valueAt } from './config-fields.js';
import type { ConfigOverride } from './config-overrides.js';

/** What a message needs to know besides the issue. */
export interface IssueContext {
  /** The merged document that was validated. */
  readonly doc: Record<string, unknown>;
  /** The overrides set in it, in order (the last one of a path won). */
  readonly applied: readonly ConfigOverride[];
  /** How the file is named: its path, or `config` when there is none. */
  readonly fileLabel: string;
  /** The schema's fields, for "did you mean". */
  readonly fields: readonly ConfigField[];
}

/** One line for one zod issue (several for unknown keys, joined by `; `). */
export function describeIssue(issue: z.core.$ZodIssue, ctx: IssueContext): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => unknownKey([...path, key], ctx)).join('; ');
  const field = pathText(path) || 'config';
  // The last override that set this field or a group holding it (a list element's list).
  const from = [...ctx.applied].reverse().find((o) => o.path.every((p, i) => path[i] === p));
  if (from) {
    // A list element is shown alone (`source.urls[1]`, `got "nope"`), anything else as given.
    const value = path.length > from.path.length ? valueAt(ctx.doc, path) : from.raw;
    return `${from.origin}: ${field} ${issue.message}, got ${shown(value)}`;
  }
  const value = valueAt(ctx.doc, path);
  if (value !== undefined)
    return `${ctx.fileLabel}: ${field} ${issue.message}, got ${shown(value)}`;
  // A cross-field check on a defaulted field: show the default it was checked with.
  const checked =
    issue.code === 'custom' ? (issue.params as { value?: unknown } | undefined)?.value : undefined;
  if (checked !== undefined)
    return `${ctx.fileLabel}: ${field} ${issue.message}, got ${shown(checked)} (the default)`;
  return `${ctx.fileLabel}: ${field} is required (${issue.message})`;
}

/** `... is not a known setting`, from whichever origin put it there, with a likely meant one. */
function unknownKey(path: ReadonlyArray<string | number>, ctx: IssueContext): string {
  const field = pathText(path);
  const from = ctx.applied.find(
    (o) => o.path.length === path.length && o.path.every((p, i) => path[i] === p),
  );
  const kind = valueAt(ctx.doc, ['source', 'kind']);
  // A general source setting (TIDEWATCH_SOURCE_*) the selected kind does not have.
  if (from && path[0] === 'source')
    return `${from.origin}: ${field} is not a setting of the ${String(kind)} source`;
  const parent = path.slice(0, -1);
  const siblings = ctx.fields
    .filter(
      (f) =>
        f.path.length === path.length &&
        parent.every((p, i) => f.path[i] === p) &&
        (f.sourceKind === undefined || f.sourceKind === kind),
    )
    .map((f) => f.path[f.path.length - 1] as string);
  const guess = closestName(String(path[path.length - 1]), siblings);
  const hint = guess === undefined ? '' : `; did you mean ${pathText([...parent, guess])}?`;
  return `${from?.origin ?? ctx.fileLabel}: ${field} is not a known setting${hint}`;
}
