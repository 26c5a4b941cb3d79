/**
 * Per-user late tracking (PROTOCOL.md, "Late messages and lateUnread").
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
 */

export interface Reader {
  /** Every late ordinal ≤ base is not unread. */
  readonly base: number;
  /** How many ordinals > base are in the seen set. */
  readonly seen: number;
}

/** The seen ordinals above a reader's base, as the store keeps them. */
export interface SeenSet {
  /** Adds `ordinal`; false when it was there already. */
  add(ordinal: number): boolean;
  has(ordinal: number): boolean;
  delete(ordinal: number): void;
}

/** A reader who first connects when `lateTotal` late messages exist. */
export function newReader(lateTotal: number): Reader {
  return { base: lateTotal, seen: 0 };
}

/** How many late messages the reader has not seen. */
export function unreadCount(reader: Reader, lateTotal: number): number {
  return lateTotal - reader.base - reader.seen;
}

/** True when the late message with this ordinal is unread for the reader. */
export function isUnread(reader: Reader, ordinal: number, seen: Pick<SeenSet, "has">): boolean {
  return ordinal > reader.base && !seen.has(ordinal);
}

/**
 * Marks ordinals seen and advances the watermark over the contiguous run.
 * Amortised O(1) per ordinal: each is added and deleted at most once.
 */
export function markSeen(reader: Reader, ordinals: Iterable<number>, seen: SeenSet): Reader {
  let { base, seen: count } = reader;
  for (const ordinal of ordinals) {
    if (ordinal > base && seen.add(ordinal)) count++;
  }
  while (count > 0 && seen.has(base + 1)) {
    seen.delete(base + 1);
    base++;
    count--;
  }
  return { base, seen: count };
}

/** Everything up to `lateTotal` read: the caller clears the seen set. */
export function ackAll(lateTotal: number): Reader {
  return { base: lateTotal, seen: 0 };
}
