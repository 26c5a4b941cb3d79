/**
 * A user's counts as a relay object keeps them between the channel's
 * answers (issue 18). The channel owns every user's place; a relay, which
 * pushes its sockets, must put the right counts in each `status` without
 * asking the channel about every user after every group. So it keeps each
 * of its users' counts and moves them by the rules the channel follows:
 *
 * - a segment's writes: every late message it inserted is unread for every
 *   connected user (they all connected before it arrived); `unread` follows
 *   the read marker by what was inserted and deleted at or before it
 *   (read-marker.ts). Anything else (a late message deleted, a reaction
 *   badge touched) the channel sends as a snapshot of the user's place;
 * - the segment's pushes: a late message shown is seen; the user's own
 *   message shown with unread reactions is read.
 *
 * Pure: the relay's glue applies it.
 */
import type { Key } from "./key.ts";
import { readCountAfter } from "./read-marker.ts";

/** A user's place as mirrored: the counts and the marker. */
export interface MirroredPlace {
  readonly lateUnread: number;
  readonly reactionsUnread: number;
  readonly marker: Key | null;
  /** Messages at or before the marker. */
  readonly readCount: number;
}

/** The counts a frame carries for a place, in a channel of `total` messages. */
export function countsOf(place: MirroredPlace, total: number) {
  return {
    lateUnread: place.lateUnread,
    reactionsUnread: place.reactionsUnread,
    unread: total - place.readCount,
  };
}

/** What a segment's writes did that moves every mirrored place alike. */
export interface SegmentWrites {
  /** Late messages it inserted (that are still there). */
  readonly lateInserted: number;
  /** Keys it inserted and deleted, each ascending. */
  readonly inserted: readonly Key[];
  readonly removed: readonly Key[];
}

/** A place after a segment's writes, before its pushes. */
export function afterWrites(place: MirroredPlace, writes: SegmentWrites): MirroredPlace {
  return {
    ...place,
    lateUnread: place.lateUnread + writes.lateInserted,
    readCount: readCountAfter(place.readCount, place.marker, writes.inserted, writes.removed),
  };
}

/** A place after its user's sockets were shown `late` unread late messages and `reacted` of their own. */
export function afterShown(place: MirroredPlace, late: number, reacted: number): MirroredPlace {
  return {
    ...place,
    lateUnread: place.lateUnread - late,
    reactionsUnread: place.reactionsUnread - reacted,
  };
}
