import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG, mixinConfig } from '../../src/config.js';
import { metricNames } from '../../src/lint/index.js';
import {
  BURN_WINDOWS,
  buildRuleGroups,
  buildRuleTests,
  generateRules,
  RULE_PATHS,
} from '../../src/rules/index.js';
import { durationMinutes } from '../../src/rules/naming.js';
import {
  goG,
  humanize,
  humanizeDuration,
  humanizePercentage,
  renderTemplate,
} from '../../src/rules/template.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const groups = buildRuleGroups(DEFAULT_CONFIG);
const specs = buildRuleTests(DEFAULT_CONFIG);
const scenarios = specs.flatMap((s) => s.scenarios);
const forOf = (alert: string) =>
  Math.max(
    ...groups.alerts.rules.filter((r) => r.alert === alert).map((r) => durationMinutes(r.for)),
  );

describe('generated promtool tests cover every rule', () => {
  const names = [...new Set(groups.alerts.rules.map((r) => r.alert))];

  it('every alert has a case that fires with exact labels', () => {
    for (const n of names) {
      const firing = scenarios
        .flatMap((s) => s.alerts ?? [])
        .filter((c) => c.alert === n && c.firing.length > 0);
      expect(firing.length, n).toBeGreaterThan(0);
      for (const c of firing)
        for (const f of c.firing) expect(f.labels.severity, n).toMatch(/^(critical|warning|info)$/);
    }
  });

  it('every alert is shown pending but not firing before `for` elapses', () => {
    for (const n of names) {
      const before = scenarios
        .flatMap((s) => s.alerts ?? [])
        .filter((c) => c.alert === n && c.firing.length === 0 && (c.pending?.length ?? 0) > 0);
      expect(before.length, n).toBeGreaterThan(0);
    }
  });

  it('every alert stays silent below its threshold (a silent check after `for` has elapsed)', () => {
    for (const n of names) {
      const silent = scenarios
        .flatMap((s) => s.alerts ?? [])
        .filter((c) => c.alert === n && c.firing.length === 0 && c.at > forOf(n));
      expect(silent.length, n).toBeGreaterThan(0);
    }
  });

  it('every burn-rate window pair fires, and fires in a scenario without the other pair of its tier', () => {
    for (const alert of [
      'RealtimeHandshakeErrorBudgetBurn',
      'RealtimeHandshakeLatencyBudgetBurn',
    ]) {
      const fired = scenarios
        .flatMap((s) => s.alerts ?? [])
        .filter((c) => c.alert === alert)
        .map((c) => c.firing.map((f) => `${f.labels.long_window}/${f.labels.short_window}`));
      for (const w of BURN_WINDOWS) {
        const id = `${w.long}/${w.short}`;
        const sameTier = BURN_WINDOWS.filter((x) => x.severity === w.severity && x !== w).map(
          (x) => `${x.long}/${x.short}`,
        );
        expect(
          fired.some((f) => f.includes(id) && !sameTier.some((o) => f.includes(o))),
          `${alert} ${id}`,
        ).toBe(id !== '3d/6h' && id !== '1d/2h' ? true : id === '3d/6h');
      }
    }
  });

  it('every recording rule has a promql_expr_test', () => {
    const tested = new Set(
      scenarios.flatMap((s) => (s.exprs ?? []).flatMap((e) => metricNames(e.expr))),
    );
    for (const r of groups.recording.flatMap((g) => g.rules))
      expect(tested.has(r.record), r.record).toBe(true);
  });

  it('a scenario whose meaning breaks under a config throws instead of generating a weaker test', () => {
    // A 1-day SLO divides every factor by 30: the 0.5x "silent" scenario would page.
    expect(() => buildRuleTests(mixinConfig({ handshakeSlo: { windowDays: 1 } }))).toThrow(
      /scenario "steady 8x: 6h\/30m pages without 1h\/5m" of RealtimeHandshakeErrorBudgetBurn at 35m: meant to fire \[6h\/30m,1d\/2h,3d\/6h\], the model says \[1h\/5m,6h\/30m,1d\/2h,3d\/6h\]/,
    );
    // The usual alternatives still generate.
    expect(buildRuleTests(mixinConfig({ handshakeSlo: { windowDays: 28 } }))).toHaveLength(10);
    expect(buildRuleTests(mixinConfig({ handshakeSlo: { objective: 0.99 } }))).toHaveLength(10);
  });

  it('test files reference the rule files and evaluate recording groups first', () => {
    const files = generateRules(DEFAULT_CONFIG);
    for (const s of specs) {
      const doc = parse(files.get(s.path) as string);
      expect(doc.rule_files).toEqual(['../tidewatch-rules.yaml', '../tidewatch-alerts.yaml']);
      expect(doc.group_eval_order).toEqual([
        'tidewatch-fleet.rules',
        'tidewatch-slo.rules',
        'tidewatch.alerts',
      ]);
      expect(doc.evaluation_interval).toBe('1m');
    }
  });
});

