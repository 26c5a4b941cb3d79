/**
 * A window on a channel: the contiguous run of messages a frontend holds, at
 * exact absolute positions, kept current by the server's frames, and the
 * reader's place (protocol 1.2: the counts, the read marker, the first
 * unread message). Pure: no DOM, no socket. Feed it what the server says
 * (pages, `hello`, `insert`, `remove`, `update`, `status`, `resumed`, the
 * `read` and `view` replies) and render from it; {@link ChannelWindow} does
 * the feeding. Which frames apply is {@link GroupGate}'s; the rows and how
 * each frame moves them are {@link HeldRun}'s; the counts and the marker
 * {@link ReaderPlace}'s.
 */
import type {
  HelloFrame,
  InsertFrame,
  Key,
  Message,
  RemoveFrame,
  ResumedFrame,
  StatusFrame,
  UpdateFrame,
} from "../protocol/schemas.ts";
import { GroupGate } from "./group-gate.ts";
import { HeldRun } from "./held-run.ts";
import { ReaderPlace } from "./reader-place.ts";
import type { Counts } from "./types.ts";
import {
  type DeclaredView,
  HeldRows,
  type PageLike,
  type ResumeOutcome,
  type WindowState,
} from "./window-rows.ts";

export class MessageWindow extends HeldRows {
  readonly #run = new HeldRun();
  readonly #gate = new GroupGate();
  readonly #place = new ReaderPlace();
  #total = 0;
  #live = false;
  /** A page has placed the window: from then on `total` is the window's own, not a greeting's. */
  #placed = false;
  /** The first key of the view last declared (undefined: none declared by this window). */
  #declaredFirst: Key | null | undefined;

  get start(): number {
    return this.#run.start;
  }
  get messages(): readonly Message[] {
    return this.#run.rows;
  }
  get total(): number {
    return this.#total;
  }
  /** The user's unread late messages (the late badge). */
  get lateUnread(): number {
    return this.#place.lateUnread;
  }
  /** Protocol 1.2: the user's messages with unread reactions (the reactions badge). */
  get reactionsUnread(): number {
    return this.#place.reactionsUnread;
  }
  /** Protocol 1.2: messages after the user's read marker (all of them when there is none). */
  get unread(): number {
    return this.#place.unread(this.#total);
  }
  /** Protocol 1.2: the user's read marker, the key of the newest message read (null: none). */
  get read(): Key | null {
    return this.#place.read;
  }
  /** Protocol 1.2: the position of the first unread message (the "new messages" line), null when none. */
  get firstUnread(): number | null {
    return this.#place.firstUnread(this.#total);
  }
  get live(): boolean {
    return this.#live;
  }
  /** The channel's seq as of the last frame applied. */
  get seq(): number {
    return this.#gate.seq;
  }
  /** What a reconnect resumes from: every group up to it applied whole (see the client's `Watermark`). */
  get resumeFrom(): number {
    return this.#gate.resumeFrom;
  }
  /** True between {@link freeze} or {@link declare} and the next {@link applyResumed}: new groups are ignored. */
  get frozen(): boolean {
    return this.#gate.frozen;
  }
  /** react-virtuoso's `firstItemIndex`: the reader's row keeps its item index (see {@link HeldRun}). */
  get firstItemIndex(): number {
    return this.#run.firstItemIndex;
  }
  /** The reader's position: the one last given to {@link setReader}, following its row. */
  get reader(): number {
    return this.#run.reader;
  }
  /** Rows of the declared view above the held run that the window remembers (a declaration forgets them). */
  get hiddenAbove(): number {
    return this.#run.hidden;
  }

  /** The view that holds exactly what is held (an empty window keeps its place by its last first key). */
  view(): DeclaredView {
    return this.#run.view(this.#live);
  }
  /**
   * The view to declare now, by `resume { since: seq }`: freezes the window
   * until the reply. Frames of the group in progress still apply (they were
   * pushed before the reply and are not in it); newer groups wait for it.
   */
  declare(): DeclaredView {
    this.#gate.declared();
    const view = this.view();
    this.#declaredFirst = view.first;
    return view;
  }
  /** A plain copy of the state. */
  snapshot(): WindowState {
    return {
      start: this.start,
      messages: [...this.messages],
      total: this.#total,
      lateUnread: this.lateUnread,
      reactionsUnread: this.reactionsUnread,
      unread: this.unread,
      read: this.read,
      live: this.#live,
      seq: this.seq,
    };
  }

