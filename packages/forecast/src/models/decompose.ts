/**
 * Multiple-seasonal decomposition in the spirit of MSTL (Bandara, Bergmeir & Hewamalage
 * 2021): each season is estimated in turn from the series minus the other seasons, a few
 * passes over the seasons in increasing length. Where STL fits loess, this uses a moving
 * mean of one period for the trend and per-phase means or medians over the most recent
 * cycles for the season, which is linear in the window and allocation-free after the
 * scratch buffers are sized. A season here is one fixed profile per period (its latest
 * shape), which is what a forecast repeats anyway.
 */

/** How one decomposition estimates its seasons. */
export interface DecomposeSettings {
  /** Recent cycles of each period a profile is estimated from (capped by the data), >= 1. */
  cycles: number;
  /**
   * Smoothing across neighbouring phases: a circular moving mean of half-width
   * `round(smooth x period / 100)` steps (0 = none; a daily profile of 24 steps stays sharp,
   * a yearly one of 365 days is averaged over a few days).
   */
  smooth: number;
  /** Per-phase statistic over the cycles: the median resists one odd day (a holiday). */
  stat: 'mean' | 'median';
  /** Passes over the periods (2 settle the interaction of a day inside a week). */
  passes: number;
}

/**
 * Reusable scratch space for {@link decompose}, so the hot loops never allocate. Sized on
 * first use and grown when a longer window comes along.
 */
export class DecomposeScratch {
  /** The series minus the other seasons, per window point. */
  r = new Float64Array(0);
  /** Its moving-mean trend, per window point. */
  trend = new Float64Array(0);
  /** Prefix sums of `r` (one longer than the window). */
  prefix = new Float64Array(0);
  /** Detrended values of the recent cycles, phase-major. */
  cells = new Float64Array(0);
  /** The unsmoothed profile, per phase. */
  tmp = new Float64Array(0);
  /** Per-phase means of a longer profile that repeat in a shorter period. */
  nested = new Float64Array(0);

  /** Makes room for a window of `len` points and profiles up to `maxPeriod` steps. */
  ensure(len: number, maxPeriod: number): void {
    if (this.r.length < len) {
      this.r = new Float64Array(len);
      this.trend = new Float64Array(len);
      this.prefix = new Float64Array(len + 1);
      this.cells = new Float64Array(len);
    }
    if (this.tmp.length < maxPeriod) {
      this.tmp = new Float64Array(maxPeriod);
      this.nested = new Float64Array(maxPeriod);
    }
  }
}

/**
 * Seasonal profiles of `x[from..to)` for `periods` (ascending, integer steps >= 2), written
 * into `profiles[i]` (length `periods[i]`), indexed by absolute phase `t % period` so a
 * forecast from any origin reads `profiles[i][t % period]`. Each profile sums to ~0 over a
 * cycle. A period longer than the window gets a zero profile.
 */
export function decompose(
  x: Float64Array,
  from: number,
  to: number,
  periods: readonly number[],
  s: DecomposeSettings,
  profiles: Float64Array[],
  scratch: DecomposeScratch,
): void {
  const len = to - from;
  let maxP = 0;
  for (const p of periods) maxP = Math.max(maxP, p);
  scratch.ensure(len, maxP);
  for (const prof of profiles) prof.fill(0);
  const { r, trend, prefix, cells, tmp, nested } = scratch;
  for (let pass = 0; pass < s.passes; pass++) {
    for (let pi = 0; pi < periods.length; pi++) {
      const p = periods[pi] as number;
      const prof = profiles[pi] as Float64Array;
      const k = Math.min(s.cycles, Math.floor(len / p));
      if (k < 1) continue;
      // Only the last k cycles are read, plus one period before them for the moving mean.
      const rs = Math.max(0, len - (k + 1) * p);
      for (let i = rs; i < len; i++) {
        const t = from + i;
        let v = x[t] as number;
        for (let qi = 0; qi < periods.length; qi++) {
          if (qi === pi) continue;
          const q = periods[qi] as number;
          v -= (profiles[qi] as Float64Array)[t % q] as number;
        }
        r[i] = v;
      }
      movingTrend(r, rs, len, p, trend, prefix);
      // Detrended values of the last k cycles, laid out phase-major for the per-phase stat.
      const base = len - k * p;
      for (let i = base; i < len; i++) {
        const ph = (from + i) % p;
        const c = Math.floor((i - base) / p);
        cells[ph * k + c] = (r[i] as number) - (trend[i] as number);
      }
      for (let ph = 0; ph < p; ph++) {
        const off = ph * k;
        tmp[ph] = s.stat === 'median' ? medianOf(cells, off, k) : meanOf(cells, off, k);
      }
      smoothCircular(tmp, p, Math.round((s.smooth * p) / 100), prof);
      for (let qi = 0; qi < pi; qi++) {
        const q = periods[qi] as number;
        if (p % q === 0) moveNested(prof, p, profiles[qi] as Float64Array, q, nested);
      }
    }
  }
}

