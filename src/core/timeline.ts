/**
 * The timeline's points (docs/protocol.md, `timeline`) read through the position
 * index, for a scrollbar's date labels.
 *
 * Exact (the contract): the message at round(i·(total−1)/(N−1)) for each i.
 * A bucket holding several points is read once from each end at most, the
 * widest gap between its points left unread, so each point costs at most
 * half a bucket and neighbours share a scan.
 *
 * By bucket (`exact=false`, an extension): each point is the bucket start
 * nearest one of those positions (or the newest message), at most half a
 * bucket away, taken from the directory in memory (the Fenwick tree gives
 * the start, the bound is its first row's key); a row is read only where the
 * bound is not a stored message's key (MIN_KEY, or a deleted message's), and
 * then one.
 */
import type { BucketRows, BucketSpan } from "./buckets.ts";
import type { Key } from "./key.ts";

/** What the timeline reads: the index's directory in memory and the rows inside one bucket. */
export interface TimelineIndex {
  readonly total: number;
  locate(p: number): BucketSpan;
  readonly rows: Pick<BucketRows, "nth" | "scan">;
}

/** A timeline point: a message's position and ts. */
export interface Point {
  readonly position: number;
  readonly ts: number;
}

/** round(i·(total−1)/(N−1)) for i = 0…N−1: the positions the contract names (total ≥ 1, N ≥ 2). */
export function evenPositions(total: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => Math.round((i * (total - 1)) / (points - 1)));
}

/**
 * Reaching `offsets` (ascending, distinct, inside a bucket of `size` rows)
 * with fewest rows read: `low` rows from the low end and `high` from the high
 * end, leaving unread the widest gap between neighbouring offsets (the ends
 * count as offsets −1 and `size`). Every offset is then reached from its
 * nearer end or from its neighbour, and none costs more than half the bucket:
 * two gaps wider than half cannot both fit in it.
 */
export function scanPlan(offsets: readonly number[], size: number): { low: number; high: number } {
  let best = { low: 0, high: 0, gap: -1 };
  for (let k = 0; k <= offsets.length; k++) {
    const below = k === 0 ? -1 : (offsets[k - 1] as number);
    const above = k === offsets.length ? size : (offsets[k] as number);
    if (above - below > best.gap) best = { low: below + 1, high: size - above, gap: above - below };
  }
  return { low: best.low, high: best.high };
}

/** The exact points: the keys at the even positions, each bucket scanned once at most from each end. */
export function exactPoints(index: TimelineIndex, points: number): Point[] {
  if (index.total === 0) return [];
  const positions = evenPositions(index.total, points);
  const out: Point[] = [];
  for (let i = 0; i < positions.length; ) {
    const span = index.locate(positions[i] as number);
    let j = i;
    while (j < positions.length && (positions[j] as number) < span.start + span.size) j++;
    const group = positions.slice(i, j);
    const keys = keysIn(index.rows, span, [...new Set(group.map((p) => p - span.start))]);
    for (const position of group) out.push({ position, ts: keyAt(keys, position - span.start).ts });
    i = j;
  }
  return out;
}

/**
 * Points at bucket starts: for each even position, the nearer of the start
 * of its bucket and the next position known from memory after it (the next
 * bucket's start, or the newest message, whose key the caller keeps), so at
 * most half a bucket away; ascending, a position repeated by neighbouring
 * targets given once. The first point is position 0 and the last the newest,
 * as in the exact answer; there are fewer than N points when the channel has
 * fewer buckets than N. Reads one row for each bucket start taken whose
 * bound is not a stored message's key, and none otherwise.
 */
export function bucketPoints(index: TimelineIndex, points: number, newest: Key): Point[] {
  const { total } = index;
  if (total === 0) return [];
  const out: Point[] = [];
  for (const target of evenPositions(total, points)) {
    const span = index.locate(target);
    const end = span.start + span.size;
    const next = end < total ? end : total - 1;
    const position = next - target < target - span.start ? next : span.start;
    if (out.at(-1)?.position === position) continue;
    const start = () => firstKey(index, position === span.start ? span : index.locate(position));
    out.push({ position, ts: position === total - 1 ? newest.ts : start().ts });
  }
  return out;
}

/** A bucket's first key: its bound when that is a stored message's, else its first row. */
function firstKey(index: TimelineIndex, span: BucketSpan): Key {
  const first = span.first ?? index.rows.nth(span.lo, span.hi, 0, false);
  if (first === undefined) throw new Error(`no row at the start of bucket ${span.start}`);
  return first;
}

/** The keys at `offsets` (ascending, distinct) of one bucket, by offset: a scan from each end at most. */
function keysIn(
  rows: TimelineIndex["rows"],
  span: BucketSpan,
  offsets: readonly number[],
): Map<number, Key> {
  const keys = new Map<number, Key>();
  // The directory may know the first row already: its bound.
  if (span.first !== undefined && offsets[0] === 0) keys.set(0, span.first);
  const unknown = keys.has(0) ? offsets.slice(1) : offsets;
  const { low, high } = scanPlan(unknown, span.size);
  for (const [o, key] of rows.scan(span.lo, span.hi, low, false).entries()) keys.set(o, key);
  for (const [k, key] of rows.scan(span.lo, span.hi, high, true).entries()) {
    keys.set(span.size - 1 - k, key);
  }
  return keys;
}

function keyAt(keys: ReadonlyMap<number, Key>, offset: number): Key {
  const key = keys.get(offset);
  if (key === undefined) throw new Error(`no row at offset ${offset} of a bucket`);
  return key;
}
