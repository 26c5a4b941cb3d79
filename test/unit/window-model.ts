/**
 * An independent model of a channel as the server keeps it, for the window
 * tests: a sorted array of the messages present (position = index), a seq
 * counter, protocol 1.2's changes (edits, deletes, reactions) by their
 * rules, the reader's place of the socket's user (reader-model.ts), and the
 * frames docs/protocol.md says the user's sockets, each with a declared view, get
 * after a group (`insert`, `remove`, `update`, `status`: the group's net
 * effect, the counts after what it showed them), in a `resumed` reply, a
 * `hello`, and when the user reads or acks on another tab. Written from the
 * protocol; imports nothing from src/ but types.
 */
import type {
  HelloFrame,
  InsertFrame,
  Key,
  Message,
  PageBody,
  Reaction,
  RemoveFrame,
  ResumedFrame,
  StatusFrame,
  UpdateFrame,
} from "../../src/protocol/schemas.ts";
import { ME, ReaderModel } from "./reader-model.ts";

export { ME };

/** Counts for hand-written frames of the tests that do not look at them. */
export const NO_COUNTS = { lateUnread: 0, reactionsUnread: 0, unread: 0 };

export interface DeclaredView {
  first: Key | null;
  last: Key | null;
  live: boolean;
}

/** One write of a group. */
export type Action =
  | { kind: "insert"; ts: number }
  | { kind: "delete"; id: string }
  | { kind: "edit"; id: string; text: string; ts: number }
  | { kind: "react"; id: string; user: string; emoji: string; on: boolean; ts: number };

export type Push = InsertFrame | RemoveFrame | UpdateFrame | StatusFrame;

/** The group's net effect: ids inserted (still present), removed (present before), updated. */
export interface Effect {
  inserted: string[];
  removed: Key[];
  updated: string[];
}

/** Everything the model keeps about one id ever stored. */
interface Stored {
  readonly key: Key;
  readonly author: string;
  readonly text: string;
  readonly seq: number;
  readonly late: boolean;
  deletedAt?: number;
  changedAt?: number;
  edit?: { ts: number; text: string };
  /** Reaction registers, `${user} ${emoji}` → last writer. */
  readonly registers: Map<string, { on: boolean; ts: number }>;
}

