/**
 * The channel's store: the message rows, the position index over them, the
 * changes kept beside them (protocol 1.2) and each user's late state, kept
 * consistent with each other. Everything is synchronous SQL, so the Durable
 * Object runs one call at a time; every multi-row write runs in
 * `transactionSync` (DO SQLite has no BEGIN), and the state in memory
 * follows storage: a rolled-back write reloads it.
 */
import type { Actor } from "../core/changes.ts";
import { compareKeys, type Key } from "../core/key.ts";
import { PositionIndex, type PositionIndexOptions } from "../core/position-index.ts";
import type {
  Anchor,
  Change,
  LateItem,
  Message,
  PageBody,
  ReactionsItem,
  Timeline,
} from "../protocol/schemas.ts";
import { BucketPages } from "./bucket-pages.ts";
import { applyChanges, type ChangeOutcome } from "./change.ts";
import { ChangeRows, type LoggedChange, type Tombstone } from "./change-rows.ts";
import { type Draft, type InsertResult, insertAll } from "./insert.ts";
import { LateState } from "./late-state.ts";
import { keyOf, MessageRows, type StoredMessage } from "./messages.ts";
import { naivePage } from "./naive-page.ts";
import { notFound, type PageReader, Queries } from "./queries.ts";
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
export type { PageReader } from "./queries.ts";
export type { Effect } from "./tables.ts";

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
  readonly #queries: Queries;
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
      new ReactionBadges(this.#sql, () => this.seq),
      new ReadMarkers(this.#sql, (key) => this.#index.rank(key)),
      { total: () => this.total, seq: () => this.seq, write: (fn) => this.#write(fn) },
    );
    this.#queries = new Queries({
      rows: this.#rows,
      changes: this.#changes,
      tips: this.#tips,
      readers: this.readers,
      index: () => this.#index,
    });
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
    this.readers.badges.woke();
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
    return this.#rows.byIds(ids);
  }
  tombstonesOf(ids: readonly string[]): Map<string, Tombstone> {
    return this.#changes.tombstonesOf(ids);
  }

  /** The emojis `user` has on, for each of `ids` (rows read: that user's reactions on them). */
  mine(user: string, ids: readonly string[]): Map<string, Set<string>> {
    return this.#changes.mine(user, ids);
  }

  /** Which of these late ordinals belong to deleted messages. */
  deletedLate(ordinals: readonly number[]): Set<number> {
    return ordinals.length === 0 ? new Set() : this.#changes.deletedLate(ordinals);
  }

  /** Who has each emoji on, for each of `ids`. */
  reactors(ids: readonly string[]): Map<string, Map<string, string[]>> {
    return this.#changes.reactors(ids);
  }

  /** Wire messages for one user (see Queries.wire). */
  wire(stored: readonly StoredMessage[], user?: string): Message[] {
    return this.#queries.wire(stored, user);
  }

  /** A page around an anchor (docs/protocol.md, `page`); see Queries.page. */
  page(anchor: Anchor, before: number, after: number, reader?: PageReader): PageBody {
    return this.#queries.page(anchor, before, after, reader);
  }

  /** `timeline`: the ts at N evenly spaced positions (or, not `exact`, at bucket starts near them). */
  timeline(points: number, exact = true): Timeline {
    return this.#queries.timeline(points, exact);
  }

  /** Unread late messages, oldest arrival first, with their positions. */
  lateList(user: string, limit: number): { unread: number; items: LateItem[] } {
    return this.#queries.lateList(user, limit);
  }

  /** The user's messages with unread reactions, oldest unread first, with their reactions. */
  reactionsList(user: string, limit: number): { unread: number; items: ReactionsItem[] } {
    return this.#queries.reactionsList(user, limit);
  }

  /** For the benchmark's comparison only: see naive-page.ts. */
  naivePage(position: number, before: number, after: number): PageBody {
    return naivePage(this.#sql, this.seq, position, before, after);
  }

  /** `read`: moves the user's marker forward to the message `id` (not_found when not stored). */
  read(user: string, id: string): { read: Key | null; unread: number; moved: boolean } {
    const m = this.#rows.byId(id);
    if (!m) throw notFound(id);
    const { marker, moved } = this.readers.read(user, keyOf(m));
    return { read: marker.key, unread: this.total - marker.readCount, moved };
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
   * Applies a frame of changes by `actor`, all or nothing (docs/protocol.md 1.2):
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
