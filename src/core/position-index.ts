/**
 * The position index: exact ranks in a list of millions of keys that grows in
 * the middle, at a cost independent of the list's size.
 *
 * Like Python's sortedcontainers (an index tree over bucket lengths), the key
 * space is cut into buckets, contiguous key ranges of at most
 * {@link MAX_BUCKET} rows each. Only the buckets' lower bounds and sizes live
 * here (a few thousand at 1M rows; the store persists them a page of buckets
 * to a row, see page-layout.ts, and loads them on wake);
 * a Fenwick tree over the sizes gives "how many rows before bucket b" and
 * "which bucket holds position p" in O(log buckets). The rows themselves stay
 * in the store, which answers range questions inside one bucket through its
 * (ts, id) index, so every lookup reads at most one bucket's rows.
 *
 * Deletes (protocol 1.2) only lower a bucket's size: no row is read. A
 * deleted bound stays, marked, so the directory knows which bounds are stored
 * messages' keys (a bucket's first row, for the timeline, with no read). A bucket
 * that shrinks until it and a neighbour fit in {@link SPLIT_FILL} rows merges
 * into that neighbour (their bounds simply join), so mass deletes do not
 * leave thousands of near-empty buckets; a bucket whose bound names a
 * directory page (see page-layout.ts) never merges away, so page names stay
 * stable, and may stay small or empty: an empty bucket costs a Fenwick slot
 * and nothing else.
 */
import { type Bucket, type BucketRows, type BucketSpan, boundStored } from "./buckets.ts";
import { Fenwick } from "./fenwick.ts";
import { compareKeys, type Key, MAX_KEY, MIN_KEY, upperBound } from "./key.ts";

export { type Bucket, type BucketRows, type BucketSpan, boundStored } from "./buckets.ts";

/** Most rows a bucket keeps: bounds the rows any single lookup reads. */
export const MAX_BUCKET = 512;
/** A split middle bucket is cut into pieces this full (384), leaving room to grow. */
export const SPLIT_FILL = fillFor(MAX_BUCKET);

/**
 * The fill of a split middle piece for a given maximum: three quarters of it,
 * rounded up. At least (max + 1) / 2, so a run that outgrew the maximum by a
 * pieces is cut into at most a + 1 (page-layout.ts relies on it).
 */
export function fillFor(max: number): number {
  return Math.ceil((max * 3) / 4);
}

export interface PositionIndexOptions {
  /**
   * Most rows a bucket keeps ({@link MAX_BUCKET} in production). Tests pass a
   * tiny one to reach thousands of buckets with a few thousand rows.
   */
  readonly bucketSize?: number;
}

export class PositionIndex {
  readonly rows: BucketRows;
  readonly #max: number;
  readonly #fill: number;
  #buckets: Bucket[];
  #sizes: Fenwick;
  /** Buckets whose size or existence changed since the last {@link takeChanges}. */
  #dirty = new Set<Key>();

