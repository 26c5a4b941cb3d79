/**
 * The window model (src/client/window.ts) against an independent sorted-array
 * model of the channel (window-model.ts): random pages, jumps, extensions,
 * pushes with late arrivals and chunks, trims, drops and resumes, driven the
 * way ChannelWindow drives it. After every step the window must equal the
 * model's slice at the same positions: ids, positions, total.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { FIRST_ITEM_INDEX, MessageWindow } from "../../src/client/window.ts";
import { wireMsg } from "../support/data.ts";
import { ChannelModel, type DeclaredView, NO_COUNTS } from "./window-model.ts";

let checks = 0;
afterAll(() => console.log(`window model: ${checks} state checks against the sorted-array model`));

/** The window equals the model's slice at its positions. */
function check(w: MessageWindow, model: ChannelModel): void {
  if (w.frozen) return;
  checks++;
  expect(w.total).toBe(model.list.length);
  const slice = model.list.slice(w.start, w.end).map((m) => m.id);
  expect(w.messages.map((m) => m.id)).toEqual(slice);
  expect(w.start + w.messages.length).toBe(w.end);
  for (const m of w.messages) expect(w.positionOf(m.id)).toBe(model.positionOf(m.id));
  if (w.live) expect(w.end).toBe(w.total);
  expect(w.seq).toBe(model.seq);
}

