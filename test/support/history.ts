/**
 * The channel at a million messages: the same order, late flags, seq and
 * pages as {@link ChannelModel}, computed once from the arrival order into
 * typed arrays (about 20 MB at 1M) instead of a million objects. Keys are
 * compared by the kit's one comparator; pages and timelines come from the
 * kit's one page builder.
 */
import { compareKeys } from "./keys.ts";
import { type OrderedList, pageOf, resolveAnchor, timelineOf } from "./pages.ts";
import type { Anchor, Draft, PageBody, Stats, Timeline, WireMessage } from "./wire.ts";

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

  page(anchor: Anchor, before: number, after: number): PageBody | "not_found" {
    return pageOf(this, anchor, before, after);
  }

  timeline(points: number): Timeline {
    return timelineOf(this, points);
  }

  stats(channel: string): Stats {
    const key = (p: number) => ({ ts: this.tsAt(p), id: this.arrivals.id(this.at(p)) });
    const some = this.total > 0;
    return {
      channel,
      total: this.total,
      lateTotal: this.lateTotal,
      oldest: some ? key(0) : null,
      newest: some ? key(this.total - 1) : null,
      seq: this.seq,
    };
  }
}
