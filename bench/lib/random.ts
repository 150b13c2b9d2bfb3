/**
 * A small seeded random source (mulberry32) for generated schedules: the same seed gives the same draws on
 * every machine, so a failure is replayed by its seed.
 */
import { mulberry32 } from '../../tools/llama/gguf/prng.js';

export interface Random {
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

export function seededRandom(...seeds: number[]): Random {
  // Mix every seed part into one 32-bit state, so (seed, segment) streams are unrelated to each other.
  let state = 0x9e3779b9;
  for (const s of seeds) state = Math.imul(state ^ (s >>> 0), 0x85ebca6b) ^ (state >>> 13);
  const next = mulberry32(state);
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
    chance: (p) => next() < p,
  };
}
