/**
 * Storing a batch of messages (docs/protocol.md, `send`): duplicates and deleted
 * ids store nothing; each new message gets the next seq, its late ordinal,
 * and whatever changes were held for it (protocol 1.2: a CRDT peer's edit,
 * delete or reaction may arrive before its message). Runs inside the store's
 * transaction.
 */
import {
  type EditStamp,
  editWins,
  mayChange,
  type ReactionCounts,
  type ReactionStamp,
  reactionWins,
} from "../core/changes.ts";
import { compareKeys } from "../core/key.ts";
import type { HeldChange, Tombstone } from "./change-rows.ts";
import { keyOf, type StoredMessage } from "./messages.ts";
import type { Effect, Tables } from "./tables.ts";
import { saveIndex } from "./tables.ts";

/** A message to store, with ts and author resolved; no id: the store makes one. */
export interface Draft {
  readonly id: string | undefined;
  readonly ts: number;
  readonly author: string;
  readonly text: string;
}

/** One message's result (`sent.results`). `deleted`: a tombstone's id, or deleted as it arrived. */
export interface SendResult {
  readonly id: string;
  readonly seq: number;
  readonly duplicate: boolean;
  readonly deleted?: true;
}

export interface InsertResult extends Effect {
  readonly results: SendResult[];
  readonly total: number;
}

/** An id the server makes: its padded seq sorts it after its batch-mates at the same ts. */
function serverId(seq: number): string {
  return `s${seq.toString(36).padStart(10, "0")}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Stores `drafts` (all or nothing: the caller's transaction). */
export function insertAll(tables: Tables, drafts: readonly Draft[]): InsertResult {
  const { rows, changes, tips } = tables;
  const given = drafts.flatMap((d) => (d.id === undefined ? [] : [d.id]));
  const existing = rows.seqsOf(given);
  const buried = changes.tombstonesOf(given.filter((id) => !existing.has(id)));
  const held = changes.heldFor(given.filter((id) => !existing.has(id) && !buried.has(id)));
  const results: SendResult[] = [];
  const inserted: StoredMessage[] = [];
  for (const draft of drafts) {
    const seq = tips.lastSeq + 1;
    const id = draft.id ?? serverId(seq);
    const stored = existing.get(id);
    if (stored !== undefined) {
      results.push({ id, seq: stored, duplicate: true });
      continue;
    }
    const tombstone = buried.get(id);
    if (tombstone !== undefined) {
      results.push({ id, seq: tombstone.seq, duplicate: true, deleted: true });
      continue;
    }
    tips.lastSeq = seq;
    // A repeat later in this batch is a duplicate of this one.
    existing.set(id, seq);
    const outcome = settleHeld(tables, draft, id, seq, held.get(id) ?? []);
    if (outcome.deleted) {
      buried.set(id, outcome.deleted);
      existing.delete(id);
      results.push({ id, seq, duplicate: false, deleted: true });
      continue;
    }
    const key = { ts: draft.ts, id };
    const late = tips.newest !== null && compareKeys(key, tips.newest) < 0;
    const lateNo = late ? tips.lateTotal + 1 : null;
    if (lateNo !== null) tips.lateTotal = lateNo;
    else tips.newest = key;
    results.push({ id, seq, duplicate: false });
    inserted.push({ seq, id, ts: draft.ts, author: draft.author, lateNo, ...outcome.state });
  }
  rows.insert(inserted);
  tables.index.added(inserted.map(keyOf));
  saveIndex(tables);
  // Held reactions count as unread for the author once the message is stored.
  for (const m of inserted) markHeldUnread(tables, m, held.get(m.id) ?? []);
  const badges = tables.badges.takeTouched();
  return { results, inserted, removed: [], updated: new Set(), badges, total: tables.index.total };
}

/**
 * The winning reactions held for a stored message are unread for its author
 * like any other (each by the seq it arrived with): the badges follow, now
 * that the message's row and registers exist.
 */
function markHeldUnread(tables: Tables, m: StoredMessage, held: readonly HeldChange[]): void {
  if (m.reactions.length === 0) return;
  const { changes, badges } = tables;
  for (const h of held) {
    if (h.change.kind !== "react" || !h.change.on) continue;
    const register = changes.reaction(m.id, h.user, h.change.emoji);
    // Only the change that won its register (an exact repeat of it is never held twice).
    if (register?.on && register.ts === h.change.ts) {
      badges.reactionOn(m, h.user, h.change.emoji, h.seq);
    }
  }
}

interface Settled {
  /** Set when a held delete by someone allowed took the message as it arrived. */
  readonly deleted?: Tombstone;
  readonly state: { text: string; edited: number | null; reactions: ReactionCounts };
}

/**
 * Applies the changes held for a message arriving now, in any order: an
 * allowed delete takes it at once (a tombstone, nothing shown); otherwise
 * the author's winning edit and each register's winning reaction. Changes
 * from someone not allowed are dropped. The held bodies go either way.
 */
function settleHeld(
  tables: Tables,
  draft: Draft,
  id: string,
  seq: number,
  held: readonly HeldChange[],
): Settled {
  const base = { text: draft.text, edited: null, reactions: [] as ReactionCounts };
  if (held.length === 0) return { state: base };
  const { changes } = tables;
  changes.settle(id);
  const allowed = held.filter((h) => mayChange(h.change, h, draft.author));
  if (allowed.some((h) => h.change.kind === "delete")) {
    const tombstone = { id, seq, ts: draft.ts, lateNo: null, deletedSeq: seq };
    changes.bury(tombstone);
    return { deleted: tombstone, state: base };
  }
  let edit: EditStamp | null = null;
  const registers = new Map<string, { user: string; emoji: string; stamp: ReactionStamp }>();
  for (const { user, change } of allowed) {
    if (change.kind === "edit") {
      const stamp = { ts: change.ts, text: change.text };
      if (editWins(stamp, edit)) edit = stamp;
    } else if (change.kind === "react") {
      const name = JSON.stringify([user, change.emoji]);
      const stamp = { ts: change.ts, on: change.on };
      if (reactionWins(stamp, registers.get(name)?.stamp ?? null)) {
        registers.set(name, { user, emoji: change.emoji, stamp });
      }
    }
  }
  const counts = new Map<string, number>();
  for (const { user, emoji, stamp } of registers.values()) {
    changes.setReaction(id, user, emoji, stamp);
    if (stamp.on) counts.set(emoji, (counts.get(emoji) ?? 0) + 1);
  }
  const reactions = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    state: {
      text: edit?.text ?? draft.text,
      edited: edit?.ts ?? null,
      reactions,
    },
  };
}
