/**
 * The dashboard linter: dashboard-linter's rules ported to TypeScript, and the PromQL
 * analysis they (and the phantom-metric check) run on.
 */
import type { DashboardJson } from '../grafana/types.js';
import { LINT_RULES, type LintProblem } from './rules.js';

export {
  analysePromql,
  expandForLint,
  MAGIC_DURATIONS,
  type Matcher,
  metricNames,
  type PromqlAnalysis,
  type RangeInfo,
  type SelectorInfo,
} from './promql.js';
export { allPanels, LINT_RULES, type LintProblem, type LintRule, VALID_UNITS } from './rules.js';

/** Options of {@link lintDashboard}. */
export interface LintOptions {
  /** Run only these rules (by name). Default: all of {@link LINT_RULES}. */
  rules?: readonly string[];
}

/**
 * Runs the linter rules over one dashboard.
 * @returns The problems found, in rule order; empty when the dashboard passes.
 * @throws RangeError naming an unknown rule in `options.rules`.
 */
export function lintDashboard(dashboard: DashboardJson, options: LintOptions = {}): LintProblem[] {
  const names = options.rules;
  if (names) {
    const known = new Set(LINT_RULES.map((r) => r.name));
    const unknown = names.filter((n) => !known.has(n));
    if (unknown.length > 0)
      throw new RangeError(`lintDashboard: unknown rule(s) ${unknown.join(', ')}`);
  }
  return LINT_RULES.filter((r) => !names || names.includes(r.name)).flatMap((r) =>
    r.check(dashboard),
  );
}