function cmp(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** docs/protocol.md: inside `first`…`last` inclusive (null: open), or at/after `first` when live. */
export function inView(view: DeclaredView, key: Key): boolean {
  if (view.first && cmp(key, view.first) < 0) return false;
  if (!view.live && view.last && cmp(key, view.last) > 0) return false;
  return true;
}

export class ChannelModel {
  /** The messages present, ascending by key, as the socket's user sees them. */
  readonly list: Message[] = [];
  seq = 0;
  /** The socket's user's counts and read marker. */
  readonly reader = new ReaderModel(this.list);
  readonly #stored = new Map<string, Stored>();
  #nextId = 0;
  /** The shown state, before the group in progress, of each message then present. */
  #before: Map<string, string> | undefined;
  #inserted: string[] = [];
  /** The user's `reactionsUnread` before the last group: a change tells every socket of theirs. */
  #badgeBefore = 0;

  /** Stores a batch (ts values; ids are made here) as one group; answers its effect. */
  insert(tss: readonly number[]): Effect {
    this.begin();
    for (const ts of tss) this.act({ kind: "insert", ts });
    return this.end();
  }

  /** Starts a group of writes. */
  begin(): void {
    this.#before = new Map(this.list.map((m) => [m.id, JSON.stringify(m)]));
    this.#inserted = [];
    this.#badgeBefore = this.reader.counts().reactionsUnread;
  }

  /** One write; answers the id it touched (a new message's for an insert). */
  act(action: Action): string {
    if (action.kind === "insert") return this.#insert(action.ts);
    const s = this.#stored.get(action.id);
    // A deleted or unknown id: `deleted` / not modelled here; no arrival, no seq.
    if (!s || s.deletedAt !== undefined) return action.id;
    if (action.kind === "delete") {
      s.deletedAt = ++this.seq;
      this.list.splice(this.positionOf(action.id), 1);
      this.reader.deleted(action.id);
      return action.id;
    }
    if (action.kind === "edit") {
      // Last writer wins by ts, ties by text (greater wins); the original is no contender.
      const e = s.edit;
      if (e && (action.ts < e.ts || (action.ts === e.ts && action.text <= e.text)))
        return action.id;
      s.edit = { ts: action.ts, text: action.text };
    } else {
      // Per (message, user, emoji) last writer wins by ts, ties to on.
      const name = `${action.user} ${action.emoji}`;
      const r = s.registers.get(name);
      if (r && (action.ts < r.ts || (action.ts === r.ts && (r.on || !action.on)))) return action.id;
      s.registers.set(name, { on: action.on, ts: action.ts });
      const m = { id: action.id, author: s.author };
      this.reader.reacted(m, action.user, action.emoji, r?.on ?? false, action.on);
    }
    s.changedAt = ++this.seq;
    this.list[this.positionOf(action.id)] = this.#shown(action.id);
    return action.id;
  }

  /** Ends the group: its net effect (docs/protocol.md 1.2, "Pushes"). */
  end(): Effect {
    const before = this.#before ?? new Map<string, string>();
    this.#before = undefined;
    const present = new Map(this.list.map((m) => [m.id, m]));
    const removed: Key[] = [];
    const updated: string[] = [];
    for (const [id, shown] of before) {
      const now = present.get(id);
      if (!now) removed.push((this.#stored.get(id) as Stored).key);
      else if (JSON.stringify(now) !== shown) updated.push(id);
    }
    return { inserted: this.#inserted.filter((id) => present.has(id)), removed, updated };
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

  /** The frames a socket with `view`, the user's only one, gets for a group's effect. */
  pushes(view: DeclaredView, effect: Effect): Push[] {
    return this.deliver([view], effect)[0] ?? [];
  }

  /**
   * The frames each of the user's sockets (by its view) gets for a group's
   * effect, in order; none for no change. What they are shown is seen
   * before any `status` counts: one follows a group that inserted or
   * deleted, or changed the user's `reactionsUnread`.
   */
  deliver(views: readonly DeclaredView[], effect: Effect): Push[][] {
    const frames = views.map((view) => this.#frames(view, effect));
    for (const frame of frames.flat()) {
      if (frame.type === "insert") this.reader.shownNew(frame.messages.map((m) => m.id));
      if (frame.type === "update") this.reader.shownChanged(frame.messages.map((m) => m.id));
    }
    const counts = this.reader.counts();
    const moved = effect.inserted.length + effect.removed.length > 0;
    if (!moved && counts.reactionsUnread === this.#badgeBefore) return frames;
    const inserted = effect.inserted.map((id) => (this.#stored.get(id) as Stored).key);
    return views.map((view, k) => {
      const first = view.first;
      const before = (keys: readonly Key[]) =>
        first ? keys.filter((key) => cmp(key, first) < 0).length : 0;
      const shifted = before(inserted) - before(effect.removed);
      const status = { type: "status" as const, total: this.list.length, ...counts, shifted };
      return [...(frames[k] ?? []), { ...status, seq: this.seq }];
    });
  }

  /** The `hello` a new socket of the user gets. */
  hello(): HelloFrame {
    const newest = this.list.at(-1);
    return {
      type: "hello",
      protocol: 1,
      minor: 2,
      channel: "c",
      user: ME,
      total: this.list.length,
      ...this.reader.counts(),
      read: this.reader.marker,
      newest: newest ? { ts: newest.ts, id: newest.id } : null,
      seq: this.seq,
    };
  }

  /** The `status` the user's other sockets get when a frame changed the counts or (`read`) moved the marker. */
  crossTab(read?: Key | null): StatusFrame {
    return {
      type: "status",
      total: this.list.length,
      ...this.reader.counts(),
      ...(read === undefined ? {} : { read }),
      shifted: 0,
      seq: this.seq,
    };
  }

  /** A group's `insert`, `remove` and `update` for a socket with `view`. */
  #frames(view: DeclaredView, effect: Effect): Push[] {
    const total = this.list.length;
    const seq = this.seq;
    const positioned = (ids: readonly string[]) =>
      ids
        .map((id) => ({ ...(this.list[this.positionOf(id)] as Message) }))
        .filter((m) => inView(view, m))
        .sort(cmp)
        .map((m) => ({ ...m, position: this.positionOf(m.id) }));
    const frames: Push[] = [];
    const inserted = positioned(effect.inserted);
    if (inserted.length > 0) frames.push({ type: "insert", messages: inserted, total, seq });
    const removed = [...effect.removed].filter((k) => inView(view, k)).sort(cmp);
    if (removed.length > 0)
      frames.push({ type: "remove", ids: removed.map((k) => k.id), total, seq });
    const updated = positioned(effect.updated);
    if (updated.length > 0) frames.push({ type: "update", messages: updated, seq });
    return frames;
  }

  /**
   * The `resumed` reply for a view after `since` (incomplete when more than
   * `limit` were missed). The view's range is seen, and what it replays.
   */
  resumed(view: DeclaredView, since: number, limit: number): ResumedFrame {
    this.reader.seeRange(view.first, view.last);
    const base = { type: "resumed" as const, seq: this.seq, total: this.list.length };
    if (this.seq - since > limit || since > this.seq) {
      const counts = this.reader.counts();
      return {
        ...base,
        ...counts,
        complete: false,
        shifted: 0,
        messages: [],
        removed: [],
        updated: [],
      };
    }
    const storedOf = (m: Message) => this.#stored.get(m.id) as Stored;
    const positioned = (m: Message) => ({ ...m, position: this.positionOf(m.id) });
    const arrived = this.list.filter((m) => storedOf(m).seq > since);
    const gone = [...this.#stored.values()].filter(
      (s) => s.seq <= since && s.deletedAt !== undefined && s.deletedAt > since,
    );
    const first = view.first;
    const before = (keys: readonly Key[]) =>
      first ? keys.filter((k) => cmp(k, first) < 0).length : 0;
    const messages = arrived.filter((m) => inView(view, m)).map(positioned);
    const updated = this.list
      .filter((m) => storedOf(m).seq <= since && (storedOf(m).changedAt ?? 0) > since)
      .filter((m) => inView(view, m))
      .map(positioned);
    this.reader.shownNew(messages.map((m) => m.id));
    this.reader.shownChanged(updated.map((m) => m.id));
    return {
      ...base,
      ...this.reader.counts(),
      complete: true,
      messages,
      removed: gone.filter((s) => inView(view, s.key)).map((s) => s.key.id),
      updated,
      shifted: before(arrived) - before(gone.map((s) => s.key)),
    };
  }

  #insert(ts: number): string {
    const id = `m${(this.#nextId++).toString(36)}`;
    const newest = this.list.at(-1);
    // Late: a message with a greater key is present (deleted ones no longer count).
    const late = newest !== undefined && cmp(newest, { ts, id }) > 0;
    const key = { ts, id };
    this.#stored.set(id, {
      key,
      // Every third message is the socket's user's: others' reactions on it are unread.
      author: this.#nextId % 3 === 0 ? ME : "a",
      text: id,
      seq: ++this.seq,
      late,
      registers: new Map(),
    });
    let i = this.list.length;
    while (i > 0 && cmp(this.list[i - 1] as Message, { ts, id }) > 0) i--;
    this.list.splice(i, 0, this.#shown(id));
    this.#inserted.push(id);
    this.reader.arrived(id, late);
    return id;
  }

  /** A message as the socket's user is shown it: text or winning edit, reactions with `mine`. */
  #shown(id: string): Message {
    const s = this.#stored.get(id) as Stored;
    const users = new Map<string, string[]>();
    for (const [name, r] of s.registers) {
      if (!r.on) continue;
      const [user = "", emoji = ""] = name.split(" ");
      users.set(emoji, [...(users.get(emoji) ?? []), user]);
    }
    const reactions: Reaction[] = [...users]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([emoji, who]) => ({
        emoji,
        count: who.length,
        ...(who.includes(ME) ? { mine: true as const } : {}),
      }));
    return {
      id,
      ts: s.key.ts,
      author: s.author,
      text: s.edit?.text ?? s.text,
      seq: s.seq,
      late: s.late,
      ...(s.edit ? { edited: s.edit.ts } : {}),
      ...(reactions.length > 0 ? { reactions } : {}),
    };
  }
}
