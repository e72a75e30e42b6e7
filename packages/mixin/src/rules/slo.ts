/**
 * The two handshake SLOs as multi-window, multi-burn-rate alerts (Google SRE workbook,
 * chapter 5; the shape Sloth generates): each SLI is recorded as an error ratio over seven
 * windows, and an alert fires when both the long and the short window of a pair burn the
 * error budget faster than the pair's factor. The long window makes the alert significant,
 * the short one makes it reset soon after the burn stops.
 *
 * Each window pair is its own rule (labels `long_window`, `short_window`, as Pyrra does), so
 * a test can show every pair firing on its own and the runbook can say which one fired.
 */
import { CATALOG, HANDSHAKE_OUTCOMES, type HandshakeOutcome } from '@tidewatch/conventions';
import { type MixinConfig, runbookUrl } from '../config.js';
import { matcher } from '../labels.js';
import { by, durationMinutes, metric, num, recordName, sel } from './naming.js';
import type { AlertingRule, RecordingRule, RuleGroup, Severity } from './types.js';

/** Name of the SLI recording group. Sorts before the alert group (see `alerts.ts`). */
export const SLO_GROUP = 'tidewatch-slo.rules';

/** The windows every SLI is recorded over. */
export const SLI_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;
/** One of {@link SLI_WINDOWS}. */
export type SliWindow = (typeof SLI_WINDOWS)[number];

/** One window pair of a burn-rate alert. */
export interface BurnWindow {
  long: SliWindow;
  short: SliWindow;
  /**
   * Share of the whole error budget that burning at the alert's threshold for `long` uses
   * up. The factor follows from it and the SLO window: 2 % in 1 h of 30 d is 14.4x.
   */
  budgetShare: number;
  severity: Severity;
  for: string;
}

/**
 * The workbook's pairs: page on 2 % of the budget in 1 h (14.4x over 30 d, checked over
 * 1h and 5m) or 5 % in 6 h (6x, 6h and 30m); ticket on 10 % in 1 d (3x, 1d and 2h) or in
 * 3 d (1x, 3d and 6h). The short `for` only rides out one odd evaluation.
 */
export const BURN_WINDOWS: readonly BurnWindow[] = [
  { long: '1h', short: '5m', budgetShare: 0.02, severity: 'critical', for: '2m' },
  { long: '6h', short: '30m', budgetShare: 0.05, severity: 'critical', for: '15m' },
  { long: '1d', short: '2h', budgetShare: 0.1, severity: 'warning', for: '15m' },
  { long: '3d', short: '6h', budgetShare: 0.1, severity: 'warning', for: '15m' },
];

/** The burn factor of `w` for an SLO over `windowDays` (14.4 for the first pair at 30 d). */
export function burnFactor(w: BurnWindow, windowDays: number): number {
  return Number(((w.budgetShare * windowDays * 1440) / durationMinutes(w.long)).toPrecision(12));
}

/** The error budget of `objective` (0.001 for 0.999), rounded clear of float noise. */
export function errorBudget(objective: number): number {
  return Number((1 - objective).toPrecision(12));
}

/** One SLI and its alert. */
export interface SliSpec {
  /** Stable id, used in test file names. */
  id: 'handshake-errors' | 'handshake-latency';
  alert: string;
  objective: number;
  windowDays: number;
  /** What a bad event is, for annotations. */
  badEvents: string;
  /** The SLO in words, for annotations and runbooks. */
  objectiveText: string;
  /** The recorded error ratio over `window`. */
  record(window: SliWindow): string;
  /** The expression recorded for `window`. */
  expr(window: SliWindow): string;
}

