/**
 * The reader's place of the socket's user (ME) as the server keeps it, for
 * the window tests, written from docs/protocol.md 1.2 ("Unread reactions", "The
 * read marker"): the late messages ME has not seen, the reactions by others
 * on ME's messages that ME has not seen (per register: a reaction cleared
 * before it was seen is no longer unread; one set again while on is not
 * new), and the read marker. The channel model (window-model.ts) tells it
 * what each write did and what each of ME's sockets was shown; it answers
 * the three counts and the first unread message. ME connects before the
 * first message, so every arrival counts. Imports nothing from src/ but types.
 */
import type { Key, Message } from "../../src/protocol/schemas.ts";

/** The socket's user: its reactions carry `mine`, its messages' reactions by others are unread. */
export const ME = "me";

export interface Counts {
  lateUnread: number;
  reactionsUnread: number;
  unread: number;
}

function cmp(a: Key, b: Key): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class ReaderModel {
  /** The key of the newest message ME has read; null: none. */
  marker: Key | null = null;
  /** The channel's messages present, ascending by key (the channel model's own array). */
  readonly #list: readonly Message[];
  /** Late messages ME has not seen. */
  readonly #late = new Set<string>();
  /** ME's messages → the registers (`user emoji`) set on them by others that ME has not seen. */
  readonly #reactions = new Map<string, Set<string>>();

  constructor(list: readonly Message[]) {
    this.#list = list;
  }

  arrived(id: string, late: boolean): void {
    if (late) this.#late.add(id);
  }

  /** A reaction register of `user` on message `m` went from `was` to `on`. */
  reacted(
    m: { id: string; author: string },
    user: string,
    emoji: string,
    was: boolean,
    on: boolean,
  ) {
    if (m.author !== ME || user === ME || was === on) return;
    const registers = this.#reactions.get(m.id) ?? new Set<string>();
    if (on) registers.add(`${user} ${emoji}`);
    else registers.delete(`${user} ${emoji}`);
    if (registers.size > 0) this.#reactions.set(m.id, registers);
    else this.#reactions.delete(m.id);
  }

  deleted(id: string): void {
    this.#late.delete(id);
    this.#reactions.delete(id);
  }

  /** Messages pushed to one of ME's sockets in an `insert` (or replayed as arrived): seen, with their reactions. */
  shownNew(ids: Iterable<string>): void {
    for (const id of ids) this.deleted(id);
  }

  /** Messages pushed in an `update` (or replayed as updated): their reactions are seen. */
  shownChanged(ids: Iterable<string>): void {
    for (const id of ids) this.#reactions.delete(id);
  }

  /** A view ME declared (`view`, `resume`): what lies in `first`…`last` (null: open) is seen. */
  seeRange(first: Key | null, last: Key | null): void {
    const inside = this.#list.filter(
      (m) => (!first || cmp(m, first) >= 0) && (!last || cmp(m, last) <= 0),
    );
    this.shownNew(inside.map((m) => m.id));
  }

  ackLate(): void {
    this.#late.clear();
  }

  ackReactions(): void {
    this.#reactions.clear();
  }

  /** `read` of `key`: the marker moves when `key` is after it; answers whether it moved. */
  read(key: Key): boolean {
    if (this.marker && cmp(key, this.marker) <= 0) return false;
    this.marker = { ts: key.ts, id: key.id };
    return true;
  }

  counts(): Counts {
    const first = this.firstUnread();
    return {
      lateUnread: this.#late.size,
      reactionsUnread: this.#reactions.size,
      unread: first === null ? 0 : this.#list.length - first,
    };
  }

  /** The position of the first message after the marker (the first of all without one); null: none. */
  firstUnread(): number | null {
    const marker = this.marker;
    const i = marker ? this.#list.findIndex((m) => cmp(m, marker) > 0) : 0;
    return i < 0 || i >= this.#list.length ? null : i;
  }
}
