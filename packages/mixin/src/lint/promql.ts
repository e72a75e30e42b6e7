/**
 * PromQL analysis for the linter and the phantom-metric check, on top of
 * `@prometheus-io/lezer-promql` (the grammar of Prometheus' own web UI). Grafana variables
 * are not PromQL, so they are replaced first, as dashboard-linter does: the interval
 * variables by "magic" durations that cannot occur by accident (so a rule can tell
 * `[$__rate_interval]` from a literal `[5m]`), label-value variables stay inside their
 * quoted strings, where they are already valid.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** A node of lezer's syntax tree (typed through the parser, @lezer/common is not a direct dependency). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** Magic durations standing in for Grafana's interval variables (dashboard-linter's values). */
export const MAGIC_DURATIONS: Readonly<Record<string, string>> = Object.freeze({
  __interval: '4867856611ms',
  __range: '6066356400ms',
  __rate_interval: '8869990787ms',
});

/** Magic numbers standing in for Grafana's numeric time variables. */
const MAGIC_NUMBERS: Readonly<Record<string, string>> = Object.freeze({
  __interval_ms: '4867856611',
  __range_ms: '6066356400',
  __range_s: '6066356',
});

/** A label matcher of a selector. */
export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

/** A vector selector (`name{...}`), possibly inside a range. */
export interface SelectorInfo {
  /** The metric name, from the identifier or an `__name__="..."` matcher; undefined if none. */
  name: string | undefined;
  matchers: Matcher[];
  /** The range of the enclosing `[...]` (MatrixSelector), if any, as written after expansion. */
  range: string | undefined;
  /** Name of the function directly applied to the range (e.g. `rate`), if any. */
  rangeFunction: string | undefined;
  /** The selector's source text. */
  text: string;
}

/** A range: `x[5m]` (matrix) or `expr[5m:1m]` (subquery). */
export interface RangeInfo {
  kind: 'matrix' | 'subquery';
  /** The duration as written after expansion. */
  duration: string;
  /** True when the duration is `$__rate_interval`. */
  isRateInterval: boolean;
  text: string;
}

/** What {@link analysePromql} finds in one expression. */
export interface PromqlAnalysis {
  /** The expression after variable expansion (what was parsed). */
  expanded: string;
  /** Syntax errors, each with the offending position and text; empty when it parsed. */
  errors: string[];
  selectors: SelectorInfo[];
  ranges: RangeInfo[];
}

/**
 * Expands Grafana variables the way the linter needs: interval variables to magic values,
 * `$var`/`${var}` elsewhere left alone (inside a quoted label value they are valid PromQL).
 */
export function expandForLint(expr: string): string {
  return expr.replace(
    /\$\{(\w+)(?::[\w-]+)?\}|\$(\w+)/g,
    (whole, braced?: string, bare?: string) => {
      const name = braced ?? bare ?? '';
      return MAGIC_DURATIONS[name] ?? MAGIC_NUMBERS[name] ?? whole;
    },
  );
}

/** Parses `expr` (after {@link expandForLint}) and collects selectors, ranges and errors. */
export function analysePromql(expr: string): PromqlAnalysis {
  const expanded = expandForLint(expr);
  const tree = parser.parse(expanded);
  const errors: string[] = [];
  const selectors: SelectorInfo[] = [];
  const ranges: RangeInfo[] = [];
  const text = (n: SyntaxNode) => expanded.slice(n.from, n.to);
  if (expanded.trim() === '') errors.push('empty expression');
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (ref.type.isError) {
        // No offset: it would count in the expanded text, not in the query the user wrote.
        errors.push(
          ref.from >= expanded.trimEnd().length
            ? 'syntax error: unexpected end of expression'
            : `syntax error near "${expanded.slice(ref.from, ref.from + 20)}"`,
        );
        return;
      }
      if (ref.name === 'VectorSelector') selectors.push(selectorInfo(node, text));
      else if (ref.name === 'MatrixSelector' || ref.name === 'SubqueryExpr') {
        const duration = node.getChild('DurationExpr');
        const d = duration ? text(duration) : '';
        ranges.push({
          duration: d,
          isRateInterval: d === MAGIC_DURATIONS.__rate_interval,
          kind: ref.name === 'MatrixSelector' ? 'matrix' : 'subquery',
          text: text(node),
        });
      }
    },
  });
  return { errors, expanded, ranges, selectors };
}

function selectorInfo(node: SyntaxNode, text: (n: SyntaxNode) => string): SelectorInfo {
  const matchers: Matcher[] = [];
  const list = node.getChild('LabelMatchers');
  for (const m of list
    ? [...list.getChildren('UnquotedLabelMatcher'), ...list.getChildren('QuotedLabelMatcher')]
    : []) {
    const labelNode = m.getChild('LabelName') ?? m.getChild('QuotedLabelName');
    const opNode = m.getChild('MatchOp');
    const valueNode = m.lastChild;
    if (!labelNode || !opNode || !valueNode || valueNode.name !== 'StringLiteral') continue;
    const rawLabel = text(labelNode);
    matchers.push({
      label: labelNode.name === 'QuotedLabelName' ? unquote(rawLabel) : rawLabel,
      op: text(opNode) as Matcher['op'],
      value: unquote(text(valueNode)),
    });
  }
  const ident = node.getChild('Identifier');
  const name = ident
    ? text(ident)
    : matchers.find((m) => m.label === '__name__' && m.op === '=')?.value;
  let range: string | undefined;
  let rangeFunction: string | undefined;
  const parent = node.parent;
  if (parent?.name === 'MatrixSelector') {
    const d = parent.getChild('DurationExpr');
    range = d ? text(d) : '';
    // MatrixSelector -> FunctionCallBody -> FunctionCall(FunctionIdentifier ...)
    const call = parent.parent?.name === 'FunctionCallBody' ? parent.parent.parent : null;
    const id = call?.name === 'FunctionCall' ? call.getChild('FunctionIdentifier') : null;
    rangeFunction = id ? text(id) : undefined;
  }
  return { matchers, name, range, rangeFunction, text: text(node) };
}

/** The value of a PromQL string literal ("...", '...' or `...`). */
function unquote(literal: string): string {
  const q = literal[0];
  const body = literal.slice(1, literal.endsWith(q ?? '') && literal.length > 1 ? -1 : undefined);
  if (q === '`') return body;
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' })[c] ?? c);
}

/**
 * Metric names an expression reads (sorted, unique). A selector without a literal name
 * (`{__name__=~"..."}`) yields nothing here; {@link analysePromql} still lists it.
 */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const s of analysePromql(expr).selectors) if (s.name) names.add(s.name);
  return [...names].sort();
}
