import type { ModelContext } from './types.js';

/** The fewest holdout origins the tunable models fit their parameters on. */
export const HOLDOUT_ORIGINS = 14;

/**
 * Origins for a horizon: at least {@link HOLDOUT_ORIGINS}, more for short horizons so the
 * holdout still scores about a thirtieth of a week's points (14 origins of a 4-step horizon
 * score 56 points, too few to tell parameter sets apart and prone to choosing by luck).
 */
export function holdoutCount(ctx: ModelContext): number {
  return Math.max(HOLDOUT_ORIGINS, Math.floor(ctx.weekSteps / (30 * ctx.horizon)));
}

/**
 * Holdout origins inside a history of `n` points, ascending: the last one leaves a full
 * horizon after it, the others step back so together they span about a week.
 */
export function holdoutOrigins(n: number, ctx: ModelContext, count = holdoutCount(ctx)): number[] {
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
