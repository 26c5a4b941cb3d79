import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fenwick } from "../../src/core/fenwick.ts";

/** The model: a plain array of sizes, prefix sums by summing. */
function prefix(sizes: readonly number[], i: number): number {
  let sum = 0;
  for (let j = 0; j < i; j++) sum += sizes[j] ?? 0;
  return sum;
}

/** The bucket holding position p: the first with prefix(b + 1) > p. */
function modelSeek(sizes: readonly number[], p: number): { bucket: number; offset: number } {
  let before = 0;
  for (let b = 0; b < sizes.length; b++) {
    const size = sizes[b] ?? 0;
    if (p < before + size) return { bucket: b, offset: p - before };
    before += size;
  }
  throw new Error(`position ${p} is outside the model`);
}

function expectMatches(tree: Fenwick, sizes: readonly number[]): void {
  const total = prefix(sizes, sizes.length);
  expect(tree.length).toBe(sizes.length);
  expect(tree.total).toBe(total);
  for (let i = 0; i <= sizes.length; i++) expect(tree.before(i)).toBe(prefix(sizes, i));
  for (let p = 0; p < total; p++) expect(tree.seek(p)).toEqual(modelSeek(sizes, p));
}

/** Sizes with many zeros, as an index starting empty or with sparse buckets has. */
const sizesArb = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 6 })), {
  maxLength: 40,
});

describe("Fenwick", () => {
  it("builds prefix sums and seeks every position like the model", () => {
    fc.assert(
      fc.property(sizesArb, (sizes) => {
        expectMatches(new Fenwick(sizes), sizes);
      }),
      { numRuns: 300 },
    );
  });

  it("stays equal to the model under random point additions", () => {
    const scenario = sizesArb
      .filter((s) => s.length > 0)
      .chain((sizes) =>
        fc.tuple(
          fc.constant(sizes),
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: sizes.length - 1 }), fc.integer({ min: 1, max: 5 })),
            { maxLength: 30 },
          ),
        ),
      );
    fc.assert(
      fc.property(scenario, ([initial, adds]) => {
        const sizes = [...initial];
        const tree = new Fenwick(sizes);
        for (const [i, delta] of adds) {
          tree.add(i, delta);
          sizes[i] = (sizes[i] ?? 0) + delta;
          expectMatches(tree, sizes);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("skips zero-size buckets when seeking, at either end and in the middle", () => {
    const sizes = [0, 0, 3, 0, 0, 0, 2, 0, 1, 0, 0];
    const tree = new Fenwick(sizes);
    const seen = [0, 1, 2, 3, 4, 5].map((p) => tree.seek(p));
    expect(seen).toEqual([
      { bucket: 2, offset: 0 },
      { bucket: 2, offset: 1 },
      { bucket: 2, offset: 2 },
      { bucket: 6, offset: 0 },
      { bucket: 6, offset: 1 },
      { bucket: 8, offset: 0 },
    ]);
  });

  it("handles no buckets and one empty bucket", () => {
    const none = new Fenwick([]);
    expect(none.length).toBe(0);
    expect(none.total).toBe(0);
    expect(none.before(0)).toBe(0);

    const one = new Fenwick([0]);
    expect(one.total).toBe(0);
    one.add(0, 2);
    expect(one.total).toBe(2);
    expect(one.seek(0)).toEqual({ bucket: 0, offset: 0 });
    expect(one.seek(1)).toEqual({ bucket: 0, offset: 1 });
  });

  it("answers at the scale of an index with thousands of buckets", () => {
    const sizes = Array.from({ length: 5000 }, (_, i) => (i * 7919) % 513);
    const tree = new Fenwick(sizes);
    const before: number[] = [0];
    for (const size of sizes) before.push((before.at(-1) ?? 0) + size);
    const total = before.at(-1) ?? 0;
    expect(tree.total).toBe(total);
    for (let i = 0; i <= sizes.length; i += 97) expect(tree.before(i)).toBe(before[i]);
    for (let p = 0; p < total; p += 1237) {
      const { bucket, offset } = tree.seek(p);
      expect(before[bucket]).toBe(p - offset);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(sizes[bucket] ?? 0);
    }
  });
});
