/**
 * What a client holds, written from docs/protocol.md alone: a run of messages at
 * absolute positions that takes `insert`, `remove`, `update` and `status`
 * pushes and a `resumed` reply the way the protocol says a client applies
 * them. The tests compare
 * it with a fresh page over the same range: after a resume, a client must
 * hold exactly what it would have held had it never been away.
 */
import { expect } from "vitest";
import { compareKeys, keyOf } from "./keys.ts";
import type { Frame, Key, PageBody, WireMessage } from "./wire.ts";

/** The frames a held run takes. */
const APPLIED: readonly Frame["type"][] = ["insert", "remove", "update", "status", "resumed"];

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

  /**
   * Applies a push or a `resumed` reply; frames of other types are ignored.
   * Removed ids are dropped (the messages after each move up a place), then
   * the net shift moves `start`, then new messages are merged and changed
   * ones replaced, each where its position says.
   */
  apply(frame: Frame): void {
    if (!APPLIED.includes(frame.type)) return;
    if (frame.type === "remove" || frame.type === "resumed") {
      const gone = new Set(frame.type === "remove" ? frame.ids : frame.removed);
      this.messages = this.messages.filter((m) => !gone.has(m.id));
    }
    if (frame.type === "status" || frame.type === "resumed") this.start += frame.shifted;
    if (frame.type === "insert" || frame.type === "resumed") this.#merge(frame.messages);
    if (frame.type === "update" || frame.type === "resumed") {
      this.#replace(frame.type === "update" ? frame.messages : frame.updated);
    }
    if (frame.type !== "update" && "total" in frame) this.total = frame.total;
    if ("seq" in frame) this.seq = Math.max(this.seq, frame.seq);
  }

  /** Applies one group's pushes: `remove`, then `status` (the shift), then `insert` and `update`. */
  applyBatch(frames: readonly Frame[]): void {
    const rank = (f: Frame) => ["remove", "status", "insert", "update"].indexOf(f.type);
    for (const f of [...frames].sort((a, b) => rank(a) - rank(b))) this.apply(f);
  }

  #merge(incoming: readonly WireMessage[]): void {
    const held = new Map(this.messages.map((m) => [m.id, m]));
    for (const { position: _, ...m } of incoming) held.set(m.id, m);
    this.messages = [...held.values()].sort(compareKeys);
    this.#expectPlaced(incoming);
  }

  /** Changed messages replace the ones held (a message not held is not taken). */
  #replace(incoming: readonly WireMessage[]): void {
    const changed = new Map(incoming.map(({ position: _, ...m }) => [m.id, m]));
    this.messages = this.messages.map((m) => changed.get(m.id) ?? m);
    this.#expectPlaced(incoming.filter((m) => this.messages.some((h) => h.id === m.id)));
  }

  /** Every pushed message said where it sits; the run must agree once shifted. */
  #expectPlaced(incoming: readonly WireMessage[]): void {
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
