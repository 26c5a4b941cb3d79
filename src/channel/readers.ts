/**
 * Readers' late state in SQLite (the pure rules are in core/late.ts): one
 * row per user (`readers`: the watermark and the count above it) and the
 * ordinals above each watermark seen one by one (`seen`). Every question is
 * a primary-key lookup: nothing here scans the late messages.
 */
import {
  ackAll,
  isUnread,
  markSeen,
  newReader,
  type Reader,
  type SeenSet,
  unreadCount,
} from "../core/late.ts";
import type { Sql } from "./sql.ts";

export class Readers {
  readonly #sql: Sql;
  readonly #transaction: (fn: () => void) => void;
  readonly #lateTotal: () => number;
  /** Write-through cache: fan-out asks every socket's user after every batch. */
  readonly #cache = new Map<string, Reader>();

  constructor(sql: Sql, transaction: (fn: () => void) => void, lateTotal: () => number) {
    this.#sql = sql;
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
    this.#transaction(() => this.#save(user, markSeen(before, ordinals, this.#seenSet(user))));
  }

  /** `late.ack`: every late message read. */
  ack(user: string): void {
    this.get(user);
    this.#transaction(() => {
      this.#sql.run("DELETE FROM seen WHERE user = ?", user);
      this.#save(user, ackAll(this.#lateTotal()));
    });
  }

  /** Drops the cache: after a rolled-back transaction, storage is the truth. */
  forget(): void {
    this.#cache.clear();
  }

  #save(user: string, reader: Reader): void {
    this.#cache.set(user, reader);
    this.#sql.run(
      "UPDATE readers SET base = ?, seen = ? WHERE user = ?",
      reader.base,
      reader.seen,
      user,
    );
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
