/**
 * Unread reactions (protocol 1.2, "Unread reactions: Telegram's reaction
 * button"): for each user, the messages of theirs that carry a reaction by
 * someone else that they have not seen. Kept as
 *
 * - a mark on each reaction register that is unread for the message's
 *   author (`reactions.unread_seq`: the seq the reaction arrived with);
 * - one badge row per (author, message) with unread registers
 *   (`reaction_badges`: how many, and the seq of the first still unread,
 *   which orders `reactions.next` and `reactions.list`);
 * - one row per user (`reaction_readers`): the seq of their first
 *   connection (reactions that arrived before it are not theirs to read) and
 *   how many badge rows they have, so `reactionsUnread` is one lookup.
 *
 * Every question walks a primary key or an index: a count is O(1), the next
 * one O(log n); marking seen costs the badges it clears. Writes happen
 * inside the caller's transaction; the counts cached in memory are dropped
 * by a write and read again after it, so memory never runs ahead of storage.
 */
import type { Key } from "../core/key.ts";
import { blob, fromBlob, type Sql } from "./sql.ts";

/** A message as badges see it. */
export interface BadgeTarget {
  readonly id: string;
  readonly ts: number;
  readonly author: string;
}

interface ReactionReader {
  /** The channel's seq at the user's first connection. */
  readonly since: number;
  readonly unread: number;
}

/** Count changes remembered for relays (touchedSince); older ones are forgotten. */
const MAX_TOUCHES = 10_000;

export class ReactionBadges {
  readonly #sql: Sql;
  readonly #cache = new Map<string, ReactionReader | null>();
  /** Users whose count the current write changed, with their count before it. */
  #before = new Map<string, number>();

  /** The channel's seq now. */
  readonly #seq: () => number;
  /** When each user's count last changed (since this object woke), by seq. */
  #touched: { readonly seq: number; readonly user: string }[] = [];
  /** What changed before this seq is not in #touched (it woke then, or forgot older changes). */
  #woke: number;

  constructor(sql: Sql, seq: () => number) {
    this.#sql = sql;
    this.#seq = seq;
    this.#woke = Number.MAX_SAFE_INTEGER;
  }

  /** Once the store has loaded its state: counts changed from now on are kept. */
  woke(): void {
    this.#woke = this.#seq();
    this.#touched = [];
  }

  /** At the user's first connection (later ones do nothing): reactions from now on count. */
  greet(user: string, seq: number): void {
    if (this.#reader(user)) return;
    this.#sql.run(
      "INSERT INTO reaction_readers (user, since, unread) VALUES (?, ?, 0) ON CONFLICT DO NOTHING",
      user,
      seq,
    );
    this.#cache.delete(user);
  }

  /** How many of the user's messages have unread reactions. */
  unread(user: string): number {
    return this.#reader(user)?.unread ?? 0;
  }

  /** The user's message whose unread reaction arrived first. */
  next(user: string): string | undefined {
    return this.list(user, 1)[0];
  }

  /** Ids of up to `limit` of the user's messages with unread reactions, oldest unread first. */
  list(user: string, limit: number): string[] {
    return this.#sql
      .all<{ id: ArrayBuffer }>(
        "SELECT id FROM reaction_badges WHERE author = ? ORDER BY first_seq LIMIT ?",
        user,
        limit,
      )
      .map((r) => fromBlob(r.id));
  }

  // ── Inside a write's transaction ─────────────────────────────────────────

  /**
   * Users whose count the write changed since the last call, each with their
   * count before it (for the group's `status` frames); starts a new write.
   */
  takeTouched(): Map<string, number> {
    const touched = this.#before;
    this.#before = new Map();
    return touched;
  }

