/**
 * The reader's place as a window keeps it (protocol 1.2, "The reader's
 * place"): the user's three counts and read marker, taken from every frame
 * that carries them, and the first unread message's position. Pure.
 *
 * It keeps `readCount`, the number of messages at or before the marker,
 * rather than `unread`: `unread = total − readCount` and the first unread
 * message sits at position `readCount`. A frame that moves `total` (an
 * `insert`, a `remove`) then moves `unread` at once for what lands or
 * vanishes after the marker, the common case (new messages at the bottom),
 * and leaves the "new messages" line where it is; what the window is shown
 * landing or vanishing at or before the marker (a late message pushed above
 * it, a held row deleted) moves `readCount` too. What happens out of the
 * window's sight is settled by the group's `status`, whose count is the
 * server's: every group that inserts or deletes ends with one, and nothing
 * else moves `unread` but the marker, whose moves come with a count (the
 * `read` reply, another tab's `status`).
 */
import { compareKeys } from "../core/key.ts";
import type { Key } from "../protocol/schemas.ts";
import type { Counts } from "./types.ts";

export class ReaderPlace {
  lateUnread = 0;
  reactionsUnread = 0;
  /** The key of the newest message the user has read; null: none (every message is unread). */
  read: Key | null = null;
  /** Messages at or before the marker: the position of the first unread message. */
  readCount = 0;

  /**
   * What a frame tells of the reader's place: its counts, its marker when it
   * has one; `unread` is measured against `total`, the channel's as of the frame.
   */
  take(counts: Partial<Counts> & { read?: Key | null | undefined }, total: number): void {
    if (counts.read !== undefined) this.read = counts.read;
    if (counts.lateUnread !== undefined) this.lateUnread = counts.lateUnread;
    if (counts.reactionsUnread !== undefined) this.reactionsUnread = counts.reactionsUnread;
    if (counts.unread !== undefined) this.readCount = total - counts.unread;
  }

  /** Messages the window was shown arriving (pushed or replayed): those at or before the marker are read. */
  arrived(keys: readonly Key[]): void {
    this.readCount += this.#throughMarker(keys);
  }

  /** Messages the window held or remembered that were deleted. */
  removed(keys: readonly Key[]): void {
    this.readCount -= this.#throughMarker(keys);
  }

  unread(total: number): number {
    return total - this.readCount;
  }

  /** The first unread message's position, or null when nothing is unread. */
  firstUnread(total: number): number | null {
    return this.readCount < total ? this.readCount : null;
  }

  #throughMarker(keys: readonly Key[]): number {
    const { read } = this;
    return read ? keys.filter((k) => compareKeys(k, read) <= 0).length : 0;
  }
}
