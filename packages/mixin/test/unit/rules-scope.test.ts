/**
 * Selectors in the generated rule tests: which series a selector reads, how the primary entity
 * is renamed to fit it while the others keep their labels, and the decoys that break it. The
 * promtool runs are in test/integration (rules-promtool, config-variants).
 */
import { describe, expect, it } from 'vitest';
import { mixinConfig } from '../../src/config.js';
import { buildRuleTests, generateRules } from '../../src/rules/index.js';
import type { ExprCheck, Scenario } from '../../src/rules/tests-gen.js';
import { choose, decoys, matches, parseSelector, scoped } from '../../src/rules/tests-scope.js';

const scenariosOf = (overrides: Parameters<typeof mixinConfig>[0], file: string): Scenario[] =>
  buildRuleTests(mixinConfig(overrides)).find((s) => s.path.endsWith(file))?.scenarios ?? [];

const connectionsCheck = (scenarios: Scenario[]): ExprCheck | undefined =>
  scenarios[0]?.exprs?.find((e) => e.expr === 'job:realtime_connections:sum');

describe('selector matching', () => {
  it('parses matchers and matches like PromQL (anchored regexes, a missing label is "")', () => {
    expect(parseSelector('job="chat", instance=~"chat-.*", env!="dev"').map((m) => m.op)).toEqual([
      '=',
      '=~',
      '!=',
    ]);
    expect(matches('', { job: 'x' })).toBe(true);
    expect(matches('job=~"chat"', { job: 'chatty' })).toBe(false);
    expect(matches('env!="dev"', { job: 'chat' })).toBe(true);
    expect(matches('env=~"prod|"', { job: 'chat' })).toBe(true);
    expect(matches('job!~"batch|cron"', { job: 'cron' })).toBe(false);
  });

  it('choose renames the preferred labels only, and throws when nothing fits', () => {
    expect(choose('job="feed", namespace="prod"', { job: 'chat' })).toEqual({ job: 'feed' });
    expect(choose('job=~"chat|feed"', { job: 'chat' })).toEqual({ job: 'chat' });
    expect(choose('job=~"web|api"', { job: 'chat' })).toEqual({ job: 'web' });
    expect(choose('job=~"ws-.*"', { job: 'chat' }, { job: ['ws-chat'] })).toEqual({
      job: 'ws-chat',
    });
    expect(() => choose('job=~"ws-.*"', { job: 'chat' })).toThrow(/no value of job satisfies/);
  });

  it('scoped adds what the selector asks for and never renames a label that is there', () => {
    expect(scoped('job="chat", namespace="prod"', { job: 'chat' })).toEqual({
      inScope: true,
      labels: { job: 'chat', namespace: 'prod' },
    });
    expect(scoped('job="chat", namespace="prod"', { job: 'feed' })).toEqual({
      inScope: false,
      labels: { job: 'feed', namespace: 'prod' },
    });
  });

  it('a decoy breaks exactly its matcher and keeps distinct series distinct', () => {
    const selector = 'job="chat", namespace=~"prod|staging", env!="dev", tier!~"batch|cron"';
    const series = [
      { env: 'live', instance: 'a', job: 'chat', namespace: 'prod' },
      { env: 'live', instance: 'b', job: 'chat', namespace: 'staging' },
    ];
    const ds = decoys(selector);
    expect(ds.map((d) => d.matcher)).toEqual(parseSelector(selector).map((m) => m.text));
    for (const d of ds) {
      const moved = series.map((s) => d.relabel(s));
      for (const labels of moved) {
        expect(labels, d.matcher).toBeDefined();
        expect(matches(selector, labels ?? {}), d.matcher).toBe(false);
        const others = parseSelector(selector).filter((m) => m.text !== d.matcher);
        for (const m of others) expect(matches(m.text, labels ?? {}), m.text).toBe(true);
      }
      expect(new Set(moved.map((l) => JSON.stringify(l))).size).toBe(2);
    }
    expect(decoys('job=~".*"')[0]?.relabel({ job: 'chat' })).toBeUndefined();
    expect(decoys('')).toEqual([]);
  });
});

