/**
 * The position index's buckets as the rest of the code sees them: what the
 * directory keeps of each (see position-index.ts), where one lies in the
 * list, and the range questions the store answers over a bucket's rows.
 */
import { compareKeys, type Key, MIN_KEY } from "./key.ts";

/** A bucket: the rows with lo ≤ key < the next bucket's lo. */
export interface Bucket {
  readonly lo: Key;
  readonly size: number;
  /**
   * The message whose key is `lo` was deleted, so the bucket's first row lies
   * after `lo`. Every other bound but the first (MIN_KEY) is a stored
   * message's key: a split cuts at stored keys, and a deleted id never returns.
   */
  readonly boundGone?: true;
}

/** True when the bucket's bound is the key of a stored message: its first row, known without a read. */
export function boundStored(bucket: Bucket): boolean {
  return bucket.boundGone !== true && compareKeys(bucket.lo, MIN_KEY) !== 0;
}

/** A bucket where it lies in the list. */
export interface BucketSpan {
  /** The position of its first row. */
  readonly start: number;
  readonly size: number;
  readonly lo: Key;
  /** The next bucket's bound (MAX_KEY after the last). */
  readonly hi: Key;
  /** Its first row's key when the directory knows it (the bound, when stored), else undefined. */
  readonly first: Key | undefined;
}

/** Range questions the store answers over its rows, each in O(rows in range). */
export interface BucketRows {
  /** How many rows have lo ≤ key < hi. */
  count(lo: Key, hi: Key): number;
  /** The key at `offset` among rows with lo ≤ key < hi, counted from the low end or the high end. */
  nth(lo: Key, hi: Key, offset: number, fromEnd: boolean): Key | undefined;
  /**
   * The first `count` keys among rows with lo ≤ key < hi, walking from the
   * low end (ascending) or the high end (descending): `count` rows read.
   */
  scan(lo: Key, hi: Key, count: number, fromEnd: boolean): Key[];
  /** Every key with lo ≤ key < hi, ascending (used only to split a bucket). */
  keys(lo: Key, hi: Key): Key[];
}
