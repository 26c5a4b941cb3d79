/**
 * A typed Scrollback client for browsers and Node (≥ 22): one channel over a
 * WebSocket, replies correlated by `rid`, typed `insert` / `remove` /
 * `update` / `status` events. It tracks the `seq` it delivered and, after a
 * dropped connection, resumes by itself (protocol 1.1 `resume`): one
 * `resync` event tells the app what it missed, exactly. Frames are
 * validated with the server's zod schemas. A request resolves with its
 * reply's body (no `type`, `rid`) or fails with a {@link ScrollbackError}.
 *
 *   const client = new ScrollbackClient({ url: "http://127.0.0.1:8787", channel: "demo", user: "alice" });
 *   client.on("insert", (f) => list.add(f.messages));
 *   await client.connect();
 *   const page = await client.page({ anchor: { position: 370_000 }, before: 25, after: 25 });
 */
import type {
  Anchor,
  Change,
  ClientFrameInput,
  HelloFrame,
  LateListReplyFrame,
  NewMessage,
  PageBody,
  ServerFrame,
} from "../protocol/schemas.ts";
import { Emitter, type Listener } from "./emitter.ts";
import { Replies } from "./replies.ts";
import { resync } from "./resume.ts";
import {
  type ChangedReply,
  type ClientEvents,
  type ClientOptions,
  type ResumedReply,
  ScrollbackError,
  type SentReply,
  type ViewReply,
  type ViewState,
} from "./types.ts";
import { isPush, Watermark } from "./watermark.ts";
import {
  body,
  closedError,
  readServerFrame,
  reconnectDelay,
  socketTarget,
  toError,
} from "./wire.ts";

export class ScrollbackClient {
  readonly #options: ClientOptions;
  readonly #events = new Emitter<ClientEvents>();
  readonly #replies = new Replies();
  #socket: WebSocket | undefined;
  #view: ViewState | undefined;
  #attempt = 0;
  #closed = false;
  #opened: Promise<HelloFrame> | undefined;
  /** The seq delivered, the reconnect's resume point, the resumes in flight. */
  readonly #watermark = new Watermark();
  /** Has a socket been greeted before: the next `hello` is a reconnect. */
  #greeted = false;

  constructor(options: ClientOptions) {
    this.#options = options;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void {
    return this.#events.on(event, listener);
  }

  /** The last `seq` delivered: every push, page, `view` and `resumed` (not `sent` or `changed`: their pushes follow them). */
  get seq(): number {
    return this.#watermark.seq;
  }

  /** What a reconnect's `resume` starts from: the last group delivered whole (a group without `status` is replayed). */
  get resumeFrom(): number {
    return this.#watermark.resumeFrom;
  }

  /** The view last declared (by `view` or `resume`), restored on reconnect. */
  get declaredView(): ViewState | undefined {
    return this.#view;
  }