/** The handshake SLIs under `config`. */
export function slis(config: MixinConfig): SliSpec[] {
  const hs = (suffix: string) => metric(config, 'handshakeDuration', suffix);
  const rate = (suffix: string, w: string, ...m: string[]) =>
    `rate(${hs(suffix)}${sel(config, ...m)}[${w}])`;
  const threshold = config.handshakeLatencySlo.thresholdSeconds;
  const buckets: readonly number[] = CATALOG.handshakeDuration.buckets;
  if (!buckets.includes(threshold))
    throw new RangeError(
      `handshakeLatencySlo.thresholdSeconds must be a bucket bound of ${hs('')} (${buckets.join(', ')}), got ${threshold}`,
    );
  const outcome = (...v: [HandshakeOutcome, ...HandshakeOutcome[]]) =>
    matcher('outcome', HANDSHAKE_OUTCOMES, ...v);
  const pct = (o: number) => `${num(o * 100)}%`;
  const err = config.handshakeSlo;
  const lat = config.handshakeLatencySlo;
  return [
    {
      alert: 'RealtimeHandshakeErrorBudgetBurn',
      badEvents: 'handshakes failed (rejected or errored)',
      expr: (w) =>
        // Aborted handshakes (the client left first) are neither good nor bad.
        `sum ${by(config)} (${rate('_count', w, outcome('rejected', 'error'))})\n/\n` +
        `sum ${by(config)} (${rate('_count', w, outcome('success', 'rejected', 'error'))})`,
      id: 'handshake-errors',
      objective: err.objective,
      objectiveText: `${pct(err.objective)} of handshakes succeed over ${err.windowDays}d`,
      record: (w) =>
        recordName(
          config,
          `${config.metricPrefix}handshake_failures_per_attempts`,
          `ratio_rate${w}`,
        ),
      windowDays: err.windowDays,
    },
    {
      alert: 'RealtimeHandshakeLatencyBudgetBurn',
      badEvents: `successful handshakes took longer than ${num(threshold)}s`,
      expr: (w) =>
        `1 - (\n  sum ${by(config)} (${rate('_bucket', w, outcome('success'), `le="${threshold}"`)})\n  /\n` +
        `  sum ${by(config)} (${rate('_count', w, outcome('success'))})\n)`,
      id: 'handshake-latency',
      objective: lat.objective,
      objectiveText: `${pct(lat.objective)} of successful handshakes complete within ${num(threshold)}s over ${lat.windowDays}d`,
      record: (w) =>
        recordName(config, `${config.metricPrefix}handshake_slow_per_successful`, `ratio_rate${w}`),
      windowDays: lat.windowDays,
    },
  ];
}

/**
 * The SLI recording group: every SLI over every window. It keeps the global evaluation
 * interval: a group interval of its own shifts its evaluation against the alert group, and
 * the burn alerts would read ratios one step old.
 */
export function sloRecordingGroup(config: MixinConfig): RuleGroup<RecordingRule> {
  return {
    name: SLO_GROUP,
    rules: slis(config).flatMap((s) =>
      SLI_WINDOWS.map((w): RecordingRule => ({ expr: s.expr(w), record: s.record(w) })),
    ),
  };
}

/** Hours as `50h` below three days, else whole days (`5d`). */
function span(hours: number): string {
  return hours < 72 ? `${Math.round(hours)}h` : `${Math.round(hours / 24)}d`;
}

/** The `{{ $labels.x }}` path naming one fleet in annotations (`job`, or `cluster/job`). */
export function fleetTemplate(config: MixinConfig): string {
  return config.fleetLabels.map((l) => `{{ $labels.${l} }}`).join('/');
}

/** The burn-rate alerts of every SLI: one rule per window pair. */
export function burnRateAlerts(config: MixinConfig): AlertingRule[] {
  const fleet = fleetTemplate(config);
  return slis(config).flatMap((s) =>
    BURN_WINDOWS.map((w): AlertingRule => {
      const factor = burnFactor(w, s.windowDays);
      const budget = errorBudget(s.objective);
      const limit = `(${num(factor)} * ${num(budget)})`;
      const exhaustion = span((s.windowDays * 24) / factor);
      return {
        alert: s.alert,
        annotations: {
          description:
            `{{ $value | humanizePercentage }} of ${s.badEvents} on ${fleet} over the last ${w.long}, ` +
            `and the last ${w.short} is as bad: above ${num(factor)}x the error budget of the SLO ` +
            `(${s.objectiveText}). At this rate the whole budget is gone in ${exhaustion}.`,
          runbook_url: runbookUrl(config, s.alert),
          summary: `${fleet} burns its handshake ${s.id === 'handshake-errors' ? 'error' : 'latency'} budget ${num(factor)}x too fast (${w.long}/${w.short}).`,
        },
        expr: `${s.record(w.long)} > ${limit}\nand\n${s.record(w.short)} > ${limit}`,
        for: w.for,
        labels: { long_window: w.long, severity: w.severity, short_window: w.short },
      };
    }),
  );
}
