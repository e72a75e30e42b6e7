/**
 * Test scenarios of the hottest-pod records and `RealtimeHotPod` (`alerts/tests/hotpod.yaml`):
 * a fleet where one pod holds k times the others' connections for 15 minutes fires (k = 3
 * under the default skew ratio), a balanced fleet and the same skew in a fleet just below
 * `hotPodMinConnections` stay silent, and with `capacityPerReplica` set a balanced fleet above
 * `hotPodUtilisation` fires on utilisation alone. A small model of the two rules computes what
 * each scenario fires, and generation throws when a scenario no longer means what its name
 * says under the config.
 */
import type { MixinConfig } from '../config.js';
import { HOT_POD_ALERT, type HotPodCondition, hotPodRecords } from './hotpod.js';
import { metric } from './naming.js';
import {
  type AlertCheck,
  type ExpectedAlert,
  type ExprCheck,
  fleetValues,
  type Scenario,
  type SeriesSpec,
  seriesText,
  steps,
  type TestFileSpec,
  withDecoys,
} from './tests-gen.js';
import { inScope } from './tests-scope.js';

/** Minutes every scenario's series run. */
const RUN = 40;
/** The minute the hot pod turns hot (balanced before). */
const HOT_FROM = 10;
/** Checks: pending before `for` elapses, firing after 15 minutes of skew. */
const PENDING_AT = 15;
const AT = 25;

/**
 * One fleet's pods from HOT_FROM on: `pods` of them, the first at `hotFactor` x `perPod`, the
 * rest at `perPod`. Before HOT_FROM every pod holds `before` (default `perPod`).
 */
interface Fleet {
  pods: number;
  perPod: number;
  hotFactor: number;
  before?: number;
}

/** What the records hold for `f` once the hot pod is hot, with Prometheus' float operations. */
function records(f: Fleet, capacity: number | undefined) {
  const hottest = f.hotFactor * f.perPod;
  const total = hottest + (f.pods - 1) * f.perPod;
  const average = total / f.pods;
  return {
    average,
    hottest,
    skew: hottest / average,
    utilisation: capacity === undefined ? undefined : hottest / capacity,
  };
}

/** The conditions of `RealtimeHotPod` that hold for `f` under `config`, with their `$value`. */
function model(config: MixinConfig, f: Fleet): Array<[HotPodCondition, number]> {
  const t = config.thresholds;
  const r = records(f, config.capacityPerReplica);
  const out: Array<[HotPodCondition, number]> = [];
  if (r.skew > t.hotPodSkewRatio && r.average >= t.hotPodMinConnections) out.push(['skew', r.skew]);
  if (r.utilisation !== undefined && r.utilisation > t.hotPodUtilisation)
    out.push(['utilisation', r.utilisation]);
  return out;
}

