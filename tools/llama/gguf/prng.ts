/**
 * Seeded randomness for the tiny model's weights (and the soak's fault schedule, bench/lib/random.ts): the same
 * seed gives the same draws on every machine (pure 32-bit integer math, no Math.random).
 */

/** mulberry32: a small, fast 32-bit PRNG. Returns uniform numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal numbers (mean 0, deviation 1) by Box-Muller, drawing two uniforms per number. */
export function normal(uniform: () => number): () => number {
  return () => {
    const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
    return radius * Math.cos(2 * Math.PI * uniform());
  };
}
