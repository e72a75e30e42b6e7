/**
 * Burn-rate test scenarios for both handshake SLOs. A scenario is a traffic profile (valid
 * handshakes per minute and the bad share, in multiples of the error budget); a small model
 * of the recording rules and alert rules (window ratios from the cumulative counts, `for`
 * as "true at every evaluation over the last `for`") computes which window pairs fire and
 * with which `$value`. Each scenario also states its intent, and generation throws when the
 * model disagrees, so a config change cannot quietly turn a "6h/30m fires alone" test into
 * one that proves nothing.
 */
import type { MixinConfig } from '../config.js';
import { durationMinutes, metric } from './naming.js';
import {
  BURN_WINDOWS,
  type BurnWindow,
  burnFactor,
  errorBudget,
  type SliSpec,
  slis,
} from './slo.js';
import {
  type AlertCheck,
  counter,
  decoyScenarios,
  type ExpectedAlert,
  fleetValues,
  type Scenario,
  type SeriesSpec,
  type TestFileSpec,
} from './tests-gen.js';
import { inScope } from './tests-scope.js';

/** A traffic segment: `minutes` long, bad events at `budgets` x the error budget. */
type Segment = readonly [minutes: number, budgets: number];

/** A burn scenario: its profile and, per evaluation minute, the window pairs meant to fire. */
interface BurnScenario {
  name: string;
  profile: Segment[];
  /** minute -> `long/short` ids of the pairs that must fire then. */
  expect: Record<number, string[]>;
}

/** Valid handshakes per minute in every scenario: large enough for integer bad counts. */
const PER_MINUTE = 10_000;

const pairId = (w: BurnWindow) => `${w.long}/${w.short}`;

/** The scenarios, in budget multiples relative to the 30-day factors 14.4 / 6 / 3 / 1. */
const SCENARIOS: readonly BurnScenario[] = [
  {
    expect: { 35: ['1h/5m', '6h/30m', '1d/2h', '3d/6h'] },
    name: 'steady burn at 20x the budget: every window pair fires',
    profile: [[40, 20]],
  },
  {
    expect: { 35: ['6h/30m', '1d/2h', '3d/6h'] },
    name: 'steady 8x: 6h/30m pages without 1h/5m',
    profile: [[40, 8]],
  },
  {
    expect: { 35: ['1d/2h', '3d/6h'] },
    name: 'steady 4x: ticket only (1d/2h and 3d/6h)',
    profile: [[40, 4]],
  },
  {
    expect: { 35: ['3d/6h'] },
    name: 'steady 2x: only 3d/6h fires',
    profile: [[40, 2]],
  },
  {
    expect: { 35: [], 300: [] },
    name: 'below every threshold (0.5x): silent',
    profile: [[300, 0.5]],
  },
  {
    expect: { 450: ['1h/5m', '1d/2h', '3d/6h'] },
    name: 'burst of 90 minutes after 6 clean hours: 1h/5m pages, 6h/30m does not',
    profile: [
      [360, 0],
      [90, 20],
    ],
  },
  {
    expect: { 160: ['1d/2h', '3d/6h'] },
    name: 'burn stopped 40 minutes ago: the short windows reset the page, the ticket stays',
    profile: [
      [120, 20],
      [40, 0],
    ],
  },
  {
    expect: { 2: [], 10: ['1h/5m'] },
    name: 'before for elapses: silent at 2m; at 10m only 1h/5m (for 2m) fires, the 15m pairs are pending',
    profile: [[20, 20]],
  },
];

/** Cumulative valid and bad counts per minute of a profile. */
function cumulative(profile: readonly Segment[], budget: number) {
  const tot = [0];
  const bad = [0];
  for (const [minutes, budgets] of profile) {
    const badPerMinute = Math.round(budgets * budget * PER_MINUTE);
    for (let i = 0; i < minutes; i++) {
      tot.push((tot.at(-1) as number) + PER_MINUTE);
      bad.push((bad.at(-1) as number) + badPerMinute);
    }
  }
  return { bad, badPerMinute: profile.map(([, b]) => Math.round(b * budget * PER_MINUTE)), tot };
}

