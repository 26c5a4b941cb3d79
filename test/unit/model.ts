/**
 * Independent models shared by the unit tests: key order written from
 * PROTOCOL.md ("ts, then id by code unit") without touching src/core/key.ts,
 * and fast-check arbitraries for keys that stress that order.
 */
import fc from "fast-check";

export interface ModelKey {
  readonly ts: number;
  readonly id: string;
}

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
export function modelCompare(a: ModelKey, b: ModelKey): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  return compareUnits(a.id, b.id);
}

/** How many of ascending `sorted` are < `key` (binary search over the model order). */
export function countBelow(sorted: readonly ModelKey[], key: ModelKey): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (modelCompare(sorted[mid] as ModelKey, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Code units whose orders disagree: ASCII, a BMP character above the
 * surrogates, lone high and low surrogates and an astral character (a
 * surrogate pair, which sorts below U+E000 by code unit but above by code point).
 */
export const TRICKY_UNITS = [
  "a",
  "b",
  "z",
  "é",
  "\uD800",
  "\uDC00",
  "\uDBFF",
  "\uE000",
  "\uFFFF",
  "\u{1F600}",
];

/** Short ids from {@link TRICKY_UNITS}, so equal prefixes and ties are common. */
export const trickyId = (minLength = 0) =>
  fc
    .array(fc.constantFrom(...TRICKY_UNITS), { minLength, maxLength: 4 })
    .map((parts) => parts.join(""));

/** Any sequence of UTF-16 code units, lone surrogates included. */
export const codeUnitString = (maxLength = 16) =>
  fc
    .array(fc.integer({ min: 0, max: 0xffff }), { maxLength })
    .map((units) => String.fromCharCode(...units));

/** Keys with few distinct ts, so most comparisons fall through to the id. */
export const trickyKey = fc.record({ ts: fc.integer({ min: -2, max: 2 }), id: trickyId(1) });

export { mulberry32 } from "../support/random.ts";
