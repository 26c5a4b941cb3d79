/**
 * A Fenwick tree over late ordinals 1 … {@link ORDINAL_CAP}, kept sparse so
 * that it can live in SQLite one node to a row: marking an ordinal touches at
 * most log₂(cap) nodes, counting the marked ordinals up to n reads at most as
 * many, whatever the channel's size, and a node never written is zero. The
 * store marks deleted late ordinals here, so "how many deleted late messages
 * lie above a reader's watermark" costs O(log) rows instead of a count over
 * the deletes.
 */

/** Ordinals above this cannot be marked: 2^30 late messages in one channel. */
export const ORDINAL_CAP = 2 ** 30;

/** The nodes to add to when marking `ordinal` (1-based), lowest first. */
export function markPath(ordinal: number): number[] {
  checkOrdinal(ordinal);
  const nodes: number[] = [];
  for (let at = ordinal; at <= ORDINAL_CAP; at += at & -at) nodes.push(at);
  return nodes;
}

/** The nodes whose sum is the count of marked ordinals ≤ `ordinal` (0: none). */
export function prefixPath(ordinal: number): number[] {
  if (!Number.isSafeInteger(ordinal) || ordinal < 0) throw new RangeError(`bad ordinal ${ordinal}`);
  const nodes: number[] = [];
  for (let at = Math.min(ordinal, ORDINAL_CAP); at > 0; at -= at & -at) nodes.push(at);
  return nodes;
}

function checkOrdinal(ordinal: number): void {
  if (!Number.isSafeInteger(ordinal) || ordinal < 1 || ordinal > ORDINAL_CAP) {
    throw new RangeError(`late ordinal ${ordinal} outside 1…${ORDINAL_CAP}`);
  }
}
