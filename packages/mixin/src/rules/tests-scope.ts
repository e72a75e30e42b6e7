/**
 * The config's selectors as the generated rule tests see them. A test series is either in the
 * scope of a selector (it carries the labels the selector asks for) or a decoy (it breaks a
 * matcher, so the rules must not read it). Only the primary entity of a test (the `chat` fleet,
 * the `chat` HPA, the predictor) is renamed to fit a selector; every other series keeps the
 * labels it has and is in scope or not. Renaming everything once turned the `feed` fleet into
 * more `chat` connections under `ruleSelector: 'job="chat"'`, and the tests expected 500
 * connections where the rules, rightly, counted 540.
 */

/** One label matcher of a selector. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  /** The matcher as written, e.g. `job="chat"`. */
  text: string;
}

const MATCHER = /([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;

/** The matchers of `selector` (`a="1", b=~"x|y"`), in order. */
export function parseSelector(selector: string): Matcher[] {
  return [...selector.matchAll(MATCHER)].map(([text, label = '', op, raw = '']) => ({
    label,
    op: op as Matcher['op'],
    text,
    value: raw.replace(/\\(.)/g, '$1'),
  }));
}

/** Whether `value` passes `m` (a missing label is `""`; regexes are anchored, as in PromQL). */
function passes(m: Matcher, value: string): boolean {
  switch (m.op) {
    case '=':
      return value === m.value;
    case '!=':
      return value !== m.value;
    case '=~':
      return new RegExp(`^(?:${m.value})$`).test(value);
    case '!~':
      return !new RegExp(`^(?:${m.value})$`).test(value);
  }
}

/** Whether a series with `labels` is selected by `selector` (every matcher passes). */
export function matches(selector: string, labels: Readonly<Record<string, string>>): boolean {
  return parseSelector(selector).every((m) => passes(m, labels[m.label] ?? ''));
}

/**
 * Values to try for a regex matcher: `extra`, then the plain words among the regex's `|`
 * alternatives (`chat|feed`; not `ws-.*`, which would match itself as a label value).
 */
function tries(m: Matcher, extra: readonly string[] = []): string[] {
  const words = m.value.split('|').filter((v) => /^[^\\^$*+?()[\]{}]+$/.test(v));
  return [...extra, ...words].filter((v) => v !== '');
}

/** Candidate values per label, for regex matchers. */
export type Candidates = Readonly<Record<string, readonly string[]>>;

/**
 * `preferred` renamed to fit `selector`, for a test's primary entity: the matchers on labels
 * `preferred` has are satisfied (an equality sets the label; a regex keeps the preferred value
 * if it matches, else takes the first matching candidate or alternative of the regex); the
 * matchers on other labels are left to {@link scoped}.
 * @throws Error when no value fits (the config needs hand-written tests then).
 */
export function choose(
  selector: string,
  preferred: Readonly<Record<string, string>>,
  candidates: Candidates = {},
): Record<string, string> {
  const out: Record<string, string> = { ...preferred };
  for (const m of parseSelector(selector)) {
    const current = out[m.label];
    if (current === undefined || passes(m, current)) continue;
    const pick = m.op === '=' ? m.value : tries(m, candidates[m.label]).find((v) => passes(m, v));
    if (pick === undefined || !passes(m, pick))
      throw new Error(`tests: no value of ${m.label} satisfies ${m.text}`);
    out[m.label] = pick;
  }
  return out;
}

/** A series' labels and whether the selector reads it. */
export interface Scoped {
  labels: Record<string, string>;
  inScope: boolean;
}

/**
 * `labels` plus the labels `selector` asks for that they lack (an equality's value, a regex's
 * first matching candidate or alternative). Labels already there are never changed: a series
 * whose own labels break the selector stays out of scope, a decoy as it stands.
 */
export function scoped(
  selector: string,
  labels: Readonly<Record<string, string>>,
  candidates: Candidates = {},
): Scoped {
  const out: Record<string, string> = { ...labels };
  for (const m of parseSelector(selector)) {
    if (out[m.label] !== undefined || passes(m, '')) continue;
    const pick = m.op === '=' ? m.value : tries(m, candidates[m.label]).find((v) => passes(m, v));
    if (pick !== undefined) out[m.label] = pick;
  }
  return { inScope: matches(selector, out), labels: out };
}

/**
 * {@link scoped} for a series that must be read by the rules.
 * @throws Error when its own labels break `selector` (the config needs hand-written tests).
 */
export function inScope(
  selector: string,
  labels: Readonly<Record<string, string>>,
  candidates: Candidates = {},
): Record<string, string> {
  const s = scoped(selector, labels, candidates);
  if (!s.inScope)
    throw new Error(`tests: ${JSON.stringify(s.labels)} is outside the selector ${selector}`);
  return s.labels;
}

/** The labels `absent(<name>{selector})` returns: its equality matchers. */
export function equalityLabels(selector: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of parseSelector(selector)) if (m.op === '=') out[m.label] = m.value;
  return out;
}

/** One way to put a series out of a selector's scope: break one matcher. */
export interface Decoy {
  /** The matcher broken, as written. */
  matcher: string;
  /** The labels of a series in scope, changed so that the matcher fails; `undefined` if impossible. */
  relabel(labels: Readonly<Record<string, string>>): Record<string, string> | undefined;
}

/**
 * One {@link Decoy} per matcher of `selector` (none for an empty selector). A decoy changes one
 * label to a value derived from the matcher and the old value, so distinct series stay distinct.
 */
export function decoys(selector: string): Decoy[] {
  return parseSelector(selector).map((m) => ({
    matcher: m.text,
    relabel(labels) {
      const current = labels[m.label] ?? '';
      const options =
        m.op === '=' || m.op === '=~'
          ? [`decoy-${current || m.label}`, 'decoy']
          : m.op === '!='
            ? [m.value]
            : tries(m);
      const value = options.find((v) => !passes(m, v));
      return value === undefined ? undefined : { ...labels, [m.label]: value };
    },
  }));
}
