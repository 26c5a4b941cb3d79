/**
 * What protocol 1.2's changes keep besides the message rows: tombstones of
 * deleted messages, the log of change arrivals (with the changes still
 * waiting for their message), and the reaction registers. Every query walks
 * a primary key or an index: rows read are the rows asked for.
 */
import type { ReactionStamp } from "../core/changes.ts";
import type { Change } from "../protocol/schemas.ts";
import { MAX_PARAMS } from "./messages.ts";
import { blob, fromBlob, type Sql } from "./sql.ts";

/** A deleted message as kept: no author, no text, no reactions. */
export interface Tombstone {
  readonly id: string;
  /** The message's own arrival seq. */
  readonly seq: number;
  readonly ts: number;
  readonly lateNo: number | null;
  /** The seq of the delete that took it (its own seq when it arrived already deleted). */
  readonly deletedSeq: number;
}

/** A change waiting for its message, with who sent it. */
export interface HeldChange {
  readonly seq: number;
  readonly user: string;
  readonly moderator: boolean;
  readonly change: Change;
}

/** A reaction register as stored (see reaction-badges.ts for `unreadSeq`). */
export interface StoredReaction extends ReactionStamp {
  readonly unreadSeq: number | null;
}

/** A change arrival in the log, as resume replays it. */
export interface LoggedChange {
  readonly seq: number;
  readonly id: string;
  readonly kind: Change["kind"];
  /** It changed what its message shows (logged before schema 6: taken as shown). */
  readonly shown: boolean;
}

interface TombstoneRow extends Record<string, SqlStorageValue> {
  id: ArrayBuffer;
  seq: number;
  ts: number;
  late_no: number | null;
  deleted_seq: number;
}

const toTombstone = (r: TombstoneRow): Tombstone => ({
  id: fromBlob(r.id),
  seq: r.seq,
  ts: r.ts,
  lateNo: r.late_no,
  deletedSeq: r.deleted_seq,
});

export class ChangeRows {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  // ── Tombstones ───────────────────────────────────────────────────────────

