/**
 * Each user's late state in SQLite (the pure rules are in core/late.ts): one
 * row per user (`readers`: the watermark and the count above it) and the
 * ordinals above each watermark seen one by one (`seen`). Every question is
 * an index lookup: nothing here scans the late messages.
 *
 * The cache in memory changes only after the write that backs it has
 * succeeded, so a failed write leaves the object answering what storage holds.
 */
import type { Key } from "../core/key.ts";
import {
  ackAll,
  isUnread,
  markSeen,
  newReader,
  type Reader,
  type SeenSet,
  unreadCount,
} from "../core/late.ts";
import type { MessageRows, StoredMessage } from "./messages.ts";
import type { Sql } from "./sql.ts";

export class LateState {
  readonly #sql: Sql;
  readonly #messages: MessageRows;
  readonly #transaction: (fn: () => void) => void;
  readonly #lateTotal: () => number;
  /** Write-through cache: fan-out asks every socket's user after every batch. */
  readonly #cache = new Map<string, Reader>();

  constructor(
    sql: Sql,
    messages: MessageRows,
    transaction: (fn: () => void) => void,
    lateTotal: () => number,
  ) {
    this.#sql = sql;
    this.#messages = messages;
    this.#transaction = transaction;
    this.#lateTotal = lateTotal;
  }

  /** The user's state, created at their first connection: late messages before it are not theirs to read. */
  get(user: string): Reader {
    const cached = this.#cache.get(user);
    if (cached) return cached;
    let row = this.#sql.one<{ base: number; seen: number }>(
      "SELECT base, seen FROM readers WHERE user = ?",
      user,
    );
    if (!row) {
      row = newReader(this.#lateTotal());
      this.#sql.run(
        "INSERT INTO readers (user, base, seen) VALUES (?, ?, ?)",
        user,
        row.base,
        row.seen,
      );
    }
    const reader = { base: row.base, seen: row.seen };
    this.#cache.set(user, reader);
    return reader;
  }

  unread(user: string): number {
    return unreadCount(this.get(user), this.#lateTotal());
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
    this.#commit(user, () => markSeen(before, ordinals, this.#seenSet(user)));
  }

  /** Marks seen every late message inside [first, last] (null: open end). */
  markSeenInRange(user: string, first: Key | null, last: Key | null): void {
    const { base } = this.get(user);
    if (base >= this.#lateTotal()) return;
    this.markSeen(user, this.#messages.lateOrdinalsIn(base, first, last));
  }

  /** `late.ack`: every late message read. */
  ack(user: string): void {
    this.get(user);
    this.#commit(user, () => {
      this.#sql.run("DELETE FROM seen WHERE user = ?", user);
      return ackAll(this.#lateTotal());
    });
  }

  /** The unread late message that arrived first: ordinal base + 1, by the watermark invariant. */
  next(user: string): StoredMessage | undefined {
    const { base } = this.get(user);
    return base >= this.#lateTotal() ? undefined : this.#messages.byLateNo(base + 1);
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
