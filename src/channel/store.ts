/**
 * The channel's SQLite store: messages, the persisted position index, readers'
 * late state and small settings. Everything here is synchronous SQL, so the
 * Durable Object's input gate serializes writers; every multi-row write runs
 * in `transactionSync` (DO SQLite has no BEGIN).
 */
import { compareKeys, firstKeyAt, type Key } from "../core/key.ts";
import { type Bucket, type BucketRows, PositionIndex } from "../core/position-index.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Anchor, LateItem, Message, PageBody } from "../protocol/schemas.ts";
import { Readers } from "./readers.ts";
import { blob, fromBlob, type Row, Sql } from "./sql.ts";

/** Bumped when the schema changes; kept in `meta` (DO SQLite has no user_version). */
export const SCHEMA_VERSION = 1;

/** A message as stored. `lateNo` is its ordinal among late arrivals, or null. */
export interface StoredMessage {
  readonly seq: number;
  readonly id: string;
  readonly ts: number;
  readonly author: string;
  readonly text: string;
  readonly lateNo: number | null;
}

/** A message to store, with ts and author resolved; no id: the store makes one. */
export interface Draft {
  readonly id: string | undefined;
  readonly ts: number;
  readonly author: string;
  readonly text: string;
}

export interface InsertResult {
  readonly results: { id: string; seq: number; duplicate: boolean }[];
  /** The newly stored messages, in arrival order. */
  readonly inserted: StoredMessage[];
  readonly total: number;
}

interface MessageRow extends Row {
  seq: number;
  id: ArrayBuffer;
  ts: number;
  author: string;
  text: string;
  late_no: number | null;
}

const COLUMNS = "seq, id, ts, author, text, late_no";

/** Durable Object SQLite binds at most 100 parameters a statement. */
const MAX_PARAMS = 100;
/** Six columns a row: 16 rows use 96 of them. */
const ROWS_PER_INSERT = Math.floor(MAX_PARAMS / 6);

const SCHEMA = [
  `CREATE TABLE messages (
     seq INTEGER PRIMARY KEY,   -- arrival order, 1, 2, 3, …
     id BLOB NOT NULL UNIQUE,   -- UTF-16BE: memcmp order is the protocol's code-unit order
     ts INTEGER NOT NULL,
     author TEXT NOT NULL,
     text TEXT NOT NULL,
     late_no INTEGER            -- ordinal among late arrivals; NULL when on time
   )`,
  "CREATE INDEX messages_key ON messages (ts, id)",
  "CREATE UNIQUE INDEX messages_late_no ON messages (late_no) WHERE late_no IS NOT NULL",
  "CREATE INDEX messages_late_key ON messages (ts, id) WHERE late_no IS NOT NULL",
  `CREATE TABLE buckets (
     lo_ts INTEGER NOT NULL, lo_id BLOB NOT NULL, size INTEGER NOT NULL,
     PRIMARY KEY (lo_ts, lo_id)
   ) WITHOUT ROWID`,
  "CREATE TABLE readers (user TEXT PRIMARY KEY, base INTEGER NOT NULL, seen INTEGER NOT NULL) WITHOUT ROWID",
  "CREATE TABLE seen (user TEXT NOT NULL, late_no INTEGER NOT NULL, PRIMARY KEY (user, late_no)) WITHOUT ROWID",
];

/**
 * The rows with lo ≤ key < hi, as a WHERE clause on the (ts, id) index. A hi
 * of MAX_KEY (past every real ts) is left out rather than bound.
 */
function keyRange(lo: Key, hi: Key): { where: string; args: SqlStorageValue[] } {
  const from = { where: "(ts, id) >= (?, ?)", args: [lo.ts, blob(lo.id)] };
  if (hi.ts > Number.MAX_SAFE_INTEGER) return from;
  return { where: `${from.where} AND (ts, id) < (?, ?)`, args: [...from.args, hi.ts, blob(hi.id)] };
}

const keyOfRow = (row: { ts: number; id: ArrayBuffer }): Key => ({
  ts: row.ts,
  id: fromBlob(row.id),
});

function toStored(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    id: fromBlob(row.id),
    ts: row.ts,
    author: row.author,
    text: row.text,
    lateNo: row.late_no,
  };
}

/** The wire shape of a stored message. */
export function toWire(m: StoredMessage): Message {
  return {
    id: m.id,
    ts: m.ts,
    author: m.author,
    text: m.text,
    seq: m.seq,
    late: m.lateNo !== null,
  };
}

export const keyOf = (m: { ts: number; id: string }): Key => ({ ts: m.ts, id: m.id });

