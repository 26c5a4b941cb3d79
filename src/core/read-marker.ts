/**
 * The read marker (protocol 1.2, "The read marker"): per user, the key of the
 * newest message read, or none. `unread` is the number of messages after it,
 * so the store keeps, per user, `readCount`: how many messages have a key at
 * or before the marker. Then
 *
 *     unread = total − readCount
 *
 * and a write moves `readCount` by what it inserted at or before the marker
 * minus what it deleted there: O(log batch) a user, no row read. Only a
 * reader loaded cold pays a rank in the position index (O(log n)). A marker
 * whose message was deleted stays where it was, as a key: what follows it is
 * still what is unread. A late message landing at or before the marker is
 * read as far as `unread` goes; `lateUnread` counts it.
 */
import { compareKeys, type Key, upperBound } from "./key.ts";

/**
 * The least key after `key`: ids compare by code unit, and no id is between
 * `id` and `id + "\0"`. The rank of this key is the number of keys ≤ `key`.
 */
export function justAfter(key: Key): Key {
  return { ts: key.ts, id: `${key.id}\0` };
}

/** True when moving the marker from `marker` to `to` moves it forward (it never moves back). */
export function movesForward(marker: Key | null, to: Key): boolean {
  return marker === null || compareKeys(to, marker) > 0;
}

/** How many of `sorted` (ascending) are at or before `marker`. */
export function countThrough(sorted: readonly Key[], marker: Key): number {
  return upperBound(sorted, marker, (k) => k);
}

/**
 * A reader's `readCount` after a write that stored `inserted` and deleted
 * `removed` (each ascending by key). No marker: nothing is read, ever.
 */
export function readCountAfter(
  readCount: number,
  marker: Key | null,
  inserted: readonly Key[],
  removed: readonly Key[],
): number {
  if (marker === null) return 0;
  return readCount + countThrough(inserted, marker) - countThrough(removed, marker);
}
