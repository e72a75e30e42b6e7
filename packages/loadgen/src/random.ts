/**
 * A seeded PRNG, so that a run with `seed` makes the same arrivals, session lengths, rooms
 * and message gaps every time (tests compare exact counts). Not for cryptography.
 */

// One generator for the house (the forecast library's simulator uses the same), so a seed
// means the same sequence in the load generator and in a simulation.
import type { Random } from '@tidewatch/forecast';

export { createRandom, type Random } from '@tidewatch/forecast';

/**
 * A seed for an independent stream derived from `seed` and a stream number: sessions get
 * their own stream each, so their randomness does not depend on the order in which their
 * timers happen to fire.
 */
export function deriveSeed(seed: number, stream: number): number {
  let h = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A random 32-bit seed, for runs without `seed`. */
export function randomSeed(): number {
  return (Math.random() * 4294967296) >>> 0;
}

/**
 * An exponentially distributed value with the given mean (the gap between events of a
 * Poisson process). `1 - random()` is in (0, 1], so the log is finite.
 */
export function exponential(random: Random, mean: number): number {
  return -Math.log(1 - random()) * mean;
}
