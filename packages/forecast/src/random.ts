/**
 * The seeded pseudo-random generator of the house: the simulator's random balancer and jitter,
 * the load generator's arrivals and sessions, the benchmark's surges. One generator, so a seed
 * means the same sequence everywhere (test-utils keeps its own copy: it imports no package).
 */

/** A source of uniform numbers in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: a small, fast, seeded 32-bit generator (not cryptographic). The same seed gives
 * the same sequence on every platform, so a simulation or a load run is reproducible.
 * @param seed any number; only its low 32 bits are used.
 * @returns a function returning uniform numbers in [0, 1).
 */
export function createRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