type Op =
  | { kind: "batch"; items: { late: boolean; r: number }[] }
  | { kind: "chunk"; at: number; n: number }
  | { kind: "jump"; at: number; before: number; after: number; live: boolean; during: number }
  | { kind: "extend"; up: boolean; n: number; during: number }
  | { kind: "trim"; max: number; reader: number }
  | { kind: "redeclare" }
  | { kind: "drop"; batches: number; limit: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("batch" as const),
    items: fc.array(fc.record({ late: fc.boolean(), r: fc.nat(1_000) }), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({
    kind: fc.constant("chunk" as const),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    n: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    kind: fc.constant("jump" as const),
    at: fc.double({ min: 0, max: 1.2, noNaN: true }),
    before: fc.nat(30),
    after: fc.nat(30),
    live: fc.boolean(),
    during: fc.nat(3),
  }),
  fc.record({
    kind: fc.constant("extend" as const),
    up: fc.boolean(),
    n: fc.integer({ min: 1, max: 30 }),
    during: fc.nat(3),
  }),
  fc.record({
    kind: fc.constant("trim" as const),
    max: fc.integer({ min: 1, max: 60 }),
    reader: fc.double({ min: 0, max: 1, noNaN: true }),
  }),
  fc.constant({ kind: "redeclare" as const }),
  fc.record({
    kind: fc.constant("drop" as const),
    batches: fc.nat(4),
    limit: fc.constantFrom(3, 20, 1_000),
  }),
);

/** A client over the model: its declared view, and the window it feeds. */
class Harness {
  readonly model = new ChannelModel();
  readonly w = new MessageWindow();
  /** The view the server holds for this socket. */
  declared: DeclaredView = { first: null, last: null, live: true };
  #ts = 1_000;
  #rand: () => number;

  constructor(seed: number) {
    let s = seed >>> 0 || 1;
    // A tiny xorshift: ts values for late arrivals, reproducible from the seed.
    this.#rand = () => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    this.w.replace(this.model.page(0, 0, 0), { live: true });
  }

  /** Stores a batch; the socket gets its pushes unless `deliver` is false. */
  batch(items: readonly { late: boolean; r: number }[], deliver = true): void {
    const tss = items.map(({ late, r }) => {
      if (late) return Math.floor(this.#rand() * this.#ts);
      this.#ts += r % 3; // equal ts are common: the id decides
      return this.#ts;
    });
    this.store(tss, deliver);
  }

  store(tss: readonly number[], deliver = true): void {
    const stored = this.model.insert(tss);
    if (!deliver) return;
    for (const frame of this.model.pushes(this.declared, stored)) {
      if (frame.type === "insert") this.w.applyInsert(frame);
      else this.w.applyStatus(frame);
    }
  }

  /** Batches that land while a view change is in flight: pushed for the old view. */
  during(n: number): void {
    for (let i = 0; i < n; i++) this.batch([{ late: i % 2 === 0, r: i }]);
  }

  /** Declares the window's view with `resume` since its seq, as ChannelWindow does. */
  declare(during: number, limit = 1_000): void {
    this.w.freeze();
    this.during(during);
    this.declared = this.w.view();
    const outcome = this.w.applyResumed(this.model.resumed(this.declared, this.w.seq, limit));
    if (outcome.complete) return;
    // Too much missed: page again around the first message held (or the newest).
    const anchor = outcome.anchor;
    const at = anchor === "newest" ? this.model.list.length - 1 : this.model.positionOf(anchor.id);
    expect(at).toBeGreaterThanOrEqual(0);
    const page = this.model.page(at, anchor === "newest" ? 20 : 0, 20);
    this.w.replace(page, { live: anchor === "newest" && !page.hasNewer });
    this.declare(0);
  }

  run(op: Op): void {
    const { w, model } = this;
    switch (op.kind) {
      case "batch":
        this.batch(op.items);
        return;
      case "chunk": {
        // A peer's conversation arriving late at once: one spot, consecutive ts.
        const ts = Math.floor(op.at * this.#ts);
        this.store(Array.from({ length: op.n }, (_, i) => ts + i));
        return;
      }
      case "jump": {
        const n = model.list.length;
        const page = model.page(Math.floor(op.at * n), op.before, op.after);
        w.replace(page, { live: op.live && !page.hasNewer });
        this.declare(op.during);
        return;
      }
      case "extend": {
        const edge = op.up ? w.messages[0] : w.messages.at(-1);
        if (!edge) return;
        const at = model.positionOf(edge.id);
        const page = op.up ? model.page(at, op.n, 0) : model.page(at, 0, op.n);
        const before = w.firstItemIndex;
        const start = w.start;
        expect(w.merge(page)).toBe(true);
        expect(before - w.firstItemIndex).toBe(start - w.start);
        this.declare(op.during);
        return;
      }
      case "trim": {
        const before = w.firstItemIndex;
        const dropped = w.trim(op.max, w.start + Math.floor(op.reader * w.messages.length));
        expect(w.firstItemIndex - before).toBe(dropped);
        expect(w.messages.length).toBeLessThanOrEqual(Math.max(op.max, 0));
        return;
      }
      case "redeclare":
        // A plain `view`: only ever shrinks what the server holds to what the window holds.
        this.declared = w.view();
        return;
      case "drop":
        for (let i = 0; i < op.batches; i++)
          this.batch(
            [
              { late: i % 2 === 1, r: 1 },
              { late: false, r: 2 },
            ],
            false,
          );
        this.declare(0, op.limit);
        return;
      default: {
        const unreachable: never = op;
        throw new Error(`unknown op ${JSON.stringify(unreachable)}`);
      }
    }
  }
}

describe("MessageWindow against the sorted-array model", () => {
  it("equals the model's slice after every page, push, trim, jump and resume", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1 }),
        fc.array(opArb, { minLength: 5, maxLength: 60, size: "max" }),
        (seed, ops) => {
          const h = new Harness(seed);
          // Some history first, so jumps have somewhere to land.
          h.batch(Array.from({ length: 30 }, (_, i) => ({ late: false, r: i })));
          check(h.w, h.model);
          for (const op of ops) {
            h.run(op);
            check(h.w, h.model);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(checks).toBeGreaterThan(5_000);
  }, 120_000);
});

const msg = wireMsg;

describe("MessageWindow", () => {
  const page = (ids: string[], start: number, total: number, seq: number) => ({
    messages: ids.map((id, i) => msg(id, (start + i) * 10)),
    start,
    total,
    seq,
  });

  it("moves start by exactly what a live trim cuts above (the demo's 600-row bug)", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c"], 7, 10, 5), { live: true });
    w.applyInsert({
      type: "insert",
      messages: [msg("d", 1_000, 10), msg("e", 1_001, 11)],
      total: 12,
      seq: 6,
    });
    expect(w.trim(3)).toBe(2);
    expect([w.start, w.messages.map((m) => m.id)]).toEqual([9, ["c", "d", "e"]]);
    expect(w.keyAt(11)).toBe("e");
    expect(w.firstItemIndex).toBe(FIRST_ITEM_INDEX + 2);
  });

  it("applies a batch's shift once when both its insert and its status arrive", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 5, 10, 1));
    // The batch: one message above the window, one inside it.
    w.applyInsert({ type: "insert", messages: [msg("ab", 55, 7)], total: 12, seq: 2 });
    w.applyStatus({ type: "status", total: 12, ...NO_COUNTS, lateUnread: 1, shifted: 1, seq: 2 });
    expect([w.start, w.messages.map((m) => m.id), w.lateUnread]).toEqual([6, ["a", "ab", "b"], 1]);
  });

  it("ignores pushes a page already includes", () => {
    const w = new MessageWindow().replace(page(["a", "b"], 5, 10, 4));
    expect(
      w.applyStatus({ type: "status", total: 10, ...NO_COUNTS, lateUnread: 2, shifted: 3, seq: 4 }),
    ).toBe(false);
    expect([w.start, w.lateUnread]).toEqual([5, 2]);
  });

  it("answers an incomplete resume with the first held id, or newest when live", () => {
    const resumed = {
      complete: false,
      seq: 9,
      total: 9,
      ...NO_COUNTS,
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    };
    const parked = new MessageWindow().replace(page(["a", "b"], 2, 5, 1));
    expect(parked.applyResumed(resumed)).toEqual({ complete: false, anchor: { id: "a" } });
    const live = new MessageWindow().replace(page(["a", "b"], 3, 5, 1), { live: true });
    expect(live.applyResumed(resumed)).toEqual({ complete: false, anchor: "newest" });
  });

  it("answers what a virtual list asks: held, at, key, index", () => {
    const w = new MessageWindow().replace(page(["a", "b", "c"], 10, 100, 1));
    expect([w.has(9), w.has(10), w.has(12), w.has(13)]).toEqual([false, true, true, false]);
    expect(w.at(11)?.id).toBe("b");
    expect([w.keyAt(11), w.keyAt(50)]).toEqual(["b", "#50"]);
    expect([w.indexOf("c"), w.positionOf("c"), w.positionOf("z")]).toEqual([2, 12, undefined]);
    expect(w.merge(page(["x", "y", "a"], 8, 100, 1))).toBe(true);
    expect(w.firstItemIndex).toBe(FIRST_ITEM_INDEX - 2);
    expect(w.merge(page(["q"], 50, 100, 1))).toBe(false);
    expect(w.merge(page(["b"], 11, 100, 2))).toBe(false);
  });
});
