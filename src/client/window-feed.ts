/**
 * A {@link MessageWindow} kept current from a {@link ScrollbackClient}: it
 * pages, jumps, declares its view and applies every push (`insert`,
 * `remove`, `update`, `status`), `hello` and resync, so a frontend only
 * renders `window` on `change`. {@link ChannelWindow} adds the badges'
 * jumps and acks and the reader's place on top.
 *
 * Every view it declares goes out as `resume` since the window's `seq`, not
 * `view`: arrivals that land between a page and its declaration are replayed
 * exactly in the reply, instead of being pushed for the old view.
 *
 * The reader is the position last passed to `show` (or a jump's anchor);
 * `reader` follows that row as rows land or vanish above it, so a renderer
 * that scrolls by position keeps what the reader sees still by scrolling to
 * `reader` after a change (react-virtuoso needs only `firstItemIndex`).
 */
import type { Anchor, PageBody } from "../protocol/schemas.ts";
import type { ScrollbackClient, Sides } from "./socket-client.ts";
import type { Counts, ResumedReply } from "./types.ts";
import { MessageWindow } from "./window.ts";

/** Largest `before` / `after` of a page (docs/protocol.md). */
export const MAX_SIDE = 200;

export interface ChannelWindowOptions {
  /** Most messages held; the side away from the reader is trimmed (default 600). */
  readonly maxSize?: number;
  /** Messages fetched beyond what is asked for, each side (default 60). */
  readonly margin?: number;
  /** `markRead` sends at most one `read` per this many ms (default 250). */
  readonly readEveryMs?: number;
}

export class WindowFeed {
  /** What to render. */
  readonly window = new MessageWindow();
  protected readonly client: ScrollbackClient;
  protected readonly margin: number;
  readonly #maxSize: number;
  readonly #listeners = new Set<() => void>();
  readonly #off: (() => void)[];
  /** The latest wish of `show`: only one operation runs at a time, the last wish wins. */
  #wish: { from: number; to: number; live: boolean } | undefined;
  #busy: Promise<void> | undefined;
  /** A page has been placed: before it the total is unknown, not 0. */
  #placed = false;
  /** Counts declarations: a reply to one that a later one superseded is not applied. */
  #declared = 0;

