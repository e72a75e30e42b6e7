/**
 * How a load balancer spreads new connections over the ready pods, on per-pod connection
 * counts (fractional numbers, not per-connection objects: a six-month trace places hundreds
 * of millions of connections, and the count is all the scoring needs).
 */

import type { Random } from '../random.js';

/** Load-balancer policies the sticky simulator models. */
export type LoadBalancerPolicy = 'round-robin' | 'least-connections' | 'random';

/** The policies, for validation and help texts. */
export const LOAD_BALANCER_POLICIES: readonly LoadBalancerPolicy[] = [
  'round-robin',
  'least-connections',
  'random',
];

// Reused work arrays (the simulator calls place() about a million times per run).
const scratch = { shares: new Float64Array(64), above: new Uint8Array(64) };

/**
 * Adds `amount` connections to the pods listed in `ready[0..count)` (indices into `load`):
 * - `round-robin`: each ready pod gets the same share, whatever it already holds (the
 *   balancer's rotation over many connections; it keeps loading hot pods).
 * - `least-connections`: water-filling: the least-loaded pods are raised to a common level
 *   first, so a new pod takes new connections until it is level with the others.
 * - `random`: each connection picks a pod uniformly; the counts per pod are the multinomial's
 *   normal approximation (mean amount/n, variance amount/n x (1 - 1/n)), clamped at 0 and
 *   rescaled so they add up to `amount`.
 * Does nothing when `count` is 0 or `amount` <= 0.
 */
export function place(
  policy: LoadBalancerPolicy,
  load: Float64Array,
  ready: Int32Array,
  count: number,
  amount: number,
  random: Random,
): void {
  if (count === 0 || !(amount > 0)) return;
  if (policy === 'round-robin') {
    const share = amount / count;
    for (let k = 0; k < count; k++) {
      const i = ready[k] as number;
      load[i] = (load[i] as number) + share;
    }
    return;
  }
  if (policy === 'least-connections') {
    waterFill(load, ready, count, amount);
    return;
  }
  spreadRandomly(load, ready, count, amount, random);
}

/**
 * The level L with sum over pods of max(0, L - load) = amount: start with every pod, take the
 * level that pours `amount` over them, drop the pods already at or above it, repeat (the level
 * only falls, so a dropped pod stays above it; a few passes, no sort per call).
 */
function waterFill(load: Float64Array, ready: Int32Array, count: number, amount: number): void {
  if (scratch.above.length < count) scratch.above = new Uint8Array(count * 2);
  const above = scratch.above;
  above.fill(0, 0, count);
  let level = 0;
  for (let pass = 0; pass <= count; pass++) {
    let sum = amount;
    let below = 0;
    for (let k = 0; k < count; k++)
      if (above[k] === 0) {
        sum += load[ready[k] as number] as number;
        below++;
      }
    level = sum / below;
    let dropped = false;
    for (let k = 0; k < count; k++)
      if (above[k] === 0 && (load[ready[k] as number] as number) >= level) {
        above[k] = 1;
        dropped = true;
      }
    if (!dropped) break;
  }
  for (let k = 0; k < count; k++) if (above[k] === 0) load[ready[k] as number] = level;
}

/** A standard normal deviate (Box-Muller; no cached spare, so runs share no state). */
function gaussian(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function spreadRandomly(
  load: Float64Array,
  ready: Int32Array,
  count: number,
  amount: number,
  random: Random,
): void {
  if (scratch.shares.length < count) scratch.shares = new Float64Array(count * 2);
  const shares = scratch.shares;
  const mean = amount / count;
  const sd = Math.sqrt(mean * (1 - 1 / count));
  let total = 0;
  for (let k = 0; k < count; k++) {
    const s = Math.max(0, mean + sd * gaussian(random));
    shares[k] = s;
    total += s;
  }
  for (let k = 0; k < count; k++) {
    const s = total > 0 ? ((shares[k] as number) * amount) / total : mean;
    const i = ready[k] as number;
    load[i] = (load[i] as number) + s;
  }
}
