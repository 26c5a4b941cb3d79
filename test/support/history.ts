/**
 * The channel at a million messages: the same order, late flags, seq and
 * pages as {@link ChannelModel}, computed once from the arrival order into
 * typed arrays (about 20 MB at 1M) instead of a million objects. Keys are
 * compared by the kit's one comparator; pages and timelines come from the
 * kit's one page builder.
 */
import { compareKeys } from "./keys.ts";
import { type OrderedList, pageOf, resolveAnchor, timelineOf } from "./pages.ts";
import {
  type Anchor,
  type Draft,
  NO_AUDIENCE,
  type PageBody,
  type Stats,
  type Timeline,
  type WireMessage,
} from "./wire.ts";

/** What the model needs to know about the n-th arrival (0-based) of a channel. */
export interface Arrivals {
  readonly count: number;
  ts(n: number): number;
  id(n: number): string;
  author(n: number): string;
  text(n: number): string;
  /** The arrival index of a stored id, or undefined. */
  find(id: string): number | undefined;
}

/** Arrivals held as plain objects, for small channels: the stored ones, in arrival order. */
export function arrivalsOf(messages: readonly Draft[]): Arrivals {
  const byId = new Map(messages.map((m, n) => [m.id, n]));
  const at = (n: number) => messages[n] as Draft;
  return {
    count: messages.length,
    ts: (n) => at(n).ts,
    id: (n) => at(n).id,
    author: (n) => at(n).author,
    text: (n) => at(n).text,
    find: (id) => byId.get(id),
  };
}

/** A channel's history from its arrivals, each stored once (seq = n + 1). */
export class HistoryModel implements OrderedList {
  readonly arrivals: Arrivals;
  readonly total: number;
  /** Arrival indices in key order: sorted[position] = n. */
  readonly sorted: Int32Array;
  /** position[n]: where arrival n sits in key order. */
  readonly position: Int32Array;
  readonly late: Uint8Array;
  readonly lateTotal: number;
  readonly #ts: Float64Array;

  constructor(arrivals: Arrivals) {
    this.arrivals = arrivals;
    const count = arrivals.count;
    this.total = count;
    const ts = new Float64Array(count);
    for (let n = 0; n < count; n++) ts[n] = arrivals.ts(n);
    this.#ts = ts;
    // Two scratch keys: a million-message sort allocates nothing per comparison.
    const ka = { ts: 0, id: "" };
    const kb = { ts: 0, id: "" };
    const compare = (a: number, b: number): number => {
      ka.ts = ts[a] as number;
      ka.id = arrivals.id(a);
      kb.ts = ts[b] as number;
      kb.id = arrivals.id(b);
      return compareKeys(ka, kb);
    };
    this.late = new Uint8Array(count);
    let lateTotal = 0;
    let max = -1;
    for (let n = 0; n < count; n++) {
      if (max >= 0 && compare(n, max) < 0) {
        this.late[n] = 1;
        lateTotal++;
      } else {
        max = n;
      }
    }
    this.lateTotal = lateTotal;
    this.sorted = new Int32Array(count);
    for (let n = 0; n < count; n++) this.sorted[n] = n;
    this.sorted.sort(compare);
    this.position = new Int32Array(count);
    for (let p = 0; p < count; p++) this.position[this.sorted[p] as number] = p;
  }

  /** Every arrival is stored once: the latest seq is the count. */
  get seq(): number {
    return this.total;
  }

  /** The arrival index at a position. */
  at(position: number): number {
    return this.sorted[position] as number;
  }

  tsAt(position: number): number {
    return this.#ts[this.at(position)] as number;
  }

  positionOf(id: string): number | undefined {
    const n = this.arrivals.find(id);
    return n === undefined ? undefined : (this.position[n] as number);
  }

  messageAt(position: number): WireMessage {
    return this.message(this.at(position));
  }

  /** The wire message of arrival n. */
  message(n: number): WireMessage {
    const a = this.arrivals;
    const [id, ts, author, text] = [a.id(n), a.ts(n), a.author(n), a.text(n)];
    return { id, ts, author, text, seq: n + 1, late: this.late[n] === 1 };
  }