describe('generated rule tests under a rule selector', () => {
  it('job="chat": the feed fleet is out of scope and not expected; decoys join every series', () => {
    const scenarios = scenariosOf({ ruleSelector: 'job="chat"' }, 'recording-rules.yaml');
    expect(connectionsCheck(scenarios)?.samples).toEqual([
      { labels: 'job:realtime_connections:sum{job="chat"}', value: 500 },
    ]);
    const series = scenarios[0]?.series ?? [];
    expect(series.filter((s) => s.labels.job === 'feed')).toHaveLength(1);
    const decoyCount = series.filter((s) => s.labels.job === 'decoy-chat').length;
    expect(decoyCount).toBe(series.filter((s) => s.labels.job === 'chat').length);
  });

  it('job=~"chat|feed": both fleets are read and expected', () => {
    const scenarios = scenariosOf({ ruleSelector: 'job=~"chat|feed"' }, 'recording-rules.yaml');
    expect(connectionsCheck(scenarios)?.samples.map((s) => s.value)).toEqual([500, 40]);
  });

  it('job="feed": the test fleet is feed, and the alerts expect it', () => {
    const scenarios = scenariosOf({ ruleSelector: 'job="feed"' }, 'fleet.yaml');
    const firing = scenarios.flatMap((s) => s.alerts ?? []).flatMap((c) => c.firing);
    expect(firing.length).toBeGreaterThan(0);
    for (const f of firing) expect(f.labels.job).toBe('feed');
  });

  it('every firing alert scenario has a silent copy per broken matcher', () => {
    const ruleSelector = 'namespace="prod", job!="batch"';
    for (const file of ['fleet.yaml', 'instances.yaml', 'slo-handshake-errors.yaml']) {
      const names = scenariosOf({ ruleSelector }, file).map((s) => s.name);
      for (const m of ['namespace="prod"', 'job!="batch"'])
        expect(
          names.some((n) => n.includes(`outside ruleSelector (${m} broken)`)),
          `${file} ${m}`,
        ).toBe(true);
    }
    // The default selector is empty: nothing to break, the committed files have no such copy.
    expect(scenariosOf({}, 'fleet.yaml').some((s) => s.name.includes('outside'))).toBe(false);
  });
});

describe('generated autoscaling tests under HPA and predictor selectors', () => {
  it("the README's hpaSelector: the firing HPA is named to fit, HPAs outside it stay silent", () => {
    const hpaSelector = 'job="kube-state-metrics", horizontalpodautoscaler=~"chat.*"';
    const scenarios = scenariosOf({ hpaSelector }, 'autoscaling.yaml');
    const capacity = scenarios.find((s) => s.name.startsWith('predicted load'));
    const fire = capacity?.alerts?.find((c) => c.firing.length > 0);
    expect(fire?.firing.map((f) => f.labels.target)).toEqual(['chat']);
    expect(capacity?.name).toContain('news all 10 (its HPA outside hpaSelector: silent)');
  });

  it('a predictor in its own namespace: the HPAs share it (the capacity alert joins on it)', () => {
    const predictorSelector = 'job="predictor", namespace="realtime"';
    const scenarios = scenariosOf({ predictorSelector }, 'autoscaling.yaml');
    const namespaces = new Set(
      scenarios.flatMap((s) => s.series.map((x) => x.labels.namespace)).filter(Boolean),
    );
    expect(namespaces).toEqual(new Set(['realtime', 'decoy-realtime']));
  });

  it('refuses a selector that would rename two fixtures into one series', () => {
    // The firing HPA `chat` renamed to `feed` meets the fixture HPA `feed`.
    expect(() =>
      generateRules(mixinConfig({ hpaSelector: 'horizontalpodautoscaler="feed"' })),
    ).toThrow(/has the series .*horizontalpodautoscaler="feed".* twice/);
  });
});