/**
 * Centred moving mean of one period over `r[rs..len)` into `trend`; the half period at each
 * end, where the window would run off the data, continues the nearest full mean along the
 * slope of the last period (flat at the start, which is never forecast from).
 */
function movingTrend(
  r: Float64Array,
  rs: number,
  len: number,
  p: number,
  trend: Float64Array,
  prefix: Float64Array,
): void {
  prefix[rs] = 0;
  for (let i = rs; i < len; i++) prefix[i + 1] = (prefix[i] as number) + (r[i] as number);
  const half = Math.floor(p / 2);
  const first = rs + half;
  const last = len - p + half;
  if (last < first) {
    const m = ((prefix[len] as number) - (prefix[rs] as number)) / (len - rs);
    for (let i = rs; i < len; i++) trend[i] = m;
    return;
  }
  for (let i = first; i <= last; i++)
    trend[i] = ((prefix[i - half + p] as number) - (prefix[i - half] as number)) / p;
  for (let i = rs; i < first; i++) trend[i] = trend[first] as number;
  const slope = last - p >= first ? ((trend[last] as number) - (trend[last - p] as number)) / p : 0;
  for (let i = last + 1; i < len; i++) trend[i] = (trend[last] as number) + slope * (i - last);
}

function meanOf(a: Float64Array, off: number, k: number): number {
  let sum = 0;
  for (let i = off; i < off + k; i++) sum += a[i] as number;
  return sum / k;
}

/** Median of `a[off..off+k)`, insertion-sorting that slice in place (k is a few cycles). */
function medianOf(a: Float64Array, off: number, k: number): number {
  for (let i = off + 1; i < off + k; i++) {
    const v = a[i] as number;
    let j = i - 1;
    while (j >= off && (a[j] as number) > v) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = v;
  }
  const mid = off + (k >> 1);
  return k % 2 === 1 ? (a[mid] as number) : ((a[mid - 1] as number) + (a[mid] as number)) / 2;
}

/**
 * A week's profile may also hold a daily shape (a day inside a week repeats in both): move
 * the part of the longer profile that repeats every `q` steps into the shorter one, so each
 * shape has one owner and the passes converge instead of trading it back and forth.
 */
function moveNested(
  long: Float64Array,
  p: number,
  short: Float64Array,
  q: number,
  means: Float64Array,
): void {
  means.fill(0, 0, q);
  for (let ph = 0; ph < p; ph++) means[ph % q] = (means[ph % q] as number) + (long[ph] as number);
  const reps = p / q;
  for (let j = 0; j < q; j++) {
    const m = (means[j] as number) / reps;
    means[j] = m;
    short[j] = (short[j] as number) + m;
  }
  for (let ph = 0; ph < p; ph++) long[ph] = (long[ph] as number) - (means[ph % q] as number);
}

/** Circular moving mean of `src[0..p)` with half-width `hw` into `out`, centred to mean 0. */
function smoothCircular(src: Float64Array, p: number, hw: number, out: Float64Array): void {
  const w = Math.min(hw, Math.floor((p - 1) / 2));
  let sum = 0;
  for (let j = -w; j <= w; j++) sum += src[(j + p) % p] as number;
  let total = 0;
  for (let ph = 0; ph < p; ph++) {
    const v = sum / (2 * w + 1);
    out[ph] = v;
    total += v;
    sum += (src[(ph + w + 1) % p] as number) - (src[(ph - w + p) % p] as number);
  }
  const mean = total / p;
  for (let ph = 0; ph < p; ph++) out[ph] = (out[ph] as number) - mean;
}

/**
 * The seasonal periods (steps, ascending, distinct, >= 2) a history of `n` points supports:
 * a day, a week and a year of steps, each only with at least two full cycles in the history
 * (the year never with less than two years).
 */
export function seasonalPeriods(
  n: number,
  ctx: { daySteps: number; weekSteps: number; yearSteps?: number },
): number[] {
  const out: number[] = [];
  for (const raw of [ctx.daySteps, ctx.weekSteps, ctx.yearSteps ?? 0]) {
    const p = Math.round(raw);
    if (p >= 2 && 2 * raw <= n && !out.includes(p)) out.push(p);
  }
  return out.sort((a, b) => a - b);
}
