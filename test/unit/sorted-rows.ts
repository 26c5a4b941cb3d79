/**
 * The store's rows, modelled for the position index and what reads through
 * it: a sorted array of keys that counts the rows each question reads.
 */
import { expect } from "vitest";
import type { BucketRows } from "../../src/core/buckets.ts";
import { compareKeys, countBelow } from "../support/keys.ts";
import type { Key as ModelKey } from "../support/wire.ts";

/**
 * The store, modelled: every row's key in one array, ascending by the model
 * order. Counts the rows each range question would read through the (ts, id)
 * index, as SQLite's `rowsRead` does.
 */
export class SortedRows implements BucketRows {
  rows: ModelKey[] = [];
  /** Rows read by count and nth since the last reset: the cost of lookups. */
  touched = 0;
  /** Rows listed by keys() since the last reset: only a split lists rows. */
  listed = 0;

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

  scan(lo: ModelKey, hi: ModelKey, count: number, fromEnd: boolean): ModelKey[] {
    const inRange = this.rows.slice(countBelow(this.rows, lo), countBelow(this.rows, hi));
    const out = (fromEnd ? inRange.reverse() : inRange).slice(0, count);
    this.touched += out.length;
    return out;
  }

  /** True when `key` is a stored row's. */
  has(key: ModelKey): boolean {
    const at = this.rows[countBelow(this.rows, key)];
    return at !== undefined && compareKeys(at, key) === 0;
  }

  keys(lo: ModelKey, hi: ModelKey): ModelKey[] {
    const out = this.rows.slice(countBelow(this.rows, lo), countBelow(this.rows, hi));
    this.listed += out.length;
    return out;
  }

  /** Deletes stored rows (distinct, each present), as the store does before lowering the index. */
  remove(batch: readonly ModelKey[]): void {
    const gone = new Set(batch.map(tag));
    const kept = this.rows.filter((key) => !gone.has(tag(key)));
    expect(kept.length).toBe(this.rows.length - batch.length);
    this.rows = kept;
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

/** A key as a Set or Map member. */
export const tag = (key: ModelKey) => JSON.stringify([key.ts, key.id]);
