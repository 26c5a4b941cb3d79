/**
 * A window on a channel: the contiguous run of messages a frontend holds, at
 * exact absolute positions, kept current by the server's frames. Pure: no DOM,
 * no socket. Feed it what the server says (pages, `insert`, `status`,
 * `resumed`) and render from it; {@link ChannelWindow} does the feeding.
 *
 * Exactness rests on the protocol's `seq` watermark: every frame says which
 * arrivals it already includes, so a push the window already holds (an
 * `insert` and the `status` of the same batch, or a push older than a page) is
 * never applied twice.
 */
import { compareKeys } from "../core/key.ts";
import type { InsertFrame, Key, Message, ResumedFrame, StatusFrame } from "../protocol/schemas.ts";

/** What the window needs of a page: the page body of HTTP or a `page` frame. */
export interface PageLike {
  readonly messages: readonly Message[];
  readonly start: number;
  readonly total: number;
  readonly seq: number;
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
  /** Following the bottom: new bottom arrivals are appended. */
  readonly live: boolean;
  /** The channel's `seq` as of the last frame applied. */
  readonly seq: number;
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

export class MessageWindow {
  #start = 0;
  #messages: Message[] = [];
  #total = 0;
  #lateUnread = 0;
  #live = false;
  #seq = 0;
  #firstItemIndex = FIRST_ITEM_INDEX;
  /** Set between a page that replaced the window and the `resumed` that declared it. */
  #frozen = false;
  /**
   * The batch whose `insert` was applied and whose `status` is still due:
   * `extra` is how many of it landed above the window but inside the declared
   * view (not in `shifted`); null when the insert re-anchored the window.
   */
  #due: { seq: number; extra: number | null } | undefined;

  get start(): number {
    return this.#start;
  }
  /** Position just after the last message held. */
  get end(): number {
    return this.#start + this.#messages.length;
  }
  get messages(): readonly Message[] {
    return this.#messages;
  }
  get total(): number {
    return this.#total;
  }
  get lateUnread(): number {
    return this.#lateUnread;
  }
  get live(): boolean {
    return this.#live;
  }
  get seq(): number {
    return this.#seq;
  }
  /** True between {@link freeze} and the next {@link applyResumed}: pushes are ignored. */
  get frozen(): boolean {
    return this.#frozen;
  }
  /** react-virtuoso's `firstItemIndex`: decreases by what is prepended, grows by what is trimmed at the top. */
  get firstItemIndex(): number {
    return this.#firstItemIndex;
  }

