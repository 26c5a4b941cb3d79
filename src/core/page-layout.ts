/**
 * The bucket directory cut into pages, one stored row each, so that a wake
 * reads buckets / ~200 rows instead of one row per bucket.
 *
 * A page is a contiguous run of at most {@link PAGE_BUCKETS} buckets, named by
 * its first bucket's lower bound. Pages behave like B-tree leaves: a split
 * bucket keeps its lower bound and a bucket that names a page never merges
 * away (the position index asks {@link PageLayout.isStart}), so a page's name
 * never changes; a page that outgrows the maximum is re-cut into pages the way an
 * oversized bucket is (`splitSizes`), the last page into full pieces (appends
 * land there), a middle one into pieces three quarters full.
 *
 * After an insert, only the pages holding a changed bucket are rewritten. Each
 * such page holds at least one changed bucket, and a re-cut page yields no more
 * pages than the changed buckets that made it overflow, so an insert writes no
 * more rows than one row per changed bucket would.
 */
import { compareKeys, type Key, lowerBound, upperBound } from "./key.ts";
import { type Bucket, fillFor, splitSizes } from "./position-index.ts";

/**
 * Most buckets a page holds. At ~20 bytes a bucket a page is ~5 KB, which an
 * insert rewrites; 10M messages (~22,000 buckets) fit in ~100 pages.
 */
export const PAGE_BUCKETS = 256;

/** A run of buckets stored as one row, named by its first bucket's lower bound. */
export interface Page {
  readonly lo: Key;
  readonly buckets: readonly Bucket[];
}

export interface PageLayoutOptions {
  /** Most buckets a page holds ({@link PAGE_BUCKETS} in production). */
  readonly pageBuckets?: number;
}

const self = (key: Key): Key => key;
const loOf = (bucket: Bucket): Key => bucket.lo;

/** Where the pages start in the bucket list, and which to rewrite after a change. */
export class PageLayout {
  readonly #max: number;
  readonly #fill: number;
  /** Each page's first lower bound, ascending; empty until the first write. */
  readonly #starts: Key[];

  /** `starts`: the names of the stored pages, ascending (none for a fresh store). */
  constructor(starts: readonly Key[], options: PageLayoutOptions = {}) {
    const max = options.pageBuckets ?? PAGE_BUCKETS;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`bad page size ${max}`);
    this.#max = max;
    this.#fill = fillFor(max);
    this.#starts = [...starts];
  }

  /** True when `lo` names a page: that bucket must not merge away. */
  isStart(lo: Key): boolean {
    const at = lowerBound(this.#starts, lo, self);
    const start = this.#starts[at];
    return start !== undefined && compareKeys(start, lo) === 0;
  }

  /** The pages' names, ascending. */
  starts(): readonly Key[] {
    return this.#starts;
  }

  /**
   * The pages to store after `changed` buckets changed in `buckets` (the whole
   * list, ascending): each page holding one of them, re-cut where it outgrew
   * the maximum. Passing every bucket as changed pages a list from scratch.
   */
  pagesToWrite(buckets: readonly Bucket[], changed: readonly Bucket[]): Page[] {
    const first = buckets[0];
    if (changed.length === 0 || first === undefined) return [];
    if (this.#starts.length === 0) this.#starts.push(first.lo);
    const dirty = new Set<number>();
    for (const bucket of changed) {
      const p = upperBound(this.#starts, bucket.lo, self) - 1;
      // The first bucket's bound never changes, so every bucket is in some page.
      if (p < 0) throw new Error("a bucket below the first page");
      dirty.add(p);
    }
    const out: Page[] = [];
    // From the last page up, so re-cutting one leaves the indexes of those before it valid.
    for (const p of [...dirty].sort((a, b) => b - a)) {
      const next = this.#starts[p + 1];
      const from = lowerBound(buckets, this.#starts[p] as Key, loOf);
      const to = next === undefined ? buckets.length : lowerBound(buckets, next, loOf);
      const pages = this.#cut(buckets.slice(from, to), next === undefined);
      this.#starts.splice(p, 1, ...pages.map((page) => page.lo));
      out.push(...pages);
    }
    return out;
  }

  #cut(run: readonly Bucket[], isLast: boolean): Page[] {
    const pages: Page[] = [];
    let start = 0;
    for (const count of splitSizes(run.length, isLast, this.#max, this.#fill)) {
      const piece = run.slice(start, start + count);
      pages.push({ lo: (piece[0] as Bucket).lo, buckets: piece });
      start += count;
    }
    return pages;
  }
}
