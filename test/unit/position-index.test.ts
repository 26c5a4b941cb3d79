import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_KEY, MIN_KEY } from "../../src/core/key.ts";
import { PAGE_BUCKETS, type Page, PageLayout } from "../../src/core/page-layout.ts";
import {
  type Bucket,
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
import { SortedRows, tag } from "./sorted-rows.ts";

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

/** Asserts the bucket list against the model rows, and that arrivals alone keep it short. */
function expectBucketsValid(index: PositionIndex, model: SortedRows, max = MAX_BUCKET): void {
  expectTiles(index, model, max);
  // Buckets never get small enough to make the list long (a few thousand at 1M rows).
  expect(index.bucketCount).toBeLessThanOrEqual(Math.floor((2 * model.rows.length) / max) + 1);
}

/**
 * Asserts the buckets tile the key space from MIN_KEY, ascending, each at
 * most `max` and exactly as big as the model's rows in its range, each bound
 * after the first marked gone exactly when it is no stored row's key.
 */
function expectTiles(index: PositionIndex, model: SortedRows, max: number): void {
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
    if (b > 0) expect(bucket.boundGone === true, `bound ${b} gone`).toBe(!model.has(bucket.lo));
    else expect(bucket.boundGone).toBeUndefined();
    sum += bucket.size;
  }
  expect(sum).toBe(model.rows.length);
  expect(index.total).toBe(model.rows.length);
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

/** Asserts every answer and the rows it read: at most one bucket (of `max`) per lookup. */
function expectAnswers(
  index: PositionIndex,
  model: SortedRows,
  probe: Probe,
  max = MAX_BUCKET,
): void {
  const total = model.rows.length;
  for (const p of probe.positions) {
    model.touched = 0;
    expect(index.keyAt(p)).toEqual(model.rows[p]);
    expect(model.touched).toBeLessThanOrEqual(max);
  }
  for (const p of [-1, total, total + 1, 0.5, Number.NaN]) {
    expect(index.keyAt(p)).toBeUndefined();
  }
  for (const key of probe.keys) {
    model.touched = 0;
    expect(index.rank(key)).toBe(countBelow(model.rows, key));
    expect(model.touched).toBeLessThanOrEqual(max);
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
  expect(model.touched).toBeLessThanOrEqual(2 * max * distinct.size);
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

// ── Deletes (protocol 1.2): sizes fall, small buckets merge, page names stay ──

/**
 * The bucket_pages table and its layout, modelled as the store keeps them
 * (bucket-pages.ts): pages upserted by name after each write, read back in
 * name order on wake. Its page names are the bounds a delete may not merge away.
 */
class PagedDirectory {
  readonly #pageBuckets: number;
  #layout: PageLayout;
  readonly #rows = new Map<string, Page>();

  constructor(pageBuckets: number) {
    this.#pageBuckets = pageBuckets;
    this.#layout = new PageLayout([], { pageBuckets });
  }

  /** The `pinned` argument of removed(), as deleteMessage passes it. */
  readonly pinned = (lo: ModelKey): boolean => this.#layout.isStart(lo);

  /** The stored page names, ascending. */
  names(): ModelKey[] {
    return [...this.#rows.values()].map((page) => page.lo).sort(compareKeys);
  }

  /**
   * Stores what changed since the last save (the store's saveIndex) and
   * asserts the stored pages tile the bucket list under names that never
   * change. Returns the pages written.
   */
  save(index: PositionIndex): number {
    const before = this.names();
    const changed = index.takeChanges();
    const pages = this.#layout.pagesToWrite(index.buckets(), changed);
    // A page is written because it holds a changed bucket; a re-cut yields no more.
    expect(pages.length).toBeLessThanOrEqual(changed.length);
    for (const page of pages) {
      expect(page.buckets[0]?.lo).toEqual(page.lo);
      this.#rows.set(tag(page.lo), structuredClone(page));
    }
    // No stale page, no gap, no bucket twice: the rows read back are the list.
    expect(this.load()).toEqual(index.buckets());
    const names = this.names();
    expect(this.#layout.starts()).toEqual(names);
    // Every name stored before is still a page's name, and so a bucket's bound.
    const now = new Set(names.map(tag));
    expect(before.every((name) => now.has(tag(name)))).toBe(true);
    tally.pages += 1 + before.length;
    return pages.length;
  }

  /** The bucket list as a wake reads it: fresh objects, in page-name order. */
  load(): Bucket[] {
    return this.names().flatMap((name) =>
      structuredClone(this.#rows.get(tag(name))?.buckets ?? []),
    );
  }

  /** A wake: the layout from the stored names alone. */
  wake(): void {
    this.#layout = new PageLayout(this.names(), { pageBuckets: this.#pageBuckets });
  }
}

/** Checks made by the delete tests, printed at the end of each. */
const tally = { steps: 0, deletes: 0, debt: 0, pages: 0, lookups: 0 };

function resetTally(): void {
  Object.assign(tally, { steps: 0, deletes: 0, debt: 0, pages: 0, lookups: 0 });
}

/**
 * What the merge rule keeps from growing, for deletes of one key a call (as
 * the store makes them): the bucket count plus, for each bucket y after the
 * first that is not pinned, the shortfall of it and its left neighbour x below
 * fill + 1 rows, max(0, fill + 1 − x − y). A delete lowers one bucket t:
 * - it merges into its left neighbour v (v + t ≤ fill after the delete): one
 *   bucket fewer; the pair (v, t) goes; (t, next) becomes (v + t, next),
 *   whose shortfall exceeds that of (t, next) before the delete by at most 1.
 * - its right neighbour merges into it: one bucket fewer; the pair (t, next)
 *   goes; (v, t) gained rows, or was not merged because v + t > fill; the pair
 *   after next gained t's rows.
 * - nothing merges: both of t's pairs still exceed fill (or are not counted).
 * Either way the debt does not grow.
 */
function mergeDebt(buckets: readonly Bucket[], pinned: (lo: ModelKey) => boolean, fill: number) {
  let debt = buckets.length;
  for (let b = 1; b < buckets.length; b++) {
    const y = buckets[b] as Bucket;
    if (!pinned(y.lo)) debt += Math.max(0, fill + 1 - (buckets[b - 1] as Bucket).size - y.size);
  }
  return debt;
}

/**
 * The most buckets `total` rows can keep after deletes alone that started at
 * `debt0` (mergeDebt), with `pins` pinned bounds besides the first. Every
 * counted pair (x, y) has x + y ≥ fill + 1 − shortfall, and each bucket is in
 * at most two pairs, so 2·total ≥ (k − 1 − pins)(fill + 1) − D; since k + D ≤
 * debt0: k ≤ (2·total + debt0 + (1 + pins)(fill + 1)) / (fill + 2).
 */
function bucketBound(total: number, debt0: number, pins: number, fill: number): number {
  return Math.floor((2 * total + debt0 + (1 + pins) * (fill + 1)) / (fill + 2));
}

/** A merge joins two buckets only when both fit in a split piece's fill: no bucket grows past it. */
function expectMergesFit(before: readonly Bucket[], after: readonly Bucket[], fill: number): void {
  let i = 0;
  for (const bucket of after) {
    while (compareKeys((before[i] as Bucket).lo, bucket.lo) < 0) i++;
    const was = (before[i] as Bucket).size;
    if (bucket.size > was && bucket.size > fill) {
      expect.fail(`a merge made a bucket of ${bucket.size} (fill ${fill}) from one of ${was}`);
    }
  }
}

/** Bounds stored as page names, besides MIN_KEY (the first page's name). */
const pinsOf = (index: PositionIndex, dir: PagedDirectory) =>
  index.buckets().filter((b, i) => i > 0 && dir.pinned(b.lo)).length;

/**
 * Lowers the index by `keys` one key a call, as deleteMessage does, and
 * asserts no call reads or lists a row and none raises the merge debt.
 */
function removeOneByOne(
  index: PositionIndex,
  model: SortedRows,
  keys: readonly ModelKey[],
  pinned: (lo: ModelKey) => boolean,
  fill: number,
): void {
  model.touched = 0;
  model.listed = 0;
  let before = [...index.buckets()];
  let debt = mergeDebt(before, pinned, fill);
  for (const key of keys) {
    index.removed([key], pinned);
    const after = index.buckets();
    if (after.length < before.length) expectMergesFit(before, after, fill);
    const next = mergeDebt(after, pinned, fill);
    if (next > debt) expect.fail(`a delete raised the merge debt from ${debt} to ${next}`);
    debt = next;
    before = [...after];
    tally.debt++;
  }
  expect({ touched: model.touched, listed: model.listed }).toEqual({ touched: 0, listed: 0 });
  tally.deletes += keys.length;
}

type Step =
  | Exclude<Op, { kind: "wake" }>
  | { readonly kind: "wake" }
  | {
      readonly kind: "delete";
      readonly how: "spread" | "run" | "buckets" | "all";
      readonly n: number;
      /** One key a call (the store's way) or all in one call. */
      readonly oneByOne: boolean;
    };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("append"), n: fc.integer({ min: 1, max: 200 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("late"), n: fc.integer({ min: 1, max: 30 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("chunk"),
      n: fc.integer({ min: 1, max: 400 }),
      sameTs: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("delete"),
      how: fc.constantFrom("spread", "spread", "run", "run", "buckets", "all"),
      n: fc.integer({ min: 1, max: 300 }),
      oneByOne: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "wake" as const }) },
);

/** The stored keys a delete step takes: spread, a run in key order, whole buckets, or all. */
function victims(
  step: Extract<Step, { kind: "delete" }>,
  model: SortedRows,
  index: PositionIndex,
  random: () => number,
): ModelKey[] {
  const rows = model.rows;
  const n = Math.min(step.n, rows.length);
  switch (step.how) {
    case "spread":
      return shuffle([...rows], random).slice(0, n);
    case "run": {
      const start = Math.floor(random() * (rows.length - n + 1));
      return rows.slice(start, start + n);
    }
    case "buckets": {
      // 1–3 neighbouring buckets emptied whole.
      const buckets = index.buckets();
      const first = Math.floor(random() * buckets.length);
      const last = Math.min(buckets.length, first + 1 + (step.n % 3));
      const lo = (buckets[first] as Bucket).lo;
      const hi = buckets[last]?.lo ?? MAX_KEY;
      return rows.slice(countBelow(rows, lo), countBelow(rows, hi));
    }
    case "all":
      return [...rows];
    default: {
      const never: never = step.how;
      throw new Error(`unknown delete ${String(never)}`);
    }
  }
}

describe("PositionIndex.removed", () => {
  it("matches the model under arrivals and deletes of every shape, pages tiling, reading no row", () => {
    resetTally();
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 16 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (steps, bucketSize, pageBuckets, seed) => {
          const random = mulberry32(seed);
          const fill = fillFor(bucketSize);
          const model = new SortedRows();
          const dir = new PagedDirectory(pageBuckets);
          let index = new PositionIndex(model, [], { bucketSize });
          dir.save(index);
          const maker = new KeyMaker(random);
          for (const step of steps) {
            if (step.kind === "wake") {
              index = new PositionIndex(model, dir.load(), { bucketSize });
              dir.wake();
              expect(index.takeChanges()).toEqual([]);
            } else if (step.kind === "delete") {
              const keys = shuffle(victims(step, model, index, random), random);
              model.remove(keys);
              if (step.oneByOne) removeOneByOne(index, model, keys, dir.pinned, fill);
              else {
                model.touched = 0;
                model.listed = 0;
                index.removed(keys, dir.pinned);
                expect({ touched: model.touched, listed: model.listed }).toEqual({
                  touched: 0,
                  listed: 0,
                });
                tally.deletes += keys.length;
              }
            } else {
              const batch = maker.batch(step, model.rows);
              model.store(batch);
              index.added(shuffle([...batch], random));
            }
            tally.steps++;
            dir.save(index);
            expectTiles(index, model, bucketSize);
            const probe = probesFor(model, random, 20);
            expectAnswers(index, model, probe, bucketSize);
            const woken = new PositionIndex(model, dir.load(), { bucketSize });
            expect(woken.buckets()).toEqual(index.buckets());
            expectAnswers(woken, model, probe, bucketSize);
            tally.lookups += 2 * (probe.positions.length + probe.keys.length);
          }
        },
      ),
      { numRuns: 200 },
    );
    console.log(
      `removed() against the model: ${tally.steps} steps, ${tally.deletes} keys deleted, ` +
        `${tally.debt} debt checks, ${tally.pages} page-name checks, ${tally.lookups} lookups`,
    );
    expect(tally.deletes).toBeGreaterThan(0);
  }, 120_000);

  for (const c of [
    { bucketSize: 4, count: 6_000, pageBuckets: 32, order: "random" },
    { bucketSize: 16, count: 20_000, pageBuckets: 32, order: "ascending" },
    { bucketSize: MAX_BUCKET, count: 150_000, pageBuckets: PAGE_BUCKETS, order: "random" },
  ] as const) {
    it(`bounds the buckets left by deleting 90% of ${c.count} keys (${c.order}, buckets of ${c.bucketSize}), and deleting all leaves the page names`, () => {
      resetTally();
      const random = mulberry32(c.count);
      const { bucketSize } = c;
      const fill = fillFor(bucketSize);
      const model = new SortedRows();
      const dir = new PagedDirectory(c.pageBuckets);
      const index = new PositionIndex(model, [], { bucketSize });
      const maker = new KeyMaker(random);
      while (model.rows.length < c.count) {
        const r = random();
        const op: Op =
          r < 0.8
            ? { kind: "append", n: 1 + Math.floor(random() * 1000) }
            : r < 0.97
              ? { kind: "late", n: 1 + Math.floor(random() * 50) }
              : { kind: "chunk", n: 1 + Math.floor(random() * 2000), sameTs: random() < 0.5 };
        const batch = maker.batch(op, model.rows).slice(0, c.count - model.rows.length);
        model.store(batch);
        index.added(batch);
        dir.save(index);
      }
      const names = dir.names();
      const k0 = index.bucketCount;
      const debt0 = mergeDebt(index.buckets(), dir.pinned, fill);
      // Without merges: the same deletes against an index whose every bound is pinned.
      const unmerged = new PositionIndex(model, dir.load(), { bucketSize });

      const doomed = shuffle([...model.rows], random).slice(0, Math.floor(c.count * 0.9));
      if (c.order === "ascending") doomed.sort(compareKeys);
      // Frames of 1–100 deletes, each saved as the store saves one.
      for (let from = 0; from < doomed.length; ) {
        const frame = doomed.slice(from, from + 1 + Math.floor(random() * 100));
        removeOneByOne(index, model, frame, dir.pinned, fill);
        dir.save(index);
        from += frame.length;
      }
      unmerged.removed(doomed, () => true);
      model.remove(doomed);
      expectTiles(index, model, bucketSize);
      expectAnswers(index, model, probesFor(model, random, 300), bucketSize);
      // Deletes alone never re-cut a page: the names are those written before.
      expect(dir.names()).toEqual(names);

      const total = model.rows.length;
      const pins = pinsOf(index, dir);
      const bound = bucketBound(total, debt0, pins, fill);
      console.log(
        `buckets of ${bucketSize}: ${k0} buckets at ${c.count} keys; after deleting 90%: ` +
          `${index.bucketCount} with merges (bound ${bound}, ${pins} page names), ` +
          `${unmerged.bucketCount} without; ${tally.deletes} deletes, ${tally.debt} debt checks`,
      );
      expect(index.bucketCount).toBeLessThanOrEqual(bound);
      expect(unmerged.bucketCount).toBe(k0);
      expect(unmerged.total).toBe(total);
      expect(bound).toBeLessThan(k0 / 2);

      // The rest: nothing is left but the buckets that name pages.
      const rest = shuffle([...model.rows], random);
      model.remove(rest);
      removeOneByOne(index, model, rest, dir.pinned, fill);
      dir.save(index);
      expectTiles(index, model, bucketSize);
      expect(index.buckets().map((b) => b.lo)).toEqual(names);
      expect(index.keyAt(0)).toBeUndefined();
      expect(index.rank({ ts: 0, id: "a" })).toBe(0);

      // And it grows again from there, woken from the pages.
      const woken = new PositionIndex(model, dir.load(), { bucketSize });
      dir.wake();
      const again = maker.batch({ kind: "append", n: 3 * bucketSize + 5 }, model.rows);
      model.store(again);
      woken.added(again);
      dir.save(woken);
      expectTiles(woken, model, bucketSize);
      expectAnswers(woken, model, probesFor(model, random, 50), bucketSize);
    }, 120_000);
  }
});

describe("PageLayout with merging buckets", () => {
  it("rewrites only the pages of merged buckets, keeps every name and tiles, through wakes", () => {
    resetTally();
    const random = mulberry32(42);
    const bucketSize = 2;
    const fill = fillFor(bucketSize);
    const model = new SortedRows();
    const dir = new PagedDirectory(3);
    let index = new PositionIndex(model, [], { bucketSize });
    const maker = new KeyMaker(random);
    for (const op of [
      { kind: "append", n: 300 },
      { kind: "late", n: 40 },
      { kind: "chunk", n: 60, sameTs: false },
    ] as const) {
      const batch = maker.batch(op, model.rows);
      model.store(batch);
      index.added(batch);
      dir.save(index);
    }
    const names = dir.names();
    expect(names.length).toBeGreaterThan(30);
    let written = 0;
    for (let frame = 0; model.rows.length > 0; frame++) {
      // Runs across page names and single keys, a frame at a time; a wake every 7 frames.
      const start = Math.floor(random() * model.rows.length);
      const run = model.rows.slice(start, start + 1 + Math.floor(random() * 9));
      model.remove(run);
      removeOneByOne(index, model, run, dir.pinned, fill);
      written += dir.save(index);
      expectTiles(index, model, bucketSize);
      expect(dir.names()).toEqual(names);
      if (frame % 7 === 6) {
        index = new PositionIndex(model, dir.load(), { bucketSize });
        dir.wake();
      }
    }
    // Deleting everything leaves one empty bucket a page, named as before, each bound but MIN_KEY gone.
    expect(index.buckets()).toEqual(
      names.map((lo, i) => (i === 0 ? { lo, size: 0 } : { lo, size: 0, boundGone: true })),
    );
    console.log(
      `pages after merges: ${names.length} names kept through ${tally.deletes} deletes, ` +
        `${written} pages written, ${tally.pages} page-name checks`,
    );
  });
});
