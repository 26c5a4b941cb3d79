/**
 * What the client has delivered to the app, by `seq` (protocol 1.1's
 * watermark, with 1.2's `remove` and `update`): the last seq delivered, the
 * point a reconnect resumes from, and which pushes a `resume` in flight
 * replays (they are held back). Pure: the socket client feeds it frames.
 */
import type { ServerFrame } from "../protocol/schemas.ts";

/** The frames a group pushes, all carrying the group's seq. */
export type PushFrame = Extract<ServerFrame, { type: "insert" | "remove" | "update" | "status" }>;

export function isPush(frame: ServerFrame): frame is PushFrame {
  const { type } = frame;
  return type === "insert" || type === "remove" || type === "update" || type === "status";
}

export class Watermark {
  #seq = 0;
  #resumeFrom = 0;
  /** `resume` requests in flight, rid → since. */
  readonly #resuming = new Map<string, number>();

  /** The last seq delivered: every push, page, `view` and `resumed`. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * What a reconnect resumes from: every group up to it was delivered whole.
   * A group's frames leave together, but a connection can drop between two
   * of them; until its `status` comes (a group of edits and reactions alone
   * never has one) a resume from before it replays it, and every frame of it
   * is idempotent for a window on the same view (`MessageWindow.resumeFrom`
   * counts the same way).
   */
  get resumeFrom(): number {
    return this.#resumeFrom;
  }

  /** The first `hello`: the socket's initial view starts there. */
  greeted(seq: number): void {
    this.#seq = this.#resumeFrom = seq;
  }

  /** A `page`, `view` or `resumed` reply: every group up to its seq was pushed, whole, before it. */
  replied(seq: number): void {
    this.#seq = Math.max(this.#seq, seq);
    this.#resumeFrom = Math.max(this.#resumeFrom, seq);
  }

  /**
   * A push: false when a `resume` in flight replays it (its group came after
   * that resume's `since`), so it must be held back. The rest of a group
   * begun before (seq = since) is in no reply: it passes. So does a `status`
   * with `read` (protocol 1.2: another socket's `read` moved the marker): it
   * belongs to no group and no reply repeats the marker; held back, it
   * moves no watermark.
   */
  pushed(frame: PushFrame): boolean {
    for (const since of this.#resuming.values()) {
      if (frame.seq > since) return frame.type === "status" && frame.read !== undefined;
    }
    this.#seq = Math.max(this.#seq, frame.seq);
    if (frame.type === "status") this.#resumeFrom = Math.max(this.#resumeFrom, frame.seq);
    return true;
  }

  /** A `resume` went out: a new view from `since` on, so a reconnect resumes from there. */
  resuming(rid: string, since: number): void {
    this.#resuming.set(rid, since);
    this.#resumeFrom = since;
  }

  /** A `resume` was answered, timed out or lost. */
  settled(rid: string): void {
    this.#resuming.delete(rid);
  }

  /** The connection is gone: no resume is in flight any more. */
  lost(): void {
    this.#resuming.clear();
  }
}
