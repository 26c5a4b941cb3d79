/**
 * A page of the bucket directory as bytes: a contiguous run of buckets (lower
 * bound and size each) in one blob, so the store keeps the directory in a few
 * rows instead of one row per bucket.
 *
 * The page's first lower bound is not in the blob: it is the row's key. Each
 * later bound is written against the one before it, because neighbouring
 * bounds are close: the ts as a delta and the id as the code units it does not
 * share with the previous id (front coding). All numbers are LEB128 varints.
 *
 *     varint n                      buckets in the page, ≥ 1
 *     varint s₀                     size₀ · 2 + gone₀
 *     n − 1 times:
 *       varint t                    0: an absolute ts follows (float64, big-endian);
 *                                   else ts = previous ts + t − 1
 *       varint shared               code units shared with the previous id
 *       varint k, k × varint unit   the rest of the id, as UTF-16 code units
 *       varint sᵢ                   sizeᵢ · 2 + goneᵢ
 *
 * `gone` is 1 when the bound's message was deleted ({@link Bucket.boundGone}).
 * Format 1 (schemas 2–4, before deletes marked bounds) wrote the size alone;
 * it is read only to migrate.
 *
 * The escape to an absolute ts exists because two safe-integer ts can lie more
 * than 2^53 apart (the first bucket's bound is MIN_KEY), and such a delta is
 * not exact in a double.
 */
import type { Bucket } from "./buckets.ts";
import type { Key } from "./key.ts";

/** 2: sizes carry the bound's mark. 1: sizes alone (schemas 2–4). */
export type PageFormat = 1 | 2;
export const PAGE_FORMAT: PageFormat = 2;

/** The buckets of a page as bytes; `buckets[0].lo` is left to the caller to keep. */
export function encodePage(
  buckets: readonly Bucket[],
  format: PageFormat = PAGE_FORMAT,
): Uint8Array<ArrayBuffer> {
  const first = buckets[0];
  if (first === undefined) throw new RangeError("a page holds at least one bucket");
  const out = new ByteWriter();
  const size = (bucket: Bucket): void => {
    if (format === 1 && bucket.boundGone) throw new RangeError("format 1 cannot mark a bound");
    out.varint(format === 1 ? bucket.size : bucket.size * 2 + (bucket.boundGone ? 1 : 0));
  };
  out.varint(buckets.length);
  size(first);
  let prev = first.lo;
  for (const bucket of buckets.slice(1)) {
    const { ts, id } = bucket.lo;
    const delta = ts - prev.ts;
    // Exact only while the true difference is a safe integer (and +1 stays one).
    if (Number.isSafeInteger(delta) && delta >= 0 && delta < Number.MAX_SAFE_INTEGER) {
      out.varint(delta + 1);
    } else {
      out.varint(0);
      out.float64(ts);
    }
    const shared = sharedPrefix(prev.id, id);
    out.varint(shared);
    out.varint(id.length - shared);
    for (let i = shared; i < id.length; i++) out.varint(id.charCodeAt(i));
    size(bucket);
    prev = bucket.lo;
  }
  return out.bytes();
}

/** The buckets {@link encodePage} wrote, the first one's lower bound being `first`. */
export function decodePage(
  first: Key,
  bytes: Uint8Array,
  format: PageFormat = PAGE_FORMAT,
): Bucket[] {
  const input = new ByteReader(bytes);
  const bucket = (lo: Key): Bucket => {
    const value = input.varint();
    if (format === 1) return { lo, size: value };
    const size = Math.floor(value / 2);
    return value % 2 === 1 ? { lo, size, boundGone: true } : { lo, size };
  };
  const n = input.varint();
  if (n < 1) throw new Error("corrupt bucket page: no buckets");
  const buckets: Bucket[] = [bucket(first)];
  let prev = first;
  for (let b = 1; b < n; b++) {
    const t = input.varint();
    const ts = t === 0 ? input.float64() : prev.ts + (t - 1);
    const shared = input.varint();
    const rest = input.varint();
    if (shared > prev.id.length) throw new Error("corrupt bucket page: bad id prefix");
    let id = prev.id.slice(0, shared);
    for (let i = 0; i < rest; i++) id += String.fromCharCode(input.varint());
    const lo = { ts, id };
    buckets.push(bucket(lo));
    prev = lo;
  }
  if (!input.done) throw new Error("corrupt bucket page: trailing bytes");
  return buckets;
}

function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Appends varints and doubles to a growing byte array. */
class ByteWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  /** A non-negative safe integer, 7 bits a byte, low bits first. */
  varint(value: number): void {
    // Division, not shifts: shifts would cut values to 32 bits.
    let v = value;
    while (v >= 0x80) {
      this.#byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.#byte(v);
  }

  float64(value: number): void {
    this.#reserve(8);
    new DataView(this.#buf.buffer).setFloat64(this.#len, value);
    this.#len += 8;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }

  #byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    grown.set(this.#buf.subarray(0, this.#len));
    this.#buf = grown;
  }
}

/** Reads what {@link ByteWriter} wrote; throws past the end. */
class ByteReader {
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get done(): boolean {
    return this.#at === this.#bytes.length;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const b = this.#bytes[this.#at++];
      if (b === undefined) throw new Error("corrupt bucket page: truncated");
      value += (b & 0x7f) * scale;
      if (b < 0x80) return value;
      scale *= 0x80;
      if (scale > 2 ** 56) throw new Error("corrupt bucket page: varint too long");
    }
  }

  float64(): number {
    if (this.#at + 8 > this.#bytes.length) throw new Error("corrupt bucket page: truncated");
    const view = new DataView(this.#bytes.buffer, this.#bytes.byteOffset + this.#at, 8);
    this.#at += 8;
    return view.getFloat64(0);
  }
}
