/**
 * What the store's writes share: its tables, the position index over the
 * message rows, and the tips kept in memory (latest seq, late totals, newest
 * key). The store owns them; insert.ts and change.ts write through them
 * inside the store's transaction, and the store reloads the tips and the
 * index from storage when that transaction rolls back.
 */
import type { Key } from "../core/key.ts";
import type { PositionIndex } from "../core/position-index.ts";
import type { BucketPages } from "./bucket-pages.ts";
import type { ChangeRows, Tombstone } from "./change-rows.ts";
import type { LateState } from "./late-state.ts";
import type { MessageRows, StoredMessage } from "./messages.ts";
import type { ReactionBadges } from "./reaction-badges.ts";

/** The channel's running counters, as stored. */
export interface Tips {
  /** The seq of the latest arrival (message or change). */
  lastSeq: number;
  /** Late arrivals ever: the highest late ordinal. */
  lateTotal: number;
  /** Late arrivals since deleted. */
  goneTotal: number;
  newest: Key | null;
}

export interface Tables {
  readonly rows: MessageRows;
  readonly changes: ChangeRows;
  readonly late: LateState;
  readonly badges: ReactionBadges;
  readonly pages: BucketPages;
  readonly index: PositionIndex;
  readonly tips: Tips;
}

/**
 * What one write did to the list, for its pushes: messages now stored, those
 * it deleted (that were stored before it), the ids of stored messages whose
 * text or reactions it changed, and the users whose `reactionsUnread` it
 * changed, with their count before it.
 */
export interface Effect {
  readonly inserted: StoredMessage[];
  readonly removed: Tombstone[];
  readonly updated: ReadonlySet<string>;
  readonly badges: ReadonlyMap<string, number>;
}

/** Persists the position index's changed buckets. */
export function saveIndex(tables: Tables): void {
  tables.pages.save(tables.index.buckets(), tables.index.takeChanges());
}

/**
 * Takes a stored message out of the list for good: its row, text and
 * reactions go, a tombstone keeps its id, and positions and late counts
 * follow. O(log n): no scan, no row of the index read. A late message's
 * ordinal is left to the caller to pass to `late.gone` once per write.
 */
export function deleteMessage(tables: Tables, m: StoredMessage, deletedSeq: number): Tombstone {
  const { rows, changes, index, tips } = tables;
  const key = { ts: m.ts, id: m.id };
  rows.remove(m.id);
  tables.badges.messageGone(m);
  changes.eraseReactions(m.id);
  const tombstone = { id: m.id, seq: m.seq, ts: m.ts, lateNo: m.lateNo, deletedSeq };
  changes.bury(tombstone);
  index.removed([key], (lo) => tables.pages.isPageName(lo));
  if (tips.newest && tips.newest.ts === key.ts && tips.newest.id === key.id) {
    tips.newest = rows.newest();
  }
  return tombstone;
}