  /** The position an anchor resolves to, or "not_found". */
  resolve(anchor: Anchor): number | "not_found" {
    return resolveAnchor(this, anchor);
  }

  /** A page; `first_unread` needs `readThrough`, the messages at or before the reader's marker. */
  page(
    anchor: Anchor,
    before: number,
    after: number,
    readThrough?: number,
  ): PageBody | "not_found" {
    return pageOf(this, anchor, before, after, readThrough);
  }

  timeline(points: number): Timeline {
    return timelineOf(this, points);
  }

  stats(channel: string): Stats {
    return statsOf(this, channel);
  }
}

/**
 * A {@link HistoryModel} after deletes (protocol 1.2): the deleted arrivals
 * leave the list, every later position drops by one, the rest keep their seq
 * and late flag, and each delete took the channel's next seq. Built from the
 * set of deleted arrivals in O(count), so a test can rebuild it after each delete.
 */
export class DeletedHistory implements OrderedList {
  readonly base: HistoryModel;
  readonly arrivals: Arrivals;
  readonly total: number;
  readonly seq: number;
  readonly lateTotal: number;
  /** gone[n] = 1 when arrival n was deleted. */
  readonly gone: Uint8Array;
  /** Arrival indices of the messages left, in key order. */
  readonly #sorted: Int32Array;
  /** kept[p]: messages left among the base's positions below p. */
  readonly #kept: Int32Array;

  constructor(base: HistoryModel, deleted: Iterable<number>) {
    this.base = base;
    this.arrivals = base.arrivals;
    const count = base.total;
    this.gone = new Uint8Array(count);
    for (const n of deleted) this.gone[n] = 1;
    this.#kept = new Int32Array(count + 1);
    const sorted = new Int32Array(count);
    let kept = 0;
    let lateGone = 0;
    for (let p = 0; p < count; p++) {
      const n = base.at(p);
      this.#kept[p] = kept;
      if (this.gone[n] === 1) lateGone += base.late[n] as number;
      else sorted[kept++] = n;
    }
    this.#kept[count] = kept;
    this.#sorted = sorted.subarray(0, kept);
    this.total = kept;
    this.seq = base.seq + (count - kept);
    this.lateTotal = base.lateTotal - lateGone;
  }

  /** The arrival index at a position. */
  at(position: number): number {
    return this.#sorted[position] as number;
  }

  tsAt(position: number): number {
    return this.arrivals.ts(this.at(position));
  }

  /** The position of a message left, or undefined for a deleted or unknown id. */
  positionOf(id: string): number | undefined {
    const n = this.arrivals.find(id);
    if (n === undefined || this.gone[n] === 1) return undefined;
    return this.#kept[this.base.position[n] as number] as number;
  }

  /** Where a base position lands now: the position of the first message left at or after it. */
  positionAfter(basePosition: number): number {
    return this.#kept[basePosition] as number;
  }

  messageAt(position: number): WireMessage {
    return this.base.message(this.at(position));
  }

  resolve(anchor: Anchor): number | "not_found" {
    return resolveAnchor(this, anchor);
  }

  page(anchor: Anchor, before: number, after: number): PageBody | "not_found" {
    return pageOf(this, anchor, before, after);
  }

  timeline(points: number): Timeline {
    return timelineOf(this, points);
  }

  stats(channel: string): Stats {
    return statsOf(this, channel);
  }
}

/** The channel's stats as `GET /v1/channels/{ch}` answers them, from either history model. */
function statsOf(
  list: OrderedList & {
    readonly lateTotal: number;
    readonly arrivals: Arrivals;
    at(p: number): number;
  },
  channel: string,
): Stats {
  const key = (p: number) => ({ ts: list.tsAt(p), id: list.arrivals.id(list.at(p)) });
  const some = list.total > 0;
  return {
    channel,
    total: list.total,
    lateTotal: list.lateTotal,
    oldest: some ? key(0) : null,
    newest: some ? key(list.total - 1) : null,
    seq: list.seq,
    // The history tests open no socket.
    ...NO_AUDIENCE,
  };
}