  /** The tombstones among `ids`: one indexed lookup each, 100 to a query. */
  tombstonesOf(ids: readonly string[]): Map<string, Tombstone> {
    const found = new Map<string, Tombstone>();
    for (let i = 0; i < ids.length; i += MAX_PARAMS) {
      const chunk = ids.slice(i, i + MAX_PARAMS);
      const rows = this.#sql.all<TombstoneRow>(
        `SELECT id, seq, ts, late_no, deleted_seq FROM tombstones WHERE id IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk.map(blob),
      );
      for (const row of rows) found.set(fromBlob(row.id), toTombstone(row));
    }
    return found;
  }

  /** Which of these late ordinals belong to deleted messages (indexed lookups, 100 to a query). */
  deletedLate(ordinals: readonly number[]): Set<number> {
    const found = new Set<number>();
    for (let i = 0; i < ordinals.length; i += MAX_PARAMS) {
      const chunk = ordinals.slice(i, i + MAX_PARAMS);
      for (const row of this.#sql.all<{ late_no: number }>(
        `SELECT late_no FROM tombstones WHERE late_no IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk,
      )) {
        found.add(row.late_no);
      }
    }
    return found;
  }

  bury(t: Tombstone): void {
    this.#sql.run(
      "INSERT INTO tombstones (id, seq, ts, late_no, deleted_seq) VALUES (?, ?, ?, ?, ?)",
      blob(t.id),
      t.seq,
      t.ts,
      t.lateNo,
      t.deletedSeq,
    );
  }

  // ── The change log ───────────────────────────────────────────────────────

  /**
   * Records a change arrival; `held` keeps it until its message arrives;
   * `shown`: it changed what its message shows (a register moved with no
   * count moving did not).
   */
  log(
    seq: number,
    id: string,
    kind: Change["kind"],
    user: string,
    how: { held: HeldChange | undefined; shown: boolean },
  ): void {
    const { held } = how;
    this.#sql.run(
      "INSERT INTO changes (seq, id, kind, user, body, shown) VALUES (?, ?, ?, ?, ?, ?)",
      seq,
      blob(id),
      kind,
      user,
      held ? JSON.stringify({ moderator: held.moderator, change: held.change }) : null,
      how.shown ? 1 : 0,
    );
  }

  /** Changes held for these ids, in arrival order: the partial index holds only held ones. */
  heldFor(ids: readonly string[]): Map<string, HeldChange[]> {
    const found = new Map<string, HeldChange[]>();
    for (let i = 0; i < ids.length; i += MAX_PARAMS) {
      const chunk = ids.slice(i, i + MAX_PARAMS);
      const rows = this.#sql.all<{ seq: number; id: ArrayBuffer; user: string; body: string }>(
        `SELECT seq, id, user, body FROM changes WHERE body IS NOT NULL AND id IN (${chunk.map(() => "?").join(", ")}) ORDER BY seq`,
        ...chunk.map(blob),
      );
      for (const row of rows) {
        const id = fromBlob(row.id);
        const body = JSON.parse(row.body) as { moderator: boolean; change: Change };
        const list = found.get(id) ?? [];
        list.push({ seq: row.seq, user: row.user, ...body });
        found.set(id, list);
      }
    }
    return found;
  }

  /** The held changes of `id` were applied or dropped: their bodies (texts) go. */
  settle(id: string): void {
    this.#sql.run("UPDATE changes SET body = NULL WHERE body IS NOT NULL AND id = ?", blob(id));
  }

  /** Change arrivals after `since`, in seq order, at most `limit`: a primary-key range. */
  since(since: number, limit: number): LoggedChange[] {
    return this.#sql
      .all<{ seq: number; id: ArrayBuffer; kind: Change["kind"]; shown: number | null }>(
        "SELECT seq, id, kind, shown FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
        since,
        limit,
      )
      .map((r) => ({ seq: r.seq, id: fromBlob(r.id), kind: r.kind, shown: r.shown !== 0 }));
  }

  // ── Reactions ────────────────────────────────────────────────────────────

  /** A register as stored; `unreadSeq` is set while it is unread for the message's author. */
  reaction(id: string, user: string, emoji: string): StoredReaction | null {
    const row = this.#sql.one<{ is_on: number; ts: number; unread_seq: number | null }>(
      "SELECT is_on, ts, unread_seq FROM reactions WHERE id = ? AND user = ? AND emoji = ?",
      blob(id),
      user,
      emoji,
    );
    return row ? { on: row.is_on === 1, ts: row.ts, unreadSeq: row.unread_seq } : null;
  }

  setReaction(id: string, user: string, emoji: string, stamp: ReactionStamp): void {
    this.#sql.run(
      `INSERT INTO reactions (id, user, emoji, is_on, ts) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id, user, emoji) DO UPDATE SET is_on = excluded.is_on, ts = excluded.ts`,
      blob(id),
      user,
      emoji,
      stamp.on ? 1 : 0,
      stamp.ts,
    );
  }

  /** A deleted message's reactions are erased. */
  eraseReactions(id: string): void {
    this.#sql.run("DELETE FROM reactions WHERE id = ?", blob(id));
  }

  /** Who has each emoji on, for each of `ids` (messages a relay pushes: each user's `mine`). */
  reactors(ids: readonly string[]): Map<string, Map<string, string[]>> {
    const found = new Map<string, Map<string, string[]>>();
    for (let i = 0; i < ids.length; i += MAX_PARAMS) {
      const chunk = ids.slice(i, i + MAX_PARAMS);
      const rows = this.#sql.all<{ id: ArrayBuffer; user: string; emoji: string }>(
        `SELECT id, user, emoji FROM reactions WHERE is_on = 1 AND id IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk.map(blob),
      );
      for (const row of rows) {
        const id = fromBlob(row.id);
        const byEmoji = found.get(id) ?? new Map<string, string[]>();
        byEmoji.set(row.emoji, [...(byEmoji.get(row.emoji) ?? []), row.user]);
        found.set(id, byEmoji);
      }
    }
    return found;
  }

  /** The emojis `user` has on, for each of `ids`: rows read are that user's reactions on them. */
  mine(user: string, ids: readonly string[]): Map<string, Set<string>> {
    const found = new Map<string, Set<string>>();
    for (let i = 0; i < ids.length; i += MAX_PARAMS - 1) {
      const chunk = ids.slice(i, i + MAX_PARAMS - 1);
      const rows = this.#sql.all<{ id: ArrayBuffer; emoji: string }>(
        `SELECT id, emoji FROM reactions WHERE user = ? AND is_on = 1 AND id IN (${chunk.map(() => "?").join(", ")})`,
        user,
        ...chunk.map(blob),
      );
      for (const row of rows) {
        const id = fromBlob(row.id);
        const set = found.get(id) ?? new Set<string>();
        set.add(row.emoji);
        found.set(id, set);
      }
    }
    return found;
  }
}
