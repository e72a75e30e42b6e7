/**
 * promtool unit tests generated from TypeScript case definitions, so every threshold, selector
 * and annotation in a test follows the same config as the rules. A case says which series
 * exist and, at given minutes, which alerts fire with which labels and `$value`; the expected
 * annotations are rendered from the rules' own templates (`template.ts`), so a test pins the
 * exact text Prometheus produces.
 */
import type { MixinConfig } from '../config.js';
import { GENERATED_HEADER, sortedRecord, toYaml } from './render.js';
import { renderTemplate } from './template.js';
import { choose, decoys, matches, type Scoped, scoped } from './tests-scope.js';
import type { AlertingRule } from './types.js';

/** One input series: a metric name, labels and promtool's expanding notation (`0+60x30`). */
export interface SeriesSpec {
  name: string;
  labels: Readonly<Record<string, string>>;
  values: string;
}

/** One alert instance expected to fire: its full label set (rule labels too) and `$value`. */
export interface ExpectedAlert {
  labels: Readonly<Record<string, string>>;
  value: number;
}

/**
 * At minute `at`, exactly `firing` instances of `alert` fire (none = it stays silent). With
 * `pending`, exactly those instances are pending then (checked on the `ALERTS` series): this
 * is how a test shows the condition holds but `for` has not elapsed yet.
 */
export interface AlertCheck {
  at: number;
  alert: string;
  firing: ExpectedAlert[];
  pending?: ExpectedAlert[];
}

/** At minute `at`, `expr` returns exactly `samples` (labels in PromQL series notation). */
export interface ExprCheck {
  at: number;
  expr: string;
  samples: Array<{ labels: string; value: number }>;
}

/** One promtool test group: its own series, evaluated from minute 0. */
export interface Scenario {
  name: string;
  series: SeriesSpec[];
  alerts?: AlertCheck[];
  exprs?: ExprCheck[];
}

/** One generated test file (path relative to the repository root). */
export interface TestFileSpec {
  path: string;
  scenarios: Scenario[];
}

/**
 * `alert` fires at `at` exactly with `firing`; at `before` the same instances are pending
 * (the condition holds, `for` has not elapsed) and none fires.
 */
export function checks(
  alert: string,
  firing: AlertCheck['firing'],
  at: number,
  before: number,
): AlertCheck[] {
  return [
    { alert, at: before, firing: [], pending: firing },
    { alert, at, firing, pending: [] },
  ];
}

/** A scenario that fires, plus which of its series stay below the threshold. */
export interface FiringScenario extends Scenario {
  /** Series kept in the derived "below the threshold" scenario. */
  below: (s: SeriesSpec) => boolean;
}

/**
 * Each firing scenario, followed by a copy holding only its `below` series, evaluated at the
 * firing check's minute: with the firing entities gone the alert must stay silent.
 */
export function withBelow(list: ReadonlyArray<FiringScenario | Scenario>): Scenario[] {
  return list.flatMap((sc) => {
    if (!('below' in sc)) return [sc];
    const { below, ...scenario } = sc;
    const fire = scenario.alerts?.find((c) => c.firing.length > 0);
    if (!fire) throw new Error(`tests: scenario "${sc.name}" has no firing check`);
    return [
      scenario,
      {
        alerts: [{ alert: fire.alert, at: fire.at, firing: [] }],
        name: `${fire.alert}: only the series below the threshold (or out of scope): silent`,
        series: scenario.series.filter(below),
      },
    ];
  });
}

/** The selectors the series of a test file are scoped by, named as in the config. */
export type ScopeSelectors = ReadonlyArray<{ field: string; selector: string }>;

/**
 * For every way to break every one of `selectors` (see {@link decoys}): `scenario` with each
 * series that selector reads moved out of its scope. The rules read those series through the
 * selector only, so the firing alert must stay silent; a rule that lost its selector fails
 * here. Ways that move no series (the selector reads none of the scenario's) are skipped.
 */