  /** Is the message at position `p` held? */
  has(position: number): boolean {
    return position >= this.#start && position < this.end;
  }
  /** The message at position `p`, if held. */
  at(position: number): Message | undefined {
    return this.#messages[position - this.#start];
  }
  /** Index of a message id in `messages`, or −1. */
  indexOf(id: string): number {
    return this.#messages.findIndex((m) => m.id === id);
  }
  /** Position of a held message id, or undefined. */
  positionOf(id: string): number | undefined {
    const i = this.indexOf(id);
    return i < 0 ? undefined : this.#start + i;
  }
  /** A stable key for the item at position `p`: the message id when held (ids are unique), else `#p`. */
  keyAt(position: number): string {
    return this.at(position)?.id ?? `#${position}`;
  }
  /** The view to declare for what is held (`view` / `resume`). */
  view(): { first: Key | null; last: Key | null; live: boolean } {
    const first = this.#messages[0];
    const last = this.#messages.at(-1);
    return {
      first: first ? { ts: first.ts, id: first.id } : null,
      last: last && !this.#live ? { ts: last.ts, id: last.id } : null,
      live: this.#live,
    };
  }
  /** A plain copy of the state. */
  snapshot(): WindowState {
    return {
      start: this.#start,
      messages: [...this.#messages],
      total: this.#total,
      lateUnread: this.#lateUnread,
      live: this.#live,
      seq: this.#seq,
    };
  }

  /**
   * A jump: the window becomes `page` (live: following the bottom; the page
   * must then end there). It takes pushes after the page's `seq` at once:
   * freeze it again when its view is yet to be declared.
   */
  replace(page: PageLike, options: { live?: boolean; lateUnread?: number } = {}): this {
    this.#frozen = false;
    this.#start = page.start;
    this.#messages = page.messages.map(strip);
    this.#total = page.total;
    this.#seq = page.seq;
    this.#live = options.live ?? false;
    if (options.lateUnread !== undefined) this.#lateUnread = options.lateUnread;
    this.#firstItemIndex = FIRST_ITEM_INDEX;
    this.#due = undefined;
    return this;
  }

  /**
   * Grows the window by a page that overlaps or touches it and was read at the
   * same `seq` (so both count positions alike). False, and nothing changed,
   * when it does not fit: replace instead.
   */
  merge(page: PageLike): boolean {
    if (page.seq !== this.#seq || this.#frozen) return false;
    if (page.messages.length === 0) return page.total === this.#total;
    const pageEnd = page.start + page.messages.length;
    if (page.start > this.end || pageEnd < this.#start) return false;
    for (let p = Math.max(page.start, this.#start); p < Math.min(pageEnd, this.end); p++) {
      if (page.messages[p - page.start]?.id !== this.at(p)?.id) return false;
    }
    const above = page.messages.slice(0, Math.max(0, this.#start - page.start)).map(strip);
    const below = page.messages.slice(Math.max(0, this.end - page.start)).map(strip);
    this.#messages = [...above, ...this.#messages, ...below];
    this.#start -= above.length;
    this.#firstItemIndex -= above.length;
    this.#total = page.total;
    return true;
  }

  /** Ignores pushes until the `resumed` that declares the new view (see {@link ChannelWindow}). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Takes the user's badge from a reply that carries it (a `view` or `late.ack` reply). */
  setLateUnread(lateUnread: number): void {
    this.#lateUnread = lateUnread;
  }

  /** Sets whether the window follows the bottom (declare the view afterwards). */
  setLive(live: boolean): void {
    this.#live = live;
  }

  /** Applies an `insert` push; false when it was ignored (stale or frozen). */
  applyInsert(frame: InsertFrame): boolean {
    if (this.#frozen || frame.seq <= this.#seq) return false;
    const { anchored, above } = this.#mergeArrivals(frame.messages);
    this.#total = frame.total;
    this.#seq = frame.seq;
    this.#due = { seq: frame.seq, extra: anchored ? null : above };
    return true;
  }

  /** Applies a `status` push; the badge always, the rest unless the window already has it. */
  applyStatus(frame: StatusFrame): boolean {
    this.#lateUnread = frame.lateUnread;
    if (this.#frozen) return false;
    const due = this.#due;
    if (due && due.seq === frame.seq) {
      // The insert of this batch came first: its positions already placed the window.
      if (due.extra !== null) this.#start += frame.shifted + due.extra;
      this.#due = undefined;
    } else if (frame.seq > this.#seq) {
      this.#start += frame.shifted;
      this.#due = undefined;
    } else return false;
    this.#total = frame.total;
    this.#seq = frame.seq;
    if (this.#live && this.#messages.length === 0) this.#start = this.#total;
    return true;
  }

  /**
   * Applies a `resumed` reply to the window as it was at the reply's `since`
   * (the window's `seq`); unfreezes. Incomplete: nothing but the badge and
   * total changes, and the caller pages again around the anchor returned.
   */
  applyResumed(frame: Omit<ResumedFrame, "type" | "rid">): ResumeOutcome {
    this.#frozen = false;
    this.#due = undefined;
    this.#lateUnread = frame.lateUnread;
    if (!frame.complete) {
      const first = this.#messages[0];
      return { complete: false, anchor: first && !this.#live ? { id: first.id } : "newest" };
    }
    const { anchored, above } = this.#mergeArrivals(frame.messages);
    if (!anchored) this.#start += frame.shifted + above;
    this.#total = frame.total;
    this.#seq = Math.max(this.#seq, frame.seq);
    if (this.#live && this.#messages.length === 0) this.#start = this.#total;
    return { complete: true };
  }

  /**
   * Keeps at most `max` messages, dropping the side away from the reader: the
   * top when live, else the side farther from position `reader` (default: the
   * middle). Answers how many were dropped above.
   */
  trim(max: number, reader?: number): number {
    const n = this.#messages.length;
    if (n <= max) return 0;
    const centre = reader ?? this.#start + Math.floor(n / 2);
    // The slice is chosen first; `start` moves by exactly what it cuts above.
    const from = this.#live
      ? n - max
      : Math.min(Math.max(0, centre - this.#start - Math.floor(max / 2)), n - max);
    this.#messages = this.#messages.slice(from, from + max);
    this.#start += from;
    this.#firstItemIndex += from;
    return from;
  }

  /**
   * Merges pushed arrivals (each with its current `position`) into the held
   * run: those between the first and last held keys, and after the last when
   * live. Answers whether one of them re-anchored `start`, and how many lay
   * above the first held key (they moved the window but are not held).
   */
  #mergeArrivals(arrivals: readonly Message[]): { anchored: boolean; above: number } {
    const sorted = [...arrivals].sort(compareKeys);
    const held = this.#messages;
    const first = held[0];
    const last = held.at(-1);
    const ids = new Set(held.map((m) => m.id));
    let above = 0;
    const taken: Message[] = [];
    for (const m of sorted) {
      if (ids.has(m.id)) continue;
      if (first && compareKeys(m, first) < 0) above++;
      else if (belongs(m, last, this.#live)) taken.push(m);
    }
    if (taken.length === 0) return { anchored: false, above };
    const merged = [...held, ...taken].sort(compareKeys);
    const anchor = taken.find((m) => m.position !== undefined);
    if (anchor) this.#start = (anchor.position as number) - merged.indexOf(anchor);
    this.#messages = merged.map(strip);
    return { anchored: anchor !== undefined, above };
  }
}

/** An arrival at or below the first held key: held when it is before the last, or when live. */
function belongs(m: Key, last: Key | undefined, live: boolean): boolean {
  return last ? live || compareKeys(m, last) <= 0 : live;
}

/** A held message without its push-time `position`, which goes stale as the channel grows. */
function strip(m: Message): Message {
  if (m.position === undefined) return m;
  const { position: _position, ...rest } = m;
  return rest;
}
