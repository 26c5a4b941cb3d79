/**
 * Each user's place in a channel, as the model keeps it (docs/protocol.md 1.0's
 * late messages, and docs/protocol.md "Protocol 1.2: the reader's place"),
 * written from the docs alone:
 *
 * - unread late messages: those that arrived after the user's first
 *   connection and were not seen (pushed in an `insert`, inside a declared
 *   view, replayed, or `late.ack`);
 * - unread reactions: a reaction is unread for U when it is on, by someone
 *   else, on U's message, arrived after U's first connection (a held one
 *   from its own arrival) and U has not seen the message since it arrived;
 *   `reactionsUnread` counts U's messages with one, oldest unread first;
 * - the read marker: a key that only moves forward; `unread` is the number
 *   of messages after it (all of them with none).
 *
 * "Seen" is kept per message as the channel's seq when the user last saw it
 * (a push, a declared view, a replay, an ack): a reaction is unread when it
 * came on after that. Cost is no concern here: every count is recomputed
 * from the list.
 */
import { compareKeys, keyOf, partition } from "./keys.ts";
import type { Stored } from "./model.ts";
import type { Counts, Key } from "./wire.ts";

/** What the places read of the channel. */
export interface PlaceChannel {
  /** Every message present, ascending by key. */
  readonly sorted: readonly Stored[];
  readonly byId: ReadonlyMap<string, Stored>;
  /** Late messages in arrival order, deleted ones included. */
  readonly lateArrivals: readonly Stored[];
  readonly seq: number;
}

interface Place {
  /** How many late messages had arrived at the first connection. */
  readonly lateFrom: number;
  readonly lateSeen: Set<string>;
  /** The channel's seq at the first connection: reactions after it count. */
  readonly since: number;
  /** Per message id, the channel's seq when the user last saw it. */
  readonly seenAt: Map<string, number>;
  marker: Key | null;
}

/** A reaction on now: who set it, and the seq it counts from. */
interface On {
  readonly user: string;
  readonly seq: number;
}

/** The answer to `read`: the marker after it, the count, and whether it moved. */
export interface ReadOutcome {
  readonly read: Key | null;
  readonly unread: number;
  readonly moved: boolean;
}

export class Places {
  readonly #channel: PlaceChannel;
  readonly #places = new Map<string, Place>();
  /** Per message id, the reactions on now by register (user and emoji). */
  readonly #on = new Map<string, Map<string, On>>();

  constructor(channel: PlaceChannel) {
    this.#channel = channel;
  }

