import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MIN_KEY } from "../../src/core/key.ts";
import { decodePage, encodePage } from "../../src/core/page-codec.ts";
import { PAGE_BUCKETS, type Page, PageLayout } from "../../src/core/page-layout.ts";
import type { Bucket } from "../../src/core/position-index.ts";
import { compareKeys } from "../support/keys.ts";
import { mulberry32 } from "../support/random.ts";

const tag = (key: { ts: number; id: string }) => JSON.stringify([key.ts, key.id]);

/**
 * The bucket_pages table, modelled: blobs upserted by the page's name, read
 * back in name order and decoded, as a wake does.
 */
class PersistedPages {
  readonly #rows = new Map<string, { lo: Bucket["lo"]; bytes: Uint8Array }>();

  apply(pages: readonly Page[]): void {
    // One write a page: no page is written twice in one batch.
    expect(new Set(pages.map((p) => tag(p.lo))).size).toBe(pages.length);
    for (const page of pages) {
      expect(page.buckets[0]?.lo).toEqual(page.lo);
      this.#rows.set(tag(page.lo), { lo: { ...page.lo }, bytes: encodePage(page.buckets) });
    }
  }

  /** The page names and the whole bucket list, as the store loads them. */
  load(): { starts: Bucket["lo"][]; buckets: Bucket[]; sizes: number[] } {
    const rows = [...this.#rows.values()].sort((a, b) => compareKeys(a.lo, b.lo));
    const pages = rows.map((row) => decodePage(row.lo, row.bytes));
    return {
      starts: rows.map((row) => row.lo),
      buckets: pages.flat(),
      sizes: pages.map((p) => p.length),
    };
  }
}

/**
 * The position index's bucket list, modelled by what can happen to it: a
 * bucket grows, or splits into pieces whose new bounds lie inside its range
 * (the first keeping its bound). Bounds are ts in [0, 2^50); the first is MIN_KEY.
 */
class BucketList {
  buckets: Bucket[] = [{ lo: MIN_KEY, size: 0 }];
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  /** Changes a few buckets; returns the changed ones, as takeChanges() would. */
  step(kind: "grow" | "split" | "append", n: number): Bucket[] {
    const changed = new Set<number>();
    const pick = () => Math.floor(this.#random() * this.buckets.length);
    if (kind === "grow") {
      for (let i = 0; i < n; i++) {
        const b = pick();
        const bucket = this.buckets[b] as Bucket;
        this.buckets[b] = { lo: bucket.lo, size: bucket.size + 1 };
        changed.add(b);
      }
      return [...changed].map((b) => this.buckets[b] as Bucket);
    }
    const b = kind === "append" ? this.buckets.length - 1 : pick();
    const bucket = this.buckets[b] as Bucket;
    const from = Math.max(bucket.lo.ts, -1) + 1;
    const to = this.buckets[b + 1]?.lo.ts ?? 2 ** 50;
    const bounds = new Set<number>();
    for (let i = 0; i < n && to - from > 1000 * n; i++) {
      // Appends are a second apart at the bottom; a late split lands anywhere in its range.
      bounds.add(from + (kind === "append" ? 1000 * i : Math.floor(this.#random() * (to - from))));
    }
    const pieces: Bucket[] = [
      { lo: bucket.lo, size: 1 },
      ...[...bounds].sort((x, y) => x - y).map((ts) => ({ lo: { ts, id: `k${ts}` }, size: 1 })),
    ];
    this.buckets.splice(b, 1, ...pieces);
    return pieces;
  }
}

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant("grow" as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant("split" as const), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("append" as const), n: fc.integer({ min: 1, max: 300 }) }),
  fc.constant({ kind: "wake" as const, n: 0 }),
);

describe("PageLayout", () => {
  it("stores the bucket list in pages a write at a time, never more pages than changed buckets", () => {
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 2 ** 31 }),
        (steps, pageBuckets, seed) => {
          const list = new BucketList(mulberry32(seed));
          const persisted = new PersistedPages();
          let layout = new PageLayout([], { pageBuckets });
          persisted.apply(layout.pagesToWrite(list.buckets, list.buckets));
          for (const step of steps) {
            if (step.kind === "wake") {
              const loaded = persisted.load();
              expect(loaded.buckets).toEqual(list.buckets);
              layout = new PageLayout(loaded.starts, { pageBuckets });
              continue;
            }
            const changed = list.step(step.kind, step.n);
            const pages = layout.pagesToWrite(list.buckets, changed);
            // A row a changed bucket is what the one-row-a-bucket table wrote.
            expect(pages.length).toBeGreaterThanOrEqual(1);
            expect(pages.length).toBeLessThanOrEqual(changed.length);
            // A bucket that grew rewrites exactly its page.
            if (step.kind === "grow" && changed.length === 1) expect(pages.length).toBe(1);
            persisted.apply(pages);
            const loaded = persisted.load();
            expect(loaded.buckets).toEqual(list.buckets);
            expect(loaded.starts).toEqual(layout.starts());
            for (const size of loaded.sizes) expect(size).toBeLessThanOrEqual(pageBuckets);
          }
        },
      ),
      { numRuns: 200 },
    );
    // Generous: the runs take seconds, and CI machines are shared.
  }, 60_000);

  it("keeps 22,000 appended buckets in under 100 full pages, the last one taking the appends", () => {
    const list = new BucketList(mulberry32(1));
    const layout = new PageLayout([]);
    const persisted = new PersistedPages();
    let written = 0;
    while (list.buckets.length < 22_000) {
      const pages = layout.pagesToWrite(list.buckets, list.step("append", 40));
      written += pages.length;
      persisted.apply(pages);
    }
    const loaded = persisted.load();
    expect(loaded.buckets).toEqual(list.buckets);
    expect(loaded.sizes.slice(0, -1).every((n) => n === PAGE_BUCKETS)).toBe(true);
    expect(loaded.sizes.length).toBeLessThan(100);
    // ~550 appends of 40 buckets: mostly one page each, two when the last page fills.
    expect(written).toBeLessThan(550 + 2 * loaded.sizes.length);
  });
});
