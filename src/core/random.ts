/** A small seeded PRNG (sfc32), so simulated arrivals replay exactly. */

/** Mixes integers into one 32-bit seed (splitmix-style avalanche). */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
    // Fold in the high bits of numbers beyond 32 bits too.
    h = Math.imul(h ^ Math.floor(part / 2 ** 32), 0x27d4eb2f);
  }
  return h >>> 0;
}

/** Uniform floats in [0, 1) from a 32-bit seed. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}
