/**
 * A typed Scrollback client for browsers and Node (≥ 22): one channel over a
 * WebSocket, replies correlated by `rid`, typed `insert` / `remove` /
 * `update` / `status` events. It tracks the `seq` it delivered and, after a
 * dropped connection, resumes by itself (protocol 1.1 `resume`): one
 * `resync` event tells the app what it missed, exactly. Frames are
 * validated with the server's zod schemas. A request resolves with its
 * reply's body (no `type`, `rid`) or fails with a {@link ScrollbackError}.
 * The socket, its replies and its reconnects are {@link Connection}'s; this
 * is one typed call per frame of the protocol.
 *
 *   const client = new ScrollbackClient({ url: "http://127.0.0.1:8787", channel: "demo", user: "alice" });
 *   client.on("insert", (f) => list.add(f.messages));
 *   await client.connect();
 *   const page = await client.page({ anchor: { position: 370_000 }, before: 25, after: 25 });
 */
import type { Anchor, Change, HelloFrame, Key, NewMessage, PageBody } from "../protocol/schemas.ts";
import { Connection } from "./connection.ts";
import type { Listener } from "./emitter.ts";
import { resync } from "./resume.ts";
import {
  type ChangedReply,
  type ClientEvents,
  type ClientOptions,
  type LateListReply,
  type ReactionsListReply,
  type ReadReply,
  type ResumedReply,
  ScrollbackError,
  type SentReply,
  type ViewReply,
  type ViewState,
} from "./types.ts";
import { body } from "./wire.ts";

/** `before` / `after` of a page around a jump's target (default 25 each). */
export type Sides = { before?: number; after?: number };

export class ScrollbackClient {
  readonly #connection: Connection;

  constructor(options: ClientOptions) {
    this.#connection = new Connection(options, (view, since) => resync(this, view, since));
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void {
    return this.#connection.on(event, listener);
  }

  /** The last `seq` delivered: every push, page, `view` and `resumed` (not `sent` or `changed`: their pushes follow them). */
  get seq(): number {
    return this.#connection.seq;
  }

  /** What a reconnect's `resume` starts from: the last group delivered whole (a group without `status` is replayed). */
  get resumeFrom(): number {
    return this.#connection.resumeFrom;
  }

  /** The view last declared (by `view` or `resume`), restored on reconnect. */
  get declaredView(): ViewState | undefined {
    return this.#connection.declaredView;
  }

  /**
   * Protocol 1.2: the user's read marker (null: none) as the server last
   * told this socket, in `hello`, a `read` reply or another tab's `status`;
   * undefined before the first `hello`.
   */
  get readMarker(): Key | null | undefined {
    return this.#connection.readMarker;
  }

  /** Opens the socket; resolves with the server's `hello`. After `close()`: fails with `disconnected`. */
  connect(): Promise<HelloFrame> {
    return this.#connection.connect();
  }

  /** Closes for good: no reconnect; pending and later requests fail with `disconnected`. */
  close(): void {
    this.#connection.close();
  }

  /**
   * A page around an anchor (default: the newest message, 25 each side).
   * Protocol 1.2: `"first_unread"` is the first message after the user's
   * read marker (the newest when nothing is unread); its page carries
   * `firstUnread`, that message's position, absent when nothing is unread.
   */
  async page(request: { anchor?: Anchor } & Sides = {}): Promise<PageBody> {
    return body(await this.#connection.request({ type: "page", ...request }, "page"));
  }

  /** Declares the range the client holds; resolves with the user's counts and `seq`. Restored on reconnect. */
  async view(view: ViewState): Promise<ViewReply> {
    return body(await this.#connection.request({ type: "view", ...view }, "view"));
  }

  /**
   * Declares a view and replays what concerns it since `since` (protocol 1.1).
   * Pushes of later groups that arrive meanwhile are held back: the reply
   * includes them. A reconnect then resumes from `since` (the view changed).
   * The client calls this by itself after a reconnect; call it to declare a
   * view over a page read at `since` without losing what lands in between.
   */
  async resume(request: ViewState & { since: number }): Promise<ResumedReply> {
    const { since, first, last, live } = request;
    return body(
      await this.#connection.request({ type: "resume", since, first, last, live }, "resumed"),
    );
  }

  /** Stores messages; resolves with `{ results, total, seq }` once they are durable. */
  async send(messages: NewMessage[]): Promise<SentReply> {
    return body(await this.#connection.request({ type: "send", messages }, "sent"));
  }

  /**
   * Edits, deletes and reactions (protocol 1.2), all or nothing; resolves
   * with `{ results: [{ id, outcome, seq? }], total, seq }` once stored.
   */
  async change(changes: Change[]): Promise<ChangedReply> {
    return body(await this.#connection.request({ type: "change", changes }, "changed"));
  }

  /** A page around the first-arrived unread late message, or null when there is none. */
  lateNext(request: Sides = {}): Promise<PageBody | null> {
    return this.#pageOrNull({ type: "late.next", ...request });
  }

  /** Unread late messages, oldest arrival first. */
  async lateList(limit?: number): Promise<LateListReply> {
    const frame = { type: "late.list" as const, ...(limit === undefined ? {} : { limit }) };
    return body(await this.#connection.request(frame, "late.list"));
  }

  /** Marks every late message read; resolves with the user's counts (`lateUnread: 0`) and `seq`. */
  async lateAck(): Promise<ViewReply> {
    return body(await this.#connection.request({ type: "late.ack" }, "view"));
  }

  /**
   * Protocol 1.2: a page around the user's message whose unread reaction
   * arrived first (`anchorIndex` on it), or null when none is unread. Like
   * `lateNext` it marks nothing seen: declaring a view over it does.
   */
  reactionsNext(request: Sides = {}): Promise<PageBody | null> {
    return this.#pageOrNull({ type: "reactions.next", ...request });
  }

  /** Protocol 1.2: the user's messages with unread reactions, oldest unread first, and `unread` (their count). */
  async reactionsList(limit?: number): Promise<ReactionsListReply> {
    const frame = { type: "reactions.list" as const, ...(limit === undefined ? {} : { limit }) };
    return body(await this.#connection.request(frame, "reactions.list"));
  }

  /** Protocol 1.2: every reaction on the user's messages read; resolves with the counts (`reactionsUnread: 0`). */
  async reactionsAck(): Promise<ViewReply> {
    return body(await this.#connection.request({ type: "reactions.ack" }, "view"));
  }

  /**
   * Protocol 1.2: moves the user's read marker forward to message `id` (it
   * never moves back); resolves with `{ read, unread, seq }`: the marker
   * after it and the messages after that. An unknown id is `not_found`.
   */
  async read(id: string): Promise<ReadReply> {
    return body(await this.#connection.request({ type: "read", id }, "read"));
  }

  /** A page, or null for `not_found` (nothing unread to go to). */
  async #pageOrNull(frame: {
    type: "late.next" | "reactions.next";
    before?: number;
    after?: number;
  }): Promise<PageBody | null> {
    try {
      return body(await this.#connection.request(frame, "page"));
    } catch (err) {
      if (err instanceof ScrollbackError && err.code === "not_found") return null;
      throw err;
    }
  }
}