  /** `reactor`'s register for `emoji` on `m` turned on, by an arrival with this seq. */
  reactionOn(m: BadgeTarget, reactor: string, emoji: string, seq: number): void {
    const reader = this.#reader(m.author);
    if (reactor === m.author || !reader || seq <= reader.since) return;
    this.#sql.run(
      "UPDATE reactions SET unread_seq = ? WHERE id = ? AND user = ? AND emoji = ?",
      seq,
      blob(m.id),
      reactor,
      emoji,
    );
    const badge = this.#sql.one<{ n: number }>(
      `INSERT INTO reaction_badges (author, id, ts, first_seq, n) VALUES (?, ?, ?, ?, 1)
       ON CONFLICT (author, id) DO UPDATE SET n = n + 1, first_seq = min(first_seq, excluded.first_seq)
       RETURNING n`,
      m.author,
      blob(m.id),
      m.ts,
      seq,
    );
    if (badge?.n === 1) this.#count(m.author, +1);
  }

  /** An unread register (it arrived with `unreadSeq`) turned off before its author saw it. */
  reactionOff(m: BadgeTarget, reactor: string, emoji: string, unreadSeq: number): void {
    this.#sql.run(
      "UPDATE reactions SET unread_seq = NULL WHERE id = ? AND user = ? AND emoji = ?",
      blob(m.id),
      reactor,
      emoji,
    );
    const badge = this.#sql.one<{ n: number; first_seq: number }>(
      "UPDATE reaction_badges SET n = n - 1 WHERE author = ? AND id = ? RETURNING n, first_seq",
      m.author,
      blob(m.id),
    );
    if (!badge) return;
    if (badge.n === 0) {
      this.#sql.run(
        "DELETE FROM reaction_badges WHERE author = ? AND id = ?",
        m.author,
        blob(m.id),
      );
      this.#count(m.author, -1);
    } else if (badge.first_seq === unreadSeq) {
      this.#reorder(m.author, m.id);
    }
  }

  /** A deleted message's reactions leave its author's count (its registers go with it). */
  messageGone(m: BadgeTarget): void {
    const gone = this.#sql.all(
      "DELETE FROM reaction_badges WHERE author = ? AND id = ? RETURNING n",
      m.author,
      blob(m.id),
    );
    if (gone.length > 0) this.#count(m.author, -1);
  }

  /**
   * The user saw these messages' reactions, as they were at `upTo` (a
   * relay's pushes are reported after they were made): the reactions that
   * arrived by then are read, and a badge goes when none unread is left.
   */
  seen(user: string, ids: Iterable<string>, upTo = Number.MAX_SAFE_INTEGER): void {
    let cleared = 0;
    for (const id of ids) {
      const read = this.#sql.all(
        `UPDATE reactions SET unread_seq = NULL
         WHERE id = ? AND unread_seq IS NOT NULL AND unread_seq <= ? RETURNING 1`,
        blob(id),
        upTo,
      ).length;
      if (read === 0) continue;
      const badge = this.#sql.one<{ n: number }>(
        "UPDATE reaction_badges SET n = n - ? WHERE author = ? AND id = ? RETURNING n",
        read,
        user,
        blob(id),
      );
      if (!badge) continue;
      if (badge.n > 0) {
        this.#reorder(user, id);
        continue;
      }
      this.#sql.run("DELETE FROM reaction_badges WHERE author = ? AND id = ?", user, blob(id));
      cleared++;
    }
    if (cleared > 0) this.#count(user, -cleared);
  }

  /** Whether the author has unread reactions on the message (one indexed row). */
  has(author: string, id: string): boolean {
    return (
      this.#sql.one(
        "SELECT 1 AS x FROM reaction_badges WHERE author = ? AND id = ?",
        author,
        blob(id),
      ) !== undefined
    );
  }

  /**
   * Users whose count changed after `since` (or maybe at it: a change made
   * inside a write is kept with the seq before the write's); undefined when
   * this object cannot tell (it woke after `since`: they are in memory only).
   */
  touchedSince(since: number): string[] | undefined {
    if (since < this.#woke) return undefined;
    const users = new Set<string>();
    // Newest last: read back only as far as `since`.
    for (let i = this.#touched.length - 1; i >= 0; i--) {
      const touch = this.#touched[i] as { seq: number; user: string };
      if (touch.seq < since) break;
      users.add(touch.user);
    }
    return [...users];
  }

  /** Ids of the user's messages with unread reactions whose key lies in [first, last] (null: open). */
  inRange(user: string, first: Key | null, last: Key | null): string[] {
    const where: string[] = ["author = ?"];
    const args: SqlStorageValue[] = [user];
    if (first) {
      where.push("(ts, id) >= (?, ?)");
      args.push(first.ts, blob(first.id));
    }
    if (last) {
      where.push("(ts, id) <= (?, ?)");
      args.push(last.ts, blob(last.id));
    }
    return this.#sql
      .all<{ id: ArrayBuffer }>(
        `SELECT id FROM reaction_badges WHERE ${where.join(" AND ")}`,
        ...args,
      )
      .map((r) => fromBlob(r.id));
  }

  /** Drops the cache: after a rolled-back transaction, storage is the truth. */
  forget(): void {
    this.#cache.clear();
    this.#before = new Map();
  }

  /** The badge's first unread reaction went: it is ordered by the next (one message's registers). */
  #reorder(author: string, id: string): void {
    this.#sql.run(
      `UPDATE reaction_badges SET first_seq =
         (SELECT min(unread_seq) FROM reactions WHERE id = ?1 AND unread_seq IS NOT NULL)
       WHERE author = ?2 AND id = ?1`,
      blob(id),
      author,
    );
  }

  #count(user: string, delta: number): void {
    this.#touched.push({ seq: this.#seq(), user });
    if (this.#touched.length > MAX_TOUCHES) {
      // Forget the older half: a relay behind them is sent every user's counts.
      const kept = this.#touched.slice(this.#touched.length >> 1);
      this.#woke = (kept[0] as { seq: number }).seq + 1;
      this.#touched = kept;
    }
    if (!this.#before.has(user)) this.#before.set(user, this.unread(user));
    this.#sql.run("UPDATE reaction_readers SET unread = unread + ? WHERE user = ?", delta, user);
    this.#cache.delete(user);
  }

  #reader(user: string): ReactionReader | null {
    let reader = this.#cache.get(user);
    if (reader === undefined) {
      reader =
        this.#sql.one<{ since: number; unread: number }>(
          "SELECT since, unread FROM reaction_readers WHERE user = ?",
          user,
        ) ?? null;
      this.#cache.set(user, reader);
    }
    return reader;
  }
}
