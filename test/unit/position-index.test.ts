import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_KEY, MIN_KEY } from "../../src/core/key.ts";
import {
  type Bucket,
  type BucketRows,
  fillFor,
  MAX_BUCKET,
  PositionIndex,
  SPLIT_FILL,
  splitSizes,
} from "../../src/core/position-index.ts";
import { compareKeys, countBelow } from "../support/keys.ts";
import { mulberry32 } from "../support/random.ts";
import type { Key as ModelKey } from "../support/wire.ts";
import { TRICKY_UNITS } from "./model.ts";

/**
 * The store, modelled: every row's key in one array, ascending by the model
 * order. Counts the rows each range question would read through the (ts, id)
 * index, as SQLite's `rowsRead` does.
 */
class SortedRows implements BucketRows {
  rows: ModelKey[] = [];
  /** Rows read by count and nth since the last reset: the cost of lookups. */
  touched = 0;

  count(lo: ModelKey, hi: ModelKey): number {
    const n = Math.max(0, countBelow(this.rows, hi) - countBelow(this.rows, lo));
    this.touched += n;
    return n;
  }

  nth(lo: ModelKey, hi: ModelKey, offset: number, fromEnd: boolean): ModelKey | undefined {
    const from = countBelow(this.rows, lo);
    const to = countBelow(this.rows, hi);
    this.touched += offset + 1;
    const at = fromEnd ? to - 1 - offset : from + offset;
    // Stricter than the store: a question outside the range is an index bug.
    return at >= from && at < to ? this.rows[at] : undefined;
  }

  keys(lo: ModelKey, hi: ModelKey): ModelKey[] {
    return this.rows.slice(countBelow(this.rows, lo), countBelow(this.rows, hi));
  }

  /** Stores new rows (distinct, not yet present): a merge keeps the array sorted. */
  store(batch: readonly ModelKey[]): void {
    const sorted = [...batch].sort(compareKeys);
    const last = this.rows.at(-1);
    const first = sorted[0];
    if (first === undefined) return;
    if (last === undefined || compareKeys(last, first) < 0) {
      for (const key of sorted) this.rows.push(key);
      return;
    }
    const merged: ModelKey[] = [];
    let i = 0;
    let j = 0;
    while (i < this.rows.length || j < sorted.length) {
      const a = this.rows[i];
      const b = sorted[j];
      if (b === undefined || (a !== undefined && compareKeys(a, b) < 0)) {
        merged.push(a as ModelKey);
        i++;
      } else {
        merged.push(b);
        j++;
      }
    }
    this.rows = merged;
  }
}

const tag = (key: ModelKey) => JSON.stringify([key.ts, key.id]);

/** The persisted bucket table: rows upserted by lo, read back ascending by lo. */
class PersistedBuckets {
  readonly #rows = new Map<string, Bucket>();

  /** Applies takeChanges() as upserts by lo. */
  apply(changes: readonly Bucket[]): void {
    // One row per bucket in a batch of upserts.
    expect(new Set(changes.map((b) => tag(b.lo))).size).toBe(changes.length);
    for (const bucket of changes) {
      // A copy, as SQLite would hand back: no object identity survives.
      this.#rows.set(tag(bucket.lo), structuredClone(bucket));
    }
  }

