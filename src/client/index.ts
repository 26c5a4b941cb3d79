/**
 * A typed Scrollback client for browsers and Node (≥ 22): one channel over a
 * WebSocket, replies correlated by `rid`, reconnects with backoff and restores
 * its declared view, typed `insert` / `status` events. Frames are validated
 * with the server's own zod schemas.
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
import { ScrollbackError } from "./errors.ts";

export type { Message } from "../protocol/schemas.ts";
export { type CallOptions, type HttpOptions, ScrollbackHttp } from "./http.ts";
export type { Anchor, HelloFrame, InsertFrame, Key, NewMessage, PageBody, SentFrame, StatusFrame };
export { ScrollbackError };

export interface ClientOptions {
  /** The worker's base URL: http(s):// or ws(s)://. */
  readonly url: string;
  readonly channel: string;
  /** The user, on an open worker (with a token the server takes the token's subject). */
  readonly user?: string;
  /** A JWT, sent as `?token=` (browsers cannot set WebSocket headers). */
  readonly token?: string;
  /** How long a request waits for its reply, in ms (default 15,000). */
  readonly timeoutMs?: number;
  /** Reconnect backoff: first delay and cap, in ms (defaults 250 and 10,000). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A WebSocket constructor, where there is no global one. */
  readonly WebSocket?: new (
    url: string,
  ) => WebSocket;
}

export interface ClientEvents {
  /** Every (re)connection's greeting. */
  hello: HelloFrame;
  insert: InsertFrame;
  status: StatusFrame;
  /** The connection dropped; `reconnecting` tells whether a retry is scheduled. */
  disconnect: { reconnecting: boolean };
  /** An `error` frame that answered no request. */
  error: ScrollbackError;
}

type Listener<T> = (event: T) => void;
type ViewState = { first: Key | null; last: Key | null; live: boolean };

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

  /** Opens the socket; resolves with the server's `hello`. */
  connect(): Promise<HelloFrame> {
    this.#closed = false;
    this.#opened ??= this.#open();
    return this.#opened;
  }

  /** Closes for good: no reconnect; pending requests fail with `disconnected`. */
  close(): void {
    this.#closed = true;
    this.#socket?.close(1000, "client closed");
    this.#failPending("client closed");
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
        if (!greeted) reject(new ScrollbackError("disconnected", "could not connect"));
        if (reconnecting) this.#scheduleReconnect();
      };
      socket.addEventListener("message", (event) => {
        const frame = this.#parse(event.data);
        if (!frame) return;
        if (frame.type === "hello") {
          greeted = true;
          clearTimeout(giveUp);
          this.#attempt = 0;
          this.#emit("hello", frame);
          resolve(frame);
          // A reconnect restores the view the client had declared.
          if (this.#view) this.view(this.#view).catch(() => {});
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
    if (frame.type === "insert") {
      this.#emit("insert", frame);
      return;
    }
    if (frame.type === "status") {
      this.#emit("status", frame);
      return;
    }
    const rid = "rid" in frame ? frame.rid : undefined;
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
  }

  async #request<T extends ServerFrame["type"]>(
    frame: ClientFrameInput,
    expect: T,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    await this.connect();
    const socket = this.#socket;
    if (!socket) throw new ScrollbackError("disconnected", "not connected");
    const rid = `r${this.#nextRid++}`;
    const reply = new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(rid);
        reject(
          new ScrollbackError(
            "timeout",
            `no reply to ${frame.type} within ${this.#options.timeoutMs ?? 15_000} ms`,
          ),
        );
      }, this.#options.timeoutMs ?? 15_000);
      this.#pending.set(rid, { resolve, reject, timer });
    });
    socket.send(JSON.stringify({ ...frame, rid }));
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

  /** Declares the range the client holds; resolves with the user's lateUnread. Restored on reconnect. */
  async view(view: ViewState): Promise<number> {
    this.#view = view;
    return (await this.#request({ type: "view", ...view }, "view")).lateUnread;
  }

  /** Stores messages; resolves once they are durable. */
  async send(messages: NewMessage[]): Promise<SentFrame> {
    return this.#request({ type: "send", messages }, "sent");
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

  /** Marks every late message read; resolves with the new lateUnread (0). */
  async lateAck(): Promise<number> {
    return (await this.#request({ type: "late.ack" }, "view")).lateUnread;
  }
}

/** A reply without its envelope (`type`, `rid`): what the caller asked for. */
function body<F extends { type: string; rid?: string | undefined }>(
  frame: F,
): Omit<F, "type" | "rid"> {
  const { type: _type, rid: _rid, ...rest } = frame;
  return rest;
}
