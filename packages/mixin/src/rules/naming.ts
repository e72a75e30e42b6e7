/**
 * Names and PromQL fragments shared by the recording rules, alerts and their tests: metric
 * names from the catalogue, selectors from the config, aggregation clauses from the fleet
 * labels, and recording-rule names in the `level:metric:operations` convention.
 */
import { type MetricKey, metricName } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';

/** The exported name of catalogue metric `key` (plus `suffix`, e.g. `_bucket`). */
export function metric(config: MixinConfig, key: MetricKey, suffix = ''): string {
  return metricName(key, config.metricPrefix) + suffix;
}

/** `{a, b}` from non-empty matcher strings, or `''` when there are none. */
export function braces(...matchers: string[]): string {
  const parts = matchers.map((m) => m.trim()).filter((m) => m !== '');
  return parts.length === 0 ? '' : `{${parts.join(', ')}}`;
}

/** The config's rule selector plus `extra` matchers, as `{...}` (or `''`). */
export function sel(config: MixinConfig, ...extra: string[]): string {
  return braces(config.ruleSelector, ...extra);
}

/** The fleet labels followed by `extra`, deduplicated, in order. */
export function fleetWith(config: MixinConfig, ...extra: string[]): string[] {
  return [...new Set([...config.fleetLabels, ...extra])];
}

/** `by (job, extra...)`. */
export function by(config: MixinConfig, ...extra: string[]): string {
  return `by (${fleetWith(config, ...extra).join(', ')})`;
}

/** `on (job, extra...)`. */
export function on(config: MixinConfig, ...extra: string[]): string {
  return `on (${fleetWith(config, ...extra).join(', ')})`;
}

/**
 * A recording rule name `level:metric:operations`: the level lists the labels kept (fleet
 * labels first), the metric drops `_total` (a rate is no longer a counter).
 */
export function recordName(
  config: MixinConfig,
  metricName: string,
  operations: string,
  ...extraLabels: string[]
): string {
  const level = fleetWith(config, ...extraLabels).join('_');
  return `${level}:${metricName.replace(/_total$/, '')}:${operations}`;
}

/** Minutes in a Prometheus duration of one unit (`5m`, `1h`, `3d`). */
export function durationMinutes(d: string): number {
  const m = /^(\d+)([smhd])$/.exec(d);
  if (!m) throw new RangeError(`not a single-unit duration: ${d}`);
  const n = Number(m[1]);
  const unit = m[2] as 's' | 'm' | 'h' | 'd';
  return n * { s: 1 / 60, m: 1, h: 60, d: 1440 }[unit];
}

/**
 * A number as PromQL/YAML should print it: at most 12 significant digits, so 1 - 0.999 prints
 * as 0.001 rather than 0.0010000000000000009.
 */
export function num(x: number): string {
  return String(Number(x.toPrecision(12)));
}