  /** The user's first connection starts their late and reaction counts (later ones do nothing). */
  connect(user: string): void {
    if (this.#places.has(user)) return;
    this.#places.set(user, {
      lateFrom: this.#channel.lateArrivals.length,
      lateSeen: new Set(),
      since: this.#channel.seq,
      seenAt: new Map(),
      marker: null,
    });
  }

  #place(user: string): Place {
    const p = this.#places.get(user);
    if (!p) throw new Error(`${user} never connected`);
    return p;
  }

  // ── Reactions as they change ─────────────────────────────────────────────

  /**
   * A reaction register of `id` changed by an arrival with `seq`: turned on
   * (off → on: a new reaction; set again while on: not new) or off. A held
   * reaction, applied as its message arrives, counts from its own arrival:
   * `held` makes the register's winner's seq the one it counts from.
   */
  reacted(id: string, user: string, emoji: string, on: boolean, seq: number, held = false): void {
    const registers = this.#on.get(id) ?? new Map<string, On>();
    const name = JSON.stringify([user, emoji]);
    if (!on) registers.delete(name);
    else if (held || !registers.has(name)) registers.set(name, { user, seq });
    this.#on.set(id, registers);
  }

  /** A deleted message's reactions leave every count. */
  gone(id: string): void {
    this.#on.delete(id);
  }

  // ── Seen ─────────────────────────────────────────────────────────────────

  /**
   * The user was shown these messages in an `insert`, a replay of new
   * messages or a declared view: late ones are seen, and their reactions.
   */
  see(user: string, messages: Iterable<Stored>): void {
    const p = this.#place(user);
    for (const m of messages) {
      if (m.late) p.lateSeen.add(m.id);
      p.seenAt.set(m.id, this.#channel.seq);
    }
  }

  /** The user was shown these messages in an `update` (or `resumed.updated`): their reactions are seen. */
  seeReactions(user: string, messages: Iterable<Stored>): void {
    const p = this.#place(user);
    for (const m of messages) p.seenAt.set(m.id, this.#channel.seq);
  }

  /** A declared view: every message in [first, last] (null: open) is seen. */
  seeRange(user: string, first: Key | null, last: Key | null): void {
    this.see(
      user,
      this.#channel.sorted.filter(
        (m) => (!first || compareKeys(m, first) >= 0) && (!last || compareKeys(m, last) <= 0),
      ),
    );
  }

  /** `late.ack`: every late message read. */
  lateAck(user: string): void {
    const p = this.#place(user);
    for (const m of this.#channel.lateArrivals) p.lateSeen.add(m.id);
  }

  /** `reactions.ack`: every reaction on the user's messages read (late messages stay unread). */
  reactionsAck(user: string): void {
    this.seeReactions(
      user,
      this.#channel.sorted.filter((m) => m.author === user),
    );
  }

  // ── Counts ───────────────────────────────────────────────────────────────

  /** The user's unread late messages, oldest arrival first: deleted ones leave at once. */
  unreadLate(user: string): Stored[] {
    const p = this.#place(user);
    return this.#channel.lateArrivals
      .slice(p.lateFrom)
      .filter((m) => !p.lateSeen.has(m.id) && this.#channel.byId.has(m.id));
  }

  /** Whether a message is an unread late message of the user's (a page's `unread: true`). */
  isLateUnread(user: string, m: Stored): boolean {
    if (!m.late || !this.#channel.byId.has(m.id)) return false;
    const p = this.#place(user);
    return this.#channel.lateArrivals.indexOf(m) >= p.lateFrom && !p.lateSeen.has(m.id);
  }

  /** The seq of the oldest unread reaction on `m` for its author, or undefined. */
  #oldestUnread(m: Stored): number | undefined {
    const p = this.#places.get(m.author);
    if (!p) return undefined;
    const seen = Math.max(p.since, p.seenAt.get(m.id) ?? 0);
    let oldest: number | undefined;
    for (const { user, seq } of this.#on.get(m.id)?.values() ?? []) {
      if (user !== m.author && seq > seen && (oldest === undefined || seq < oldest)) oldest = seq;
    }
    return oldest;
  }

  /** The user's messages with an unread reaction, the one whose oldest unread reaction arrived first first. */
  unreadReactions(user: string): Stored[] {
    this.#place(user);
    return this.#channel.sorted
      .flatMap((m) => {
        const oldest = m.author === user ? this.#oldestUnread(m) : undefined;
        return oldest === undefined ? [] : [{ m, oldest }];
      })
      .sort((a, b) => a.oldest - b.oldest)
      .map(({ m }) => m);
  }

  // ── The read marker ──────────────────────────────────────────────────────

  /** The user's read marker (none for a user who never connected: HTTP may ask for anyone). */
  marker(user: string): Key | null {
    return this.#places.get(user)?.marker ?? null;
  }

  /** How many messages are at or before the user's marker (none without one). */
  readThrough(user: string): number {
    const marker = this.marker(user);
    if (marker === null) return 0;
    const { sorted } = this.#channel;
    return partition(sorted.length, (i) => compareKeys(sorted[i] as Stored, marker) > 0);
  }

  /** `read`: moves the marker to the message `id` when that is after it; an unknown id is not found. */
  read(user: string, id: string): ReadOutcome | "not_found" {
    const m = this.#channel.byId.get(id);
    if (!m) return "not_found";
    const p = this.#place(user);
    const moved = p.marker === null || compareKeys(m, p.marker) > 0;
    if (moved) p.marker = keyOf(m);
    return { read: p.marker, unread: this.counts(user).unread, moved };
  }

  /** The counts frames carry for the user. */
  counts(user: string): Counts {
    return {
      lateUnread: this.unreadLate(user).length,
      reactionsUnread: this.unreadReactions(user).length,
      unread: this.#channel.sorted.length - this.readThrough(user),
    };
  }
}
