/**
 * fast-check arbitraries for keys that stress docs/protocol.md's order (ts, then
 * id by code unit); the order itself is the kit's (test/support/keys.ts).
 */
import fc from "fast-check";

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
