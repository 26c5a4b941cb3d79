/** The tests' own seeded PRNG (mulberry32, not the app's): the same seed, the same test. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi], both inclusive. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** One of `xs`, each as likely. */
export function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[randInt(rand, 0, xs.length - 1)] as T;
}

/** One row of `table`, each as likely as its weight (the row's first element). */
export function pickWeighted<R extends readonly [number, ...unknown[]]>(
  rand: () => number,
  table: readonly R[],
): R {
  let r = rand() * table.reduce((n, [w]) => n + w, 0);
  for (const row of table) {
    r -= row[0];
    if (r < 0) return row;
  }
  return table.at(-1) as R;
}

/**
 * Runs `body` for each seed from `first`, `runs` of them, in turn; a failure
 * names its seed, so that it can be replayed alone.
 */
export async function eachSeed(
  first: number,
  runs: number,
  body: (seed: number) => Promise<void>,
): Promise<void> {
  for (let seed = first; seed < first + runs; seed++) {
    try {
      await body(seed);
    } catch (err) {
      throw new Error(`seed ${seed}: ${err instanceof Error ? err.message : String(err)}`, {
        cause: err,
      });
    }
  }
}
