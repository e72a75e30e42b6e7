/**
 * Why a forecast is not published, as a stable code (`STALE_REASONS` of
 * `@tidewatch/conventions`: the `reason` label of the stale signal, what the status page
 * reads) and the English message people read, made from one table so the two cannot drift.
 */
import type { StaleReason } from '@tidewatch/conventions';

/** The facts each reason's message shows. */
export interface StaleReasonArgs {
  source_failing: [error: string];
  no_observation: [];
  data_old: [ageMs: number, limitMs: number];
  no_forecast: [];
  forecast_old: [ageMs: number, limitMs: number];
  lead_time_not_covered: [];
  invalid_forecast: [];
  model_mase: [mase: number, limit: number];
  rolling_mase: [mase: number, limit: number];
  training: [startedMsAgo: number];
  training_failed: [error: string];
  too_little_history: [have: number, need: number];
  forecast_failed: [error: string];
}

/** A reason: its code and its message. */
export interface StaleReasonDetail {
  readonly code: StaleReason;
  readonly message: string;
}

const fmt = (v: number) => v.toFixed(3);
const age = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The message of every code. */
export const STALE_REASON_MESSAGES: {
  readonly [C in StaleReason]: (...args: StaleReasonArgs[C]) => string;
} = {
  source_failing: (error) => `source failing: ${error}`,
  no_observation: () => 'no current observation',
  data_old: (ageMs, limitMs) => `data is ${age(ageMs)} old (limit ${age(limitMs)})`,
  no_forecast: () => 'no forecast yet',
  forecast_old: (ageMs, limitMs) => `forecast is ${age(ageMs)} old (limit ${age(limitMs)})`,
  lead_time_not_covered: () => 'forecast does not cover the lead time',
  invalid_forecast: () => 'forecast has invalid values',
  model_mase: (mase, limit) => `model MASE ${fmt(mase)} above ${limit}`,
  rolling_mase: (mase, limit) => `rolling MASE ${fmt(mase)} above ${limit}`,
  training: (ms) => `training the first model (started ${Math.round(ms / 1000)} s ago)`,
  training_failed: (error) => `training failed: ${error}`,
  too_little_history: (have, need) => `too little history: ${have} points, need ${need} to train`,
  forecast_failed: (error) => `forecast failed: ${error}`,
};

/**
 * A reason with its message from {@link STALE_REASON_MESSAGES}.
 * @example staleReason('data_old', 200_000, 180_000).message // 'data is 200 s old (limit 180 s)'
 */
export function staleReason<C extends StaleReason>(
  code: C,
  ...args: StaleReasonArgs[C]
): StaleReasonDetail {
  const message = (STALE_REASON_MESSAGES[code] as (...a: StaleReasonArgs[C]) => string)(...args);
  return { code, message };
}
