/**
 * The `messages` table: rows in, rows out, by key range, id, seq or late
 * ordinal. Every query walks an index (the primary key on seq, the unique
 * index on id, the (ts, id) index, the partial index on late_no), so each
 * reads only the rows it returns or counts. It also answers the position
 * index's range questions inside one bucket ({@link BucketRows}).
 */

import type { BucketRows } from "../core/buckets.ts";
import type { ReactionCounts } from "../core/changes.ts";
import type { Key } from "../core/key.ts";
import {
  COLUMNS,
  type MessageRow,
  reactionsColumn,
  type StoredMessage,
  toStored,
} from "./message-shape.ts";
import { blob, fromBlob, type Sql } from "./sql.ts";

export {
  COLUMNS,
  keyOf,
  type MessageRow,
  type StoredMessage,
  toStored,
  toWire,
} from "./message-shape.ts";

/** Durable Object SQLite binds at most 100 parameters a statement. */
export const MAX_PARAMS = 100;

/** Eight columns a row: 12 rows use 96 of them. */
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS / 8);

const keyOfRow = (row: { ts: number; id: ArrayBuffer }): Key => ({
  ts: row.ts,
  id: fromBlob(row.id),
});

/** A key range as a WHERE clause on the (ts, id) index; an open end is left out, not bound. */
function keyRange(
  lo: Key | null,
  hi: Key | null,
  hiInclusive = false,
): { where: string; args: SqlStorageValue[] } {
  const where: string[] = [];
  const args: SqlStorageValue[] = [];
  if (lo) {
    where.push("(ts, id) >= (?, ?)");
    args.push(lo.ts, blob(lo.id));
  }
  // MAX_KEY (past every real ts) is an open end too.
  if (hi && hi.ts <= Number.MAX_SAFE_INTEGER) {
    where.push(`(ts, id) ${hiInclusive ? "<=" : "<"} (?, ?)`);
    args.push(hi.ts, blob(hi.id));
  }
  return { where: where.length > 0 ? where.join(" AND ") : "1", args };
}

export class MessageRows implements BucketRows {
  readonly #sql: Sql;

  constructor(sql: Sql) {
    this.#sql = sql;
  }

  // ── BucketRows: range questions inside one bucket ────────────────────────

