/**
 * Per-user late tracking (docs/protocol.md, "Late messages and lateUnread").
 *
 * Every late arrival gets an ordinal 1, 2, 3, … in arrival order. A reader's
 * state is a watermark `base` (every ordinal ≤ base is not unread: it arrived
 * before the user's first connection, was acked, or was seen) plus the set of
 * ordinals above it seen one by one. Then
 *
 *     unread = lateTotal − base − |seen|
 *
 * costs O(1), and the watermark is advanced past seen ordinals as soon as they
 * are contiguous with it, so ordinal base + 1 is never seen: it is always the
 * unread message that arrived first (`late.next`) in O(1).
 *
 * Deletes (protocol 1.2): a deleted late message is unread for nobody. The
 * store counts deleted ordinals in a Fenwick tree over ordinals (see
 * gone-counts.ts), and a reader remembers `goneBelow`, how many of them are
 * ≤ its base; those above it are subtracted too, and a deleted ordinal is
 * dropped from every seen set (so seen and gone never overlap):
 *
 *     unread = lateTotal − base − |seen| − (goneTotal − goneBelow)
 *
 * With deletes, ordinal base + 1 may be a deleted one, so `late.next` asks for
 * the first unread ordinal above base that still exists.
 */

export interface Reader {
  /** Every late ordinal ≤ base is not unread. */
  readonly base: number;
  /** How many ordinals > base are in the seen set. */
  readonly seen: number;
  /** How many deleted late ordinals are ≤ base. */
  readonly goneBelow: number;
}

/** What the channel's late arrivals are: how many ever, and how many of those were deleted. */
export interface LateTotals {
  readonly lateTotal: number;
  readonly goneTotal: number;
}

/** The seen ordinals above a reader's base, as the store keeps them. */
export interface SeenSet {
  /** Adds `ordinal`; false when it was there already. */
  add(ordinal: number): boolean;
  has(ordinal: number): boolean;
  delete(ordinal: number): void;
}

/** A reader who first connects when the channel's late arrivals are `totals`. */
export function newReader(totals: LateTotals): Reader {
  return { base: totals.lateTotal, seen: 0, goneBelow: totals.goneTotal };
}

/** How many late messages the reader has not seen (deleted ones are nobody's). */
export function unreadCount(reader: Reader, totals: LateTotals): number {
  return totals.lateTotal - reader.base - reader.seen - (totals.goneTotal - reader.goneBelow);
}

/** True when the late message with this ordinal is unread for the reader. */
export function isUnread(reader: Reader, ordinal: number, seen: Pick<SeenSet, "has">): boolean {
  return ordinal > reader.base && !seen.has(ordinal);
}

/**
 * Marks ordinals seen and advances the watermark over the contiguous run.
 * Amortised O(1) per ordinal: each is added and deleted at most once. The
 * caller recounts `goneBelow` when the base moved (see {@link Reader}).
 */
export function markSeen(reader: Reader, ordinals: Iterable<number>, seen: SeenSet): Reader {
  let { base, seen: count } = reader;
  const { goneBelow } = reader;
  for (const ordinal of ordinals) {
    if (ordinal > base && seen.add(ordinal)) count++;
  }
  while (count > 0 && seen.has(base + 1)) {
    seen.delete(base + 1);
    base++;
    count--;
  }
  return { base, seen: count, goneBelow };
}

/** Everything read: the caller clears the seen set. */
export function ackAll(totals: LateTotals): Reader {
  return { base: totals.lateTotal, seen: 0, goneBelow: totals.goneTotal };
}

/**
 * A reader after the late message with ordinal `gone` was deleted: had it
 * seen it one by one, it leaves the seen set; at or below the base, it is
 * counted below. (The totals' goneTotal grows by one beside this.)
 */
export function afterGone(reader: Reader, gone: number, wasSeen: boolean): Reader {
  return {
    base: reader.base,
    seen: reader.seen - (wasSeen ? 1 : 0),
    goneBelow: reader.goneBelow + (gone <= reader.base ? 1 : 0),
  };
}
