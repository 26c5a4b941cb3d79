/**
 * An independent model of a channel as the server keeps it, for the window
 * tests: a sorted array of the messages present (position = index), a seq
 * counter, protocol 1.2's changes (edits, deletes, reactions) by their
 * rules, and the frames PROTOCOL.md says a socket with a declared view gets
 * after a group (`insert`, `remove`, `update`, `status`: the group's net
 * effect) and in a `resumed` reply. Written from the protocol; imports
 * nothing from src/ but types.
 */
import type {
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

/** The reader counts a push carries; this model tracks none of them. */
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

/** The socket's user: its reactions carry `mine`. */
export const ME = "me";

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

/** PROTOCOL.md: inside `first`…`last` inclusive (null: open), or at/after `first` when live. */
export function inView(view: DeclaredView, key: Key): boolean {
  if (view.first && cmp(key, view.first) < 0) return false;
  if (!view.live && view.last && cmp(key, view.last) > 0) return false;
  return true;
}

export class ChannelModel {
  /** The messages present, ascending by key, as the socket's user sees them. */
  readonly list: Message[] = [];
  seq = 0;
  readonly #stored = new Map<string, Stored>();
  #nextId = 0;
  /** The shown state, before the group in progress, of each message then present. */
  #before: Map<string, string> | undefined;
  #inserted: string[] = [];

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
    }
    s.changedAt = ++this.seq;
    this.list[this.positionOf(action.id)] = this.#shown(action.id);
    return action.id;
  }

  /** Ends the group: its net effect (PROTOCOL.md 1.2, "Pushes"). */
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

  /** The frames a socket with `view` gets for a group's effect, in order; none for no change. */
  pushes(view: DeclaredView, effect: Effect): Push[] {
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
    if (effect.inserted.length + effect.removed.length > 0) {
      const first = view.first;
      const before = (keys: readonly Key[]) =>
        first ? keys.filter((k) => cmp(k, first) < 0).length : 0;
      const insertedKeys = effect.inserted.map((id) => (this.#stored.get(id) as Stored).key);
      const shifted = before(insertedKeys) - before(effect.removed);
      frames.push({ type: "status", total, ...NO_COUNTS, shifted, seq });
    }
    return frames;
  }

  /** The `resumed` reply for a view after `since` (incomplete when more than `limit` were missed). */
  resumed(view: DeclaredView, since: number, limit: number): ResumedFrame {
    const base = {
      type: "resumed" as const,
      seq: this.seq,
      total: this.list.length,
      ...NO_COUNTS,
    };
    if (this.seq - since > limit || since > this.seq) {
      return { ...base, complete: false, shifted: 0, messages: [], removed: [], updated: [] };
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
    return {
      ...base,
      complete: true,
      messages: arrived.filter((m) => inView(view, m)).map(positioned),
      removed: gone.filter((s) => inView(view, s.key)).map((s) => s.key.id),
      updated: this.list
        .filter((m) => storedOf(m).seq <= since && (storedOf(m).changedAt ?? 0) > since)
        .filter((m) => inView(view, m))
        .map(positioned),
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
      author: "a",
      text: id,
      seq: ++this.seq,
      late,
      registers: new Map(),
    });
    let i = this.list.length;
    while (i > 0 && cmp(this.list[i - 1] as Message, { ts, id }) > 0) i--;
    this.list.splice(i, 0, this.#shown(id));
    this.#inserted.push(id);
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
