/**
 * The channel's store: the message rows, the position index over them, the
 * changes kept beside them (protocol 1.2) and each user's late state, kept
 * consistent with each other. Everything is synchronous SQL, so the Durable
 * Object runs one call at a time; every multi-row write runs in
 * `transactionSync` (DO SQLite has no BEGIN), and the state in memory
 * follows storage: a rolled-back write reloads it.
 */
import type { Actor } from "../core/changes.ts";
import { compareKeys, firstKeyAt, type Key } from "../core/key.ts";
import { PositionIndex, type PositionIndexOptions } from "../core/position-index.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type {
  Anchor,
  Change,
  LateItem,
  Message,
  PageBody,
  ReactionsItem,
} from "../protocol/schemas.ts";
import { BucketPages } from "./bucket-pages.ts";
import { applyChanges, type ChangeOutcome } from "./change.ts";
import { ChangeRows, type LoggedChange, type Tombstone } from "./change-rows.ts";
import { type Draft, type InsertResult, insertAll } from "./insert.ts";
import { LateState } from "./late-state.ts";
import { keyOf, MessageRows, type StoredMessage, toWire } from "./messages.ts";
import { naivePage } from "./naive-page.ts";
import { ReactionBadges } from "./reaction-badges.ts";
import { ReadMarkers } from "./read-markers.ts";
import { Readers } from "./readers.ts";
import { Meta, migrate } from "./schema.ts";
import { Sql } from "./sql.ts";
import type { Effect, Tables, Tips } from "./tables.ts";

export type { Tombstone } from "./change-rows.ts";
export type { Draft, InsertResult, SendResult } from "./insert.ts";
export type { StoredMessage } from "./messages.ts";
export { keyOf, toWire } from "./messages.ts";
export type { Effect } from "./tables.ts";

/** Who reads a page: `user`'s read marker anchors `first_unread`; over a socket, flags are theirs. */
export interface PageReader {
  readonly user: string;
  readonly socket: boolean;
}

/** What a frame of changes did, with the channel's total after it. */
export interface ChangeResultSet extends Omit<ChangeOutcome, "goneLate"> {
  readonly total: number;
}

/** `bucketSize`: most messages a position-index bucket holds (512); tests shrink it to reach many buckets. */
export type ChannelStoreOptions = PositionIndexOptions;

export class ChannelStore {
  readonly #sql: Sql;
  readonly #storage: Pick<DurableObjectStorage, "sql" | "transactionSync">;
  readonly #rows: MessageRows;
  readonly #changes: ChangeRows;
  readonly meta: Meta;
  /** Each user's late state: unread counts, seen marks. */
  readonly late: LateState;
  /** Each user's place: late state, unread reactions, read marker (protocol 1.2). */
  readonly readers: Readers;
  readonly #pages: BucketPages;
  readonly #options: ChannelStoreOptions;
  #index!: PositionIndex;
  readonly #tips: Tips = { lastSeq: 0, lateTotal: 0, goneTotal: 0, newest: null };

