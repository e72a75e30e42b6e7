/**
 * The generated rules and their unit tests through the REAL promtool (Debian's prometheus
 * 2.42): lint-clean rule files, every generated test file passing, and broken rules and
 * broken tests failing, so a pass means something.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promtool } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_CONFIG, type MixinConfigInput, mixinConfig } from '../../src/config.js';
import { generateRules, RULE_PATHS } from '../../src/rules/index.js';

const files = generateRules(DEFAULT_CONFIG);
const testFiles = [...files.keys()].filter((p) => p.startsWith(`${RULE_PATHS.testsDir}/`));
let dir = '';

/** Writes `content` at `rel` under the temp root and returns its absolute path. */
function put(rel: string, content: string): string {
  const file = join(dir, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tidewatch-rules-'));
  for (const [rel, content] of files) put(rel, content);
});
afterAll(() => {
  if (dir) rmSync(dir, { force: true, recursive: true });
});

describe('promtool check rules --lint=all --lint-fatal', () => {
  it('passes on the recording and alert rule files', async () => {
    const r = await promtool([
      'check',
      'rules',
      '--lint=all',
      '--lint-fatal',
      join(dir, RULE_PATHS.recording),
      join(dir, RULE_PATHS.alerts),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 32 rules found');
    expect(r.stdout).toContain('SUCCESS: 25 rules found');
  });

  it('passes on the groups of deploy/prometheusrule.yaml', async () => {
    const manifest = parse(files.get(RULE_PATHS.prometheusRule) as string);
    const file = put('prometheusrule-spec.yaml', stringify(manifest.spec));
    const r = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 57 rules found');
  });

  it('fails on a duplicated rule (the lint is fatal) and on a bad expression', async () => {
    const alerts = parse(files.get(RULE_PATHS.alerts) as string);
    const group = alerts.groups[0];
    group.rules.push(group.rules.at(-1));
    const dup = await promtool([
      'check',
      'rules',
      '--lint=all',
      '--lint-fatal',
      put('broken/dup.yaml', stringify(alerts)),
    ]);
    expect(dup.code).not.toBe(0);
    expect(`${dup.stdout}${dup.stderr}`).toMatch(/duplicate/i);

    const bad = parse(files.get(RULE_PATHS.recording) as string);
    bad.groups[0].rules[0].expr = 'sum by (job) (rate(realtime_connections_opened_total[5m])';
    const syntax = await promtool(['check', 'rules', put('broken/syntax.yaml', stringify(bad))]);
    expect(syntax.code).toBe(1);
    expect(syntax.stderr).toMatch(/unclosed left parenthesis/);
  });
});

describe('promtool test rules', () => {
  it('generates ten test files', () => {
    expect(testFiles.map((p) => p.split('/').at(-1))).toEqual([
      'recording-rules.yaml',
      'slo-handshake-errors.yaml',
      'slo-handshake-latency.yaml',
      'fleet.yaml',
      'instances.yaml',
      'autoscaling.yaml',
      'transports.yaml',
      'delivery.yaml',
      'hotpod.yaml',
      'shadow.yaml',
    ]);
  });

  it.concurrent.each(testFiles)('%s passes', async (rel) => {
    const r = await promtool(['test', 'rules', join(dir, rel)], { timeoutMs: 60_000 });
    expect(r.stdout.replace(/\s+/g, ' ').trim()).toBe(`Unit Testing: ${join(dir, rel)} SUCCESS`);
    expect(r.code).toBe(0);
  });

  it('fails when an expected annotation is wrong (the tests compare rendered text)', async () => {
    const text = (files.get('alerts/tests/fleet.yaml') as string).replace(
      'summary: chat lost 40% of its connections',
      'summary: chat lost 41% of its connections',
    );
    expect(text).not.toBe(files.get('alerts/tests/fleet.yaml'));
    const r = await promtool([
      'test',
      'rules',
      put(`${RULE_PATHS.testsDir}/broken-annotation.yaml`, text),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAILED');
    expect(r.stderr).toContain('chat lost 41% of its connections');
  });

  it('fails when a rule changes under unchanged tests (a threshold moved)', async () => {
    const alerts = (files.get(RULE_PATHS.alerts) as string).replace(
      '  / max_over_time(job:realtime_connections:sum[10m])\n            > 0.25',
      '  / max_over_time(job:realtime_connections:sum[10m])\n            > 0.5',
    );
    expect(alerts).not.toBe(files.get(RULE_PATHS.alerts));
    put('moved/tidewatch-alerts.yaml', alerts);
    put('moved/tidewatch-rules.yaml', files.get(RULE_PATHS.recording) as string);
    const test = put('moved/tests/fleet.yaml', files.get('alerts/tests/fleet.yaml') as string);
    const r = await promtool(['test', 'rules', test]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('alertname: RealtimeMassDisconnect, time: 25m');
  });

  it('fails when an expected recording-rule value is wrong', async () => {
    const text = (files.get('alerts/tests/recording-rules.yaml') as string).replace(
      /(labels: job:realtime_connections:sum\{job="chat"\}\n\s+value: )500/,
      '$1501',
    );
    expect(text).not.toBe(files.get('alerts/tests/recording-rules.yaml'));
    const r = await promtool([
      'test',
      'rules',
      put(`${RULE_PATHS.testsDir}/broken-record.yaml`, text),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('expr: "job:realtime_connections:sum"');
  });
});

describe('the generated tests prove the selectors (decoy series)', () => {
  /**
   * The tests generated under `tested`, run against the rules generated under `rules`: the
   * same rules except for their selectors. Returns promtool's failure report and which test
   * files passed (promtool writes `Unit Testing: <file>` and `SUCCESS` to stdout, the failures
   * to stderr).
   */
  async function crossRun(name: string, tested: MixinConfigInput, rules: MixinConfigInput) {
    const tests = generateRules(mixinConfig(tested));
    const loose = generateRules(mixinConfig(rules));
    for (const p of [RULE_PATHS.recording, RULE_PATHS.alerts])
      put(`${name}/${p.split('/').at(-1)}`, loose.get(p) as string);
    const files = [...tests.keys()]
      .filter((p) => p.startsWith(`${RULE_PATHS.testsDir}/`))
      .map((p) => {
        let text = tests.get(p) as string;
        // Of the slow SLO files only their decoy scenarios: the rest is what the suite above runs.
        if (p.includes('/slo-')) {
          const doc = parse(text);
          doc.tests = doc.tests.filter((t: { name: string }) => t.name.includes(' outside '));
          text = stringify(doc);
        }
        return put(`${name}/tests/${p.split('/').at(-1)}`, text);
      });
    const r = await promtool(['test', 'rules', ...files], { timeoutMs: 60_000 });
    const passed = (file: string) =>
      new RegExp(`Unit Testing: +\\S*/${file.replace('.', '\\.')}\\n +SUCCESS`).test(r.stdout);
    return { failures: r.stderr, passed };
  }

  it('rules without ruleSelector fail the tests generated for job="chat"', async () => {
    const { failures: out, passed } = await crossRun(
      'no-rule-selector',
      { ruleSelector: 'job="chat"' },
      {},
    );
    // Every recording rule counts the decoys, every alert fires on them.
    for (const f of ['recording-rules', 'fleet', 'instances', 'slo-handshake-errors'])
      expect(passed(`${f}.yaml`), f).toBe(false);
    expect(out).toContain('expr: "job:realtime_connections:sum"');
    expect(out).toContain('expr: "job:realtime_handshake_failures_per_attempts:ratio_rate3d"');
    for (const alert of ['RealtimeMassDisconnect', 'RealtimeSlowConsumers', 'RealtimeTargetDown'])
      expect(out).toContain(`name: ${alert}: the same series outside ruleSelector`);
    expect(out).toContain('name: metrics absent: fires while the only connections are outside');
    for (const alert of ['RealtimeHandshakeErrorBudgetBurn', 'RealtimeHandshakeLatencyBudgetBurn'])
      expect(out).toContain(`name: ${alert}: the same series outside ruleSelector`);
    expect(passed('autoscaling.yaml')).toBe(true);
  });

  it('rules without hpaSelector and predictorSelector fail the default autoscaling tests', async () => {
    const { failures: out, passed } = await crossRun(
      'no-hpa-selector',
      {},
      { hpaSelector: '', predictorSelector: '' },
    );
    expect(passed('autoscaling.yaml')).toBe(false);
    for (const [alert, field] of [
      ['RealtimeAutoscalerMaxedOut', 'hpaSelector'],
      ['TidewatchPredictedLoadAboveCapacity', 'predictorSelector'],
      ['TidewatchForecastStale', 'predictorSelector'],
    ])
      expect(out).toContain(`name: ${alert}: the same series outside ${field}`);
    expect(passed('recording-rules.yaml')).toBe(true);
    expect(passed('fleet.yaml')).toBe(true);
  });
});
