/**
 * A seeded pseudo-random generator for tests that draw random inputs (fuzzing, kill moments):
 * the same seed gives the same draws, so a failure can be replayed from its printed seed.
 */

/**
 * mulberry32, a small seeded PRNG: fast, 32 bits of state, statistically fine for test inputs.
 * Not for cryptography.
 *
 * @param seed - Any number; only its low 32 bits matter.
 * @returns A function returning uniform numbers in [0, 1), the same sequence for the same seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