  constructor(
    storage: Pick<DurableObjectStorage, "sql" | "transactionSync">,
    options: ChannelStoreOptions = {},
  ) {
    this.#storage = storage;
    this.#sql = new Sql(storage.sql);
    this.#options = options;
    this.#pages = new BucketPages(this.#sql);
    this.#rows = new MessageRows(this.#sql);
    this.#changes = new ChangeRows(this.#sql);
    this.meta = new Meta(this.#sql);
    this.late = new LateState(
      this.#sql,
      this.#rows,
      (fn) => storage.transactionSync(fn),
      () => this.#tips,
    );
    this.readers = new Readers(
      this.late,
      new ReactionBadges(this.#sql),
      new ReadMarkers(this.#sql, (key) => this.#index.rank(key)),
      { total: () => this.total, seq: () => this.seq, write: (fn) => this.#write(fn) },
    );
    migrate(this.#sql, this.meta, (fn) => storage.transactionSync(fn));
    this.#load();
  }

  /** SQLite rows read so far: a running count, so callers measure by difference. */
  get rowsRead(): number {
    return this.#sql.rowsRead;
  }

  /** Loads the in-memory state: the bucket directory's pages and a few single-row lookups. */
  #load(): void {
    this.#index = new PositionIndex(this.#rows, this.#pages.load(), this.#options);
    Object.assign(this.#tips, this.#rows.tips(), { goneTotal: this.late.goneTotal() });
    this.late.forget();
    this.readers.badges.forget();
    this.readers.markers.forget();
  }

  get #tables(): Tables {
    return {
      rows: this.#rows,
      changes: this.#changes,
      late: this.late,
      badges: this.readers.badges,
      pages: this.#pages,
      index: this.#index,
      tips: this.#tips,
    };
  }

  // ── Reads ────────────────────────────────────────────────────────────────

  get total(): number {
    return this.#index.total;
  }

  /** The channel's seq watermark: the seq of the latest arrival, 0 when empty. */
  get seq(): number {
    return this.#tips.lastSeq;
  }

  /** Late messages in the channel: late arrivals not deleted since. */
  get lateTotal(): number {
    return this.#tips.lateTotal - this.#tips.goneTotal;
  }

  get newest(): Key | null {
    return this.#tips.newest;
  }

  oldest(): Key | null {
    return this.total > 0 ? (this.#index.keyAt(0) ?? null) : null;
  }

  /** Positions of keys of stored messages, given ascending. */
  positionsOf(sortedKeys: readonly Key[]): number[] {
    return this.#index.ranks(sortedKeys);
  }

  /** Messages stored after `since` and still present, in seq order, at most `limit` (reads only those). */
  arrivalsSince(since: number, limit: number): StoredMessage[] {
    return this.#rows.arrivalsSince(since, limit);
  }

  /** Change arrivals after `since`, in seq order, at most `limit`. */
  changesSince(since: number, limit: number): LoggedChange[] {
    return this.#changes.since(since, limit);
  }

  /** The stored messages among `ids` (one indexed row each). */
  messagesById(ids: Iterable<string>): Map<string, StoredMessage> {
    const found = new Map<string, StoredMessage>();
    for (const id of ids) {
      const m = this.#rows.byId(id);
      if (m) found.set(id, m);
    }
    return found;
  }

  tombstonesOf(ids: readonly string[]): Map<string, Tombstone> {
    return this.#changes.tombstonesOf(ids);
  }

  /**
   * Wire messages for one user: reactions flagged `mine` (over a socket; no
   * user: HTTP, no flags). Rows read: the user's own reactions on these
   * messages, and only for messages that have reactions.
   */
  wire(stored: readonly StoredMessage[], user?: string): Message[] {
    if (user === undefined) return stored.map((m) => toWire(m));
    const reacted = stored.filter((m) => m.reactions.length > 0).map((m) => m.id);
    const mine = reacted.length > 0 ? this.#changes.mine(user, reacted) : new Map();
    return stored.map((m) => toWire(m, mine.get(m.id)));
  }

  /**
   * A page around an anchor (PROTOCOL.md, `page`). `reader` is whose read
   * marker `first_unread` means; over a socket its late messages not seen
   * carry `unread: true` and its reactions `mine`.
   */
  page(anchor: Anchor, before: number, after: number, reader?: PageReader): PageBody {
    const total = this.total;
    const seq = this.seq;
    if (anchor === "first_unread" && reader === undefined) {
      throw new ProtocolError("bad_request", "anchor: first_unread needs a user");
    }
    if (total === 0) {
      if (typeof anchor === "object" && "id" in anchor) throw notFound(anchor.id);
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq };
    }
    const user = reader?.socket ? reader.user : undefined;
    const firstUnread =
      anchor === "first_unread" && reader ? this.#firstUnread(reader.user, total) : undefined;
    const { key, position } =
      firstUnread === undefined
        ? this.#resolve(anchor === "first_unread" ? "newest" : anchor, total)
        : { key: this.#index.keyAt(firstUnread) as Key, position: firstUnread };
    const { older, rest } = this.#rows.around(key, before, after);
    const stored = [...older, ...rest];
    const start = position - older.length;
    const messages = this.wire(stored, user);
    if (user !== undefined) this.#flagUnread(user, stored, messages);
    return {
      messages,
      start,
      total,
      anchorIndex: older.length,
      hasOlder: start > 0,
      hasNewer: start + messages.length < total,
      seq,
      ...(firstUnread === undefined ? {} : { firstUnread }),
    };
  }

  /**
   * The position of the first message after the user's read marker (0 with
   * no marker); undefined when nothing is unread. O(log n): a rank.
   */
  #firstUnread(user: string, total: number): number | undefined {
    const { readCount } = this.readers.markers.get(user);
    return readCount < total ? readCount : undefined;
  }

  /** The anchor's key and position; every anchor but an unknown id resolves. */
  #resolve(anchor: Exclude<Anchor, "first_unread">, total: number): { key: Key; position: number } {
    if (anchor === "newest") return { key: this.#tips.newest as Key, position: total - 1 };
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
    if (!key) return { key: this.#tips.newest as Key, position: total - 1 };
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
    return { unread: this.late.unread(user), items: this.#listed(rows) };
  }

  /** The user's messages with unread reactions, oldest unread first, with their reactions. */
  reactionsList(user: string, limit: number): { unread: number; items: ReactionsItem[] } {
    const ids = this.readers.badges.list(user, limit);
    const found = this.messagesById(ids);
    const rows = ids.flatMap((id) => found.get(id) ?? []);
    const wire = new Map(this.wire(rows, user).map((m) => [m.id, m.reactions ?? []]));
    return {
      unread: this.readers.badges.unread(user),
      items: this.#listed(rows).map((item) => ({ ...item, reactions: wire.get(item.id) ?? [] })),
    };
  }

  /** List items in the order given, with positions (looked up in key order). */
  #listed(rows: readonly StoredMessage[]): LateItem[] {
    const byKey = [...rows].sort(compareKeys);
    const ranks = this.positionsOf(byKey.map(keyOf));
    const positions = new Map(byKey.map((m, k) => [m, ranks[k] ?? 0]));
    return rows.map((m) => ({ id: m.id, ts: m.ts, position: positions.get(m) ?? 0, seq: m.seq }));
  }

  /** `read`: moves the user's marker forward to the message `id` (not_found when not stored). */
  read(user: string, id: string): { read: Key | null; unread: number; moved: boolean } {
    const m = this.#rows.byId(id);
    if (!m) throw notFound(id);
    const { marker, moved } = this.readers.read(user, keyOf(m));
    return { read: marker.key, unread: this.total - marker.readCount, moved };
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
   * batch) is a duplicate and a no-op, a deleted one too.
   */
  insert(drafts: readonly Draft[]): InsertResult {
    this.readers.badges.takeTouched();
    const result = this.#write(() => insertAll(this.#tables, drafts));
    this.#stored(result);
    return result;
  }

  /**
   * Applies a frame of changes by `actor`, all or nothing (PROTOCOL.md 1.2):
   * a forbidden change throws `forbidden` and nothing is stored.
   */
  change(actor: Actor, changes: readonly Change[]): ChangeResultSet {
    this.readers.badges.takeTouched();
    let settle = (): void => {};
    const outcome = this.#write(() => {
      const applied = applyChanges(this.#tables, actor, changes);
      if (applied.goneLate.length > 0) {
        settle = this.late.gone(applied.goneLate);
        this.#tips.goneTotal += applied.goneLate.length;
      }
      return applied;
    });
    // The late cache follows the deletes only now that they are stored.
    settle();
    this.#stored(outcome);
    const { goneLate: _, ...rest } = outcome;
    return { ...rest, total: this.total };
  }

  /** After a stored write: what memory derives from the list follows it. */
  #stored(effect: Effect): void {
    const keys = (list: readonly { ts: number; id: string }[]) => list.map(keyOf).sort(compareKeys);
    this.readers.markers.afterWrite(keys(effect.inserted), keys(effect.removed));
  }

  /**
   * Runs several writes (inserts, changes, a record in `meta`) as one, all or
   * nothing: the simulator stores a tick's messages, its changes and its
   * record together. Each write's own transaction nests in this one.
   */
  atomically<T>(fn: () => T): T {
    return this.#write(fn);
  }

  /** Runs a write in one transaction; a rollback reloads what memory holds from storage. */
  #write<T>(fn: () => T): T {
    try {
      return this.#storage.transactionSync(fn);
    } catch (err) {
      this.#load();
      throw err;
    }
  }
}

function notFound(id: string): ProtocolError {
  return new ProtocolError("not_found", `no message with id ${JSON.stringify(id)}`);
}
