/**
 * RealtimeHotPod's generated rule tests through the real promtool (Debian's prometheus 2.42),
 * under the defaults, a known capacity (the utilisation condition), moved thresholds and a
 * scoped multi-label fleet; and a moved threshold under unchanged tests must fail, so a pass
 * means something. (config-variants.test.ts sets each field alone; this combines them.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promtool } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MixinConfigInput, mixinConfig } from '../../src/config.js';
import { generateRules, RULE_PATHS } from '../../src/rules/index.js';

const TEST_FILE = 'alerts/tests/hotpod.yaml';

const CONFIGS: Readonly<Record<string, MixinConfigInput>> = {
  defaults: {},
  capacity: { capacityPerReplica: 500 },
  'capacity, utilisation 0.8, skew 2.5, minimum 500': {
    capacityPerReplica: 500,
    thresholds: { hotPodMinConnections: 500, hotPodSkewRatio: 2.5, hotPodUtilisation: 0.8 },
  },
  // A capacity so small that the small fleet's hot pod is full: it fires on utilisation only.
  'scoped cluster/job fleet, capacity 200': {
    capacityPerReplica: 200,
    fleetLabels: ['cluster', 'job'],
    ruleSelector: 'namespace="prod", job!="batch"',
  },
};

let root = '';

/** Writes the rule files and the hot-pod tests of `files` under a fresh directory. */
function writeAll(files: Map<string, string>, alerts = files.get(RULE_PATHS.alerts) as string) {
  const dir = mkdtempSync(join(root, 'hotpod-'));
  for (const [rel, content] of [
    [RULE_PATHS.recording, files.get(RULE_PATHS.recording) as string],
    [RULE_PATHS.alerts, alerts],
    [TEST_FILE, files.get(TEST_FILE) as string],
  ] as const) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tidewatch-hotpod-'));
});
afterAll(() => {
  if (root) rmSync(root, { force: true, recursive: true });
});

describe('RealtimeHotPod rule tests through promtool', () => {
  it.each(Object.entries(CONFIGS))('%s: check rules and test rules pass', async (_, input) => {
    const files = generateRules(mixinConfig(input));
    const dir = writeAll(files);
    const check = await promtool(
      ['check', 'rules', '--lint=all', '--lint-fatal', RULE_PATHS.recording, RULE_PATHS.alerts],
      { cwd: dir },
    );
    expect(check.code, check.stdout + check.stderr).toBe(0);
    const test = await promtool(['test', 'rules', TEST_FILE], { cwd: dir });
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/hotpod\.yaml\n +SUCCESS/);
  });

  it('fails when the skew or utilisation threshold moves under unchanged tests', async () => {
    const files = generateRules(mixinConfig({ capacityPerReplica: 500 }));
    const alerts = files.get(RULE_PATHS.alerts) as string;
    for (const [from, to] of [
      ['_hottest_per_average:ratio > 1.5', '_hottest_per_average:ratio > 2.5'],
      ['_hottest_per_capacity:ratio > 0.9', '_hottest_per_capacity:ratio > 0.95'],
    ] as const) {
      expect(alerts).toContain(from);
      const dir = writeAll(files, alerts.replace(from, to));
      const r = await promtool(['test', 'rules', TEST_FILE], { cwd: dir });
      expect(r.code, from).not.toBe(0);
      expect(r.stdout + r.stderr, from).toContain('alertname: RealtimeHotPod');
    }
  });
});
