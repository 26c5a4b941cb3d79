/**
 * An independent model of a channel as the server keeps it, for the window
 * tests: a sorted array (position = index), a seq counter, and the frames
 * PROTOCOL.md says a socket with a declared view gets. Written from the
 * protocol; imports nothing from src/ but types.
 */
import type {
  InsertFrame,
  Key,
  Message,
  PageBody,
  ResumedFrame,
  StatusFrame,
} from "../../src/protocol/schemas.ts";

/** The reader counts a push carries; this model tracks none of them. */
export const NO_COUNTS = { lateUnread: 0, reactionsUnread: 0, unread: 0 };

export interface DeclaredView {
  first: Key | null;
  last: Key | null;
  live: boolean;
}

function cmp(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class ChannelModel {
  /** Every message, ascending by key: a message's position is its index. */
  readonly list: Message[] = [];
  seq = 0;
  #nextId = 0;

  /** Stores a batch (ts values; ids are made here) and answers the stored messages. */
  insert(tss: readonly number[]): Message[] {
    const stored: Message[] = [];
    for (const ts of tss) {
      const id = `m${(this.#nextId++).toString(36)}`;
      const newest = this.list.at(-1);
      const m: Message = {
        id,
        ts,
        author: "a",
        text: id,
        seq: ++this.seq,
        late: newest !== undefined && cmp(newest, { ts, id }) > 0,
      };
      let i = this.list.length;
      while (i > 0 && cmp(this.list[i - 1] as Message, m) > 0) i--;
      this.list.splice(i, 0, m);
      stored.push(m);
    }
    return stored;
  }

  positionOf(id: string): number {
    return this.list.findIndex((m) => m.id === id);
  }

  /** A page around a position (clamped), `before` and `after` it. */
  page(anchor: number, before: number, after: number): PageBody {
    const n = this.list.length;
    if (n === 0) {
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq: this.seq };
    }
    const a = Math.min(Math.max(anchor, 0), n - 1);
    const start = Math.max(0, a - before);
    const end = Math.min(n, a + after + 1);
    return {
      messages: this.list.slice(start, end).map((m) => ({ ...m })),
      start,
      total: n,
      anchorIndex: a - start,
      hasOlder: start > 0,
      hasNewer: end < n,
      seq: this.seq,
    };
  }

  /** The `insert` (if any) and `status` a socket with `view` gets for a stored batch. */
  pushes(view: DeclaredView, batch: readonly Message[]): (InsertFrame | StatusFrame)[] {
    const sorted = [...batch].sort(cmp);
    const inside = sorted.filter((m) => inView(view, m));
    const shifted = view.first ? sorted.filter((m) => cmp(m, view.first as Key) < 0).length : 0;
    const frames: (InsertFrame | StatusFrame)[] = [];
    const total = this.list.length;
    if (inside.length > 0) {
      frames.push({
        type: "insert",
        messages: inside.map((m) => ({ ...m, position: this.positionOf(m.id) })),
        total,
        seq: this.seq,
      });
    }
    frames.push({ type: "status", total, ...NO_COUNTS, shifted, seq: this.seq });
    return frames;
  }

  /** The `resumed` reply for a view after `since` (incomplete when more than `limit` were missed). */
  resumed(view: DeclaredView, since: number, limit: number): ResumedFrame {
    const missed = this.list.filter((m) => m.seq > since).sort(cmp);
    const base = {
      type: "resumed" as const,
      seq: this.seq,
      total: this.list.length,
      ...NO_COUNTS,
    };
    if (missed.length > limit || since > this.seq) {
      return { ...base, complete: false, shifted: 0, messages: [], removed: [], updated: [] };
    }
    const first = view.first;
    return {
      ...base,
      complete: true,
      removed: [],
      updated: [],
      shifted: first ? missed.filter((m) => cmp(m, first) < 0).length : 0,
      messages: missed
        .filter((m) => inView(view, m))
        .map((m) => ({ ...m, position: this.positionOf(m.id) })),
    };
  }
}

/** PROTOCOL.md: inside `first`…`last` inclusive (null: open), or after `first` when live. */
function inView(view: DeclaredView, key: Key): boolean {
  if (view.first && cmp(key, view.first) < 0) return false;
  if (!view.live && view.last && cmp(key, view.last) > 0) return false;
  return true;
}
