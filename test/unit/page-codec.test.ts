import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIN_KEY } from "../../src/core/key.ts";
import { decodePage, encodePage } from "../../src/core/page-codec.ts";
import type { Bucket } from "../../src/core/position-index.ts";
import { compareKeys } from "../support/keys.ts";
import type { Key } from "../support/wire.ts";
import { codeUnitString, trickyId } from "./model.ts";

/** ts that stress the deltas: equal, adjacent, and the far ends of the safe range. */
const tsArb = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.integer({ min: 1_795_480_000_000, max: 1_795_480_100_000 }),
  fc.constantFrom(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -(2 ** 52), 2 ** 52),
  fc.maxSafeInteger(),
  fc.integer(),
);

const idArb = fc.oneof(trickyId(1), codeUnitString(12), fc.constant("s000000001a-1234abcd"));

/** Ascending distinct lower bounds with sizes, sometimes starting at MIN_KEY as the first page does. */
const pageArb = fc
  .tuple(
    fc.array(fc.record({ ts: tsArb, id: idArb }), { minLength: 1, maxLength: 60 }),
    fc.boolean(),
    fc.array(fc.nat({ max: 1_000_000 }), { minLength: 61, maxLength: 61 }),
    fc.array(fc.boolean(), { minLength: 61, maxLength: 61 }),
  )
  .map(([keys, fromMin, sizes, gone]): Bucket[] => {
    const sorted = (fromMin ? [MIN_KEY as Key, ...keys] : keys).sort(compareKeys);
    const distinct = sorted.filter((k, i) => i === 0 || compareKeys(sorted[i - 1] as Key, k));
    return distinct.map((lo, i) => ({
      lo: { ts: lo.ts, id: lo.id },
      size: sizes[i] ?? 0,
      // A deleted bound is a message's key: never MIN_KEY.
      ...(gone[i] && lo.id !== "" ? { boundGone: true as const } : {}),
    }));
  });

/** The buckets without their marks, as format 1 holds them. */
const unmarked = (buckets: readonly Bucket[]): Bucket[] =>
  buckets.map((b) => ({ lo: b.lo, size: b.size }));

describe("page codec", () => {
  it("gives back every bound and size, bit for bit", () => {
    fc.assert(
      fc.property(pageArb, (buckets) => {
        const first = buckets[0] as Bucket;
        // The decoder gets the first bound from the row's key, not from the blob.
        const decoded = decodePage({ ...first.lo }, encodePage(buckets));
        expect(decoded).toEqual(buckets);
        for (const [i, b] of decoded.entries()) {
          expect(Object.is(b.lo.ts, buckets[i]?.lo.ts)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("reads format 1 (sizes alone, schemas 2–4) unmarked, and refuses to write a mark in it", () => {
    fc.assert(
      fc.property(pageArb, (buckets) => {
        const first = (buckets[0] as Bucket).lo;
        const plain = unmarked(buckets);
        expect(decodePage({ ...first }, encodePage(plain, 1), 1)).toEqual(plain);
        if (buckets.some((b) => b.boundGone)) expect(() => encodePage(buckets, 1)).toThrow();
      }),
      { numRuns: 200 },
    );
    // Bytes by hand: 2 buckets, sizes 3 and 200, the second bound gone.
    const a = { lo: { ts: 5, id: "a" }, size: 3 };
    const b = { lo: { ts: 7, id: "ab" }, size: 200 };
    const tail = [3, 1, 1, 98]; // ts + 2 (varint 3), 1 unit shared, 1 unit: "b"
    expect([...encodePage([a, b], 1)]).toEqual([2, 3, ...tail, 0xc8, 0x01]);
    expect([...encodePage([a, { ...b, boundGone: true }])]).toEqual([2, 6, ...tail, 0x91, 0x03]);
  });

  it("keeps a full page of server ids under 20 bytes a bucket (5 KB a page)", () => {
    const buckets = Array.from({ length: 256 }, (_, i) => ({
      lo: {
        ts: 1_795_480_000_000 + i * 512_000 + (i % 7),
        id: `s${(i * 512).toString(36).padStart(10, "0")}-${(i * 2_654_435_761).toString(16).slice(-8)}`,
      },
      size: 300 + (i % 213),
    }));
    const bytes = encodePage(buckets);
    expect(decodePage(buckets[0]?.lo as Bucket["lo"], bytes)).toEqual(buckets);
    expect(bytes.length).toBeLessThan(256 * 20);
  });

  it("refuses an empty page, and truncated or padded bytes", () => {
    expect(() => encodePage([])).toThrow(RangeError);
    const buckets: Bucket[] = [
      { lo: { ts: 1, id: "a" }, size: 3 },
      { lo: { ts: 2 ** 40, id: "ab\uD800" }, size: 200 },
      { lo: { ts: Number.MAX_SAFE_INTEGER, id: "b" }, size: 1 },
    ];
    const bytes = encodePage(buckets);
    for (let cut = 0; cut < bytes.length; cut++) {
      expect(() => decodePage(buckets[0]?.lo as Bucket["lo"], bytes.slice(0, cut))).toThrow();
    }
    const padded = new Uint8Array([...bytes, 0]);
    expect(() => decodePage(buckets[0]?.lo as Bucket["lo"], padded)).toThrow("trailing");
  });
});