/** The hottest-pod test file. */
export function hotPodTests(config: MixinConfig): TestFileSpec {
  const t = config.thresholds;
  const capacity = config.capacityPerReplica;
  const fleet = fleetValues(config);
  const rec = hotPodRecords(config);
  const name = metric(config, 'connections');
  // Enough pods that a k-times pod can pass the skew ratio (max ÷ avg < pods), and k large
  // enough that it does: k·n / (k + n - 1) > s  <=>  k > s·(n - 1) / (n - s).
  const s = t.hotPodSkewRatio;
  const pods = Math.max(4, Math.ceil(2 * s));
  const hotFactor = Math.max(3, Math.floor((s * (pods - 1)) / (pods - s)) + 1);
  const perPod = Math.max(100, Math.ceil(t.hotPodMinConnections));

  /** A pod's series: its connections split into active and idle, changing at HOT_FROM. */
  const pod = (f: Fleet, k: number, hot: boolean): SeriesSpec[] => {
    const before = f.before ?? f.perPod;
    const after = f.perPod * (hot ? f.hotFactor : 1);
    const idle = Math.floor(Math.min(before, after) / 4);
    return (['active', 'idle'] as const).map((state) => ({
      labels: inScope(config.ruleSelector, {
        ...fleet,
        endpoint: '/ws',
        instance: `chat-${k}`,
        state,
        transport: 'websocket',
      }),
      name,
      values:
        state === 'idle' || before === after
          ? `${state === 'idle' ? idle : after - idle}x${RUN}`
          : steps([
              [before - idle, HOT_FROM],
              [after - idle, RUN - HOT_FROM + 1],
            ]),
    }));
  };
  const series = (f: Fleet) =>
    Array.from({ length: f.pods }, (_, k) => pod(f, k, k === 0 && f.hotFactor !== 1)).flat();
  const expected = (conditions: Array<[HotPodCondition, number]>): ExpectedAlert[] =>
    conditions.map(([condition, value]) => ({
      labels: { ...fleet, condition, severity: 'warning' },
      value,
    }));
  /**
   * The checks of a scenario meant to fire `meant` from HOT_FROM on: at PENDING_AT what holds
   * only since HOT_FROM is pending (what held before too already fires), at AT all of it fires.
   */
  const fires = (label: string, f: Fleet, meant: HotPodCondition[]): AlertCheck[] => {
    const got = model(config, f);
    const before = model(config, { ...f, hotFactor: 1, perPod: f.before ?? f.perPod });
    const held = (c: HotPodCondition) => before.some(([b]) => b === c);
    if (!meant.every((m) => got.some(([c]) => c === m) && !held(m)))
      throw new Error(
        `tests: scenario "${label}" of ${HOT_POD_ALERT}: meant to start firing [${meant}] at minute ${HOT_FROM}, ` +
          `the model says [${before.map(([c]) => c)}] before and [${got.map(([c]) => c)}] after`,
      );
    return [
      {
        alert: HOT_POD_ALERT,
        at: PENDING_AT,
        firing: expected(got.filter(([c]) => held(c))),
        pending: expected(got.filter(([c]) => !held(c))),
      },
      { alert: HOT_POD_ALERT, at: AT, firing: expected(got), pending: [] },
    ];
  };
  /**
   * The check of a scenario meant not to fire on `condition`: whatever else the model says
   * fires (a small capacity can make a pod of a small fleet full), nothing when it says nothing.
   */
  const silentOn = (label: string, f: Fleet, condition: HotPodCondition): AlertCheck[] => {
    const got = model(config, f);
    if (got.some(([c]) => c === condition))
      throw new Error(
        `tests: scenario "${label}" of ${HOT_POD_ALERT}: meant to stay silent on ${condition}, the model says [${got.map(([c]) => c)}]`,
      );
    return [{ alert: HOT_POD_ALERT, at: AT, firing: expected(got) }];
  };

  const skewed: Fleet = { hotFactor, perPod, pods };
  const r = records(skewed, capacity);
  const sample = (record: string, extra: Record<string, string>, value: number) => ({
    labels: seriesText(record, { ...fleet, ...extra }),
    value,
  });
  const at = (expr: string, samples: ExprCheck['samples']): ExprCheck => ({
    at: AT,
    expr,
    samples,
  });
  const recordChecks: ExprCheck[] = [
    at(`${rec.perPod}{instance="chat-0"}`, [sample(rec.perPod, { instance: 'chat-0' }, r.hottest)]),
    at(rec.hottest, [sample(rec.hottest, {}, r.hottest)]),
    at(rec.average, [sample(rec.average, {}, r.average)]),
    at(rec.skew, [sample(rec.skew, {}, r.skew)]),
    ...(r.utilisation === undefined
      ? []
      : [at(rec.utilisation, [sample(rec.utilisation, {}, r.utilisation)])]),
  ];
  const skewName = `hot pod: one of ${pods} pods at ${hotFactor}x the others (${perPod} each) for 15 minutes fires`;
  const scenarios: Scenario[] = [
    {
      alerts: fires(skewName, skewed, ['skew']),
      exprs: recordChecks,
      name: skewName,
      series: series(skewed),
    },
  ];
  const balancedName = `hot pod: ${pods} balanced pods (${perPod} each) stay silent on skew`;
  const balanced: Fleet = { hotFactor: 1, perPod, pods };
  scenarios.push({
    alerts: silentOn(balancedName, balanced, 'skew'),
    name: balancedName,
    series: series(balanced),
  });
  // The same skew with the average pod just below the minimum: the largest whole perPod
  // whose average stays under it (none when the minimum is below a connection per pod).
  const tinyPerPod = Math.ceil((t.hotPodMinConnections * pods) / (hotFactor + pods - 1)) - 1;
  if (tinyPerPod >= 1) {
    const tiny: Fleet = { hotFactor, perPod: tinyPerPod, pods };
    const tinyName = `hot pod: the same skew in a small fleet (${tinyPerPod} per pod, average below ${t.hotPodMinConnections}) stays silent on skew`;
    scenarios.push({
      alerts: silentOn(tinyName, tiny, 'skew'),
      name: tinyName,
      series: series(tiny),
    });
  }
  if (capacity !== undefined) {
    // Balanced (no skew) with every pod above the utilisation threshold: one more connection
    // than the threshold allows, and one fewer for the silent twin.
    const over = Math.floor(capacity * t.hotPodUtilisation) + 1;
    const under = Math.ceil(capacity * t.hotPodUtilisation) - 1;
    // Half the threshold before HOT_FROM, so the condition starts there.
    const before = Math.floor((capacity * t.hotPodUtilisation) / 2);
    const full: Fleet = { before, hotFactor: 1, perPod: over, pods };
    const fullName = `hot pod: ${pods} balanced pods at ${over} of ${capacity} connections fire on utilisation`;
    scenarios.push({
      alerts: fires(fullName, full, ['utilisation']),
      exprs: [
        at(rec.utilisation, [
          sample(rec.utilisation, {}, records(full, capacity).utilisation ?? 0),
        ]),
      ],
      name: fullName,
      series: series(full),
    });
    if (under >= 1) {
      const nearly: Fleet = { hotFactor: 1, perPod: under, pods };
      const nearlyName = `hot pod: ${pods} balanced pods at ${under} of ${capacity} connections stay silent on utilisation`;
      scenarios.push({
        alerts: silentOn(nearlyName, nearly, 'utilisation'),
        name: nearlyName,
        series: series(nearly),
      });
    }
  }
  return {
    path: 'alerts/tests/hotpod.yaml',
    scenarios: withDecoys([{ field: 'ruleSelector', selector: config.ruleSelector }], scenarios),
  };
}
