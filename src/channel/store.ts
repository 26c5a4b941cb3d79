/**
 * The channel's store: the message rows, the position index over them and
 * each user's late state, kept consistent with each other. Everything is
 * synchronous SQL, so the Durable Object runs one call at a time; every
 * multi-row write runs in `transactionSync` (DO SQLite has no BEGIN), and
 * the state in memory follows storage: a rolled-back write reloads it.
 */
import { compareKeys, firstKeyAt, type Key } from "../core/key.ts";
import { PositionIndex, type PositionIndexOptions } from "../core/position-index.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { Anchor, LateItem, Message, PageBody } from "../protocol/schemas.ts";
import { BucketPages } from "./bucket-pages.ts";
import { LateState } from "./late-state.ts";
import { keyOf, MessageRows, type StoredMessage, toWire } from "./messages.ts";
import { naivePage } from "./naive-page.ts";
import { Meta, migrate } from "./schema.ts";
import { Sql } from "./sql.ts";

export type { StoredMessage } from "./messages.ts";
export { keyOf, toWire } from "./messages.ts";

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

/** An id the server makes: its padded seq sorts it after its batch-mates at the same ts. */
function serverId(seq: number): string {
  return `s${seq.toString(36).padStart(10, "0")}-${crypto.randomUUID().slice(0, 8)}`;
}

/** `bucketSize`: most messages a position-index bucket holds (512); tests shrink it to reach many buckets. */
export type ChannelStoreOptions = PositionIndexOptions;

export class ChannelStore {
  readonly #sql: Sql;
  readonly #storage: Pick<DurableObjectStorage, "sql" | "transactionSync">;
  readonly #rows: MessageRows;
  readonly meta: Meta;
  /** Each user's late state: unread counts, seen marks. */
  readonly late: LateState;
  #index!: PositionIndex;
  readonly #pages: BucketPages;
  readonly #options: ChannelStoreOptions;
  #lastSeq = 0;
  #lateTotal = 0;
  #newest: Key | null = null;

  constructor(
    storage: Pick<DurableObjectStorage, "sql" | "transactionSync">,
    options: ChannelStoreOptions = {},
  ) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.#options = options;
    this.#pages = new BucketPages(this.#sql);
    this.#rows = new MessageRows(this.#sql);
    this.meta = new Meta(this.#sql);
    this.late = new LateState(
      this.#sql,
      this.#rows,
      (fn) => storage.transactionSync(fn),
      () => this.#lateTotal,
    );
    migrate(this.#sql, this.meta, (fn) => storage.transactionSync(fn));
    this.#load();
  }

  /** SQLite rows read so far: a running count, so callers measure by difference. */
  get rowsRead(): number {
    return this.#sql.rowsRead;
  }

  /** Loads the in-memory state: the bucket directory's pages and three single-row lookups. */
  #load(): void {
    this.#index = new PositionIndex(this.#rows, this.#pages.load(), this.#options);
    const tips = this.#rows.tips();
    this.#lastSeq = tips.lastSeq;
    this.#lateTotal = tips.lateTotal;
    this.#newest = tips.newest;
    this.late.forget();
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

  /** Arrivals after `since` in seq order, at most `limit` (reads only those). */
  arrivalsSince(since: number, limit: number): StoredMessage[] {
    return this.#rows.arrivalsSince(since, limit);
  }

  /**
   * A page around an anchor (PROTOCOL.md, `page`). With `user`, late
   * messages that user has not seen carry `unread: true`.
   */
  page(anchor: Anchor, before: number, after: number, user?: string): PageBody {
    const total = this.total;
    const seq = this.seq;
    if (total === 0) {
      if (typeof anchor === "object" && "id" in anchor) throw notFound(anchor.id);
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq };
    }
    const { key, position } = this.#resolve(anchor, total);
    const { older, rest } = this.#rows.around(key, before, after);
    const stored = [...older, ...rest];
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
      seq,
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
      const found = this.#rows.byId(anchor.id);
      if (!found) throw notFound(anchor.id);
      const key = keyOf(found);
      return { key, position: this.#index.rank(key) };
    }
    // The first message whose ts ≥ the given one; after the newest: the newest.
    const key = this.#rows.firstFrom(firstKeyAt(anchor.ts));
    if (!key) return { key: this.#newest as Key, position: total - 1 };
    return { key, position: this.#index.rank(key) };
  }

  /** For the benchmark's comparison only: see naive-page.ts. */
  naivePage(position: number, before: number, after: number): PageBody {
    return naivePage(this.#sql, this.seq, position, before, after);
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

  /** Unread late messages, oldest arrival first, with their positions. */
  lateList(user: string, limit: number): { unread: number; items: LateItem[] } {
    const rows = this.late.list(user, limit);
    const byKey = [...rows].sort(compareKeys);
    const ranks = this.positionsOf(byKey.map(keyOf));
    const positions = new Map(byKey.map((m, k) => [m, ranks[k] ?? 0]));
    return {
      unread: this.late.unread(user),
      items: rows.map((m) => ({ id: m.id, ts: m.ts, position: positions.get(m) ?? 0, seq: m.seq })),
    };
  }

  #flagUnread(user: string, stored: readonly StoredMessage[], out: Message[]): void {
    const unread = this.late.unreadTest(user);
    stored.forEach((m, i) => {
      const wire = out[i];
      if (wire && m.lateNo !== null && unread(m.lateNo)) wire.unread = true;
    });
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
    const existing = this.#rows.seqsOf(drafts.flatMap((d) => (d.id === undefined ? [] : [d.id])));
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
    this.#rows.insert(inserted);
    this.#index.added(inserted.map(keyOf));
    this.#pages.save(this.#index.buckets(), this.#index.takeChanges());
    return { results, inserted, total: this.total };
  }
}

function notFound(id: string): ProtocolError {
  return new ProtocolError("not_found", `no message with id ${JSON.stringify(id)}`);
}