  /** The table as the store loads it on wake: fresh objects, ascending by lo. */
  load(): Bucket[] {
    return [...this.#rows.values()]
      .map((b) => structuredClone(b))
      .sort((a, b) => compareKeys(a.lo, b.lo));
  }
}

/** Asserts the bucket list against the model rows. */
function expectBucketsValid(index: PositionIndex, model: SortedRows, max = MAX_BUCKET): void {
  const buckets = index.buckets();
  expect(index.bucketCount).toBe(buckets.length);
  expect(buckets[0]?.lo).toEqual({ ts: MIN_KEY.ts, id: MIN_KEY.id });
  let sum = 0;
  for (let b = 0; b < buckets.length; b++) {
    const bucket = buckets[b] as Bucket;
    const next = buckets[b + 1];
    if (next) expect(compareKeys(bucket.lo, next.lo)).toBe(-1);
    expect(bucket.size).toBeLessThanOrEqual(max);
    // Each size is exactly the rows of its key range: the buckets tile the key space.
    const hi = next?.lo ?? MAX_KEY;
    expect(bucket.size).toBe(countBelow(model.rows, hi) - countBelow(model.rows, bucket.lo));
    sum += bucket.size;
  }
  expect(sum).toBe(model.rows.length);
  expect(index.total).toBe(model.rows.length);
  // Buckets never get small enough to make the list long (a few thousand at 1M rows).
  expect(buckets.length).toBeLessThanOrEqual(Math.floor((2 * model.rows.length) / max) + 1);
}

interface Probe {
  readonly positions: number[];
  readonly keys: ModelKey[];
}

/** Positions and keys to ask about: both ends, random rows, and keys between rows. */
function probesFor(model: SortedRows, random: () => number, n: number): Probe {
  const total = model.rows.length;
  const positions = total === 0 ? [] : [0, total - 1];
  for (let i = 0; i < n && total > 0; i++) positions.push(Math.floor(random() * total));
  const keys: ModelKey[] = positions.map((p) => model.rows[p] as ModelKey);
  for (let i = 0; i < n; i++) {
    const near = model.rows[Math.floor(random() * total)];
    const ts = (near?.ts ?? 0) + Math.floor(random() * 3) - 1;
    keys.push({ ts, id: pickUnit(random) + pickUnit(random) });
  }
  keys.push({ ts: -1e15, id: "a" }, { ts: 1e15, id: "a" });
  return { positions, keys };
}

const pickUnit = (random: () => number) =>
  TRICKY_UNITS[Math.floor(random() * TRICKY_UNITS.length)] as string;

/** Asserts every answer and the rows it read: at most one bucket per lookup. */
function expectAnswers(index: PositionIndex, model: SortedRows, probe: Probe): void {
  const total = model.rows.length;
  for (const p of probe.positions) {
    model.touched = 0;
    expect(index.keyAt(p)).toEqual(model.rows[p]);
    expect(model.touched).toBeLessThanOrEqual(MAX_BUCKET);
  }
  for (const p of [-1, total, total + 1, 0.5, Number.NaN]) {
    expect(index.keyAt(p)).toBeUndefined();
  }
  for (const key of probe.keys) {
    model.touched = 0;
    expect(index.rank(key)).toBe(countBelow(model.rows, key));
    expect(model.touched).toBeLessThanOrEqual(MAX_BUCKET);
  }
  const sorted = [...probe.keys].sort(compareKeys);
  model.touched = 0;
  expect(index.ranks(sorted)).toEqual(sorted.map((k) => countBelow(model.rows, k)));
  // One bucket scan for the first key in a bucket, the rest chained from it.
  const buckets = index.buckets();
  const distinct = new Set(
    sorted.map((k) =>
      countBelow(
        buckets.map((b) => b.lo),
        k,
      ),
    ),
  );
  expect(model.touched).toBeLessThanOrEqual(2 * MAX_BUCKET * distinct.size);
}

// ── Arrivals: appends at the bottom, late singles, late chunks in one spot ──

type Op =
  | { readonly kind: "append"; readonly n: number }
  | { readonly kind: "late"; readonly n: number }
  | { readonly kind: "chunk"; readonly n: number; readonly sameTs: boolean }
  | { readonly kind: "wake" };

/** Makes the keys of one batch: distinct, none stored yet. */
class KeyMaker {
  #serial = 0;
  #maxTs = 0;
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  #id(prefix: string): string {
    // A tricky unit in front makes ids at one ts compare by code unit, not by serial.
    return `${pickUnit(this.#random)}${prefix}${(this.#serial++).toString(36)}`;
  }

