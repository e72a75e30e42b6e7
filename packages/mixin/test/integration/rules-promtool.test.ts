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
import { DEFAULT_CONFIG } from '../../src/config.js';
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
    expect(r.stdout).toContain('SUCCESS: 23 rules found');
    expect(r.stdout).toContain('SUCCESS: 20 rules found');
  });

  it('passes on the groups of deploy/prometheusrule.yaml', async () => {
    const manifest = parse(files.get(RULE_PATHS.prometheusRule) as string);
    const file = put('prometheusrule-spec.yaml', stringify(manifest.spec));
    const r = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('SUCCESS: 43 rules found');
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
  it('generates six test files', () => {
    expect(testFiles.map((p) => p.split('/').at(-1))).toEqual([
      'recording-rules.yaml',
      'slo-handshake-errors.yaml',
      'slo-handshake-latency.yaml',
      'fleet.yaml',
      'instances.yaml',
      'autoscaling.yaml',
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
