/**
 * One channel's WebSocket, under the typed calls of {@link ScrollbackClient}:
 * it connects (a token offered as a subprotocol), matches each reply to its
 * request by `rid` with a timeout, emits pushes as typed events, tracks the
 * `seq` delivered (watermark.ts) and, after a dropped connection, reconnects
 * with backoff and hands the last declared view and the resume point to the
 * client's resync. Frames are validated with the server's zod schemas.
 */
import type { ClientFrameInput, HelloFrame, Key, ServerFrame } from "../protocol/schemas.ts";
import { Emitter, type Listener } from "./emitter.ts";
import { Replies } from "./replies.ts";
import {
  type ClientEvents,
  type ClientOptions,
  type ResyncEvent,
  ScrollbackError,
  type ViewState,
} from "./types.ts";
import { isPush, Watermark } from "./watermark.ts";
import { closedError, readServerFrame, reconnectDelay, socketTarget, toError } from "./wire.ts";

/** After a reconnect: what the app missed since `since` for `view`, as one event. */
export type Resync = (view: ViewState, since: number) => Promise<ResyncEvent>;

export class Connection {
  readonly #options: ClientOptions;
  readonly #resync: Resync;
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
  #readMarker: Key | null | undefined;

  constructor(options: ClientOptions, resync: Resync) {
    this.#options = options;
    this.#resync = resync;
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<ClientEvents[E]>): () => void {
    return this.#events.on(event, listener);
  }

  get seq(): number {
    return this.#watermark.seq;
  }

  get resumeFrom(): number {
    return this.#watermark.resumeFrom;
  }

  get declaredView(): ViewState | undefined {
    return this.#view;
  }

  /** The user's read marker as the server last told this socket; undefined before the first `hello`. */
  get readMarker(): Key | null | undefined {
    return this.#readMarker;
  }

  connect(): Promise<HelloFrame> {
    if (this.#closed) return Promise.reject(closedError());
    this.#opened ??= this.#open();
    return this.#opened;
  }

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

  /**
   * Sends one frame and waits for its reply. A `view` or `resume` becomes
   * the view a reconnect restores; a `resume` holds back the pushes of later
   * groups until its reply (which replays them).
   */
  async request<T extends ServerFrame["type"]>(
    frame: ClientFrameInput,
    expect: T,
  ): Promise<Extract<ServerFrame, { type: T }>> {
    if (frame.type === "view" || frame.type === "resume") {
      this.#view = { first: frame.first, last: frame.last, live: frame.live };
    }
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
    if (frame.type === "resume") this.#watermark.resuming(rid, frame.since);
    const answer = await reply;
    if (answer.type !== expect) {
      throw new ScrollbackError("bad_request", `expected ${expect}, got ${answer.type}`);
    }
    return answer as Extract<ServerFrame, { type: T }>;
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
          this.#readMarker = frame.read;
          if (!reconnect) {
            // The socket starts live, holding the newest message: that is the first view.
            this.#watermark.greeted(frame.seq);
            this.#view ??= { first: frame.newest, last: frame.newest, live: true };
          }
          this.#events.emit("hello", frame);
          resolve(frame);
          if (reconnect) this.#resyncNow();
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
    if (frame.type === "read" || (frame.type === "status" && frame.read !== undefined)) {
      this.#readMarker = frame.read;
    }
    if (isPush(frame)) {
      // A resume in flight replays the pushes of later groups (they concern the view it replaces).
      if (this.#watermark.pushed(frame)) this.#events.emit(frame.type, frame as never);
      return;
    }
    // `sent` and `changed` are left out on purpose: their group's pushes come after them (`read` tells no group).
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

  /** After a reconnect: one `resync` event; a failure is an `error` event (the next reconnect tries again). */
  #resyncNow(): void {
    const view = this.#view ?? { first: null, last: null, live: true };
    this.#resync(view, this.#watermark.resumeFrom)
      .then((event) => this.#events.emit("resync", event))
      .catch((err: unknown) => {
        if (err instanceof ScrollbackError && err.code === "disconnected") return;
        this.#events.emit("error", toError(err));
      });
  }
}
