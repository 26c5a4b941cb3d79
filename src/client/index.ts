/**
 * A typed Scrollback client for browsers and Node (≥ 22): one channel over a
 * WebSocket, replies correlated by `rid`, typed `insert` / `status` events.
 * It tracks the last `seq` it delivered and, after a dropped connection,
 * resumes by itself (protocol 1.1 `resume`): one `resync` event tells the app
 * what it missed, exactly. Frames are validated with the server's own zod
 * schemas. Every request resolves with its reply's body (the frame without
 * `type` and `rid`) and fails with a {@link ScrollbackError}.
 *
 *   const client = new ScrollbackClient({ url: "http://127.0.0.1:8787", channel: "demo", user: "alice" });
 *   client.on("insert", (f) => list.add(f.messages));
 *   await client.connect();
 *   const page = await client.page({ anchor: { position: 370_000 }, before: 25, after: 25 });
 */
import {
  type Anchor,
  type ClientFrameInput,
  type HelloFrame,
  type InsertFrame,
  type Key,
  type LateListReplyFrame,
  type NewMessage,
  type PageBody,
  type SentFrame,
  ServerFrame,
  type StatusFrame,
} from "../protocol/schemas.ts";
import { repage } from "./resume.ts";
import {
  type ClientEvents,
  type ClientOptions,
  type ResumedReply,
  ScrollbackError,
  type SentReply,
  type ViewReply,
  type ViewState,
} from "./types.ts";

export type { Message } from "../protocol/schemas.ts";
export { ChannelWindow, type ChannelWindowOptions } from "./channel-window.ts";
export { type CallOptions, type HttpOptions, ScrollbackHttp } from "./http.ts";
export * from "./types.ts";
export {
  compareKeys,
  FIRST_ITEM_INDEX,
  MessageWindow,
  type PageLike,
  type ResumeOutcome,
  type WindowState,
} from "./window.ts";
export type { Anchor, HelloFrame, InsertFrame, Key, NewMessage, PageBody, SentFrame, StatusFrame };

type Listener<T> = (event: T) => void;