export function decoyScenarios(selectors: ScopeSelectors, scenario: Scenario): Scenario[] {
  const fire = scenario.alerts?.find((c) => c.firing.length > 0);
  if (!fire) throw new Error(`tests: scenario "${scenario.name}" has no firing check`);
  return selectors.flatMap(({ field, selector }) =>
    decoys(selector).flatMap((d): Scenario[] => {
      let moved = 0;
      const series = scenario.series.map((x) => {
        if (!matches(selector, x.labels)) return x;
        const labels = d.relabel(x.labels);
        if (!labels) return x;
        moved++;
        return { ...x, labels };
      });
      if (moved === 0 || series.some((x) => matches(selector, x.labels))) return [];
      return [
        {
          alerts: [{ alert: fire.alert, at: fire.at, firing: [] }],
          name: `${fire.alert}: the same series outside ${field} (${d.matcher} broken): silent`,
          series,
        },
      ];
    }),
  );
}

/**
 * Each scenario, followed (when it fires an alert not in `except`) by its
 * {@link decoyScenarios}. `except` names alerts that fire on an absence, for which series out
 * of scope mean firing, not silence; their decoys are written by hand.
 */
export function withDecoys(
  selectors: ScopeSelectors,
  list: readonly Scenario[],
  except: readonly string[] = [],
): Scenario[] {
  return list.flatMap((sc) => {
    const fire = sc.alerts?.find((c) => c.firing.length > 0);
    return fire && !except.includes(fire.alert) ? [sc, ...decoyScenarios(selectors, sc)] : [sc];
  });
}

/**
 * Values of the fleet labels in tests: `job` is `chat`, any other label `<label>-a`, renamed
 * to fit `ruleSelector` (a regex tries `feed`, `<label>-b` and its own alternatives).
 */
export function fleetValues(config: MixinConfig): Record<string, string> {
  const preferred = Object.fromEntries(
    config.fleetLabels.map((l) => [l, l === 'job' ? 'chat' : `${l}-a`]),
  );
  const candidates = Object.fromEntries(
    config.fleetLabels.map((l) => [l, l === 'job' ? ['chat', 'feed'] : [`${l}-a`, `${l}-b`]]),
  );
  return choose(config.ruleSelector, preferred, candidates);
}

/**
 * A second fleet, differing from {@link fleetValues} in the first fleet label (`feed` for
 * `job`, else `<label>-b`): in the scope of `ruleSelector` when a value fits, otherwise out of
 * it, and then the rules must ignore it (under `job="chat"` there is no second fleet to count).
 */
export function otherFleet(config: MixinConfig): Scoped {
  const fleet = fleetValues(config);
  const first = config.fleetLabels[0] as string;
  const options = (first === 'job' ? ['feed', 'news'] : [`${first}-b`, `${first}-c`]).filter(
    (v) => v !== fleet[first],
  );
  const scopedOptions = options.map((v) => scoped(config.ruleSelector, { ...fleet, [first]: v }));
  const pick = scopedOptions.find((s) => s.inScope) ?? (scopedOptions[0] as Scoped);
  const labels = Object.fromEntries(config.fleetLabels.map((l) => [l, pick.labels[l] as string]));
  return { inScope: pick.inScope, labels };
}

/** A series in promtool's notation: `name{a="1", b="2"}` (labels sorted). */
export function seriesText(name: string, labels: Readonly<Record<string, string>>): string {
  const body = Object.entries(sortedRecord(labels))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return body === '' ? name : `${name}{${body}}`;
}

/** A gauge holding `v` from minute 0 through `minutes`. */
export function constant(v: number, minutes: number): string {
  return `${v}x${minutes}`;
}

/** A gauge stepping through `[value, samples]` segments, one sample a minute. */
export function steps(segments: ReadonlyArray<readonly [number, number]>): string {
  return segments.map(([v, n]) => `${v}x${n - 1}`).join(' ');
}

/**
 * A counter starting at 0 at minute 0 and then growing by `perMinute` for `minutes` minutes
 * per segment. Starting every counter at 0 keeps `rate()` free of extrapolation differences
 * between series, so ratios are exact.
 */