  constructor(client: ScrollbackClient, options: ChannelWindowOptions = {}) {
    this.client = client;
    this.#maxSize = options.maxSize ?? 600;
    this.margin = options.margin ?? 60;
    const w = this.window;
    // Made after the client's greeting: the marker as the client knows it (the counts come with the first declaration).
    if (client.readMarker !== undefined) w.applyCounts({ read: client.readMarker });
    this.#off = [
      client.on("hello", (hello) => {
        w.applyHello(hello);
        this.greeted();
        this.changed();
      }),
      client.on("insert", (frame) => {
        if (w.applyInsert(frame)) this.#trimmed();
      }),
      client.on("remove", (frame) => {
        if (w.applyRemove(frame)) this.changed();
      }),
      client.on("update", (frame) => {
        if (w.applyUpdate(frame)) this.changed();
      }),
      client.on("status", (frame) => {
        w.applyStatus(frame);
        this.changed();
      }),
      client.on("resync", (event) => {
        if (!event.complete) {
          // Already declared by the client: pushes apply at once, whatever declaration was in flight.
          this.#placed = true;
          w.replace(event.page, { live: event.live, counts: event });
        } else if (w.resumeFrom === event.since) {
          w.applyResumed(event);
        } else if (w.seq < event.seq) {
          // The window moved since that resume was sent: read its place again.
          this.#later(() => this.#jumpAround());
          return;
        }
        this.#trimmed();
      }),
    ];
  }

  /** The reader's position: the last `show`'s `from`, following its row as rows land or vanish above it. */
  get reader(): number {
    return this.window.reader;
  }

  /** Calls `listener` after every change of `window`; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Stops listening to the client. */
  dispose(): void {
    for (const off of this.#off) off();
    this.#listeners.clear();
  }

  /** Opens at the newest messages, live: `rows` on screen, and the margin above. */
  protected async openNewest(rows = 50): Promise<void> {
    await this.jump("newest", { before: Math.min(MAX_SIDE, rows + this.margin), after: 0 });
  }

  /**
   * Replaces the window with a page around `anchor` and declares it; live when
   * asked (default: when the page ends at the newest message and the anchor is
   * `newest`). Resolves with the page.
   */
  async jump(anchor: Anchor, sides: Sides & { live?: boolean } = {}): Promise<PageBody> {
    const { live, ...request } = sides;
    const page = await this.client.page({ anchor, ...request });
    this.place(page, live ?? (anchor === "newest" && !page.hasNewer));
    await this.declare();
    return page;
  }

  /**
   * Asks for positions `from` … `to − 1` (what is on screen) to be held, and
   * for the window to follow the bottom or not; pages only what is missing.
   * The reader is at `reader` (default `from`: give the first row on screen
   * when asking for rows beyond it). Calls made while one runs are merged:
   * the last one wins.
   */
  show(from: number, to: number, live = false, reader = from): Promise<void> {
    this.#wish = { from, to, live };
    this.window.setReader(reader);
    this.#busy ??= this.#run().finally(() => {
      this.#busy = undefined;
    });
    return this.#busy;
  }

  async #run(): Promise<void> {
    for (let wish = this.#wish; wish; wish = this.#wish) {
      this.#wish = undefined;
      await this.#fill(wish.from, wish.to, wish.live);
    }
  }

  async #fill(from: number, to: number, live: boolean): Promise<void> {
    const w = this.window;
    const m = this.margin;
    // Before the first page the total is unknown: ask for the whole screen.
    if (this.#placed) to = Math.min(to, w.total);
    if (live && w.live && w.end === w.total) return;
    const covered = w.messages.length > 0 && from >= w.start && to <= w.end && !w.frozen;
    if (covered && live === w.live) return;
    if (covered || (live && w.end === w.total && !w.frozen && w.messages.length > 0)) {
      w.setLive(live && w.end === w.total);
      await this.declare();
      return;
    }
    const near = !w.frozen && w.messages.length > 0 && to >= w.start - m && from <= w.end + m;
    const first = w.messages[0];
    const last = w.messages.at(-1);
    if (near && first && last && from < w.start) {
      const before = Math.min(MAX_SIDE, w.start - from + m);
      const page = await this.client.page({ anchor: { id: first.id }, before, after: 0 });
      if (!w.merge(page)) this.place(page, false, w.reader);
    } else if (near && first && last && to > w.end) {
      const after = Math.min(MAX_SIDE, to - w.end + m);
      const page = await this.client.page({ anchor: { id: last.id }, before: 0, after });
      if (!w.merge(page)) this.place(page, false, w.reader);
    } else {
      const before = Math.min(MAX_SIDE, m);
      const after = Math.min(MAX_SIDE, Math.max(0, to - from) + m);
      const page = await this.client.page({ anchor: { position: from }, before, after });
      this.place(page, false, w.reader);
    }
    w.setLive(live && w.end === w.total);
    w.trim(this.#maxSize);
    await this.declare();
  }

  /**
   * Replaces the window with a page, the reader on its anchor unless given,
   * and the counts the page tells, if any: frozen until declared.
   */
  protected place(page: PageBody, live: boolean, reader?: number, counts?: Partial<Counts>): void {
    this.#placed = true;
    this.window.replace(page, {
      live,
      ...(reader === undefined ? {} : { reader }),
      ...(counts === undefined ? {} : { counts }),
    });
    this.window.freeze();
    this.changed();
  }

  /** Declares the window's view by `resume` since its seq and applies the replay. */
  protected async declare(): Promise<void> {
    const w = this.window;
    const view = w.declare();
    const since = w.seq;
    const declaration = ++this.#declared;
    let resumed: ResumedReply;
    try {
      resumed = await this.client.resume({ since, ...view });
    } catch (err) {
      // A reconnect's resync takes over a declaration the connection lost.
      if (isDisconnected(err)) return;
      throw err;
    }
    // A later declaration (a concurrent jump) owns the window now: this
    // reply is for a view it no longer holds. A reconnect's resync may have
    // got here first.
    if (declaration !== this.#declared || !w.frozen || w.seq !== since) return;
    const outcome = w.applyResumed(resumed);
    if (!outcome.complete) {
      await this.jump(outcome.anchor, { before: this.margin, after: this.margin + 50 });
      return;
    }
    this.#trimmed();
  }

  /** After a resync that no longer fits: page again around the first message held. */
  async #jumpAround(): Promise<void> {
    const w = this.window;
    const first = w.messages[0];
    if (w.live || !first) await this.openNewest();
    else await this.jump({ id: first.id }, { before: 0, after: MAX_SIDE });
  }

  #later(task: () => Promise<unknown>): void {
    task().catch(() => this.changed());
  }

  #trimmed(): void {
    const w = this.window;
    w.trim(this.#maxSize);
    // Rows trimmed off the top stay in the declared view, remembered to keep
    // `start` exact under deletes; declaring what is held forgets them.
    if (w.hiddenAbove > this.#maxSize && !w.frozen) this.#later(() => this.declare());
    this.changed();
  }

  protected changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** A (re)connection's `hello` was taken. */
  protected greeted(): void {}
}

function isDisconnected(err: unknown): boolean {
  return typeof err === "object" && err !== null && "code" in err && err.code === "disconnected";
}
