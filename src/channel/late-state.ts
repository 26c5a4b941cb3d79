/**
 * Each user's late state in SQLite (the pure rules are in core/late.ts): one
 * row per user (`readers`: the watermark and the count above it) and the
 * ordinals above each watermark seen one by one (`seen`). Every question is
 * an index lookup: nothing here scans the late messages.
 *
 * Deleted late ordinals (protocol 1.2) are counted in `late_gone`, a sparse
 * Fenwick tree one node a row (core/ordinal-counts.ts): a reader's count of
 * those at or below its watermark costs O(log) rows, read once when the
 * reader is loaded or its watermark moves.
 *
 * The cache in memory changes only after the write that backs it has
 * succeeded, so a failed write leaves the object answering what storage holds.
 */
import type { Key } from "../core/key.ts";
import {
  ackAll,
  afterGone,
  isUnread,
  type LateTotals,
  markSeen,
  newReader,
  type Reader,
  type SeenSet,
  unreadCount,
} from "../core/late.ts";
import { markPath, prefixPath } from "../core/ordinal-counts.ts";
import type { MessageRows, StoredMessage } from "./messages.ts";
import type { Sql } from "./sql.ts";

export class LateState {
  readonly #sql: Sql;
  readonly #messages: MessageRows;
  readonly #transaction: (fn: () => void) => void;
  readonly #totals: () => LateTotals;
  /** Write-through cache: fan-out asks every socket's user after every batch. */
  readonly #cache = new Map<string, Reader>();

  constructor(
    sql: Sql,
    messages: MessageRows,
    transaction: (fn: () => void) => void,
    totals: () => LateTotals,
  ) {
    this.#sql = sql;
    this.#messages = messages;
    this.#transaction = transaction;
    this.#totals = totals;
  }

  /** The user's state, created at their first connection: late messages before it are not theirs to read. */
  get(user: string): Reader {
    const cached = this.#cache.get(user);
    if (cached) return cached;
    const row = this.#sql.one<{ base: number; seen: number }>(
      "SELECT base, seen FROM readers WHERE user = ?",
      user,
    );
    let reader: Reader;
    if (row) {
      reader = { base: row.base, seen: row.seen, goneBelow: this.#goneUpTo(row.base) };
    } else {
      reader = newReader(this.#totals());
      this.#sql.run(
        "INSERT INTO readers (user, base, seen) VALUES (?, ?, ?)",
        user,
        reader.base,
        reader.seen,
      );
    }
    this.#cache.set(user, reader);
    return reader;
  }

  unread(user: string): number {
    return unreadCount(this.get(user), this.#totals());
  }

  /** A predicate for one page: is the late message with this ordinal unread for the user? */
  unreadTest(user: string): (ordinal: number) => boolean {
    const reader = this.get(user);
    const seen = this.#seenSet(user);
    return (ordinal) => isUnread(reader, ordinal, seen);
  }

  /** Marks late messages (by ordinal) seen by the user. */
  markSeen(user: string, ordinals: readonly number[]): void {
    const before = this.get(user);
    if (!ordinals.some((n) => n > before.base)) return;
    this.#commit(user, () => {
      const after = markSeen(before, ordinals, this.#seenSet(user));
      if (after.base === before.base) return after;
      return { ...after, goneBelow: this.#goneUpTo(after.base) };
    });
  }

  /** Marks seen every late message inside [first, last] (null: open end). */
  markSeenInRange(user: string, first: Key | null, last: Key | null): void {
    const { base } = this.get(user);
    if (base >= this.#totals().lateTotal) return;
    this.markSeen(user, this.#messages.lateOrdinalsIn(base, first, last));
  }

  /** `late.ack`: every late message read. */
  ack(user: string): void {
    this.get(user);
    this.#commit(user, () => {
      this.#sql.run("DELETE FROM seen WHERE user = ?", user);
      return ackAll(this.#totals());
    });
  }

  /**
   * The unread late message that arrived first: ordinal base + 1 by the
   * watermark invariant, unless that one was deleted; then the first unseen
   * one above the base that still exists.
   */
  next(user: string): StoredMessage | undefined {
    const { base } = this.get(user);
    if (base >= this.#totals().lateTotal) return undefined;
    return this.#messages.byLateNo(base + 1) ?? this.list(user, 1)[0];
  }

  /**
   * Inside the caller's transaction: late messages with these ordinals were
   * deleted. Marks them in the gone counts and drops them from every seen
   * set (each read row is a user who had seen one of them one by one). The
   * returned function brings the cache up to date; call it once the
   * transaction has committed.
   */
  gone(ordinals: readonly number[]): () => void {
    const seenBy = new Map<number, Set<string>>();
    for (const ordinal of ordinals) {
      for (const node of markPath(ordinal)) {
        this.#sql.run(
          "INSERT INTO late_gone (node, count) VALUES (?, 1) ON CONFLICT (node) DO UPDATE SET count = count + 1",
          node,
        );
      }
      const users = this.#sql
        .all<{ user: string }>("DELETE FROM seen WHERE late_no = ? RETURNING user", ordinal)
        .map((r) => r.user);
      for (const user of users) {
        this.#sql.run("UPDATE readers SET seen = seen - 1 WHERE user = ?", user);
      }
      seenBy.set(ordinal, new Set(users));
    }
    return () => {
      for (const [user, reader] of this.#cache) {
        let next = reader;
        for (const [ordinal, users] of seenBy) next = afterGone(next, ordinal, users.has(user));
        this.#cache.set(user, next);
      }
    };
  }

  /** How many late ordinals were deleted in all (at most log₂ cap rows). */
  goneTotal(): number {
    return this.#goneUpTo(Number.MAX_SAFE_INTEGER);
  }

  /** How many deleted late ordinals are ≤ `ordinal`: O(log) node rows. */
  #goneUpTo(ordinal: number): number {
    const nodes = prefixPath(ordinal);
    if (nodes.length === 0) return 0;
    const row = this.#sql.one<{ n: number | null }>(
      `SELECT sum(count) AS n FROM late_gone WHERE node IN (${nodes.map(() => "?").join(", ")})`,
      ...nodes,
    );
    return row?.n ?? 0;
  }

  /** Up to `limit` unread late messages, oldest arrival first. */
  list(user: string, limit: number): StoredMessage[] {
    return this.#messages.unseenLate(user, this.get(user).base, limit);
  }

  /** Drops the cache: after a rolled-back transaction, storage is the truth. */
  forget(): void {
    this.#cache.clear();
  }

  /** Runs a change to the user's state in one transaction; the cache follows only once it is stored. */
  #commit(user: string, change: () => Reader): void {
    let next: Reader | undefined;
    this.#transaction(() => {
      next = change();
      this.#sql.run(
        "UPDATE readers SET base = ?, seen = ? WHERE user = ?",
        next.base,
        next.seen,
        user,
      );
    });
    if (next) this.#cache.set(user, next);
  }

  #seenSet(user: string): SeenSet {
    return {
      add: (n) =>
        this.#sql.all(
          "INSERT INTO seen (user, late_no) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING late_no",
          user,
          n,
        ).length > 0,
      has: (n) =>
        this.#sql.one("SELECT 1 AS x FROM seen WHERE user = ? AND late_no = ?", user, n) !==
        undefined,
      delete: (n) => this.#sql.run("DELETE FROM seen WHERE user = ? AND late_no = ?", user, n),
    };
  }
}
