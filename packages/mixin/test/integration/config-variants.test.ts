/**
 * Every config field, set on its own to a non-default value, still gives rule files that pass
 * `promtool check rules --lint=all --lint-fatal` and rule tests that pass `promtool test rules`:
 * the generated tests follow the config, they do not only hold for the defaults. The fields are
 * walked from DEFAULT_CONFIG, so a field added without a row in VARIANTS fails here.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promtool } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  type MixinConfig,
  type MixinConfigInput,
  mixinConfig,
} from '../../src/config.js';
import { buildRuleGroups, generateRules, RULE_PATHS } from '../../src/rules/index.js';

/**
 * Non-default values per config field (dotted path for the nested groups). Selectors take the
 * forms users write: an equality on a fleet label (the one that once broke the tests), a
 * non-fleet label with a negative matcher, the README's HPA example with a regex on the HPA
 * name, and a predictor scoped to a namespace.
 */
const VARIANTS: Readonly<Record<string, readonly unknown[]>> = {
  metricPrefix: ['ws_'],
  serverSelector: ['job="chat", instance=~"chat-.*"'],
  ruleSelector: ['job="chat"', 'namespace="prod", job!="batch"'],
  predictorSelector: ['job="predictor", namespace="realtime"'],
  hpaSelector: ['job="kube-state-metrics", horizontalpodautoscaler=~"chat.*"'],
  fleetLabels: [['cluster', 'job']],
  // A known capacity adds the utilisation record, rule and scenarios.
  capacityPerReplica: [500],
  runbookUrlPattern: ['https://runbooks.example.com/realtime/{{alertname}}.html'],
  'handshakeSlo.objective': [0.995],
  'handshakeSlo.windowDays': [28],
  'handshakeLatencySlo.objective': [0.995],
  'handshakeLatencySlo.windowDays': [28],
  'handshakeLatencySlo.thresholdSeconds': [0.5],
  'thresholds.massDisconnectRatio': [0.5],
  'thresholds.massDisconnectMinConnections': [500],
  'thresholds.drainExplainedRatio': [0.8],
  'thresholds.abnormalCloseRatio': [0.1],
  'thresholds.droppedMessageRatio': [0.05],
  'thresholds.slowConsumers': [50],
  'thresholds.heartbeatTimeoutsPerSecond': [5],
  'thresholds.eventLoopLagSeconds': [0.5],
  'thresholds.fdRatio': [0.9],
  'thresholds.forecastAgeSeconds': [600],
  'thresholds.proxyCutRatio': [0.7],
  'thresholds.proxyCutMinCloses': [500],
  'thresholds.deliveryLagSeconds': [2.5],
  'thresholds.brokerErrorsPerSecond': [1],
  'thresholds.shadowPreventedPodMinutes': [150],
  'thresholds.hotPodSkewRatio': [2.5],
  'thresholds.hotPodMinConnections': [500],
  'thresholds.hotPodUtilisation': [0.8],
  'grafana.titlePrefix': ['Realtime / '],
  'grafana.uidPrefix': ['rt-'],
  'grafana.tags': [['realtime']],
  'grafana.refresh': ['1m'],
  'grafana.from': ['now-24h'],
};

/** How many variants run promtool at once (the CI machines have two cores). */
const PARALLEL = 2;

/** Dotted paths of the config's leaves: nested plain objects are walked, arrays are values. */
function leafPaths(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, prefix ? `${prefix}.${k}` : k));
}

/** The value at a dotted path. */
function valueAt(obj: unknown, path: string): unknown {
  return path.split('.').reduce((o, k) => (o as Record<string, unknown>)[k], obj);
}

/** The overrides setting only `path` to `value`. */
function override(path: string, value: unknown): MixinConfigInput {
  const [head = '', leaf] = path.split('.');
  return (
    leaf === undefined ? { [head]: value } : { [head]: { [leaf]: value } }
  ) as MixinConfigInput;
}

/** A limiter: at most `n` of the functions passed run at once. */
function limit(n: number) {
  let active = 0;
  const queue: Array<() => void> = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      queue.shift()?.();
    }
  };
}

/** promtool's verdict on one file. */
interface Verdict {
  passed: boolean;
  output: string;
}

interface Variant {
  name: string;
  path: string;
  value: unknown;
}

const fields = leafPaths(DEFAULT_CONFIG);
const variants: Variant[] = fields.flatMap((path) =>
  (VARIANTS[path] ?? []).map((value) => ({
    name: `${path} = ${JSON.stringify(value)}`,
    path,
    value,
  })),
);

const hash = (...parts: string[]) =>
  createHash('sha256').update(JSON.stringify(parts)).digest('hex');

/**
 * What decides promtool's verdict on a test file: the file, the recording rules, and the alert
 * rules it names. The other alert rules only write ALERTS series of other names, which no rule
 * reads (asserted per variant) and no check of the file queries; so a test file whose inputs
 * another variant already had is not run again (a threshold of one alert reruns only its file).
 */
