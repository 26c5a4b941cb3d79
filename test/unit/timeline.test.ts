/**
 * The timeline's reads through the position index (src/core/timeline.ts)
 * against a sorted array of rows: the exact points are the contract's, the
 * bucket points are bucket starts near them, and the rows each reads are
 * counted (exact: each bucket once at most; by bucket: one row per start
 * whose bound is not a stored key, none otherwise).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bucket, PositionIndex } from "../../src/core/position-index.ts";
import { bucketPoints, exactPoints, scanPlan } from "../../src/core/timeline.ts";
import { mulberry32, randInt } from "../support/random.ts";
import type { Key } from "../support/wire.ts";
import { SortedRows } from "./sorted-rows.ts";

/** The contract's positions, written out again: round(i·(total−1)/(N−1)). */
const targets = (total: number, n: number) =>
  Array.from({ length: n }, (_, i) => Math.round((i * (total - 1)) / (n - 1)));

/** Checks made, printed at the end of the file's property tests. */
const tally = { plans: 0, exact: 0, starts: 0 };

describe("scanPlan", () => {
  it("reads the fewest rows that reach every offset, none more than half a bucket from its neighbour or end", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (size, raw) => {
          const offsets = [...new Set(raw.map((o) => o % size))].sort((a, b) => a - b);
          const { low, high } = scanPlan(offsets, size);
          expect(low + high).toBeLessThanOrEqual(size);
          for (const o of offsets) expect(o < low || o >= size - high, `offset ${o}`).toBe(true);
          // Brute force: every way to read a prefix and a suffix that covers the offsets.
          let best = Number.POSITIVE_INFINITY;
          for (let k = 0; k <= offsets.length; k++) {
            const prefix = k === 0 ? 0 : (offsets[k - 1] as number) + 1;
            const suffix = k === offsets.length ? 0 : size - (offsets[k] as number);
            best = Math.min(best, prefix + suffix);
          }
          expect(low + high).toBe(best);
          // What each offset adds: the rows from its neighbour (or end) on its side.
          const half = Math.floor((size + 1) / 2);
          offsets.forEach((o, k) => {
            const step = o < low ? o - (offsets[k - 1] ?? -1) : (offsets[k + 1] ?? size) - o;
            expect(step, `offset ${o} of ${size}`).toBeLessThanOrEqual(half);
          });
          tally.plans++;
        },
      ),
      { numRuns: 2_000 },
    );
    expect(scanPlan([], 10)).toEqual({ low: 0, high: 0 });
    expect(scanPlan([0], 10)).toEqual({ low: 1, high: 0 });
    expect(scanPlan([9], 10)).toEqual({ low: 0, high: 1 });
    expect(scanPlan([1, 8], 10)).toEqual({ low: 2, high: 2 });
  });
});

/** A channel's rows and index after random appends, late arrivals and deletes. */
function channel(seed: number, count: number, bucketSize: number, deleteRatio: number) {
  const random = mulberry32(seed);
  const rows = new SortedRows();
  const index = new PositionIndex(rows, [], { bucketSize });
  let clock = 1_000;
  for (let n = 0; n < count; n += 50) {
    const batch: Key[] = [];
    for (let k = n; k < Math.min(count, n + 50); k++) {
      const late = random() < 0.2;
      if (!late) clock += randInt(random, 0, 3);
      batch.push({ ts: late ? randInt(random, 0, clock) : clock, id: `m${k.toString(36)}` });
    }
    rows.store(batch);
    index.added(batch);
    // Deletes here and there, bucket bounds among them.
    if (deleteRatio === 0) continue;
    const doomed = rows.rows.filter(() => random() < deleteRatio);
    const bounds = index.buckets().filter((b) => random() < deleteRatio * 4 && rows.has(b.lo));
    const gone = [...new Map([...doomed, ...bounds.map((b) => b.lo)].map((k) => [k.id, k]))];
    rows.remove(gone.map(([, key]) => key));
    for (const [, key] of gone) index.removed([key]);
  }
  return { rows, index, random };
}