  /** Opens the socket; resolves with the server's `hello`. After `close()`: fails with `disconnected`. */
  connect(): Promise<HelloFrame> {
    if (this.#closed) return Promise.reject(closedError());
    this.#opened ??= this.#open();
    return this.#opened;
  }

  /** Closes for good: no reconnect; pending and later requests fail with `disconnected`. */
  close(): void {
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    this.#opened = undefined;
    try {
      socket?.close(1000, "client closed");
    } catch {
      // Not open yet: nothing to close.
    }
    this.#failPending("client closed");
    if (socket) this.#events.emit("disconnect", { reconnecting: false });
  }

  #open(): Promise<HelloFrame> {
    const Ctor = this.#options.WebSocket ?? globalThis.WebSocket;
    return new Promise((resolve, reject) => {
      const { url, protocols } = socketTarget(this.#options);
      const socket = new Ctor(url, protocols);
      this.#socket = socket;
      let greeted = false;
      // A server going away can leave a connection attempt hanging: give up on it in time.
      const giveUp = setTimeout(() => lost(), this.#options.timeoutMs ?? 15_000);
      const lost = () => {
        clearTimeout(giveUp);
        if (!greeted) reject(new ScrollbackError("disconnected", "could not connect"));
        if (this.#socket !== socket) return;
        this.#socket = undefined;
        this.#opened = undefined;
        try {
          socket.close();
        } catch {
          // Never opened: nothing to close.
        }
        this.#failPending("connection lost");
        const reconnecting = !this.#closed;
        this.#events.emit("disconnect", { reconnecting });
        if (reconnecting) this.#scheduleReconnect();
      };
      socket.addEventListener("message", (event) => {
        if (this.#socket !== socket) return;
        const read = readServerFrame(event.data);
        if (!read) return;
        if ("error" in read) {
          this.#events.emit("error", read.error);
          return;
        }
        const { frame } = read;
        if (frame.type === "hello") {
          greeted = true;
          clearTimeout(giveUp);
          this.#attempt = 0;
          const reconnect = this.#greeted;
          this.#greeted = true;
          if (!reconnect) {
            // The socket starts live, holding the newest message: that is the first view.
            this.#watermark.greeted(frame.seq);
            this.#view ??= { first: frame.newest, last: frame.newest, live: true };
          }
          this.#events.emit("hello", frame);
          resolve(frame);
          if (reconnect) this.#resync();
          return;
        }
        this.#dispatch(frame);
      });
      socket.addEventListener("close", lost);
      socket.addEventListener("error", lost);
    });
  }

  #scheduleReconnect(): void {
    const delay = reconnectDelay(this.#options.backoff, this.#attempt++);
    setTimeout(() => {
      if (!this.#closed) this.connect().catch(() => {});
    }, delay);
  }

  #dispatch(frame: ServerFrame): void {
    if (isPush(frame)) {
      // A resume in flight replays the pushes of later groups (they concern the view it replaces).
      if (this.#watermark.pushed(frame)) this.#events.emit(frame.type, frame as never);
      return;
    }
    // `sent` and `changed` are left out on purpose: their group's pushes come after them.
    if (frame.type === "page" || frame.type === "view" || frame.type === "resumed") {
      this.#watermark.replied(frame.seq);
    }
    const rid = "rid" in frame ? frame.rid : undefined;
    if (frame.type === "resumed" && rid !== undefined) this.#watermark.settled(rid);
    if (!this.#replies.settle(rid, frame) && frame.type === "error") {
      this.#events.emit("error", new ScrollbackError(frame.code, frame.message));
    }
  }

  #failPending(reason: string): void {
    this.#replies.failAll(reason);
    this.#watermark.lost();
  }

  /** Sends one frame and waits for its reply; `onSent` runs once the frame is on the wire. */
  async #request<T extends ServerFrame["type"]>(
    frame: ClientFrameInput,
    expect: T,
    onSent?: (rid: string) => void,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    await this.connect();
    const socket = this.#socket;
    if (this.#closed) throw closedError();
    if (!socket) throw new ScrollbackError("disconnected", "not connected");
    const rid = this.#replies.rid();
    const timeoutMs = this.#options.timeoutMs ?? 15_000;
    const reply = this.#replies.wait(rid, timeoutMs, frame.type, () =>
      this.#watermark.settled(rid),
    );
    try {
      socket.send(JSON.stringify({ ...frame, rid }));
    } catch (err) {
      // Settle at once, and leave no timer behind.
      this.#replies.drop(rid);
      reply.catch(() => {});
      throw new ScrollbackError(
        "disconnected",
        `could not send: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    onSent?.(rid);
    const answer = await reply;
    if (answer.type !== expect) {
      throw new ScrollbackError("bad_request", `expected ${expect}, got ${answer.type}`);
    }
    return answer as Extract<ServerFrame, { type: T }>;
  }

  /** A page around an anchor (default: the newest message, 25 each side). */
  async page(
    request: { anchor?: Anchor; before?: number; after?: number } = {},
  ): Promise<PageBody> {
    return body(await this.#request({ type: "page", ...request }, "page"));
  }

  /** Declares the range the client holds; resolves with `{ lateUnread, seq }`. Restored on reconnect. */
  async view(view: ViewState): Promise<ViewReply> {
    this.#view = view;
    return body(await this.#request({ type: "view", ...view }, "view"));
  }

  /**
   * Declares a view and replays what concerns it since `since` (protocol 1.1).
   * Pushes of later groups that arrive meanwhile are held back: the reply
   * includes them. A reconnect then resumes from `since` (the view changed).
   * The client calls this by itself after a reconnect; call it to declare a
   * view over a page read at `since` without losing what lands in between.
   */
  async resume(request: ViewState & { since: number }): Promise<ResumedReply> {
    const view = { first: request.first, last: request.last, live: request.live };
    this.#view = view;
    return body(
      await this.#request({ type: "resume", since: request.since, ...view }, "resumed", (rid) =>
        this.#watermark.resuming(rid, request.since),
      ),
    );
  }

  /** Stores messages; resolves with `{ results, total, seq }` once they are durable. */
  async send(messages: NewMessage[]): Promise<SentReply> {
    return body(await this.#request({ type: "send", messages }, "sent"));
  }

  /**
   * Edits, deletes and reactions (protocol 1.2), all or nothing; resolves
   * with `{ results: [{ id, outcome, seq? }], total, seq }` once stored.
   */
  async change(changes: Change[]): Promise<ChangedReply> {
    return body(await this.#request({ type: "change", changes }, "changed"));
  }

  /** A page around the first-arrived unread late message, or null when there is none. */
  async lateNext(request: { before?: number; after?: number } = {}): Promise<PageBody | null> {
    try {
      return body(await this.#request({ type: "late.next", ...request }, "page"));
    } catch (err) {
      if (err instanceof ScrollbackError && err.code === "not_found") return null;
      throw err;
    }
  }

  /** Unread late messages, oldest arrival first. */
  async lateList(limit?: number): Promise<Omit<LateListReplyFrame, "type" | "rid">> {
    return body(
      await this.#request(
        { type: "late.list", ...(limit === undefined ? {} : { limit }) },
        "late.list",
      ),
    );
  }

  /** Marks every late message read; resolves with `{ lateUnread: 0, seq }`. */
  async lateAck(): Promise<ViewReply> {
    return body(await this.#request({ type: "late.ack" }, "view"));
  }

  /** After a reconnect: one `resync` event; a failure is an `error` event (the next reconnect tries again). */
  #resync(): void {
    const view = this.#view ?? { first: null, last: null, live: true };
    resync(this, view, this.#watermark.resumeFrom)
      .then((event) => this.#events.emit("resync", event))
      .catch((err: unknown) => {
        if (err instanceof ScrollbackError && err.code === "disconnected") return;
        this.#events.emit("error", toError(err));
      });
  }
}
