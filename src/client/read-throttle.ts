/**
 * When a window sends `read` (protocol 1.2): the marker should follow the
 * reader down the channel, but a scroll reports where the reader is many
 * times a second. The first row reached goes out at once; after it, at
 * most one `read` per `everyMs`, for the furthest row reached meanwhile,
 * sent when the pause ends (so the last is never dropped). Never a `read`
 * that would not move the marker: one at or before the marker the server
 * told, or before a `read` already sent.
 *
 * A `read` that fails is kept for later, unless a later row was reached
 * meanwhile: after `not_found` (its message was deleted) `fallback` names
 * the row to read instead, sent when the pause ends; after any other
 * failure (the connection dropped, say) it waits for the next reach or
 * {@link ReadThrottle.flush} (a reconnect), so a dead connection is not
 * retried in a loop.
 */
import { compareKeys } from "../core/key.ts";
import type { Key } from "../protocol/schemas.ts";
import { ScrollbackError } from "./errors.ts";

export interface ReadTarget {
  /** Sends `read` for the message and applies the reply. */
  send(target: Key): Promise<void>;
  /** The marker as the server last told it (null: none). */
  marker(): Key | null;
  /** A message to read instead of one that was deleted, if any. */
  fallback(gone: Key): Key | undefined;
}

export class ReadThrottle {
  readonly #target: ReadTarget;
  readonly #everyMs: number;
  /** The furthest row reached and not sent yet. */
  #wish: Key | undefined;
  /** The furthest row sent (its reply may be on its way). */
  #sent: Key | undefined;
  #pause: ReturnType<typeof setTimeout> | undefined;
  #disposed = false;

  constructor(target: ReadTarget, everyMs: number) {
    this.#target = target;
    this.#everyMs = everyMs;
  }

  /** The reader has reached this message (and everything before it). */
  reach(row: Key): void {
    if (this.#disposed || !this.#moves(row) || (this.#wish && compareKeys(row, this.#wish) <= 0))
      return;
    this.#wish = row;
    if (this.#pause === undefined) this.flush();
  }

  /** Sends the furthest row reached now, if it moves the marker; a pause follows. */
  flush(): void {
    const row = this.#wish;
    this.#wish = undefined;
    if (!row || !this.#moves(row)) return;
    this.#sent = row;
    this.#pauseThenFlush();
    this.#target.send(row).catch((err: unknown) => this.#failed(row, err));
  }

  /** Sends now whatever was reached and not sent, and stops: no timer is left. */
  dispose(): void {
    this.flush();
    this.#disposed = true;
    clearTimeout(this.#pause);
    this.#pause = undefined;
  }

  #failed(row: Key, err: unknown): void {
    if (this.#sent === row) this.#sent = undefined;
    const gone = err instanceof ScrollbackError && err.code === "not_found";
    const retry = gone ? this.#target.fallback(row) : row;
    if (retry && (!this.#wish || compareKeys(retry, this.#wish) > 0)) {
      if (this.#moves(retry)) this.#wish = retry;
    }
    if (gone && this.#pause === undefined) this.#pauseThenFlush();
  }

  #pauseThenFlush(): void {
    if (this.#disposed) return;
    clearTimeout(this.#pause);
    this.#pause = setTimeout(() => {
      this.#pause = undefined;
      this.flush();
    }, this.#everyMs);
  }

  #moves(row: Key): boolean {
    for (const past of [this.#target.marker(), this.#sent]) {
      if (past && compareKeys(row, past) <= 0) return false;
    }
    return true;
  }
}
