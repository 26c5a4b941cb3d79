/**
 * Requests waiting for their reply, by `rid`: each settles once, by its
 * reply, its timeout, or the connection's loss, and leaves no timer behind.
 */
import type { ServerFrame } from "../protocol/schemas.ts";
import { ScrollbackError } from "./errors.ts";

interface Waiting {
  resolve(frame: ServerFrame): void;
  reject(error: ScrollbackError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class Replies {
  readonly #waiting = new Map<string, Waiting>();
  #nextRid = 1;

  /** A fresh rid. */
  rid(): string {
    return `r${this.#nextRid++}`;
  }

  /** Waits for the reply to `rid`, at most `timeoutMs`; `onTimeout` cleans up after a timeout. */
  wait(rid: string, timeoutMs: number, what: string, onTimeout: () => void): Promise<ServerFrame> {
    return new Promise<ServerFrame>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(rid);
        onTimeout();
        reject(new ScrollbackError("timeout", `no reply to ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(rid, { resolve, reject, timer });
    });
  }

  /** Settles the request a frame answers; false when no request waits for it. */
  settle(rid: string | undefined, frame: ServerFrame): boolean {
    const waiting = rid === undefined ? undefined : this.#waiting.get(rid);
    if (!waiting || rid === undefined) return false;
    this.#waiting.delete(rid);
    clearTimeout(waiting.timer);
    if (frame.type === "error") waiting.reject(new ScrollbackError(frame.code, frame.message));
    else waiting.resolve(frame);
    return true;
  }

  /** Forgets a request that could not be sent, with its timer. */
  drop(rid: string): void {
    const waiting = this.#waiting.get(rid);
    this.#waiting.delete(rid);
    if (waiting) clearTimeout(waiting.timer);
  }

  /** Fails every waiting request with `disconnected`. */
  failAll(reason: string): void {
    for (const [rid, waiting] of this.#waiting) {
      clearTimeout(waiting.timer);
      waiting.reject(new ScrollbackError("disconnected", reason));
      this.#waiting.delete(rid);
    }
  }
}
