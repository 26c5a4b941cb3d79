/**
 * The window a frontend renders a channel from: a {@link WindowFeed} (pages,
 * jumps, declarations, every push and resync applied) with the badges'
 * jumps and acks, and protocol 1.2's reader's place: open at the first
 * unread message, the "new messages" line (`firstUnread`), jump to the next
 * unread reaction, and move the read marker as the reader scrolls
 * (`markRead`, throttled by {@link ReadThrottle}).
 */
import { compareKeys } from "../core/key.ts";
import type { PageBody } from "../protocol/schemas.ts";
import { ReadThrottle } from "./read-throttle.ts";
import type { ScrollbackClient, Sides } from "./socket-client.ts";
import type { ViewReply } from "./types.ts";
import { type ChannelWindowOptions, MAX_SIDE, WindowFeed } from "./window-feed.ts";

export type { ChannelWindowOptions };

/** Where {@link ChannelWindow.open} opens, and how many rows the screen shows (default 50). */
export interface OpenOptions {
  readonly at?: "newest" | "first_unread";
  readonly rows?: number;
}

export class ChannelWindow extends WindowFeed {
  readonly #reads: ReadThrottle;

  constructor(client: ScrollbackClient, options: ChannelWindowOptions = {}) {
    super(client, options);
    const w = this.window;
    this.#reads = new ReadThrottle(
      {
        send: async (row) => {
          w.applyCounts(await client.read(row.id));
          this.changed();
        },
        marker: () => w.read,
        // Deleted before its `read` went out: the row above it, as far as the reader got.
        fallback: (gone) => w.messages.findLast((m) => compareKeys(m, gone) < 0),
      },
      options.readEveryMs ?? 250,
    );
  }

  /**
   * Protocol 1.2: the position of the user's first unread message, for a
   * "new messages" line above it; null when nothing is unread. It follows
   * that message as messages land or vanish above it, and moves down when
   * the marker does (`markRead`, or another tab's `read`).
   */
  get firstUnread(): number | null {
    return this.window.firstUnread;
  }

  /** Stops listening to the client; a `read` that `markRead` still holds back goes out now. */
  override dispose(): void {
    this.#reads.dispose();
    super.dispose();
  }

  /**
   * Opens the channel: live at the newest messages (`at: "newest"`, the
   * default), or (protocol 1.2) at the user's first unread message, with
   * `rows + margin` messages each side of it and the reader on the last
   * message read above it, so the "new messages" line ({@link firstUnread})
   * shows just under the top of the screen; with nothing unread that is the
   * newest messages, live. A number is `rows`: the rows on screen (default 50).
   */
  async open(options: number | OpenOptions = {}): Promise<void> {
    const { at = "newest", rows = 50 } = typeof options === "number" ? { rows: options } : options;
    const side = Math.min(MAX_SIDE, rows + this.margin);
    if (at === "newest") {
      await this.openNewest(rows);
      return;
    }
    const page = await this.client.page({ anchor: "first_unread", before: side, after: side });
    // The page tells `unread` by where the first unread message is: absent, nothing is.
    const first = page.firstUnread ?? page.total;
    const reader = first < page.total ? Math.max(0, first - 1) : undefined;
    this.place(page, !page.hasNewer, reader, { unread: page.total - first });
    await this.declare();
  }

  /** Jumps to the first unread late message (null when none), `before` / `after` around it. */
  late(sides: Sides = {}): Promise<PageBody | null> {
    return this.#goTo(this.client.lateNext(sides));
  }

  /**
   * Protocol 1.2: jumps to the user's message whose unread reaction arrived
   * first (null when none), `before` / `after` around it. Declaring the view
   * there marks its reactions seen: `reactionsUnread` drops.
   */
  reactions(sides: Sides = {}): Promise<PageBody | null> {
    return this.#goTo(this.client.reactionsNext(sides));
  }

  /**
   * Marks every late message read (`late.ack`). This tab's badge follows the
   * reply; the user's other tabs hear it from the server's `status`.
   */
  async ack(): Promise<number> {
    return (await this.#counts(this.client.lateAck())).lateUnread;
  }

  /** Protocol 1.2: marks every reaction to the user's messages read (`reactions.ack`), as `ack` does. */
  async ackReactions(): Promise<number> {
    return (await this.#counts(this.client.reactionsAck())).reactionsUnread;
  }

  /**
   * Protocol 1.2: the reader has reached the message at position `upTo`
   * (the last row on screen; held rows only): the read marker moves there.
   * Without it, only when the window is at the bottom (live): to the newest
   * message. Call it on every scroll and arrival: at most one `read` goes
   * out per `readEveryMs`, the furthest row reached, none that would not
   * move the marker, and the last is never dropped (it goes when the pause
   * ends, after a reconnect, or on `dispose`).
   */
  markRead(upTo?: number): void {
    const w = this.window;
    const bottom = upTo ?? (w.live ? w.end - 1 : w.start - 1);
    const row = w.at(Math.min(bottom, w.end - 1));
    if (row) this.#reads.reach(row);
  }

  /** Places and declares the page a `late.next` or `reactions.next` answered. */
  async #goTo(next: Promise<PageBody | null>): Promise<PageBody | null> {
    const page = await next;
    if (!page) return null;
    this.place(page, false);
    await this.declare();
    return page;
  }

  /** Takes the counts an ack's reply carries (the user's other tabs hear them from a `status`). */
  async #counts(acked: Promise<ViewReply>): Promise<ViewReply> {
    const reply = await acked;
    this.window.applyCounts(reply);
    this.changed();
    return reply;
  }

  /** Back after a drop: a `read` the connection lost goes out now. */
  protected override greeted(): void {
    this.#reads.flush();
  }
}