/** Where each non-empty bucket starts, and its bound, from the directory. */
function starts(buckets: readonly Bucket[]): { start: number; bucket: Bucket }[] {
  const out = [];
  let start = 0;
  for (const bucket of buckets) {
    if (bucket.size > 0) out.push({ start, bucket });
    start += bucket.size;
  }
  return out;
}

describe("exactPoints and bucketPoints", () => {
  it("answer the contract's points, and bucket starts near them reading only where a bound is not a stored key", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 0, max: 1_500 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0, 0.002, 0.02, 0.3),
        fc.integer({ min: 2, max: 300 }),
        (seed, count, bucketSize, deleteRatio, n) => {
          const { rows, index } = channel(seed, count, bucketSize, deleteRatio);
          const total = rows.rows.length;
          const tsAt = (p: number) => (rows.rows[p] as Key).ts;
          // Exact: the contract's positions, each bucket's rows read once at most.
          rows.touched = 0;
          const exact = exactPoints(index, n);
          expect(exact).toEqual(
            total === 0 ? [] : targets(total, n).map((p) => ({ position: p, ts: tsAt(p) })),
          );
          expect(rows.touched).toBeLessThanOrEqual(total);
          const distinct = new Set(exact.map((p) => p.position)).size;
          expect(rows.touched).toBeLessThanOrEqual(distinct * Math.floor((bucketSize + 1) / 2));
          tally.exact++;

          // By bucket: the nearer of the bucket starts and the newest message around each target.
          rows.touched = 0;
          const newest = rows.rows.at(-1) ?? { ts: 0, id: "" };
          const cheap = bucketPoints(index, n, newest);
          if (total === 0) {
            expect(cheap).toEqual([]);
            return;
          }
          const table = starts(index.buckets());
          const known = [...new Set([...table.map((s) => s.start), total - 1])];
          const expected: number[] = [];
          for (const t of targets(total, n)) {
            const lower = known.findLast((p) => p <= t) as number;
            const upper = known.find((p) => p > t);
            const pick = upper !== undefined && upper - t < t - lower ? upper : lower;
            expect(Math.abs(pick - t)).toBeLessThanOrEqual(bucketSize / 2);
            if (expected.at(-1) !== pick) expected.push(pick);
          }
          expect(cheap).toEqual(expected.map((p) => ({ position: p, ts: tsAt(p) })));
          // One row for each start taken whose bound is MIN_KEY or a deleted key; the newest is known.
          const reads = table.filter(
            (s) => expected.includes(s.start) && s.start !== total - 1 && !rows.has(s.bucket.lo),
          ).length;
          expect(rows.touched).toBe(reads);
          tally.starts++;
        },
      ),
      { numRuns: 400 },
    );
    console.log(
      `timeline against the model: ${tally.plans} scan plans, ${tally.exact} exact and ${tally.starts} bucket timelines`,
    );
  });

  it("reads one row by bucket, at 2,000 as at 40,000 rows, where exact points read a share of a bucket each", () => {
    const seen = [];
    for (const count of [2_000, 40_000]) {
      const { rows, index } = channel(count, count, 64, 0);
      rows.touched = 0;
      exactPoints(index, 1_000);
      const exact = rows.touched;
      rows.touched = 0;
      const cheap = bucketPoints(index, 1_000, rows.rows.at(-1) as Key);
      seen.push({
        count,
        buckets: index.bucketCount,
        exact,
        cheap: rows.touched,
        points: cheap.length,
      });
      // No bound deleted: only the first bucket's (MIN_KEY) needs its row.
      expect(rows.touched).toBe(1);
    }
    console.log("rows read by 1,000 points, buckets of 64:", JSON.stringify(seen));
    const large = seen[1] as (typeof seen)[0];
    expect(large.exact).toBeGreaterThanOrEqual(20 * Math.max(1, large.cheap));
  });
});