function testKey(test: string, config: MixinConfig, files: Map<string, string>): string {
  // Over-inclusive on purpose: any mention of an alert's name keeps its rule in the key.
  const named = buildRuleGroups(config).alerts.rules.filter((r) => test.includes(r.alert));
  return hash(test, files.get(RULE_PATHS.recording) as string, JSON.stringify(named));
}

let root = '';
/** Verdicts by key: rule-file checks by the rule files, test files by {@link testKey}. */
const verdicts = new Map<string, Promise<Verdict>>();
/** Per variant: the verdicts on its rule files and each of its test files. */
const outcomes = new Map<string, Promise<Array<[file: string, verdict: Verdict]>>>();

/** Writes `files` under a fresh directory, for promtool to read with relative paths. */
function writeAll(files: Map<string, string>): string {
  const dir = mkdtempSync(join(root, 'variant-'));
  for (const [rel, content] of files) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
  return dir;
}

/** Starts (or reuses) promtool's verdicts on the rules and rule tests of `config`. */
function schedule(config: MixinConfig, run: ReturnType<typeof limit>) {
  const files = generateRules(config);
  const rules = [RULE_PATHS.recording, RULE_PATHS.alerts];
  const tests = [...files.keys()].filter((p) => p.startsWith(`${RULE_PATHS.testsDir}/`));
  const keys = new Map(tests.map((t) => [t, testKey(files.get(t) as string, config, files)]));
  const checkKey = hash(...rules.map((r) => files.get(r) as string));
  const fresh = tests.filter((t) => !verdicts.has(keys.get(t) as string));
  if (fresh.length > 0 || !verdicts.has(checkKey)) {
    const dir = writeAll(files);
    if (!verdicts.has(checkKey))
      verdicts.set(
        checkKey,
        run(async () => {
          const r = await promtool(['check', 'rules', '--lint=all', '--lint-fatal', ...rules], {
            cwd: dir,
          });
          return { output: r.stdout + r.stderr, passed: r.code === 0 };
        }),
      );
    if (fresh.length > 0) {
      // The variant's new test files in one invocation; per file, stdout says `SUCCESS`.
      const result = run(() =>
        promtool(['test', 'rules', ...fresh], { cwd: dir, timeoutMs: 240_000 }),
      );
      for (const t of fresh)
        verdicts.set(
          keys.get(t) as string,
          result.then((r) => ({
            output: r.stdout + r.stderr,
            passed: new RegExp(`Unit Testing: +${t.replaceAll('.', '\\.')}\\n +SUCCESS`).test(
              r.stdout,
            ),
          })),
        );
    }
  }
  const all: Array<[string, Promise<Verdict>]> = [
    ['promtool check rules', verdicts.get(checkKey) as Promise<Verdict>],
    ...tests.map((t): [string, Promise<Verdict>] => [
      t,
      verdicts.get(keys.get(t) as string) as Promise<Verdict>,
    ]),
  ];
  return Promise.all(all.map(async ([f, v]): Promise<[string, Verdict]> => [f, await v]));
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tidewatch-variants-'));
  const run = limit(PARALLEL);
  for (const v of variants) {
    let outcome: Promise<Array<[string, Verdict]>>;
    try {
      outcome = schedule(mixinConfig(override(v.path, v.value)), run);
    } catch {
      continue; // reported by the variant's own test, which generates again
    }
    // Observed here so that a rejection waits for its test instead of being unhandled.
    outcome.catch(() => {});
    outcomes.set(v.name, outcome);
  }
});
afterAll(() => {
  if (root) rmSync(root, { force: true, recursive: true });
});

describe('config variants', () => {
  it('has non-default values for exactly the fields of DEFAULT_CONFIG', () => {
    expect(Object.keys(VARIANTS).sort()).toEqual([...fields].sort());
    for (const [path, values] of Object.entries(VARIANTS)) {
      expect(values.length, path).toBeGreaterThan(0);
      for (const v of values) expect(v, path).not.toEqual(valueAt(DEFAULT_CONFIG, path));
    }
  });

  // Sequential: each test awaits runs started in beforeAll, so no test's time includes a
  // queue of others. Generous timeout: promtool shares two cores with the rest of the suite.
  it.each(variants)(
    '$name: promtool check rules and test rules pass',
    async ({ name, path, value }) => {
      const config = mixinConfig(override(path, value));
      expect(valueAt(config, path)).toEqual(value);
      const groups = buildRuleGroups(config);
      generateRules(config); // throws here when the generator refuses the variant
      // What lets testKey() leave out the alert rules a test file does not name.
      for (const r of [...groups.recording.flatMap((g) => g.rules), ...groups.alerts.rules])
        expect(r.expr, 'a rule reads ALERTS').not.toMatch(/\bALERTS/);
      for (const [file, verdict] of await (outcomes.get(name) as Promise<Array<[string, Verdict]>>))
        expect(verdict.passed, `${file}\n${verdict.output}`).toBe(true);
    },
    300_000,
  );
});
