/**
 * What a client holds, written from PROTOCOL.md alone: a run of messages at
 * absolute positions that takes `insert` and `status` pushes and a `resumed`
 * reply the way the protocol says a client applies them. The tests compare
 * it with a fresh page over the same range: after a resume, a client must
 * hold exactly what it would have held had it never been away.
 */
import { expect } from "vitest";
import { compareKeys, keyOf } from "./keys.ts";
import type { Frame, Key, PageBody, WireMessage } from "./wire.ts";

export class Held {
  /** The position of messages[0]. */
  start: number;
  messages: WireMessage[];
  total: number;
  seq: number;

  constructor(page: PageBody) {
    this.start = page.start;
    this.messages = page.messages.map(({ unread: _, ...m }) => m);
    this.total = page.total;
    this.seq = page.seq;
  }

  get first(): Key {
    return keyOf(this.messages[0] as WireMessage);
  }

  get last(): Key {
    return keyOf(this.messages.at(-1) as WireMessage);
  }

  /** Applies a push or a `resumed` reply; frames of other types are ignored. */
  apply(frame: Frame): void {
    if (frame.type === "status" || frame.type === "resumed") this.start += frame.shifted;
    if (frame.type === "insert" || frame.type === "resumed") this.#merge(frame.messages);
    if (frame.type === "insert" || frame.type === "status" || frame.type === "resumed") {
      this.total = frame.total;
      this.seq = Math.max(this.seq, frame.seq);
    }
  }

  /** Applies one batch's pushes: its `status` (the shift) before its `insert`. */
  applyBatch(frames: readonly Frame[]): void {
    for (const f of frames) if (f.type === "status") this.apply(f);
    for (const f of frames) if (f.type !== "status") this.apply(f);
  }

  #merge(incoming: readonly WireMessage[]): void {
    const held = new Map(this.messages.map((m) => [m.id, m]));
    for (const { position: _, ...m } of incoming) held.set(m.id, m);
    this.messages = [...held.values()].sort(compareKeys);
    // Every pushed message said where it sits; the run must agree once shifted.
    for (const m of incoming) {
      expect(this.start + this.messages.findIndex((h) => h.id === m.id), m.id).toBe(m.position);
    }
  }

  /** Asserts the run equals `fresh`, a page over the same range read now. */
  expectEquals(fresh: PageBody): void {
    expect({ start: this.start, total: this.total, ids: this.messages.map((m) => m.id) }).toEqual({
      start: fresh.start,
      total: fresh.total,
      ids: fresh.messages.map((m) => m.id),
    });
    expect(this.messages).toEqual(fresh.messages.map(({ unread: _, ...m }) => m));
  }
}
