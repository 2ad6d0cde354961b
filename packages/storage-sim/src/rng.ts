import { xoroshiro128plus } from "pure-rand";

/** A seeded source of floats in [0, 1): the same seed gives the same sequence. */
export type Random = () => number;

/** A seeded random number generator (xoroshiro128+ from pure-rand). */
export function createRng(seed: number): Random {
  const generator = xoroshiro128plus(seed | 0);
  return () => (generator.unsafeNext() >>> 0) / 4_294_967_296;
}

/**
 * Derives a 32-bit seed from a base seed and some parts (FNV-1a), so that each task attempt
 * gets its own repeatable stream whatever order threads run in.
 */
export function deriveSeed(seed: number, ...parts: ReadonlyArray<string | number>): number {
  let hash = (2_166_136_261 ^ seed) >>> 0;
  for (const part of parts) {
    const text = String(part);
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 16_777_619) >>> 0;
    }
    hash = Math.imul(hash ^ 0x2f, 16_777_619) >>> 0;
  }
  return hash | 0;
}