  count(lo: Key, hi: Key): number {
    const range = keyRange(lo, hi);
    const row = this.#sql.one<{ n: number }>(
      `SELECT count(*) AS n FROM messages WHERE ${range.where}`,
      ...range.args,
    );
    return row?.n ?? 0;
  }

  nth(lo: Key, hi: Key, offset: number, fromEnd: boolean): Key | undefined {
    return this.#walk(lo, hi, fromEnd, 1, offset)[0];
  }

  scan(lo: Key, hi: Key, count: number, fromEnd: boolean): Key[] {
    return count > 0 ? this.#walk(lo, hi, fromEnd, count, 0) : [];
  }

  /** Keys of rows with lo ≤ key < hi from one end, `limit` of them after skipping `offset`. */
  #walk(lo: Key, hi: Key, fromEnd: boolean, limit: number, offset: number): Key[] {
    const range = keyRange(lo, hi);
    const order = fromEnd ? "ts DESC, id DESC" : "ts, id";
    return this.#sql
      .all<MessageRow>(
        `SELECT ts, id FROM messages WHERE ${range.where} ORDER BY ${order} LIMIT ? OFFSET ?`,
        ...range.args,
        limit,
        offset,
      )
      .map(keyOfRow);
  }

  keys(lo: Key, hi: Key): Key[] {
    const range = keyRange(lo, hi);
    return this.#sql
      .all<MessageRow>(
        `SELECT ts, id FROM messages WHERE ${range.where} ORDER BY ts, id`,
        ...range.args,
      )
      .map(keyOfRow);
  }

  // ── Reads ────────────────────────────────────────────────────────────────

  /** Up to `before` messages before `key` and up to `after + 1` from it on, ascending. */
  around(
    key: Key,
    before: number,
    after: number,
  ): { older: StoredMessage[]; rest: StoredMessage[] } {
    const older = this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE (ts, id) < (?, ?) ORDER BY ts DESC, id DESC LIMIT ?`,
        key.ts,
        blob(key.id),
        before,
      )
      .reverse()
      .map(toStored);
    const rest = this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE (ts, id) >= (?, ?) ORDER BY ts, id LIMIT ?`,
        key.ts,
        blob(key.id),
        after + 1,
      )
      .map(toStored);
    return { older, rest };
  }

  /** The first key ≥ `key`, if any. */
  firstFrom(key: Key): Key | undefined {
    const row = this.#sql.one<MessageRow>(
      "SELECT ts, id FROM messages WHERE (ts, id) >= (?, ?) ORDER BY ts, id LIMIT 1",
      key.ts,
      blob(key.id),
    );
    return row ? keyOfRow(row) : undefined;
  }

  byId(id: string): StoredMessage | undefined {
    const row = this.#sql.one<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE id = ?`, blob(id));
    return row ? toStored(row) : undefined;
  }

  /** The stored messages among `ids` (one indexed row each). */
  byIds(ids: Iterable<string>): Map<string, StoredMessage> {
    const found = new Map<string, StoredMessage>();
    for (const id of ids) {
      const m = this.byId(id);
      if (m) found.set(id, m);
    }
    return found;
  }

  /** Arrivals after `since` in seq order, at most `limit`: a primary-key range, O(limit) rows. */
  arrivalsSince(since: number, limit: number): StoredMessage[] {
    return this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
        since,
        limit,
      )
      .map(toStored);
  }

  /** The late message with this ordinal. */
  byLateNo(lateNo: number): StoredMessage | undefined {
    const row = this.#sql.one<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE late_no = ?`,
      lateNo,
    );
    return row ? toStored(row) : undefined;
  }

  /** Late ordinals above `base` whose key lies in [first, last] (null: open end). */
  lateOrdinalsIn(base: number, first: Key | null, last: Key | null): number[] {
    const range = keyRange(first, last, true);
    return this.#sql
      .all<{ late_no: number }>(
        `SELECT late_no FROM messages WHERE late_no > ? AND ${range.where}`,
        base,
        ...range.args,
      )
      .map((r) => r.late_no);
  }

  /** Late messages above `base` that `user` has not marked seen, oldest arrival first. */
  unseenLate(user: string, base: number, limit: number): StoredMessage[] {
    return this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages
         WHERE late_no > ? AND late_no NOT IN (SELECT late_no FROM seen WHERE user = ? AND late_no > ?)
         ORDER BY late_no LIMIT ?`,
        base,
        user,
        base,
        limit,
      )
      .map(toStored);
  }

  /**
   * What a wake needs: the latest seq, the highest late ordinal, the newest
   * key. Deleted messages and changes are arrivals too, so the tombstones and
   * the change log are asked as well: one indexed row each.
   */
  tips(): { lastSeq: number; lateTotal: number; newest: Key | null } {
    const max = (query: string) => this.#sql.one<{ n: number | null }>(query)?.n ?? 0;
    const lastSeq = Math.max(
      max("SELECT max(seq) AS n FROM messages"),
      max("SELECT max(seq) AS n FROM tombstones"),
      max("SELECT max(seq) AS n FROM changes"),
    );
    // `late_no IS NOT NULL` lets SQLite use the partial indexes: max(late_no) alone scans the table.
    const lateTotal = Math.max(
      max(
        "SELECT late_no AS n FROM messages WHERE late_no IS NOT NULL ORDER BY late_no DESC LIMIT 1",
      ),
      max(
        "SELECT late_no AS n FROM tombstones WHERE late_no IS NOT NULL ORDER BY late_no DESC LIMIT 1",
      ),
    );
    return { lastSeq, lateTotal, newest: this.newest() };
  }

  /** The greatest key stored, if any: one row. */
  newest(): Key | null {
    const row = this.#sql.one<MessageRow>(
      "SELECT ts, id FROM messages ORDER BY ts DESC, id DESC LIMIT 1",
    );
    return row ? keyOfRow(row) : null;
  }

  // ── Writes ───────────────────────────────────────────────────────────────

  /** The seqs of those ids that are stored: one indexed lookup each, 100 to a query. */
  seqsOf(ids: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (let i = 0; i < ids.length; i += MAX_PARAMS) {
      const chunk = ids.slice(i, i + MAX_PARAMS);
      const rows = this.#sql.all<{ id: ArrayBuffer; seq: number }>(
        `SELECT id, seq FROM messages WHERE id IN (${chunk.map(() => "?").join(", ")})`,
        ...chunk.map(blob),
      );
      for (const row of rows) found.set(fromBlob(row.id), row.seq);
    }
    return found;
  }

  /**
   * Inserts rows already checked for duplicates, many to a statement: one
   * statement per row costs more in the runtime than in SQLite itself.
   */
  insert(rows: readonly StoredMessage[]): void {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      this.#sql.run(
        `INSERT INTO messages (${COLUMNS}) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
        ...chunk.flatMap((m) => [
          m.seq,
          blob(m.id),
          m.ts,
          m.author,
          m.text,
          m.lateNo,
          m.edited,
          reactionsColumn(m.reactions),
        ]),
      );
    }
  }

  /** A winning edit: the text and its ts. */
  setText(id: string, text: string, edited: number): void {
    this.#sql.run("UPDATE messages SET text = ?, edited = ? WHERE id = ?", text, edited, blob(id));
  }

  setReactions(id: string, counts: ReactionCounts): void {
    this.#sql.run(
      "UPDATE messages SET reactions = ? WHERE id = ?",
      reactionsColumn(counts),
      blob(id),
    );
  }

  /** Deletes the row: its text goes with it. */
  remove(id: string): void {
    this.#sql.run("DELETE FROM messages WHERE id = ?", blob(id));
  }
}
