/**
 * Reading the list: pages around every anchor (1.2's `first_unread`
 * included), the timeline, and the late and reactions lists, each with
 * positions from the position index. Each costs O(log n) plus the rows it
 * returns; nothing here writes.
 */
import { compareKeys, firstKeyAt, type Key } from "../core/key.ts";
import type { PositionIndex } from "../core/position-index.ts";
import { bucketPoints, exactPoints } from "../core/timeline.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type {
  Anchor,
  LateItem,
  Message,
  PageBody,
  ReactionsItem,
  Timeline,
} from "../protocol/schemas.ts";
import type { ChangeRows } from "./change-rows.ts";
import { keyOf, type MessageRows, type StoredMessage, toWire } from "./messages.ts";
import type { Readers } from "./readers.ts";
import type { Tips } from "./tables.ts";

/** Who reads a page: `user`'s read marker anchors `first_unread`; over a socket, flags are theirs. */
export interface PageReader {
  readonly user: string;
  readonly socket: boolean;
}

/** What the queries read: the store's rows, tables and state. */
export interface QueryParts {
  readonly rows: MessageRows;
  readonly changes: ChangeRows;
  readonly tips: Tips;
  readonly readers: Readers;
  /** The position index (replaced when the store reloads). */
  readonly index: () => PositionIndex;
}

export class Queries {
  readonly #parts: QueryParts;

  constructor(parts: QueryParts) {
    this.#parts = parts;
  }

  #index(): PositionIndex {
    return this.#parts.index();
  }

  /**
   * Wire messages for one user: reactions flagged `mine` (over a socket; no
   * user: HTTP, no flags). Rows read: the user's own reactions on these
   * messages, and only for messages that have reactions.
   */
  wire(stored: readonly StoredMessage[], user?: string): Message[] {
    if (user === undefined) return stored.map((m) => toWire(m));
    const reacted = stored.filter((m) => m.reactions.length > 0).map((m) => m.id);
    const mine = reacted.length > 0 ? this.#parts.changes.mine(user, reacted) : new Map();
    return stored.map((m) => toWire(m, mine.get(m.id)));
  }

  /**
   * A page around an anchor (docs/protocol.md, `page`). `reader` is whose read
   * marker `first_unread` means; over a socket its late messages not seen
   * carry `unread: true` and its reactions `mine`.
   */
  page(anchor: Anchor, before: number, after: number, reader?: PageReader): PageBody {
    const total = this.#index().total;
    const seq = this.#parts.tips.lastSeq;
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
        : { key: this.#index().keyAt(firstUnread) as Key, position: firstUnread };
    const { older, rest } = this.#parts.rows.around(key, before, after);
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
    const { readCount } = this.#parts.readers.markers.get(user);
    return readCount < total ? readCount : undefined;
  }

  /** The anchor's key and position; every anchor but an unknown id resolves. */
  #resolve(anchor: Exclude<Anchor, "first_unread">, total: number): { key: Key; position: number } {
    if (anchor === "newest") return { key: this.#parts.tips.newest as Key, position: total - 1 };
    if (anchor === "oldest") return { key: this.#index().keyAt(0) as Key, position: 0 };
    if ("position" in anchor) {
      const position = Math.min(Math.max(anchor.position, 0), total - 1);
      return { key: this.#index().keyAt(position) as Key, position };
    }
    if ("id" in anchor) {
      const found = this.#parts.rows.byId(anchor.id);
      if (!found) throw notFound(anchor.id);
      const key = keyOf(found);
      return { key, position: this.#index().rank(key) };
    }
    // The first message whose ts ≥ the given one; after the newest: the newest.
    const key = this.#parts.rows.firstFrom(firstKeyAt(anchor.ts));
    if (!key) return { key: this.#parts.tips.newest as Key, position: total - 1 };
    return { key, position: this.#index().rank(key) };
  }

  /**
   * `timeline`: the ts at N evenly spaced positions, for scrollbar labels.
   * Exact (the contract) or, with `exact` false, at the nearest bucket starts
   * from the directory in memory (see core/timeline.ts).
   */
  timeline(points: number, exact = true): Timeline {
    const index = this.#index();
    const newest = this.#parts.tips.newest;
    const out =
      exact || newest === null ? exactPoints(index, points) : bucketPoints(index, points, newest);
    return { total: index.total, points: out };
  }

  /** Unread late messages, oldest arrival first, with their positions. */
  lateList(user: string, limit: number): { unread: number; items: LateItem[] } {
    const rows = this.#parts.readers.late.list(user, limit);
    return { unread: this.#parts.readers.late.unread(user), items: this.#listed(rows) };
  }

  /** The user's messages with unread reactions, oldest unread first, with their reactions. */
  reactionsList(user: string, limit: number): { unread: number; items: ReactionsItem[] } {
    const ids = this.#parts.readers.badges.list(user, limit);
    const found = this.#parts.rows.byIds(ids);
    const rows = ids.flatMap((id) => found.get(id) ?? []);
    const wire = new Map(this.wire(rows, user).map((m) => [m.id, m.reactions ?? []]));
    return {
      unread: this.#parts.readers.badges.unread(user),
      items: this.#listed(rows).map((item) => ({ ...item, reactions: wire.get(item.id) ?? [] })),
    };
  }

  /** List items in the order given, with positions (looked up in key order). */
  #listed(rows: readonly StoredMessage[]): LateItem[] {
    const byKey = [...rows].sort(compareKeys);
    const ranks = this.#index().ranks(byKey.map(keyOf));
    const positions = new Map(byKey.map((m, k) => [m, ranks[k] ?? 0]));
    return rows.map((m) => ({ id: m.id, ts: m.ts, position: positions.get(m) ?? 0, seq: m.seq }));
  }

  #flagUnread(user: string, stored: readonly StoredMessage[], out: Message[]): void {
    const unread = this.#parts.readers.late.unreadTest(user);
    stored.forEach((m, i) => {
      const wire = out[i];
      if (wire && m.lateNo !== null && unread(m.lateNo)) wire.unread = true;
    });
  }
}

export function notFound(id: string): ProtocolError {
  return new ProtocolError("not_found", `no message with id ${JSON.stringify(id)}`);
}