  /**
   * A jump: the window becomes `page` (live: following the bottom; the page
   * must then end there), the reader on its anchor unless given. It takes
   * pushes after the page's `seq` at once: freeze it, or declare, when its
   * view is yet to be declared.
   */
  replace(
    page: PageLike,
    options: { live?: boolean; counts?: Partial<Counts>; reader?: number } = {},
  ): this {
    this.#gate.paged(page.seq, false);
    this.#run.reset(
      page.messages,
      page.start,
      options.reader ?? page.start + (page.anchorIndex ?? 0),
    );
    this.#total = page.total;
    this.#placed = true;
    this.#live = options.live ?? false;
    if (options.counts) this.#place.take(options.counts, page.total);
    return this;
  }

  /**
   * Grows the window by a page that overlaps or touches it, read over the
   * same socket at or after the window's `seq`: every group up to the page's
   * seq that concerned the view was pushed before the page, and any other
   * (edits and reactions outside the view) moved no position,
   * so both count positions alike. Then it holds more than its view: frozen
   * until declared. False, and nothing changed, when it does not fit.
   */
  merge(page: PageLike): boolean {
    if (page.seq < this.seq || this.frozen) return false;
    if (page.messages.length === 0) return page.total === this.#total;
    const pageEnd = page.start + page.messages.length;
    if (page.start > this.end || pageEnd < this.start) return false;
    for (let p = Math.max(page.start, this.start); p < Math.min(pageEnd, this.end); p++) {
      if (page.messages[p - page.start]?.id !== this.at(p)?.id) return false;
    }
    const above = page.messages.slice(0, Math.max(0, this.start - page.start));
    const below = page.messages.slice(Math.max(0, this.end - page.start));
    this.#run.grow(above, below);
    this.#total = page.total;
    this.#gate.paged(page.seq, above.length + below.length > 0);
    return true;
  }

  /** Ignores new groups until the `resumed` that declares the new view (see {@link ChannelWindow}). */
  freeze(): void {
    this.#gate.frozen = true;
  }

  /**
   * Takes what a reply without a total tells of the reader's place: the
   * `read` reply (the marker, `unread`), the `view` reply to `view`,
   * `late.ack` and `reactions.ack` (the counts). `unread` is measured
   * against the window's `total`.
   */
  applyCounts(reply: Partial<Counts> & { read?: Key | null }): void {
    this.#place.take(reply, this.#total);
  }

  /**
   * Takes a `hello`: the marker and the badges; before any page also the
   * total and `unread` (after a reconnect the `resumed` that follows brings
   * them, counted with the rows).
   */
  applyHello(hello: HelloFrame): void {
    const { read, lateUnread, reactionsUnread } = hello;
    this.#place.take({ read, lateUnread, reactionsUnread }, 0);
    if (this.#placed) return;
    this.#total = hello.total;
    this.#place.take(hello, hello.total);
  }

  /** Sets whether the window follows the bottom (declare the view afterwards). */
  setLive(live: boolean): void {
    this.#live = live;
  }

  /** Puts the reader on the row at `position` (what is at the top of the screen). */
  setReader(position: number): void {
    this.#run.setReader(position);
  }

  /** Applies an `insert` push; false when it was ignored (stale or frozen). */
  applyInsert(frame: InsertFrame): boolean {
    if (!this.#gate.accept(frame.seq)) return false;
    this.#run.take(frame.messages, this.#live);
    this.#place.arrived(frame.messages);
    this.#total = frame.total;
    return true;
  }

  /** Applies a `remove` push (protocol 1.2): drops held ids; one above the run moves `start` up. */
  applyRemove(frame: RemoveFrame): boolean {
    if (!this.#gate.accept(frame.seq)) return false;
    this.#place.removed(this.#run.drop(frame.ids));
    this.#total = frame.total;
    return true;
  }

  /** Applies an `update` push (protocol 1.2): held messages replaced by id; nothing moves. */
  applyUpdate(frame: UpdateFrame): boolean {
    if (!this.#gate.accept(frame.seq)) return false;
    this.#run.update(frame.messages);
    return true;
  }

  /**
   * Applies a `status` push: the counts (and a marker) always, the rest
   * unless the window already has it. One with `read` (another tab's `read`
   * moved the marker) closes no group: it moved nothing else.
   */
  applyStatus(frame: StatusFrame): boolean {
    this.#place.take(frame, frame.total);
    if (frame.read !== undefined || !this.#gate.accept(frame.seq)) return false;
    this.#run.start += frame.shifted;
    this.#total = frame.total;
    this.#gate.closed();
    this.#settleEmptyLive();
    return true;
  }

  /**
   * Applies a `resumed` reply to the window as it was at the reply's `since`
   * ({@link resumeFrom}, or the `seq` of a {@link declare}) as one group:
   * removed, then arrived, then updated, then `shifted`; unfreezes.
   * Incomplete: nothing but the badge changes, and the caller pages again
   * around the anchor returned.
   */
  applyResumed(frame: Omit<ResumedFrame, "type" | "rid">): ResumeOutcome {
    this.#gate.resumed(frame.complete ? frame.seq : undefined);
    this.#place.take(frame, frame.total);
    if (!frame.complete) {
      const first = this.messages[0];
      return { complete: false, anchor: first && !this.#live ? { id: first.id } : "newest" };
    }
    if (this.#declaredFirst) this.#run.forgetAbove(this.#declaredFirst);
    this.#run.drop(frame.removed);
    this.#run.take(frame.messages, this.#live);
    this.#run.update(frame.updated);
    this.#run.start += frame.shifted;
    this.#total = frame.total;
    this.#settleEmptyLive();
    return { complete: true };
  }

  /**
   * Keeps at most `max` messages, dropping the side away from the reader (the
   * top when live); `reader`, when given, moves the reader there first.
   * Answers how many were dropped above.
   */
  trim(max: number, reader?: number): number {
    if (reader !== undefined) this.setReader(reader);
    return this.#run.trim(max, this.#live);
  }

  /** A live window that holds nothing sits at the bottom. */
  #settleEmptyLive(): void {
    if (this.#live && this.messages.length === 0) this.#run.start = this.#total;
  }
}
