import type { ModelContext } from './types.js';

/** How many holdout origins the tunable models fit their parameters on. */
export const HOLDOUT_ORIGINS = 14;

/**
 * Holdout origins inside a history of `n` points, ascending: the last one leaves a full
 * horizon after it, the others step back so together they span about a week.
 */
export function holdoutOrigins(n: number, ctx: ModelContext, count = HOLDOUT_ORIGINS): number[] {
  const h = ctx.horizon;
  const spacing = Math.max(h, Math.floor(ctx.weekSteps / count));
  const out: number[] = [];
  for (let o = count - 1; o >= 0; o--) {
    const t = n - h - o * spacing;
    if (t > 0) out.push(t);
  }
  return out;
}

/** Mean absolute error of `predict` over {@link holdoutOrigins} of `y`. */
export function holdoutMae(
  y: Float64Array,
  ctx: ModelContext,
  predict: (hist: Float64Array, h: number) => ArrayLike<number>,
): number {
  let sum = 0;
  let n = 0;
  for (const t of holdoutOrigins(y.length, ctx)) {
    const f = predict(y.subarray(0, t), ctx.horizon);
    for (let k = 0; k < ctx.horizon; k++) {
      sum += Math.abs((y[t + k] as number) - (f[k] as number));
      n++;
    }
  }
  return n > 0 ? sum / n : Number.POSITIVE_INFINITY;
}
