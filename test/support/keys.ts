/**
 * The one key order of the tests, written from docs/protocol.md ("ts, then id by
 * code unit") without touching src/core/key.ts: an explicit loop over UTF-16
 * code units, so it does not lean on the `<` the server may use itself.
 */
import type { Key } from "./wire.ts";

/** −1, 0 or 1: `a` against `b` by UTF-16 code unit, a proper prefix first. */
export function compareUnits(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return Math.sign(d);
  }
  return Math.sign(a.length - b.length);
}

/** −1, 0 or 1: by ts, then id by code unit. */
export function compareKeys(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return compareUnits(a.id, b.id);
}

/** Just the key of a message (or of anything with ts and id). */
export const keyOf = (m: Key): Key => ({ ts: m.ts, id: m.id });

/** The first index in [0, length) where `isRight` holds, for a predicate false then true. */
export function partition(length: number, isRight: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (isRight(mid)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** How many of ascending `sorted` are < `key`. */
export function countBelow(sorted: readonly Key[], key: Key): number {
  return partition(sorted.length, (i) => compareKeys(sorted[i] as Key, key) >= 0);
}