interface Pending {
  resolve(frame: ServerFrame): void;
  reject(error: ScrollbackError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class ScrollbackClient {
  readonly #options: ClientOptions;
  readonly #listeners = new Map<keyof ClientEvents, Set<Listener<never>>>();
  readonly #pending = new Map<string, Pending>();
  #socket: WebSocket | undefined;
  #nextRid = 1;
  #view: ViewState | undefined;
  #attempt = 0;
  #closed = false;
  #opened: Promise<HelloFrame> | undefined;
  /** The last `seq` delivered to the app (hello, page, view, insert, status, resumed). */
  #seq = 0;
  /** Has a socket been greeted before: the next `hello` is a reconnect. */
  #greeted = false;
  /** Rids of `resume` requests in flight: pushes meanwhile are in their replies, so they are held back. */
  readonly #resuming = new Set<string>();

  constructor(options: ClientOptions) {
    this.#options = options;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  #emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
    for (const listener of this.#listeners.get(event) ?? [])
      (listener as Listener<ClientEvents[E]>)(value);
  }

  /** The last `seq` delivered (`sent` excluded: its pushes follow it): what a `resume` starts from. */
  get seq(): number {
    return this.#seq;
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
    if (socket) this.#emit("disconnect", { reconnecting: false });
  }

  #socketUrl(): string {
    const url = new URL(
      `/v1/channels/${encodeURIComponent(this.#options.channel)}/ws`,
      this.#options.url,
    );
    url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
    if (this.#options.user) url.searchParams.set("user", this.#options.user);
    if (this.#options.token) url.searchParams.set("token", this.#options.token);
    return url.toString();
  }

  #open(): Promise<HelloFrame> {
    const Ctor = this.#options.WebSocket ?? globalThis.WebSocket;
    return new Promise((resolve, reject) => {
      const socket = new Ctor(this.#socketUrl());
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
        this.#emit("disconnect", { reconnecting });
        if (reconnecting) this.#scheduleReconnect();
      };
      socket.addEventListener("message", (event) => {
        if (this.#socket !== socket) return;
        const frame = this.#parse(event.data);
        if (!frame) return;
        if (frame.type === "hello") {
          greeted = true;
          clearTimeout(giveUp);
          this.#attempt = 0;
          const reconnect = this.#greeted;
          this.#greeted = true;
          if (!reconnect) {
            // The socket starts live, holding the newest message: that is the first view.
            this.#seq = frame.seq;
            this.#view ??= { first: frame.newest, last: frame.newest, live: true };
          }
          this.#emit("hello", frame);
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
    const { initialMs, maxMs } = this.#options.backoff ?? { initialMs: 250, maxMs: 10_000 };
    const delay = Math.min(maxMs, initialMs * 2 ** this.#attempt++);
    // Jitter spreads a crowd of clients reconnecting after an outage.
    setTimeout(
      () => {
        if (!this.#closed) this.connect().catch(() => {});
      },
      delay * (0.5 + Math.random() / 2),
    );
  }

  #parse(data: unknown): ServerFrame | undefined {
    if (typeof data !== "string") return undefined;
    try {
      const result = ServerFrame.safeParse(JSON.parse(data));
      if (result.success) return result.data;
      this.#emit(
        "error",
        new ScrollbackError("bad_request", `unexpected frame from server: ${data.slice(0, 200)}`),
      );
    } catch {
      this.#emit("error", new ScrollbackError("bad_request", "server sent invalid JSON"));
    }
    return undefined;
  }

  #dispatch(frame: ServerFrame): void {
    if (frame.type === "insert" || frame.type === "status") {
      // A resume in flight replays these (they concern the view it replaces).
      if (this.#resuming.size > 0) return;
      this.#seq = Math.max(this.#seq, frame.seq);
      if (frame.type === "insert") this.#emit("insert", frame);
      else this.#emit("status", frame);
      return;
    }
    if (frame.type === "page" || frame.type === "view" || frame.type === "resumed") {
      // `sent` is left out on purpose: its batch's pushes come after it.
      this.#seq = Math.max(this.#seq, frame.seq);
    }
    const rid = "rid" in frame ? frame.rid : undefined;
    if (frame.type === "resumed" && rid !== undefined) this.#resuming.delete(rid);
    const pending = rid === undefined ? undefined : this.#pending.get(rid);
    if (!pending) {
      if (frame.type === "error")
        this.#emit("error", new ScrollbackError(frame.code, frame.message));
      return;
    }
    this.#pending.delete(rid as string);
    clearTimeout(pending.timer);
    if (frame.type === "error") pending.reject(new ScrollbackError(frame.code, frame.message));
    else pending.resolve(frame);
  }

  #failPending(reason: string): void {
    for (const [rid, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ScrollbackError("disconnected", reason));
      this.#pending.delete(rid);
    }
    this.#resuming.clear();
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
    const rid = `r${this.#nextRid++}`;
    const timeoutMs = this.#options.timeoutMs ?? 15_000;
    const reply = new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        this.#resuming.delete(rid);
        reject(new ScrollbackError("timeout", `no reply to ${frame.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(rid, { resolve, reject, timer });
    });
    try {
      socket.send(JSON.stringify({ ...frame, rid }));
    } catch (err) {
      // Settle at once, and leave no timer behind.
      const pending = this.#pending.get(rid);
      this.#pending.delete(rid);
      if (pending) clearTimeout(pending.timer);
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
   * Pushes that arrive meanwhile are held back: the reply includes them.
   * The client calls this by itself after a reconnect; call it to declare a
   * view over a page read at `since` without losing what lands in between.
   */
  async resume(request: ViewState & { since: number }): Promise<ResumedReply> {
    const view = { first: request.first, last: request.last, live: request.live };
    this.#view = view;
    return body(
      await this.#request({ type: "resume", since: request.since, ...view }, "resumed", (rid) =>
        this.#resuming.add(rid),
      ),
    );
  }

  /** Stores messages; resolves with `{ results, total, seq }` once they are durable. */
  async send(messages: NewMessage[]): Promise<SentReply> {
    return body(await this.#request({ type: "send", messages }, "sent"));
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

  /**
   * After a reconnect: `resume` from the last seq with the last view; when
   * too much was missed, page again and declare that page's view. One
   * `resync` event either way; a failure is an `error` event (the next
   * reconnect tries again).
   */
  #resync(): void {
    const view = this.#view ?? { first: null, last: null, live: true };
    const since = this.#seq;
    this.resume({ since, ...view })
      .then(async (resumed) => {
        if (resumed.complete) {
          const { complete: _complete, ...rest } = resumed;
          this.#emit("resync", { complete: true, since, ...rest });
          return;
        }
        this.#emit("resync", await repage(this, view));
      })
      .catch((err: unknown) => {
        if (err instanceof ScrollbackError && err.code === "disconnected") return;
        this.#emit("error", toError(err));
      });
  }
}

function closedError(): ScrollbackError {
  return new ScrollbackError("disconnected", "client closed");
}

function toError(err: unknown): ScrollbackError {
  if (err instanceof ScrollbackError) return err;
  return new ScrollbackError("internal", err instanceof Error ? err.message : String(err));
}

/** A reply without its envelope (`type`, `rid`): what the caller asked for. */
function body<F extends { type: string; rid?: string | undefined }>(
  frame: F,
): Omit<F, "type" | "rid"> {
  const { type: _type, rid: _rid, ...rest } = frame;
  return rest;
}
