/**
 * The window model's types and its pure row helpers: what a page must
 * provide, a plain copy of the state, and the small operations on a sorted
 * run of messages that {@link MessageWindow} is made of.
 */
import { compareKeys } from "../core/key.ts";
import type { Key, Message } from "../protocol/schemas.ts";

/** What the window needs of a page: the page body of HTTP or a `page` frame. */
export interface PageLike {
  readonly messages: readonly Message[];
  readonly start: number;
  readonly total: number;
  readonly seq: number;
  /** Where the page's anchor is: the reader's row after a jump (default: the first row). */
  readonly anchorIndex?: number | undefined;
}

/**
 * What a virtual list asks of a window's rows, by absolute position: is it
 * held, its message, a stable key, where an id is. A window provides
 * `start` and `messages`.
 */
export abstract class HeldRows {
  /** Position of `messages[0]`. */
  abstract get start(): number;
  abstract get messages(): readonly Message[];
  /** Position just after the last message held. */
  get end(): number {
    return this.start + this.messages.length;
  }
  /** Is the message at position `p` held? */
  has(position: number): boolean {
    return position >= this.start && position < this.end;
  }
  /** The message at position `p`, if held. */
  at(position: number): Message | undefined {
    return this.messages[position - this.start];
  }
  /** Index of a message id in `messages`, or −1. */
  indexOf(id: string): number {
    return this.messages.findIndex((m) => m.id === id);
  }
  /** Position of a held message id, or undefined. */
  positionOf(id: string): number | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.start + i;
  }
  /** A stable key for the item at position `p`: the message id when held (ids are unique), else `#p`. */
  keyAt(position: number): string {
    return this.at(position)?.id ?? `#${position}`;
  }
}

/** A plain copy of the window's state. */
export interface WindowState {
  /** Position of `messages[0]`. */
  readonly start: number;
  readonly messages: readonly Message[];
  /** Messages in the channel. */
  readonly total: number;
  /** The user's unread late messages (the badge). */
  readonly lateUnread: number;
  /** Protocol 1.2: the user's messages with unread reactions. */
  readonly reactionsUnread: number;
  /** Protocol 1.2: messages after the user's read marker. */
  readonly unread: number;
  /** Protocol 1.2: the user's read marker (null: none). */
  readonly read: Key | null;
  /** Following the bottom: new bottom arrivals are appended. */
  readonly live: boolean;
  /** The channel's `seq` as of the last frame applied. */
  readonly seq: number;
}

/** A view as `view` and `resume` declare it. */
export interface DeclaredView {
  readonly first: Key | null;
  readonly last: Key | null;
  readonly live: boolean;
}

/** What {@link MessageWindow.applyResumed} found. */
export type ResumeOutcome =
  | { readonly complete: true }
  /** Too much was missed: page again around `anchor` (the first message held, or the newest). */
  | { readonly complete: false; readonly anchor: { id: string } | "newest" };

/**
 * react-virtuoso's `firstItemIndex` of a fresh window. Virtuoso keeps the
 * reader's place when it DEcreases by the number of items prepended, so it
 * starts high and must stay positive.
 */
export const FIRST_ITEM_INDEX = 1_000_000_000;

/** A key alone (a message's `ts` and `id`). */
export function keyOf(m: Key): Key {
  return { ts: m.ts, id: m.id };
}

/** An arrival at or below the first held key: held when it is before the last, or when live. */
export function belongs(m: Key, last: Key | undefined, live: boolean): boolean {
  return last ? live || compareKeys(m, last) <= 0 : live;
}

/** A held message without its push-time `position`, which goes stale as the channel changes. */
export function strip(m: Message): Message {
  if (m.position === undefined) return m;
  const { position: _position, ...rest } = m;
  return rest;
}

/**
 * How many of `rows` (any order) sort before the reader's row, the held row
 * at `readerIndex` (clamped to the run; a reader above the run has none).
 */
export function countBefore(
  rows: readonly Key[],
  held: readonly Key[],
  readerIndex: number,
): number {
  if (readerIndex < 0 || held.length === 0) return 0;
  const row = held[Math.min(readerIndex, held.length - 1)] as Key;
  return rows.filter((m) => compareKeys(m, row) < 0).length;
}
