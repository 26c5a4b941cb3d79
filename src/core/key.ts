/**
 * Message keys and their order: by `ts`, then `id` by UTF-16 code unit, as
 * docs/protocol.md defines. JavaScript's `<` on strings already compares code
 * units; SQLite compares TEXT as UTF-8 bytes (code points), which disagrees
 * for characters above U+FFFF. So the store keeps ids as UTF-16BE blobs, whose
 * byte order (memcmp, shorter prefix first) is exactly the code-unit order.
 */

/** A message's position in the list: ordered by ts, then id. */
export interface Key {
  readonly ts: number;
  readonly id: string;
}

/** Below every real key: real ts are safe integers and real ids non-empty. */
export const MIN_KEY: Key = { ts: Number.MIN_SAFE_INTEGER, id: "" };
/**
 * Above every real key. Only compared in memory: queries bounded by it are
 * issued without an upper bound instead, so SQLite never sees 2^53.
 */
export const MAX_KEY: Key = { ts: Number.MAX_SAFE_INTEGER + 1, id: "" };

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareKeys(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? -1 : 1;
  if (a.id === b.id) return 0;
  return a.id < b.id ? -1 : 1;
}

/** The smallest key with this ts: `ts:` anchors start here. */
export function firstKeyAt(ts: number): Key {
  return { ts, id: "" };
}

/** UTF-16BE bytes of an id; lone surrogates round-trip too. */
export function encodeId(id: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(id.length * 2);
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    bytes[2 * i] = unit >> 8;
    bytes[2 * i + 1] = unit & 0xff;
  }
  return bytes;
}

/** Inverse of {@link encodeId}. */
export function decodeId(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out += String.fromCharCode(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  }
  return out;
}

/**
 * The first index in [0, length) at which `before` turns false, for a
 * predicate that is true on a prefix and false after it: binary search.
 */
export function partitionPoint(length: number, before: (i: number) => boolean): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(mid)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element of ascending `sorted` whose key is > `key`. */
export function upperBound<T>(sorted: readonly T[], key: Key, keyOf: (item: T) => Key): number {
  return partitionPoint(sorted.length, (i) => compareKeys(keyOf(sorted[i] as T), key) <= 0);
}

/** Index of the first element of ascending `sorted` whose key is >= `key`. */
export function lowerBound<T>(sorted: readonly T[], key: Key, keyOf: (item: T) => Key): number {
  return partitionPoint(sorted.length, (i) => compareKeys(keyOf(sorted[i] as T), key) < 0);
}