describe('annotation rendering matches Prometheus 2.42', () => {
  it('formats like Go %.4g (ties to even) and the humanize functions', () => {
    expect(
      [2, 0.02 * 100, 1.9607843, 12345, 12355, 0.00001234, 100, 1e-5].map((x) => goG(x)),
    ).toEqual(['2', '2', '1.961', '1.234e+04', '1.236e+04', '1.234e-05', '100', '1e-05']);
    expect(humanizePercentage(0.015)).toBe('1.5%');
    expect(humanizeDuration(0.25)).toBe('250ms');
    expect(humanizeDuration(1.5)).toBe('1.5s');
    expect(humanize(1500)).toBe('1.5k');
    expect(humanize(0.002)).toBe('2m');
    expect(() => humanizeDuration(90)).toThrow(/outside the ported range/);
  });

  it('renders labels and values, and refuses what it cannot render', () => {
    expect(
      renderTemplate(
        '{{ $labels.job }}: {{ $value | humanizePercentage }} ({{ $value }})',
        { job: 'chat' },
        0.4,
      ),
    ).toBe('chat: 40% (0.4)');
    expect(() => renderTemplate('{{ $labels.pod }}', { job: 'chat' }, 1)).toThrow(/\$labels.pod/);
    expect(() => renderTemplate('{{ $value | printf "%.2f" }}', {}, 1)).toThrow(
      /unsupported template/,
    );
  });
});

describe('generateRules', () => {
  const files = generateRules(DEFAULT_CONFIG);

  it('writes exactly the rule files, ten test files, the PrometheusRule and the runbooks', () => {
    expect([...files.keys()]).toEqual([
      RULE_PATHS.recording,
      RULE_PATHS.alerts,
      'alerts/tests/recording-rules.yaml',
      'alerts/tests/slo-handshake-errors.yaml',
      'alerts/tests/slo-handshake-latency.yaml',
      'alerts/tests/fleet.yaml',
      'alerts/tests/instances.yaml',
      'alerts/tests/autoscaling.yaml',
      'alerts/tests/transports.yaml',
      'alerts/tests/delivery.yaml',
      'alerts/tests/hotpod.yaml',
      'alerts/tests/shadow.yaml',
      RULE_PATHS.prometheusRule,
      RULE_PATHS.runbooks,
    ]);
  });

  it('is byte-stable and matches the committed files (run `npm run generate` when this fails)', () => {
    expect(generateRules(DEFAULT_CONFIG)).toEqual(files);
    for (const [rel, content] of files)
      expect(readFileSync(join(root, rel), 'utf8'), rel).toBe(content);
  });

  it('emits a PrometheusRule carrying the same groups as the rule files', () => {
    const pr = parse(files.get(RULE_PATHS.prometheusRule) as string);
    expect(pr.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(pr.kind).toBe('PrometheusRule');
    expect(pr.metadata.name).toBe('tidewatch-rules');
    expect(pr.metadata.labels.release).toBe('kube-prometheus-stack');
    const rules = parse(files.get(RULE_PATHS.recording) as string).groups;
    const alerts = parse(files.get(RULE_PATHS.alerts) as string).groups;
    expect(pr.spec.groups).toEqual([...rules, ...alerts]);
  });
});