/** An id the server makes: its padded seq sorts it after its batch-mates at the same ts. */
function serverId(seq: number): string {
  return `s${seq.toString(36).padStart(10, "0")}-${crypto.randomUUID().slice(0, 8)}`;
}

export class ChannelStore implements BucketRows {
  readonly #sql: Sql;
  readonly #storage: Pick<DurableObjectStorage, "sql" | "transactionSync">;
  #index!: PositionIndex;
  #lastSeq = 0;
  #lateTotal = 0;
  #newest: Key | null = null;
  /** Each user's late state: unread counts, seen marks. */
  readonly readers: Readers;

  constructor(storage: Pick<DurableObjectStorage, "sql" | "transactionSync">) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.readers = new Readers(
      this.#sql,
      (fn) => storage.transactionSync(fn),
      () => this.#lateTotal,
    );
    this.#migrate();
    this.#load();
  }

  /** SQLite rows read since the last call (for Server-Timing and the tests). */
  takeRowsRead(): number {
    return this.#sql.takeRowsRead();
  }

  // ── Schema and wake ──────────────────────────────────────────────────────

  #migrate(): void {
    this.#sql.run("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
    const version = Number(this.getMeta("schema") ?? 0);
    if (version === SCHEMA_VERSION) return;
    if (version > SCHEMA_VERSION) throw new Error(`schema ${version} is newer than this code`);
    this.#storage.transactionSync(() => {
      for (const statement of SCHEMA) this.#sql.run(statement);
      this.setMeta("schema", String(SCHEMA_VERSION));
    });
  }

  /** Loads the in-memory state: the bucket list and three O(1) lookups. */
  #load(): void {
    const buckets = this.#sql
      .all<{ lo_ts: number; lo_id: ArrayBuffer; size: number }>(
        "SELECT lo_ts, lo_id, size FROM buckets ORDER BY lo_ts, lo_id",
      )
      .map(
        (r): Bucket => ({
          lo: { ts: r.lo_ts, id: fromBlob(r.lo_id) },
          size: r.size,
        }),
      );
    this.#index = new PositionIndex(this, buckets);
    this.#lastSeq =
      this.#sql.one<{ n: number | null }>("SELECT max(seq) AS n FROM messages")?.n ?? 0;
    // `late_no IS NOT NULL` lets SQLite use the partial index: max(late_no) alone scans the table.
    this.#lateTotal =
      this.#sql.one<{ n: number }>(
        "SELECT late_no AS n FROM messages WHERE late_no IS NOT NULL ORDER BY late_no DESC LIMIT 1",
      )?.n ?? 0;
    const newest = this.#sql.one<MessageRow>(
      `SELECT ${COLUMNS} FROM messages ORDER BY ts DESC, id DESC LIMIT 1`,
    );
    this.#newest = newest ? keyOf(toStored(newest)) : null;
    this.readers.forget();
  }

  getMeta(key: string): string | undefined {
    return this.#sql.one<{ value: string }>("SELECT value FROM meta WHERE key = ?", key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.#sql.run(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }

  // ── BucketRows: range questions inside one bucket ────────────────────────

  count(lo: Key, hi: Key): number {
    const range = keyRange(lo, hi);
    return (
      this.#sql.one<{ n: number }>(
        `SELECT count(*) AS n FROM messages WHERE ${range.where}`,
        ...range.args,
      )?.n ?? 0
    );
  }

  nth(lo: Key, hi: Key, offset: number, fromEnd: boolean): Key | undefined {
    const range = keyRange(lo, hi);
    const order = fromEnd ? "ts DESC, id DESC" : "ts, id";
    const row = this.#sql.one<MessageRow>(
      `SELECT ts, id FROM messages WHERE ${range.where} ORDER BY ${order} LIMIT 1 OFFSET ?`,
      ...range.args,
      offset,
    );
    return row ? keyOfRow(row) : undefined;
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

  get total(): number {
    return this.#index.total;
  }

  /** The channel's seq watermark: the seq of the latest arrival, 0 when empty. */
  get seq(): number {
    return this.#lastSeq;
  }

  get lateTotal(): number {
    return this.#lateTotal;
  }

  get newest(): Key | null {
    return this.#newest;
  }

  oldest(): Key | null {
    return this.total > 0 ? (this.#index.keyAt(0) ?? null) : null;
  }

  /** Positions of keys of stored messages, given ascending. */
  positionsOf(sortedKeys: readonly Key[]): number[] {
    return this.#index.ranks(sortedKeys);
  }

  /** Arrivals after `since` in seq order, at most `limit`: one primary-key range, O(limit) rows. */
  arrivalsSince(since: number, limit: number): StoredMessage[] {
    return this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?`,
        since,
        limit,
      )
      .map(toStored);
  }

  byId(id: string): StoredMessage | undefined {
    const row = this.#sql.one<MessageRow>(`SELECT ${COLUMNS} FROM messages WHERE id = ?`, blob(id));
    return row ? toStored(row) : undefined;
  }

  /**
   * A page around an anchor (PROTOCOL.md, `page`). With `user`, late
   * messages that user has not seen carry `unread: true`.
   */
  page(anchor: Anchor, before: number, after: number, user?: string): PageBody {
    const total = this.total;
    if (total === 0) {
      if (typeof anchor === "object" && "id" in anchor) throw notFound(anchor.id);
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq: this.seq };
    }
    const { key, position } = this.#resolve(anchor, total);
    const older = this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages WHERE (ts, id) < (?, ?) ORDER BY ts DESC, id DESC LIMIT ?`,
        key.ts,
        blob(key.id),
        before,
      )
      .reverse();
    const rest = this.#sql.all<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE (ts, id) >= (?, ?) ORDER BY ts, id LIMIT ?`,
      key.ts,
      blob(key.id),
      after + 1,
    );
    const stored = [...older, ...rest].map(toStored);
    const start = position - older.length;
    const messages = stored.map(toWire);
    if (user !== undefined) this.#flagUnread(user, stored, messages);
    return {
      messages,
      start,
      total,
      anchorIndex: older.length,
      hasOlder: start > 0,
      hasNewer: start + messages.length < total,
      seq: this.seq,
    };
  }

  /** The anchor's key and position; every anchor but an unknown id resolves. */
  #resolve(anchor: Anchor, total: number): { key: Key; position: number } {
    if (anchor === "newest") return { key: this.#newest as Key, position: total - 1 };
    if (anchor === "oldest") return { key: this.#index.keyAt(0) as Key, position: 0 };
    if ("position" in anchor) {
      const position = Math.min(Math.max(anchor.position, 0), total - 1);
      return { key: this.#index.keyAt(position) as Key, position };
    }
    if ("id" in anchor) {
      const found = this.byId(anchor.id);
      if (!found) throw notFound(anchor.id);
      const key = keyOf(found);
      return { key, position: this.#index.rank(key) };
    }
    // The first message whose ts ≥ the given one; after the newest: the newest.
    const start = firstKeyAt(anchor.ts);
    const row = this.#sql.one<MessageRow>(
      "SELECT ts, id FROM messages WHERE (ts, id) >= (?, ?) ORDER BY ts, id LIMIT 1",
      start.ts,
      blob(start.id),
    );
    if (!row) return { key: this.#newest as Key, position: total - 1 };
    const key = keyOfRow(row);
    return { key, position: this.#index.rank(key) };
  }

  /**
   * The usual approach, for the benchmark's comparison only: `count(*)` for
   * the total and `LIMIT … OFFSET` for the page. Both read every row they skip.
   */
  naivePage(position: number, before: number, after: number): PageBody {
    const total = this.#sql.one<{ n: number }>("SELECT count(*) AS n FROM messages")?.n ?? 0;
    const anchor = Math.min(Math.max(position, 0), Math.max(total - 1, 0));
    const start = Math.max(0, anchor - before);
    const messages = this.#sql
      .all<MessageRow>(
        `SELECT ${COLUMNS} FROM messages ORDER BY ts, id LIMIT ? OFFSET ?`,
        anchor - start + after + 1,
        start,
      )
      .map(toStored)
      .map(toWire);
    return {
      messages,
      start,
      total,
      anchorIndex: anchor - start,
      hasOlder: start > 0,
      hasNewer: start + messages.length < total,
      seq: this.seq,
    };
  }

  /** `timeline`: the ts at N evenly spaced positions, for scrollbar labels. */
  timeline(points: number): { total: number; points: { position: number; ts: number }[] } {
    const total = this.total;
    if (total === 0) return { total, points: [] };
    const out: { position: number; ts: number }[] = [];
    for (let i = 0; i < points; i++) {
      const position = Math.round((i * (total - 1)) / (points - 1));
      const key = this.#index.keyAt(position) as Key;
      out.push({ position, ts: key.ts });
    }
    return { total, points: out };
  }

  // ── Writes ───────────────────────────────────────────────────────────────

  /**
   * Stores a batch, all or nothing: an id already stored (or repeated in the
   * batch) is a duplicate and a no-op. `alsoWrite` runs inside the same
   * transaction (the simulator records its tick there).
   */
  insert(drafts: readonly Draft[], alsoWrite?: (result: InsertResult) => void): InsertResult {
    try {
      return this.#storage.transactionSync(() => {
        const result = this.#insertAll(drafts);
        alsoWrite?.(result);
        return result;
      });
    } catch (err) {
      // The transaction rolled back; the in-memory state must follow it.
      this.#load();
      throw err;
    }
  }

  #insertAll(drafts: readonly Draft[]): InsertResult {
    const existing = this.#seqsOf(drafts.flatMap((d) => (d.id === undefined ? [] : [d.id])));
    const results: InsertResult["results"] = [];
    const inserted: StoredMessage[] = [];
    for (const draft of drafts) {
      const seq = this.#lastSeq + 1;
      const id = draft.id ?? serverId(seq);
      const stored = existing.get(id);
      if (stored !== undefined) {
        results.push({ id, seq: stored, duplicate: true });
        continue;
      }
      const key = { ts: draft.ts, id };
      const late = this.#newest !== null && compareKeys(key, this.#newest) < 0;
      const lateNo = late ? this.#lateTotal + 1 : null;
      this.#lastSeq = seq;
      if (lateNo !== null) this.#lateTotal = lateNo;
      else this.#newest = key;
      // A repeat later in this batch is a duplicate of this one.
      existing.set(id, seq);
      results.push({ id, seq, duplicate: false });
      inserted.push({ seq, id, ts: draft.ts, author: draft.author, text: draft.text, lateNo });
    }
    this.#insertRows(inserted);
    this.#index.added(inserted.map(keyOf));
    for (const b of this.#index.takeChanges()) {
      this.#sql.run(
        "INSERT INTO buckets (lo_ts, lo_id, size) VALUES (?, ?, ?) ON CONFLICT (lo_ts, lo_id) DO UPDATE SET size = excluded.size",
        b.lo.ts,
        blob(b.lo.id),
        b.size,
      );
    }
    return { results, inserted, total: this.total };
  }

  /** The seqs of those ids that are stored: one indexed lookup each, 100 to a query. */
  #seqsOf(ids: readonly string[]): Map<string, number> {
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
  #insertRows(rows: readonly StoredMessage[]): void {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      const chunk = rows.slice(i, i + ROWS_PER_INSERT);
      this.#sql.run(
        `INSERT INTO messages (seq, id, ts, author, text, late_no) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")}`,
        ...chunk.flatMap((m) => [m.seq, blob(m.id), m.ts, m.author, m.text, m.lateNo]),
      );
    }
  }

  // ── Late messages, per user ──────────────────────────────────────────────

  /** Marks seen every late message inside [first, last] (null: open end). */
  markSeenInRange(user: string, first: Key | null, last: Key | null): void {
    const reader = this.readers.get(user);
    if (reader.base >= this.#lateTotal) return;
    let query = "SELECT late_no FROM messages WHERE late_no > ?";
    const args: SqlStorageValue[] = [reader.base];
    if (first) {
      query += " AND (ts, id) >= (?, ?)";
      args.push(first.ts, blob(first.id));
    }
    if (last) {
      query += " AND (ts, id) <= (?, ?)";
      args.push(last.ts, blob(last.id));
    }
    const ordinals = this.#sql.all<{ late_no: number }>(query, ...args).map((r) => r.late_no);
    this.readers.markSeen(user, ordinals);
  }

  /** The unread late message that arrived first: ordinal base + 1, by the watermark invariant. */
  lateNext(user: string): StoredMessage | undefined {
    const { base } = this.readers.get(user);
    if (base >= this.#lateTotal) return undefined;
    const row = this.#sql.one<MessageRow>(
      `SELECT ${COLUMNS} FROM messages WHERE late_no = ?`,
      base + 1,
    );
    return row ? toStored(row) : undefined;
  }

  /** Unread late messages, oldest arrival first, with their positions. */
  lateList(user: string, limit: number): { unread: number; items: LateItem[] } {
    const { base } = this.readers.get(user);
    const rows = this.#sql
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
    const byKey = [...rows].sort((a, b) => compareKeys(a, b));
    const ranks = this.positionsOf(byKey.map(keyOf));
    const positions = new Map(byKey.map((m, k) => [m, ranks[k] ?? 0]));
    return {
      unread: this.readers.unread(user),
      items: rows.map((m) => ({ id: m.id, ts: m.ts, position: positions.get(m) ?? 0, seq: m.seq })),
    };
  }

  #flagUnread(user: string, stored: readonly StoredMessage[], out: Message[]): void {
    const unread = this.readers.unreadTest(user);
    stored.forEach((m, i) => {
      const wire = out[i];
      if (wire && m.lateNo !== null && unread(m.lateNo)) wire.unread = true;
    });
  }
}

function notFound(id: string): ProtocolError {
  return new ProtocolError("not_found", `no message with id ${JSON.stringify(id)}`);
}
