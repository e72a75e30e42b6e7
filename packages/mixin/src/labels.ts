/**
 * Closed label values as the generated queries, rule tests and runbooks write them, checked
 * against the `@tidewatch/conventions` catalogues: a value the sidecar or the middleware never
 * exports fails to compile here, instead of shipping a panel, alert or runbook query that
 * silently matches nothing.
 */
import { SIGNALS, type SignalKey, type SignalLabel } from '@tidewatch/conventions';

type LabelOf<K extends SignalKey> = (typeof SIGNALS)[K]['labels'][number];

/** Labels of signal `K` that take a closed set of values (e.g. `quantile` of `forecast`). */
export type ClosedSignalLabel<K extends SignalKey> = Extract<
  LabelOf<K>,
  { readonly values: readonly string[] }
>['name'];

/** The values closed label `L` of signal `K` takes, e.g. `'0.5' | '0.9'`. */
export type SignalLabelValue<K extends SignalKey, L extends ClosedSignalLabel<K>> = Extract<
  LabelOf<K>,
  { readonly name: L; readonly values: readonly string[] }
>['values'][number];

/** `label="v"` for one value, `label=~"a|b"` for several. */
function format(label: string, values: readonly string[]): string {
  return values.length === 1 ? `${label}="${values[0]}"` : `${label}=~"${values.join('|')}"`;
}

/** Throws unless every value is in `known`; the types already say so, this covers casts. */
function assertIn(what: string, known: readonly string[], values: readonly string[]): void {
  for (const v of values)
    if (!known.includes(v)) throw new RangeError(`${what} has no value ${JSON.stringify(v)}`);
}

/**
 * A PromQL matcher on `label` for `values` of the closed set `set` (a conventions constant such
 * as `CLOSE_REASONS`): `label="v"` for one value, `label=~"a|b"` for several.
 * @throws RangeError for a value outside `set` (reachable only past the types).
 */
export function matcher<const S extends readonly string[]>(
  label: string,
  set: S,
  ...values: [S[number], ...S[number][]]
): string {
  assertIn(`label ${label}`, set, values);
  return format(label, values);
}

/**
 * `values` of closed label `label` of sidecar signal `key`, as given.
 * @throws RangeError for a value outside the catalogue's set (reachable only past the types).
 */
export function signalValues<K extends SignalKey, L extends ClosedSignalLabel<K>>(
  key: K,
  label: L,
  ...values: SignalLabelValue<K, L>[]
): SignalLabelValue<K, L>[] {
  const spec: SignalLabel | undefined = SIGNALS[key].labels.find((l) => l.name === label);
  assertIn(`${SIGNALS[key].name}{${label}}`, spec?.values ?? [], values);
  return values;
}

/** One value of closed label `label` of sidecar signal `key` (see {@link signalValues}). */
export function signalValue<K extends SignalKey, L extends ClosedSignalLabel<K>>(
  key: K,
  label: L,
  value: SignalLabelValue<K, L>,
): SignalLabelValue<K, L> {
  return signalValues(key, label, value)[0] as SignalLabelValue<K, L>;
}

/** A PromQL matcher on a closed label of sidecar signal `key` (see {@link matcher}). */
export function signalMatcher<K extends SignalKey, L extends ClosedSignalLabel<K>>(
  key: K,
  label: L,
  ...values: [SignalLabelValue<K, L>, ...SignalLabelValue<K, L>[]]
): string {
  return format(label, signalValues(key, label, ...values));
}