  /** `buckets` as persisted, ascending by lo; an empty list starts one empty bucket. */
  constructor(rows: BucketRows, buckets: readonly Bucket[], options: PositionIndexOptions = {}) {
    const max = options.bucketSize ?? MAX_BUCKET;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`bad bucket size ${max}`);
    this.#max = max;
    this.#fill = fillFor(max);
    this.rows = rows;
    this.#buckets = buckets.length > 0 ? [...buckets] : [{ lo: MIN_KEY, size: 0 }];
    if (buckets.length === 0) this.#dirty.add(MIN_KEY);
    this.#sizes = new Fenwick(this.#buckets.map((b) => b.size));
  }

  /** How many rows the list holds. */
  get total(): number {
    return this.#sizes.total;
  }

  get bucketCount(): number {
    return this.#buckets.length;
  }

  /** The rank of `key` among the rows: how many rows sort before it. */
  rank(key: Key): number {
    const b = this.#bucketOf(key);
    return this.#sizes.before(b) + this.#rankInBucket(b, key);
  }

  /**
   * Ranks of many keys, ascending: keys that share a bucket are counted from
   * the previous one, so a whole batch costs at most one bucket scan each.
   */
  ranks(sortedKeys: readonly Key[]): number[] {
    const out: number[] = [];
    let prevBucket = -1;
    let prev: Key = MIN_KEY;
    let prevRank = 0;
    for (const key of sortedKeys) {
      const b = this.#bucketOf(key);
      const rank =
        b === prevBucket
          ? prevRank + this.rows.count(prev, key)
          : this.#sizes.before(b) + this.#rankInBucket(b, key);
      out.push(rank);
      prevBucket = b;
      prev = key;
      prevRank = rank;
    }
    return out;
  }

  /** The key at position `p` (0 ≤ p < total), or undefined outside. */
  keyAt(p: number): Key | undefined {
    if (!Number.isInteger(p) || p < 0 || p >= this.total) return undefined;
    const { start, size, lo, hi } = this.locate(p);
    const offset = p - start;
    // Walk in from the nearer end of the bucket: at most half of it is read.
    const fromEnd = offset >= size / 2;
    return this.rows.nth(lo, hi, fromEnd ? size - 1 - offset : offset, fromEnd);
  }

  /** The bucket holding position `p` (0 ≤ p < total), from memory: O(log buckets), no row read. */
  locate(p: number): BucketSpan {
    const { bucket, offset } = this.#sizes.seek(p);
    const { lo, hi, size } = this.#bounds(bucket);
    const first = boundStored(this.#buckets[bucket] as Bucket) ? lo : undefined;
    return { start: p - offset, size, lo, hi, first };
  }

  /** Records rows just stored by the caller (in any order). */
  added(keys: Iterable<Key>): void {
    for (const key of keys) {
      const b = this.#bucketOf(key);
      this.#sizes.add(b, 1);
      const bucket = this.#buckets[b] as Bucket;
      this.#buckets[b] = { ...bucket, size: bucket.size + 1 };
      this.#dirty.add(bucket.lo);
    }
    this.#splitOversized();
  }

  /**
   * Records rows just deleted by the caller (keys that were stored). O(log
   * buckets) each, no row read; `pinned` names bounds that must stay (the
   * directory's page names), which never merge away. A deleted bound stays,
   * marked {@link Bucket.boundGone}.
   */
  removed(keys: Iterable<Key>, pinned: (lo: Key) => boolean = () => false): void {
    const touched = new Set<Key>();
    for (const key of keys) {
      const b = this.#bucketOf(key);
      const bucket = this.#buckets[b] as Bucket;
      if (bucket.size === 0) throw new RangeError("removed a key from an empty bucket");
      this.#sizes.add(b, -1);
      const gone = compareKeys(key, bucket.lo) === 0 ? { boundGone: true as const } : {};
      const next: Bucket = { ...bucket, size: bucket.size - 1, ...gone };
      this.#buckets[b] = next;
      this.#dirty.add(next.lo);
      touched.add(next.lo);
    }
    this.#mergeSmall(touched, pinned);
  }

  /** Buckets to persist since the last call: upserts by lo. */
  takeChanges(): Bucket[] {
    if (this.#dirty.size === 0) return [];
    const changed = this.#buckets.filter((b) => this.#dirty.has(b.lo));
    this.#dirty = new Set();
    return changed;
  }

  /** The buckets, for tests and diagnostics. */
  buckets(): readonly Bucket[] {
    return this.#buckets;
  }

  #bucketOf(key: Key): number {
    // The first bucket's lo is MIN_KEY, so this is never −1.
    return upperBound(this.#buckets, key, (b) => b.lo) - 1;
  }

  #bounds(b: number): { lo: Key; hi: Key; size: number } {
    const bucket = this.#buckets[b] as Bucket;
    return { lo: bucket.lo, hi: this.#buckets[b + 1]?.lo ?? MAX_KEY, size: bucket.size };
  }

  /** Rows of bucket b before `key`, counting from whichever end is likelier nearer. */
  #rankInBucket(b: number, key: Key): number {
    const { lo, hi, size } = this.#bounds(b);
    if (size === 0) return 0;
    if (this.#nearerHigh(b, key)) return size - this.rows.count(key, hi);
    return this.rows.count(lo, key);
  }

  /**
   * Guesses which end of bucket b is nearer `key`. Arrivals land mostly at the
   * bottom of the list, so in the last bucket the high end wins; elsewhere the
   * bucket's bounds interpolate by time. Only cost depends on the guess.
   */
  #nearerHigh(b: number, key: Key): boolean {
    if (b === this.#buckets.length - 1) return true;
    // The first bucket's lower bound is MIN_KEY: nothing to interpolate from.
    if (b === 0) return true;
    const { lo, hi } = this.#bounds(b);
    return key.ts - lo.ts > hi.ts - key.ts;
  }

  /**
   * Merges each touched bucket into a neighbour when both fit in a split
   * piece's fill: the later bucket's bound disappears and its rows join the
   * earlier one, which keeps its own bound (and mark). A bound that is pinned
   * (or the first, MIN_KEY) stays.
   */
  #mergeSmall(touched: ReadonlySet<Key>, pinned: (lo: Key) => boolean): void {
    let changed = false;
    const fits = (a: Bucket, b: Bucket) => a.size + b.size <= this.#fill;
    for (const lo of touched) {
      const b = lowerBoundLo(this.#buckets, lo);
      const bucket = this.#buckets[b];
      // Merged away already by a neighbour touched before it.
      if (bucket === undefined || compareKeys(bucket.lo, lo) !== 0) continue;
      const prev = this.#buckets[b - 1];
      const next = this.#buckets[b + 1];
      if (prev && !pinned(bucket.lo) && fits(prev, bucket)) {
        this.#buckets.splice(b - 1, 2, { ...prev, size: prev.size + bucket.size });
        this.#dirty.add(prev.lo);
      } else if (next && !pinned(next.lo) && fits(bucket, next)) {
        this.#buckets.splice(b, 2, { ...bucket, size: bucket.size + next.size });
      } else continue;
      changed = true;
    }
    if (changed) this.#sizes = new Fenwick(this.#buckets.map((b) => b.size));
  }

  #splitOversized(): void {
    let changed = false;
    for (let b = this.#buckets.length - 1; b >= 0; b--) {
      const { lo, hi, size } = this.#bounds(b);
      if (size <= this.#max) continue;
      const keys = this.rows.keys(lo, hi);
      const isLast = b === this.#buckets.length - 1;
      const pieces = splitSizes(keys.length, isLast, this.#max, this.#fill);
      const replacement: Bucket[] = [];
      let start = 0;
      const old = this.#buckets[b] as Bucket;
      for (const pieceSize of pieces) {
        // The first piece keeps the old bound (and its mark) so the buckets still tile the key space.
        const piece: Bucket =
          start === 0 ? { ...old, size: pieceSize } : { lo: keys[start] as Key, size: pieceSize };
        replacement.push(piece);
        this.#dirty.add(piece.lo);
        start += pieceSize;
      }
      this.#buckets.splice(b, 1, ...replacement);
      changed = true;
    }
    if (changed) this.#sizes = new Fenwick(this.#buckets.map((b) => b.size));
  }
}

/** The index of the bucket whose bound is exactly `lo` (or where it would be). */
function lowerBoundLo(buckets: readonly Bucket[], lo: Key): number {
  return upperBound(buckets, lo, (b) => b.lo) - 1;
}

/**
 * How to cut an oversized bucket. The last bucket takes the appends at the
 * bottom, so it is cut into full pieces and a remainder (as a B-tree splits on
 * sequential inserts), keeping the bucket count near total / max. A middle
 * bucket is cut into equal pieces about `fill` full. The bucket directory's
 * pages split the same way (see page-layout.ts), with their own max and fill.
 */
export function splitSizes(
  size: number,
  isLast: boolean,
  max = MAX_BUCKET,
  fill = SPLIT_FILL,
): number[] {
  if (size <= max) return [size];
  if (isLast) {
    const pieces: number[] = [];
    let rest = size;
    while (rest > max) {
      pieces.push(max);
      rest -= max;
    }
    pieces.push(rest);
    return pieces;
  }
  const count = Math.ceil(size / fill);
  const base = Math.floor(size / count);
  const extra = size - base * count;
  return Array.from({ length: count }, (_, i) => base + (i < extra ? 1 : 0));
}