export function counter(
  segments: ReadonlyArray<readonly [perMinute: number, minutes: number]>,
): string {
  let total = 0;
  const parts = ['0'];
  for (const [inc, n] of segments) {
    if (n <= 0) continue;
    parts.push(`${total + inc}+${inc}x${n - 1}`);
    total += inc * n;
  }
  return parts.join(' ');
}

/** The rule of `alert` whose static labels are all in `labels`. */
function ruleFor(
  rules: readonly AlertingRule[],
  alert: string,
  labels: Readonly<Record<string, string>>,
) {
  const matches = rules.filter(
    (r) => r.alert === alert && Object.entries(r.labels).every(([k, v]) => labels[k] === v),
  );
  if (matches.length !== 1)
    throw new Error(`tests: ${matches.length} rules of ${alert} match ${JSON.stringify(labels)}`);
  return matches[0] as AlertingRule;
}

/** The scenario's expression checks plus one `ALERTS{alertstate="pending"}` check per `pending`. */
function exprChecks(s: Scenario): ExprCheck[] {
  const pending = (s.alerts ?? []).flatMap((c): ExprCheck[] => {
    if (!c.pending) return [];
    const expr = `ALERTS{alertname="${c.alert}", alertstate="pending"}`;
    const samples = c.pending
      .map((p) => ({
        labels: seriesText('ALERTS', { ...p.labels, alertname: c.alert, alertstate: 'pending' }),
        value: 1,
      }))
      .sort((a, b) => (a.labels < b.labels ? -1 : 1));
    return [{ at: c.at, expr, samples }];
  });
  return [...(s.exprs ?? []), ...pending];
}

/** Renders one test file; `rules` supplies the annotation templates, `groupOrder` the evaluation order. */
export function renderTestFile(
  spec: TestFileSpec,
  ruleFiles: readonly string[],
  rules: readonly AlertingRule[],
  groupOrder: readonly string[],
): string {
  const known = new Set(rules.map((r) => r.alert));
  for (const s of spec.scenarios) {
    // Two fixtures renamed into one series (a selector fixing an identity label) would make
    // promtool merge or reject them; say so here instead.
    const texts = s.series.map((x) => seriesText(x.name, x.labels));
    const dup = texts.find((t, i) => texts.indexOf(t) !== i);
    if (dup) throw new Error(`tests: scenario "${s.name}" has the series ${dup} twice`);
  }
  const tests = spec.scenarios.map((s) => ({
    name: s.name,
    interval: '1m',
    input_series: s.series.map((x) => ({ series: seriesText(x.name, x.labels), values: x.values })),
    ...(s.alerts && s.alerts.length > 0
      ? {
          alert_rule_test: s.alerts.map((c) => {
            if (!known.has(c.alert)) throw new Error(`tests: no alert named ${c.alert}`);
            const expected = c.firing
              .map((f) => {
                const rule = ruleFor(rules, c.alert, f.labels);
                const a = rule.annotations;
                return {
                  exp_labels: sortedRecord(f.labels),
                  exp_annotations: {
                    description: renderTemplate(a.description, f.labels, f.value),
                    runbook_url: renderTemplate(a.runbook_url, f.labels, f.value),
                    summary: renderTemplate(a.summary, f.labels, f.value),
                  },
                };
              })
              .sort((x, y) =>
                JSON.stringify(x.exp_labels) < JSON.stringify(y.exp_labels) ? -1 : 1,
              );
            return { eval_time: `${c.at}m`, alertname: c.alert, exp_alerts: expected };
          }),
        }
      : {}),
    ...(exprChecks(s).length > 0
      ? {
          promql_expr_test: exprChecks(s).map((e) => ({
            expr: e.expr,
            eval_time: `${e.at}m`,
            exp_samples: e.samples.map((x) => ({ labels: x.labels, value: x.value })),
          })),
        }
      : {}),
  }));
  return (
    GENERATED_HEADER +
    toYaml({
      rule_files: [...ruleFiles],
      evaluation_interval: '1m',
      // Recording groups first, so alerts read this step's records (promtool's own order is
      // by group name).
      group_eval_order: [...groupOrder],
      tests,
    })
  );
}
