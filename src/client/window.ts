/**
 * A window on a channel: the contiguous run of messages a frontend holds, at
 * exact absolute positions, kept current by the server's frames. Pure: no DOM,
 * no socket. Feed it what the server says (pages, `insert`, `remove`,
 * `update`, `status`, `resumed`) and render from it; {@link ChannelWindow}
 * does the feeding. The rows and how each frame moves them are
 * {@link HeldRun}'s; this decides which frames apply.
 *
 * Groups (docs/protocol.md, "Applying pushes to a window"): after each
 * stored group a socket gets `insert`, `remove`, `update` and `status`, each
 * at most once, in that order, all carrying the group's `seq`. A frame whose
 * `seq` is above the window's opens a group; frames of that `seq` continue
 * it until its `status` (a group of edits and reactions alone mostly has
 * none; one may have no `insert`); every other frame (of a closed group, or
 * read by a page already: seq ≤ the page's) is in what the window holds and
 * is ignored, but for a `status`'s badge. So each frame applies exactly
 * once, the `remove` and `update` that follow a group's `insert` included.
 */
import type {
  InsertFrame,
  Key,
  Message,
  RemoveFrame,
  ResumedFrame,
  StatusFrame,
  UpdateFrame,
} from "../protocol/schemas.ts";
import { HeldRun } from "./held-run.ts";
import type { DeclaredView, PageLike, ResumeOutcome, WindowState } from "./window-rows.ts";

export class MessageWindow {
  readonly #run = new HeldRun();
  #total = 0;
  #lateUnread = 0;
  #live = false;
  /** The seq of the last frame applied. */
  #seq = 0;
  /** Every group up to this seq is applied whole: what a reconnect resumes from. */
  #resumeFrom = 0;
  /** The group `#seq` may still have frames to come (no `status` yet). */
  #open = false;
  /** Set between a page that replaced the window and the `resumed` that declared it. */
  #frozen = false;
  /** The first key of the view last declared (undefined: none declared by this window). */
  #declaredFirst: Key | null | undefined;

  get start(): number {
    return this.#run.start;
  }
  /** Position just after the last message held. */
  get end(): number {
    return this.#run.end;
  }
  get messages(): readonly Message[] {
    return this.#run.rows;
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
  /** The channel's seq as of the last frame applied. */
  get seq(): number {
    return this.#seq;
  }
  /** What a reconnect resumes from: every group up to it applied whole (see the client's `Watermark`). */
  get resumeFrom(): number {
    return this.#resumeFrom;
  }
  /** True between {@link freeze} or {@link declare} and the next {@link applyResumed}: new groups are ignored. */
  get frozen(): boolean {
    return this.#frozen;
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

  /** Is the message at position `p` held? */
  has(position: number): boolean {
    return position >= this.start && position < this.end;
  }
  /** The message at position `p`, if held. */
  at(position: number): Message | undefined {
    return this.#run.rows[position - this.start];
  }
  /** Index of a message id in `messages`, or −1. */
  indexOf(id: string): number {
    return this.#run.rows.findIndex((m) => m.id === id);
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
    this.#frozen = true;
    this.#resumeFrom = this.#seq;
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
      lateUnread: this.#lateUnread,
      live: this.#live,
      seq: this.#seq,
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
    options: { live?: boolean; lateUnread?: number; reader?: number } = {},
  ): this {
    this.#frozen = false;
    this.#open = false;
    this.#run.reset(
      page.messages,
      page.start,
      options.reader ?? page.start + (page.anchorIndex ?? 0),
    );
    this.#total = page.total;
    this.#seq = this.#resumeFrom = page.seq;
    this.#live = options.live ?? false;
    if (options.lateUnread !== undefined) this.#lateUnread = options.lateUnread;
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
    if (page.seq < this.#seq || this.#frozen) return false;
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
    this.#open = false;
    this.#seq = this.#resumeFrom = page.seq;
    this.#frozen = above.length + below.length > 0;
    return true;
  }

  /** Ignores new groups until the `resumed` that declares the new view (see {@link ChannelWindow}). */
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

  /** Puts the reader on the row at `position` (what is at the top of the screen). */
  setReader(position: number): void {
    this.#run.setReader(position);
  }

  /** Applies an `insert` push; false when it was ignored (stale or frozen). */
  applyInsert(frame: InsertFrame): boolean {
    if (!this.#accept(frame.seq)) return false;
    this.#run.take(frame.messages, this.#live);
    this.#total = frame.total;
    return true;
  }

  /** Applies a `remove` push (protocol 1.2): drops held ids; one above the run moves `start` up. */
  applyRemove(frame: RemoveFrame): boolean {
    if (!this.#accept(frame.seq)) return false;
    this.#run.drop(frame.ids);
    this.#total = frame.total;
    return true;
  }

  /** Applies an `update` push (protocol 1.2): held messages replaced by id; nothing moves. */
  applyUpdate(frame: UpdateFrame): boolean {
    if (!this.#accept(frame.seq)) return false;
    this.#run.update(frame.messages);
    return true;
  }

  /** Applies a `status` push; the badge always, the rest unless the window already has it. */
  applyStatus(frame: StatusFrame): boolean {
    this.#lateUnread = frame.lateUnread;
    if (!this.#accept(frame.seq)) return false;
    this.#run.start += frame.shifted;
    this.#total = frame.total;
    this.#open = false;
    this.#resumeFrom = this.#seq;
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
    this.#frozen = false;
    this.#open = false;
    this.#lateUnread = frame.lateUnread;
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
    this.#seq = this.#resumeFrom = Math.max(this.#seq, frame.seq);
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

  /**
   * Is a frame of `seq` to be applied? Yes for the rest of the group in
   * progress (even frozen: a declaration's reply does not replay it), and
   * for a newer group unless frozen; that one becomes the group in progress.
   */
  #accept(seq: number): boolean {
    if (seq === this.#seq && this.#open) return true;
    if (this.#frozen || seq <= this.#seq) return false;
    this.#seq = seq;
    this.#open = true;
    return true;
  }

  /** A live window that holds nothing sits at the bottom. */
  #settleEmptyLive(): void {
    if (this.#live && this.messages.length === 0) this.#run.start = this.#total;
  }
}