  batch(op: Exclude<Op, { kind: "wake" }>, stored: readonly ModelKey[]): ModelKey[] {
    const random = this.#random;
    const out: ModelKey[] = [];
    const anyStored = () => stored[Math.floor(random() * stored.length)] as ModelKey;
    if (op.kind === "append" || stored.length === 0) {
      for (let i = 0; i < op.n; i++) {
        // Mostly a second apart, sometimes the same ms, sometimes a long pause. An
        // append at the ms of a late key may sort below it: the model does not mind.
        const r = random();
        this.#maxTs += r < 0.2 ? 0 : r < 0.95 ? 1000 : 1000 + Math.floor(random() * 100_000);
        out.push({ ts: this.#maxTs, id: `~${(this.#serial++).toString(36).padStart(8, "0")}` });
      }
      return out;
    }
    if (op.kind === "late") {
      for (let i = 0; i < op.n; i++) {
        const near = anyStored();
        const r = random();
        const ts =
          r < 0.1
            ? near.ts - 1_000_000
            : r < 0.5
              ? near.ts
              : near.ts - 1 - Math.floor(random() * 999);
        out.push({ ts, id: this.#id("L") });
      }
      return out;
    }
    // A chunk: consecutive keys right after a stored key, before its successor
    // (appends are a second apart; a late single in between makes them interleave).
    const at = anyStored();
    const prefix = this.#id("C");
    for (let i = 0; i < op.n; i++) {
      const ts = op.sameTs ? at.ts : at.ts + 1 + Math.floor((i * 998) / op.n);
      out.push({ ts, id: `${prefix}-${i.toString().padStart(5, "0")}` });
    }
    return out;
  }
}

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant("append"), n: fc.integer({ min: 1, max: 600 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("late"), n: fc.integer({ min: 1, max: 30 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("chunk"),
      n: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 1, max: 10_000 })),
      sameTs: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "wake" as const }) },
);

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

describe("PositionIndex", () => {
  it("answers an empty list", () => {
    const model = new SortedRows();
    const index = new PositionIndex(model, []);
    expect(index.total).toBe(0);
    expect(index.bucketCount).toBe(1);
    expect(index.keyAt(0)).toBeUndefined();
    expect(index.rank({ ts: 5, id: "x" })).toBe(0);
    expect(
      index.ranks([
        { ts: 1, id: "a" },
        { ts: 2, id: "b" },
      ]),
    ).toEqual([0, 0]);
    // The first bucket is new, so it is the first change to persist; then nothing is.
    expect(index.takeChanges()).toEqual([{ lo: { ts: MIN_KEY.ts, id: MIN_KEY.id }, size: 0 }]);
    expect(index.takeChanges()).toEqual([]);
  });

  it("matches a sorted-array model under appends, late singles, late chunks and wakes", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (ops, seed) => {
          const random = mulberry32(seed);
          const model = new SortedRows();
          const persisted = new PersistedBuckets();
          let index = new PositionIndex(model, []);
          persisted.apply(index.takeChanges());
          const maker = new KeyMaker(random);

          for (const op of ops) {
            if (op.kind === "wake") {
              // The object is evicted: a new index from the persisted table only.
              index = new PositionIndex(model, persisted.load());
              expect(index.takeChanges()).toEqual([]);
            } else {
              const batch = maker.batch(op, model.rows);
              model.store(batch); // the caller stores rows first ...
              index.added(shuffle([...batch], random)); // ... then tells the index, in any order
            }

            expectBucketsValid(index, model);
            persisted.apply(index.takeChanges());
            const loaded = persisted.load();
            expect(loaded).toEqual(index.buckets());
            expect(index.takeChanges()).toEqual([]);

            const probe = probesFor(model, random, 30);
            expectAnswers(index, model, probe);
            // What a wake would build answers the same.
            const woken = new PositionIndex(model, loaded);
            expect(woken.total).toBe(index.total);
            expect(woken.buckets()).toEqual(index.buckets());
            expectAnswers(woken, model, probe);
          }
        },
      ),
      { numRuns: 120 },
    );
    // Generous: the runs take seconds, and CI machines are shared.
  }, 60_000);

  it("keeps buckets of an injected size and answers like the model", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (ops, bucketSize, seed) => {
          const random = mulberry32(seed);
          const model = new SortedRows();
          const persisted = new PersistedBuckets();
          let index = new PositionIndex(model, [], { bucketSize });
          const maker = new KeyMaker(random);
          for (const op of ops) {
            if (op.kind === "wake") {
              index = new PositionIndex(model, persisted.load(), { bucketSize });
            } else {
              const batch = maker.batch(op, model.rows);
              model.store(batch);
              index.added(shuffle([...batch], random));
            }
            persisted.apply(index.takeChanges());
            expectBucketsValid(index, model, bucketSize);
            expectAnswers(index, model, probesFor(model, random, 20));
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 60_000);

  it("splits a 10,000-key chunk landing in a middle bucket into pieces that tile it", () => {
    const model = new SortedRows();
    const index = new PositionIndex(model, []);
    const persisted = new PersistedBuckets();
    const bottom = Array.from({ length: 3000 }, (_, i) => ({ ts: i * 10, id: `b${i}` }));
    model.store(bottom);
    index.added(bottom);
    persisted.apply(index.takeChanges());
    const before = index.buckets().map((b) => ({ ...b }));

    // Every chunk key sorts between ts 1000 and ts 1010: one spot in bucket 0.
    const chunk = Array.from({ length: 10_000 }, (_, i) => ({
      ts: 1005,
      id: `c${i.toString().padStart(5, "0")}`,
    }));
    model.store(chunk);
    index.added(chunk);
    expectBucketsValid(index, model);

    const changes = index.takeChanges();
    // Untouched buckets are not rewritten.
    for (const bucket of before.slice(1)) {
      expect(changes.some((c) => compareKeys(c.lo, bucket.lo) === 0)).toBe(false);
    }
    persisted.apply(changes);
    expect(persisted.load()).toEqual(index.buckets());
    expectAnswers(index, model, probesFor(model, mulberry32(7), 200));
  });

  it("reads at most one bucket of rows per lookup at 10K and 100K keys", () => {
    for (const size of [10_000, 100_000]) {
      const random = mulberry32(size);
      const model = new SortedRows();
      const index = new PositionIndex(model, []);
      const maker = new KeyMaker(random);
      while (model.rows.length < size) {
        const r = random();
        const op: Op =
          r < 0.8
            ? { kind: "append", n: 1 + Math.floor(random() * 1000) }
            : r < 0.97
              ? { kind: "late", n: 1 + Math.floor(random() * 50) }
              : { kind: "chunk", n: 1 + Math.floor(random() * 10_000), sameTs: random() < 0.5 };
        const batch = maker.batch(op, model.rows).slice(0, size - model.rows.length);
        model.store(batch);
        index.added(batch);
      }
      expectBucketsValid(index, model);
      let worstKeyAt = 0;
      let worstRank = 0;
      for (let i = 0; i < 2000; i++) {
        const p = Math.floor(random() * size);
        model.touched = 0;
        expect(index.keyAt(p)).toEqual(model.rows[p]);
        worstKeyAt = Math.max(worstKeyAt, model.touched);
        const key = model.rows[Math.floor(random() * size)] as ModelKey;
        model.touched = 0;
        expect(index.rank(key)).toBe(countBelow(model.rows, key));
        worstRank = Math.max(worstRank, model.touched);
      }
      // keyAt walks in from the nearer end of its bucket: half of one at most.
      expect(worstKeyAt).toBeLessThanOrEqual(MAX_BUCKET / 2 + 1);
      expect(worstRank).toBeLessThanOrEqual(MAX_BUCKET);
      expectAnswers(index, model, probesFor(model, random, 500));
    }
  });
});

