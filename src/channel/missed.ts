/**
 * What a reader who last heard of `seq` S missed, read back from storage:
 * the net effect of every arrival after S (protocol 1.1's `resume`, 1.2's
 * changes, and a relay catching up). It reads only the missed arrivals (by
 * the seq primary keys of messages and the change log) and the rows of what
 * they touched: never a cost that grows with the channel.
 */
import { compareKeys } from "../core/key.ts";
import { MAX_RESUME } from "../protocol/schemas.ts";
import type { ChannelStore, StoredMessage, Tombstone } from "./store.ts";

/** The net effect of the arrivals after a seq, each list ascending by key. */
export interface Missed {
  /** Messages stored since and still there, in their final state. */
  readonly inserted: StoredMessage[];
  /** Messages stored at or before it, deleted since. */
  readonly removed: Tombstone[];
  /** Messages stored at or before it, still there, edited or reacted to since: final state. */
  readonly updated: StoredMessage[];
}

/**
 * What was missed after `since` (`limit`: MAX_RESUME by default; `shownOnly`:
 * only the changes that altered what a message shows); undefined when more than `limit` arrivals
 * were (seqs have no gaps, so that is `seq − since`; a resume replays at
 * most MAX_RESUME), or when `since` is from the future (another channel's
 * history).
 */
export function missedSince(
  store: ChannelStore,
  since: number,
  options: { limit?: number; shownOnly?: boolean } = {},
): Missed | undefined {
  const { limit = MAX_RESUME, shownOnly = false } = options;
  const { seq } = store;
  if (since > seq || seq - since > limit) return undefined;
  const inserted = store.arrivalsSince(since, limit).sort(compareKeys);
  const insertedIds = new Set(inserted.map((m) => m.id));
  const logged = store.changesSince(since, limit);
  const deletedIds = [...new Set(logged.filter((c) => c.kind === "delete").map((c) => c.id))];
  // Only what the reader may hold: stored at or before `since`.
  const removed = [...store.tombstonesOf(deletedIds).values()]
    .filter((t) => t.seq <= since)
    .sort(compareKeys);
  // `shownOnly`: as pushes have it (a change that moved no count is pushed to nobody).
  const changedIds = new Set(
    logged
      .filter((c) => c.kind !== "delete" && !insertedIds.has(c.id) && (c.shown || !shownOnly))
      .map((c) => c.id),
  );
  const updated = [...store.messagesById(changedIds).values()].sort(compareKeys);
  return { inserted, removed, updated };
}
