/**
 * A channel under protocol 1.2's changes, written from docs/protocol.md alone, for
 * tests that compare a whole channel after messages and changes arrive mixed
 * (the simulator's ticks): every arrival takes the next seq (a message, or a
 * change that is `applied` or `pending`); a change for a message not stored
 * yet is held and settled when it arrives; a delete leaves a tombstone that
 * wins over everything; edits and reactions are last-writer-wins registers.
 * `late` is decided at arrival against the messages present then.
 */
import { compareKeys } from "./keys.ts";
import type { Draft, WireMessage } from "./wire.ts";

/** A change as docs/protocol.md 1.2 writes it. */
export type ModelChange =
  | { kind: "edit"; id: string; text: string; ts: number }
  | { kind: "delete"; id: string }
  | { kind: "react"; id: string; emoji: string; on: boolean; ts: number };

export type ModelOutcome = "applied" | "pending" | "stale" | "deleted";

/** A message as 1.2 shows it: the edit's ts, and its reactions counted by emoji. */
export interface ChangedMessage extends WireMessage {
  edited?: number;
  reactions?: { emoji: string; count: number }[];
}

interface Entry {
  readonly draft: Draft;
  readonly seq: number;
  readonly late: boolean;
  edit: { ts: number; text: string } | null;
  /** (user, emoji) → the register's winning stamp. */
  readonly registers: Map<string, { emoji: string; ts: number; on: boolean }>;
}

interface Held {
  readonly user: string;
  readonly change: ModelChange;
  /** Two held changes with the same key are one change delivered twice. */
  readonly key: string;
}

/** An edit wins by ts, ties by text in code-unit order. */
const editWins = (a: { ts: number; text: string }, b: { ts: number; text: string } | null) =>
  b === null || a.ts > b.ts || (a.ts === b.ts && a.text > b.text);
/** A reaction register wins by ts, ties to on. */
const stampWins = (a: { ts: number; on: boolean }, b: { ts: number; on: boolean } | undefined) =>
  b === undefined || a.ts > b.ts || (a.ts === b.ts && a.on && !b.on);

export class ChangingChannel {
  seq = 0;
  readonly #present = new Map<string, Entry>();
  readonly #tombstones = new Set<string>();
  readonly #held = new Map<string, Held[]>();

  get total(): number {
    return this.#present.size;
  }

  /** Stores messages in order: a known id (or a tombstone's) is a duplicate. Answers how many were stored and late. */
  insert(drafts: readonly Draft[]): { inserted: number; late: number } {
    let inserted = 0;
    let late = 0;
    for (const draft of drafts) {
      if (this.#present.has(draft.id) || this.#tombstones.has(draft.id)) continue;
      const seq = ++this.seq;
      const held = this.#held.get(draft.id) ?? [];
      this.#held.delete(draft.id);
      // Only the author's edits and deletes count (the simulator's users are no moderators).
      const allowed = held.filter((h) => h.change.kind === "react" || h.user === draft.author);
      if (allowed.some((h) => h.change.kind === "delete")) {
        this.#tombstones.add(draft.id);
        continue;
      }
      const isLate = [...this.#present.values()].some((e) => compareKeys(e.draft, draft) > 0);
      const entry: Entry = { draft, seq, late: isLate, edit: null, registers: new Map() };
      for (const h of allowed) this.#apply(entry, h.user, h.change);
      this.#present.set(draft.id, entry);
      inserted++;
      if (isLate) late++;
    }
    return { inserted, late };
  }

  /** A frame of changes by `user`, in order: each one's outcome. */
  change(user: string, changes: readonly ModelChange[]): ModelOutcome[] {
    return changes.map((change) => {
      if (this.#tombstones.has(change.id)) return "deleted";
      const entry = this.#present.get(change.id);
      if (entry === undefined) {
        const key = JSON.stringify([user, change]);
        const held = this.#held.get(change.id) ?? [];
        if (held.some((h) => h.key === key)) return "stale";
        held.push({ user, change, key });
        this.#held.set(change.id, held);
        this.seq++;
        return "pending";
      }
      if (change.kind === "delete") {
        this.#present.delete(change.id);
        this.#tombstones.add(change.id);
        this.seq++;
        return "applied";
      }
      if (!this.#apply(entry, user, change)) return "stale";
      this.seq++;
      return "applied";
    });
  }

  /** Applies an edit or a reaction to a present message; false when it loses to what is there. */
  #apply(entry: Entry, user: string, change: ModelChange): boolean {
    if (change.kind === "edit") {
      if (!editWins(change, entry.edit)) return false;
      entry.edit = { ts: change.ts, text: change.text };
      return true;
    }
    if (change.kind === "react") {
      const name = JSON.stringify([user, change.emoji]);
      if (!stampWins(change, entry.registers.get(name))) return false;
      entry.registers.set(name, { emoji: change.emoji, ts: change.ts, on: change.on });
      return true;
    }
    return false;
  }

  /** Every message present, ascending by key, as a page over HTTP shows it. */
  list(): ChangedMessage[] {
    return [...this.#present.values()]
      .sort((a, b) => compareKeys(a.draft, b.draft))
      .map((e) => {
        const { id, ts, author } = e.draft;
        const m: ChangedMessage = {
          id,
          ts,
          author,
          text: e.edit?.text ?? e.draft.text,
          seq: e.seq,
          late: e.late,
        };
        if (e.edit) m.edited = e.edit.ts;
        const counts = new Map<string, number>();
        for (const r of e.registers.values()) {
          if (r.on) counts.set(r.emoji, (counts.get(r.emoji) ?? 0) + 1);
        }
        if (counts.size > 0) {
          m.reactions = [...counts]
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([emoji, count]) => ({ emoji, count }));
        }
        return m;
      });
  }
}
