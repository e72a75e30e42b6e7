/**
 * Where the threshold lives in the two objects patch mode writes: the HPA's External metric
 * `averageValue` (a quantity) and the ScaledObject trigger's `metadata.threshold` (a float
 * KEDA parses), found by name, plus the object's `resourceVersion` the patch is fenced with.
 */
import { type PatchKind, parseQuantity } from '@tidewatch/conventions';

/** The JSON pointers of the name (for `test`) and the value, and the value now. */
export function locate(
  kind: PatchKind,
  object: unknown,
  triggerName: string,
): { namePath: string; valuePath: string; current: string | undefined; raw: unknown } | string {
  const spec = (object as { spec?: Record<string, unknown> } | null)?.spec;
  if (kind === 'hpa') {
    const metrics = Array.isArray(spec?.metrics)
      ? (spec.metrics as Array<Record<string, any>>)
      : [];
    const i = metrics.findIndex(
      (m) => m?.type === 'External' && m.external?.metric?.name === triggerName,
    );
    if (i < 0) return `no External metric named "${triggerName}"`;
    const t = metrics[i]?.external?.target;
    if (t?.type !== 'AverageValue')
      return `External metric "${triggerName}" has target type ${JSON.stringify(t?.type)}, not "AverageValue"`;
    return {
      namePath: `/spec/metrics/${i}/external/metric/name`,
      valuePath: `/spec/metrics/${i}/external/target/averageValue`,
      current: t.averageValue === undefined ? undefined : String(t.averageValue),
      raw: t.averageValue,
    };
  }
  const triggers = Array.isArray(spec?.triggers)
    ? (spec.triggers as Array<Record<string, any>>)
    : [];
  const i = triggers.findIndex((t) => t?.name === triggerName);
  if (i < 0) return `no trigger named "${triggerName}"`;
  const metadata = triggers[i]?.metadata;
  if (typeof metadata !== 'object' || metadata === null)
    return `trigger "${triggerName}" has no metadata`;
  return {
    namePath: `/spec/triggers/${i}/name`,
    valuePath: `/spec/triggers/${i}/metadata/threshold`,
    current: metadata.threshold === undefined ? undefined : String(metadata.threshold),
    raw: metadata.threshold,
  };
}

/** `metadata.resourceVersion` of a read object, when it has one. */
export function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata
    ?.resourceVersion;
  return typeof rv === 'string' && rv !== '' ? rv : undefined;
}

/** KEDA parses `threshold` as a float; the HPA's `averageValue` is a quantity. */
export function parseThreshold(kind: PatchKind, text: string): number {
  if (kind === 'hpa') return parseQuantity(text);
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
}
