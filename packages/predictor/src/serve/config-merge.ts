/**
 * The one precedence of the sidecar's settings, field by field: flag > environment > file >
 * default. A flag that sets the source's URLs leaves the token from the environment or the
 * file in place. The exception is the source's kind: the highest origin that selects one
 * (`--scrape`, `TIDEWATCH_PROMETHEUS_URL`, the file's `source.kind`) decides it, and then
 * - the file's `source` block, written for another kind, does not apply at all;
 * - a lower origin's settings of another kind (`TIDEWATCH_SCRAPE_TYPE` under `--prometheus`)
 *   are ignored, with a warning;
 * - settings of another kind from the same or a higher origin are errors, and so are two
 *   kinds selected by one origin.
 * General source settings (`TIDEWATCH_SOURCE_*`) apply to whichever kind is selected.
 */
import { shown } from '../fields.js';
import { isRecord, pathText, setPath } from './config-fields.js';
import type { ConfigOverride } from './config-overrides.js';

/** What {@link mergeSettings} made of the layers. */
export interface MergedSettings {
  /** The config document with every applicable override set (not yet validated). */
  readonly doc: Record<string, unknown>;
  /** The overrides that were set, in the order they were (the last one of a path won). */
  readonly applied: readonly ConfigOverride[];
  /** Contradictions no precedence resolves, one line each, naming the origins. */
  readonly issues: readonly string[];
  /** Settings that were given but do not apply, one line each. */
  readonly warnings: readonly string[];
  /** Whether any origin gives a source (else "source is required" says how to). */
  readonly hasSource: boolean;
}

/** The file is rank 0. */
const RANK = { env: 1, flag: 2 } as const;
const rankOf = (o: ConfigOverride) => RANK[o.level ?? 'flag'];

/** The selected source kind and who selected it. */
interface Selection {
  kind: string;
  origin: string;
  rank: number;
}

/**
 * Merges the file's document and the overrides by precedence (see the module comment).
 * @param file - The config file's content (not modified).
 * @param fileLabel - How messages name the file: its path, or `config`.
 */
export function mergeSettings(
  file: Record<string, unknown>,
  overrides: readonly ConfigOverride[],
  fileLabel: string,
): MergedSettings {
  const doc = structuredClone(file);
  const issues: string[] = [];
  const warnings: string[] = [];
  // Stable: overrides of one rank keep the order they were given in.
  const ranked = overrides
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rankOf(a.o) - rankOf(b.o) || a.i - b.i)
    .map(({ o }) => o);

  const fileKind = isRecord(doc.source) ? doc.source.kind : undefined;
  let selection: Selection | undefined =
    typeof fileKind === 'string'
      ? { kind: fileKind, origin: `${fileLabel}: source.kind`, rank: 0 }
      : undefined;
  for (const o of ranked) {
    if (o.sourceKind === undefined) continue;
    const rank = rankOf(o);
    if (selection && selection.rank === rank && selection.kind !== o.sourceKind)
      issues.push(
        `${o.origin}: ${pathText(o.path)} (${o.sourceKind}) cannot be combined with ${selection.origin} (${selection.kind}); configure one source`,
      );
    else if (!selection || rank > selection.rank)
      selection = { kind: o.sourceKind, origin: o.origin, rank };
  }

  if (selection && selection.rank > 0) {
    if (doc.source === undefined) doc.source = { kind: selection.kind };
    else if (!isRecord(doc.source))
      issues.push(`${fileLabel}: source must be an object of settings, got ${shown(doc.source)}`);
    else if (fileKind !== undefined && fileKind !== selection.kind) {
      warnings.push(
        `${fileLabel}: source (kind ${shown(fileKind)}) ignored: ${selection.origin} selects the ${selection.kind} source`,
      );
      doc.source = { kind: selection.kind };
    } else doc.source.kind = selection.kind;
  }

  const applied: ConfigOverride[] = [];
  for (const o of ranked) {
    if (selection && o.appliesTo !== undefined && o.appliesTo !== selection.kind) {
      if (rankOf(o) < selection.rank)
        warnings.push(
          `${o.origin} ignored: ${selection.origin} selects the ${selection.kind} source`,
        );
      // A selector of another kind from the selecting origin is already reported above.
      else if (o.sourceKind === undefined)
        issues.push(
          `${o.origin}: ${pathText(o.path)} applies to the ${o.appliesTo} source only, but ${selection.origin} selects the ${selection.kind} source`,
        );
      continue;
    }
    setPath(doc, o.path, o.value);
    applied.push(o);
  }
  return { doc, applied, issues, warnings, hasSource: selection !== undefined || 'source' in file };
}
