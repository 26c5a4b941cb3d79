/**
 * The one WebSocket client of the tests: frames are parsed and queued as they
 * arrive, read one by one or up to a barrier (a ping with a rid: the server
 * handles a socket's frames in order). It takes any standard WebSocket, the
 * runtime's (accepted here) or Node's, so every project opens sockets its own
 * way and reads them the same way.
 */
import { expect } from "vitest";
import type { Frame, FrameOf, FrameType } from "./wire.ts";

/** How long a frame the test waits for may take before the test fails. */
export const FRAME_TIMEOUT_MS = 15_000;

/** What the client needs of a socket: the standard API (`accept` only in workerd). */
export interface SocketLike {
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(
    type: "close",
    listener: (event: { code: number; reason: string }) => void,
  ): void;
  accept?: () => void;
}

const open = new Set<Client>();

/** A test's WebSocket client. */
export class Client {
  readonly channel: string;
  readonly user: string;
  readonly ws: SocketLike;
  /** Set once the server closes the socket. */
  closed: { code: number; reason: string } | undefined;
  /** The greatest `seq` watermark of any frame received: what a client has applied. */
  seq = 0;
  readonly #queue: Frame[] = [];
  #wake: (() => void) | undefined;
  #barriers = 0;

  constructor(channel: string, user: string, ws: SocketLike) {
    this.channel = channel;
    this.user = user;
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      const data = event.data;
      // A binary or non-JSON frame from the server is itself a failure: keep it visible.
      const frame =
        typeof data === "string"
          ? (JSON.parse(data) as Frame)
          : ({ type: "error", code: "test", message: "binary frame from server" } as Frame);
      if ("seq" in frame && typeof frame.seq === "number") this.seq = Math.max(this.seq, frame.seq);
      this.#queue.push(frame);
      this.#wake?.();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake?.();
    });
    ws.accept?.();
    open.add(this);
  }

  /** Sends a frame: an object is serialized, a string or bytes go as they are. */
  send(frame: object | string | ArrayBuffer | ArrayBufferView): void {
    if (typeof frame === "string" || frame instanceof ArrayBuffer || ArrayBuffer.isView(frame)) {
      this.ws.send(frame);
    } else {
      this.ws.send(JSON.stringify(frame));
    }
  }

  /** The next frame; with `type`, fails unless the next frame has that type. */
  async next<T extends FrameType>(type?: T, timeoutMs = FRAME_TIMEOUT_MS): Promise<FrameOf<T>> {
    const deadline = Date.now() + timeoutMs;
    const who = `${this.user}@${this.channel}`;
    for (;;) {
      const frame = this.#queue.shift();
      if (frame) {
        if (type !== undefined && frame.type !== type) {
          const got = JSON.stringify(frame).slice(0, 500);
          throw new Error(`${who}: expected a ${type} frame, got ${got}`);
        }
        return frame as FrameOf<T>;
      }
      if (this.closed) {
        const { code, reason } = this.closed;
        throw new Error(
          `${who}: closed (${code} ${reason}) while waiting for ${type ?? "a frame"}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${who}: no ${type ?? "frame"} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /**
   * Every frame that arrives before the pong to a ping sent now. The object
   * handles a socket's frames in order, so this is everything the frames sent
   * before caused on this socket (and proves the socket is still open).
   * The ping carries a rid so the runtime's auto-response does not answer it.
   */
  async drain(timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame[]> {
    const rid = `barrier-${++this.#barriers}`;
    this.send({ type: "ping", rid });
    const frames: Frame[] = [];
    for (;;) {
      const frame = await this.next(undefined, timeoutMs);
      if (frame.type === "pong" && frame.rid === rid) return frames;
      frames.push(frame);
    }
  }

  /**
   * Sends `frame` with `rid` and returns its one reply (the frame carrying that
   * rid) and everything else that arrived before the barrier after it.
   */
  async call(
    frame: Record<string, unknown>,
    rid = `r${Math.random().toString(36).slice(2, 10)}`,
  ): Promise<{ reply: Frame; others: Frame[] }> {
    this.send({ ...frame, rid });
    const frames = await this.drain();
    const replies = frames.filter((f) => "rid" in f && f.rid === rid);
    expect(replies, `one reply to ${String(frame.type)} ${rid}`).toHaveLength(1);
    return { reply: replies[0] as Frame, others: frames.filter((f) => !replies.includes(f)) };
  }

  /** Closes the socket and waits for the server's close: the object has seen it go. */
  async closeAndWait(): Promise<void> {
    if (this.closed) return;
    const gone = new Promise<void>((resolve) => {
      this.ws.addEventListener("close", () => resolve());
    });
    this.close();
    await gone;
  }

  close(): void {
    open.delete(this);
    try {
      this.ws.close(1000, "test done");
    } catch {
      // Already closed.
    }
  }
}

/** Closes every socket the tests opened (afterEach). */
export function closeAll(): void {
  for (const client of [...open]) client.close();
}