/** The modelled alert instances of `sli` firing at minute `at`. */
function modelFiring(sli: SliSpec, profile: readonly Segment[], at: number) {
  const budget = errorBudget(sli.objective);
  const { bad, tot } = cumulative(profile, budget);
  const ratio = (t: number, window: string): number | undefined => {
    if (t < 1) return undefined; // rate() needs two samples
    const t0 = Math.max(0, t - durationMinutes(window));
    const dt = (tot[t] as number) - (tot[t0] as number);
    return dt === 0 ? undefined : ((bad[t] as number) - (bad[t0] as number)) / dt;
  };
  const firing: Array<{ w: BurnWindow; value: number }> = [];
  const pending: BurnWindow[] = [];
  for (const w of BURN_WINDOWS) {
    const limit = burnFactor(w, sli.windowDays) * budget;
    const holds = (t: number) => {
      const long = ratio(t, w.long);
      const short = ratio(t, w.short);
      return long !== undefined && short !== undefined && long > limit && short > limit;
    };
    let ok = at - durationMinutes(w.for) >= 0;
    for (let t = at - durationMinutes(w.for); ok && t <= at; t++) ok = holds(t);
    if (ok) firing.push({ value: ratio(at, w.long) as number, w });
    else if (holds(at)) pending.push(w);
  }
  return { firing, pending };
}

/** Input series of `sli` for a profile: valid outcomes split as the SLI counts them. */
function burnSeries(
  config: MixinConfig,
  sli: SliSpec,
  profile: readonly Segment[],
  transport: string = 'websocket',
): SeriesSpec[] {
  const base = inScope(config.ruleSelector, {
    ...fleetValues(config),
    endpoint: transport === 'websocket' ? '/ws' : transport,
    instance: 'chat-0',
    transport,
  });
  const budget = errorBudget(sli.objective);
  const bads = cumulative(profile, budget).badPerMinute;
  const seg = (f: (bad: number) => number) =>
    counter(profile.map(([m], i) => [f(bads[i] as number), m] as const));
  const count = metric(config, 'handshakeDuration', '_count');
  const bucket = metric(config, 'handshakeDuration', '_bucket');
  // Aborted handshakes are neither good nor bad: present, so a test shows they are ignored.
  const aborted: SeriesSpec = {
    labels: { ...base, outcome: 'aborted' },
    name: count,
    values: seg(() => 7),
  };
  if (sli.id === 'handshake-errors') {
    return [
      { labels: { ...base, outcome: 'success' }, name: count, values: seg((b) => PER_MINUTE - b) },
      { labels: { ...base, outcome: 'error' }, name: count, values: seg((b) => Math.ceil(b / 2)) },
      {
        labels: { ...base, outcome: 'rejected' },
        name: count,
        values: seg((b) => b - Math.ceil(b / 2)),
      },
      aborted,
    ];
  }
  const le = String(config.handshakeLatencySlo.thresholdSeconds);
  return [
    { labels: { ...base, outcome: 'success' }, name: count, values: seg(() => PER_MINUTE) },
    {
      labels: { ...base, le, outcome: 'success' },
      name: bucket,
      values: seg((b) => PER_MINUTE - b),
    },
    {
      labels: { ...base, le: '+Inf', outcome: 'success' },
      name: bucket,
      values: seg(() => PER_MINUTE),
    },
    aborted,
  ];
}

/**
 * The burn-rate test files, one per SLI.
 * @throws Error when a scenario no longer does what it states under `config`.
 */
export function burnRateTests(config: MixinConfig): TestFileSpec[] {
  return slis(config).map((sli) => {
    const scenarios = SCENARIOS.map((sc): Scenario => {
      const alerts: AlertCheck[] = Object.entries(sc.expect).map(([minute, intent]) => {
        const at = Number(minute);
        const { firing: modelled, pending } = modelFiring(sli, sc.profile, at);
        const got = modelled.map((f) => pairId(f.w));
        if (got.join() !== intent.join())
          throw new Error(
            `tests: scenario "${sc.name}" of ${sli.alert} at ${at}m: meant to fire [${intent}], the model says [${got}]`,
          );
        const labels = (w: BurnWindow) => ({
          ...fleetValues(config),
          long_window: w.long,
          severity: w.severity,
          short_window: w.short,
        });
        return {
          alert: sli.alert,
          at,
          pending: pending.map((w) => ({ labels: labels(w), value: 0 })),
          firing: modelled.map((f): ExpectedAlert => ({ labels: labels(f.w), value: f.value })),
        };
      });
      return { alerts, name: sc.name, series: burnSeries(config, sli, sc.profile) };
    });
    // The first scenario again on the newer transports: the SLIs count every transport.
    const first = scenarios[0] as Scenario;
    const transports = (['mqtt', 'grpc'] as const).map(
      (transport): Scenario => ({
        ...first,
        name: `${first.name} (transport ${transport})`,
        series: burnSeries(config, sli, (SCENARIOS[0] as BurnScenario).profile, transport),
      }),
    );
    // The first scenario fires every pair; with its series outside the rule selector, none.
    const scope = [{ field: 'ruleSelector', selector: config.ruleSelector }];
    const decoys = decoyScenarios(scope, scenarios[0] as Scenario);
    return {
      path: `alerts/tests/slo-${sli.id}.yaml`,
      scenarios: [...scenarios, ...transports, ...decoys],
    };
  });
}
