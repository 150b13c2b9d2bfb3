/**
 * Deterministic draws from (seed, ...parts). Each draw hashes its own inputs instead of pulling from a shared
 * PRNG stream, so the same request gets the same luck however other requests interleave with it.
 * sha256 (node:crypto) is the mixer: already there, fast enough for a few draws per request, well distributed.
 */
import { createHash } from 'node:crypto';

type Part = string | number;

function digest(parts: readonly Part[], round = 0): Buffer {
  return createHash('sha256').update(`${round}\u0000${parts.join('\u0000')}`).digest();
}

/** A number in [0, 1), the same for the same parts. */
export function unitDraw(...parts: Part[]): number {
  return digest(parts).readUInt32BE(0) / 2 ** 32;
}

/** An unsigned 32-bit integer, the same for the same parts (e.g. to seed faker). */
export function intDraw(...parts: Part[]): number {
  return digest(parts).readUInt32BE(4);
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `length` characters of [0-9A-Za-z], the same for the same parts (ids like OpenRouter's `gen-...`). */
export function base62(length: number, ...parts: Part[]): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    for (const byte of digest(parts, round)) {
      // 248 = 62 * 4: dropping bytes above it keeps every character equally likely.
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}