describe("splitSizes", () => {
  it("keeps a bucket that fits whole", () => {
    for (const size of [0, 1, SPLIT_FILL, MAX_BUCKET]) {
      expect(splitSizes(size, true)).toEqual([size]);
      expect(splitSizes(size, false)).toEqual([size]);
    }
  });

  it("cuts the last bucket into full pieces and a remainder, like a B-tree on appends", () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_BUCKET + 1, max: 30_000 }), (size) => {
        const pieces = splitSizes(size, true);
        expect(pieces.reduce((a, b) => a + b, 0)).toBe(size);
        expect(pieces.slice(0, -1).every((p) => p === MAX_BUCKET)).toBe(true);
        const rest = pieces.at(-1) ?? 0;
        expect(rest).toBeGreaterThanOrEqual(1);
        expect(rest).toBeLessThanOrEqual(MAX_BUCKET);
      }),
    );
  });

  it("cuts a middle bucket into near-equal pieces of at most SPLIT_FILL, as few as that allows", () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX_BUCKET + 1, max: 30_000 }), (size) => {
        const pieces = splitSizes(size, false);
        expect(pieces.reduce((a, b) => a + b, 0)).toBe(size);
        expect(Math.max(...pieces)).toBeLessThanOrEqual(SPLIT_FILL);
        expect(Math.max(...pieces) - Math.min(...pieces)).toBeLessThanOrEqual(1);
        // One piece fewer could not hold them within SPLIT_FILL.
        expect((pieces.length - 1) * SPLIT_FILL).toBeLessThan(size);
      }),
    );
  });

  it("cuts a run that outgrew any maximum by a pieces into at most a + 1 (pages rely on it)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.integer({ min: 1, max: 2_000 }),
        (max, a) => {
          for (const isLast of [true, false]) {
            const pieces = splitSizes(max + a, isLast, max, fillFor(max));
            expect(pieces.reduce((x, y) => x + y, 0)).toBe(max + a);
            expect(Math.max(...pieces)).toBeLessThanOrEqual(max);
            expect(pieces.length).toBeLessThanOrEqual(a + 1);
          }
        },
      ),
    );
  });
});
