/**
 * "Is there enough history?", answered on the main thread before a worker is started, so the
 * error can say what is needed in points and in days (the library only counts points).
 */

import type { Series } from '@tidewatch/forecast';
import { contextFor, createModels } from '@tidewatch/forecast';
import { CliError } from './errors.js';

/** What a run will do with the series. */
export interface HistoryPlan {
  horizon: number;
  /** Backtest origins; default 7 (as the library). */
  origins?: number;
  /** Steps between origins; default the horizon. */
  every?: number;
  /** Models the backtest compares (default all). */
  models?: readonly string[];
  /** A named model to fit without a backtest (forecast `--model NAME`). */
  model?: string;
}

/**
 * Points `plan` needs. A backtest needs, before its first origin, the shortest history any
 * compared model can fit from and more than one weekly season (MASE is scaled by the
 * in-sample error of weekly seasonal naive), then `horizon + (origins - 1) * every` points to
 * score. A named model needs its own minimum.
 * @throws Error for an unknown model.
 */
export function historyNeeded(
  series: Pick<Series, 'startMs' | 'stepMs'>,
  plan: HistoryPlan,
): number {
  const ctx = contextFor(series, plan.horizon);
  if (plan.model && plan.model !== 'auto') {
    const [m] = createModels([plan.model]);
    return m ? m.minHistory(ctx) : 0;
  }
  const models = createModels(plan.models);
  const fit = Math.max(
    Math.min(...models.map((m) => m.minHistory(ctx))),
    Math.round(ctx.weekSteps) + 1,
  );
  return fit + plan.horizon + ((plan.origins ?? 7) - 1) * (plan.every ?? plan.horizon);
}

/**
 * @throws CliError when `series` is shorter than {@link historyNeeded}, saying how much is
 *   there and how much is needed, in points and in days.
 */
export function checkHistory(series: Series, plan: HistoryPlan): void {
  const need = historyNeeded(series, plan);
  const have = series.values.length;
  if (have >= need) return;
  const purpose =
    plan.model && plan.model !== 'auto'
      ? `to fit ${plan.model} for horizon ${plan.horizon}`
      : `for a weekly season and ${plan.origins ?? 7} backtest origins of horizon ${plan.horizon}`;
  throw new CliError(
    `too little history: ${have} points (${days(have, series.stepMs)}), need at least ${need} points (${days(need, series.stepMs)}) ${purpose}`,
  );
}

function days(points: number, stepMs: number): string {
  const d = (points * stepMs) / 86_400_000;
  return `${Number(d.toFixed(d < 10 ? 2 : 1))} days`;
}
