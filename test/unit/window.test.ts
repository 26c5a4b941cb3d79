/**
 * The window model (src/client/window.ts) against an independent
 * sorted-array model of the channel (window-model.ts, driven by
 * window-harness.ts): random groups of inserts, deletes (on held rows,
 * above, below and next to the window, runs of them, of rows trimmed off),
 * edits and reactions, late chunks, jumps, extensions, trims, declarations
 * by `resume` (one while a group is half delivered), connections dropped
 * between groups or inside one, complete and incomplete resumes. After
 * every step the window must equal the model's slice at the same
 * positions: ids, text, edits, reactions, positions, total; and the
 * reader's row keeps its place and its react-virtuoso index. Protocol 1.2's
 * reader's place runs through it all: late messages and reactions to the
 * user's messages seen or not, the read marker moved here (a `read` reply)
 * and on another tab (a `status`, also while a declaration is in flight or
 * the connection is down: then the `hello` tells), that tab's views and
 * acks; after every step the window's three counts, marker and first unread
 * position equal the model's.
 */
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MessageWindow } from "../../src/client/window.ts";
import { FIRST_ITEM_INDEX } from "../../src/client/window-rows.ts";
import { wireMsg } from "../support/data.ts";
import { compareKeys } from "../support/keys.ts";
import { groupArb, Harness, type Spec, sameAsModel } from "./window-harness.ts";
import { inView, NO_COUNTS } from "./window-model.ts";

const seen = {
  checks: 0,
  removes: 0,
  updates: 0,
  cuts: 0,
  splits: 0,
  readerChecks: 0,
  unread: 0,
  reactions: 0,
  late: 0,
  badgeStatuses: 0,
};
afterAll(() =>
  console.log(
    `window model: ${seen.checks} state checks against the sorted-array model, ` +
      `${seen.readerChecks} reader checks; ${seen.removes} remove and ${seen.updates} update frames applied, ` +
      `${seen.cuts} groups cut by a drop, ${seen.splits} declarations inside a group; ` +
      `the reader's place checked ${seen.checks} times: ${seen.unread} with a first unread message ` +
      `below the marker, ${seen.reactions} with unread reactions, ${seen.late} with unread late messages; ` +
      `${seen.badgeStatuses} statuses after groups of reactions alone`,
  ),
);

function check(h: Harness): void {
  if (h.w.frozen) return;
  seen.checks++;
  sameAsModel(h.w, h.model);
  const { reader } = h.model;
  const { w } = h;
  const place = { ...reader.counts(), read: reader.marker, firstUnread: reader.firstUnread() };
  expect({
    lateUnread: w.lateUnread,
    reactionsUnread: w.reactionsUnread,
    unread: w.unread,
    read: w.read,
    firstUnread: w.firstUnread,
  }).toEqual(place);
  if (place.read && place.firstUnread !== null) seen.unread++;
  if (place.reactionsUnread > 0) seen.reactions++;
  if (place.lateUnread > 0) seen.late++;
  // What the window remembers above its run is exactly the declared view's rows there: no more (memory), no less.
  const top = h.w.view().first;
  const above = top
    ? h.model.list.filter((m) => inView(h.declared, m) && compareKeys(m, top) < 0)
    : [];
  expect(h.w.hiddenAbove).toBe(above.length);
  // Arrivals that push nothing (a reaction that changes no count) take a seq the window never sees.
  expect(h.w.seq).toBeLessThanOrEqual(h.model.seq);
}

type Op =
  | { kind: "group"; specs: Spec[] }
  | { kind: "cut"; specs: Spec[]; keep: number; limit: number }
  | { kind: "chunk"; at: number; n: number }
  | { kind: "jump"; at: number; before: number; after: number; live: boolean; during: number }
  | { kind: "extend"; up: boolean; n: number; during: number }
  | { kind: "trim"; max: number; reader: number }
  | { kind: "read"; at: number }
  | { kind: "redeclare"; specs: Spec[]; keep: number; during: number }
  | { kind: "drop"; groups: Spec[][]; limit: number; reads: number[] }
  | { kind: "mark"; at: number; here: boolean }
  | { kind: "viewThere"; at: number; n: number }
  | { kind: "ack"; what: "late" | "reactions"; here: boolean };

const fraction = (max = 1) => fc.double({ min: 0, max, noNaN: true });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("group" as const), specs: groupArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("cut" as const),
      specs: groupArb,
      keep: fc.nat(3),
      limit: fc.constantFrom(2, 1_000),
    }),
  },
  fc.record({
    kind: fc.constant("chunk" as const),
    at: fraction(),
    n: fc.integer({ min: 1, max: 40 }),
  }),
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("jump" as const),
      at: fraction(1.2),
      before: fc.nat(30),
      after: fc.nat(30),
      live: fc.boolean(),
      during: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("extend" as const),
      up: fc.boolean(),
      n: fc.integer({ min: 1, max: 30 }),
      during: fc.nat(3),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("trim" as const),
      max: fc.integer({ min: 1, max: 60 }),
      reader: fraction(),
    }),
  },
  fc.record({ kind: fc.constant("read" as const), at: fraction() }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("redeclare" as const),
      specs: groupArb,
      keep: fc.nat(3),
      during: fc.nat(3),
    }),
  },
  fc.record({
    kind: fc.constant("drop" as const),
    groups: fc.array(groupArb, { maxLength: 4 }),
    limit: fc.constantFrom(3, 20, 1_000),
    // The other tab reads while this one is away: the `hello` tells the marker.
    reads: fc.array(fraction(), { maxLength: 2 }),
  }),
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("mark" as const),
      // Mostly near the bottom, where readers read; sometimes backwards.
      at: fc.oneof(fraction(), fc.double({ min: 0.8, max: 1, maxExcluded: true, noNaN: true })),
      here: fc.boolean(),
    }),
  },
  fc.record({ kind: fc.constant("viewThere" as const), at: fraction(), n: fc.nat(20) }),
  fc.record({
    kind: fc.constant("ack" as const),
    what: fc.constantFrom("late" as const, "reactions" as const),
    here: fc.boolean(),
  }),
);

/** A whole group: the window equals the model, and the reader's row kept its place and item index. */
function deliver(h: Harness, specs: readonly Spec[]): void {
  const { w } = h;
  const itemIndex = w.firstItemIndex + (w.reader - w.start);
  const row = w.at(w.reader)?.id;
  const frames = h.store(specs);
  for (const frame of frames) {
    if (h.apply(frame) && frame.type === "remove") seen.removes++;
    if (frame.type === "update") seen.updates++;
  }
  // A group of edits and reactions alone that changed the user's reactionsUnread: a status anyway.
  if (
    frames.at(-1)?.type === "status" &&
    frames.every((f) => f.type === "update" || f.type === "status")
  )
    seen.badgeStatuses++;
  seen.readerChecks++;
  expect(w.firstItemIndex + (w.reader - w.start)).toBe(itemIndex);
  if (row !== undefined && w.indexOf(row) >= 0) expect(w.at(w.reader)?.id).toBe(row);
}

function run(h: Harness, op: Op): void {
  const { w, model } = h;
  switch (op.kind) {
    case "group":
      deliver(h, op.specs);
      return;
    case "cut": {
      // The connection drops inside a group: only its first frames arrived.
      const frames = h.store(op.specs);
      if (op.keep < frames.length) seen.cuts++;
      for (const frame of frames.slice(0, op.keep)) h.apply(frame);
      h.reconnect(op.limit);
      return;
    }
    case "chunk": {
      // A peer's conversation arriving late at once: one spot, consecutive ts.
      const ts = Math.floor(op.at * h.ts(false, 0));
      h.chunk(Array.from({ length: op.n }, (_, i) => ts + i));
      return;
    }
    case "jump": {
      const page = model.page(Math.floor(op.at * model.list.length), op.before, op.after);
      w.replace(page, { live: op.live && !page.hasNewer });
      h.declare(op.during);
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
      h.declare(op.during);
      return;
    }
    case "trim": {
      const before = w.firstItemIndex;
      const dropped = w.trim(op.max, w.start + Math.floor(op.reader * w.messages.length));
      expect(w.firstItemIndex - before).toBe(dropped);
      expect(w.messages.length).toBeLessThanOrEqual(Math.max(op.max, 0));
      return;
    }
    case "read":
      w.setReader(w.start + Math.floor(op.at * w.messages.length));
      return;
    case "redeclare": {
      // A declaration sent while a group is half applied: the rest of it arrives before the reply.
      const frames = h.store(op.specs);
      if (op.keep > 0 && op.keep < frames.length) seen.splits++;
      for (const frame of frames.slice(0, op.keep)) h.apply(frame);
      h.declare(op.during, 1_000, frames.slice(op.keep));
      return;
    }
    case "drop":
      for (const specs of op.groups) h.store(specs);
      for (const at of op.reads) h.readThere(at, false);
      h.reconnect(op.limit);
      return;
    case "mark":
      if (op.here) h.readHere(op.at);
      else h.readThere(op.at);
      return;
    case "viewThere":
      h.viewThere(op.at, op.n);
      return;
    case "ack":
      h.ack(op.what, op.here);
      return;
    default: {
      const unreachable: never = op;
      throw new Error(`unknown op ${JSON.stringify(unreachable)}`);
    }
  }
}

describe("MessageWindow against the sorted-array model", () => {
  it("equals the model's slice after every group, page, trim, jump, drop and resume", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1 }),
        fc.array(opArb, { minLength: 5, maxLength: 60, size: "max" }),
        (seed, ops) => {
          const h = new Harness(new MessageWindow(), seed);
          // Some history first, so jumps have somewhere to land.
          h.group(
            Array.from({ length: 30 }, (_, i) => ({ kind: "insert" as const, late: false, r: i })),
          );
          check(h);
          for (const op of ops) {
            run(h, op);
            check(h);
          }
        },
      ),
      { numRuns: 300 },
    );
    expect(seen.checks).toBeGreaterThan(5_000);
    expect(seen.cuts).toBeGreaterThan(100);
    expect(seen.splits).toBeGreaterThan(100);
    expect(Math.min(seen.unread, seen.late)).toBeGreaterThan(1_000);
    expect(Math.min(seen.reactions, seen.badgeStatuses)).toBeGreaterThan(100);
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
    expect(w.merge(page(["q"], 50, 100, 1))).toBe(false);
    // Read before what the window applied: positions may differ.
    expect(
      new MessageWindow().replace(page(["a"], 10, 100, 3)).merge(page(["b"], 11, 100, 2)),
    ).toBe(false);
    expect(w.merge(page(["x", "y", "a"], 8, 100, 1))).toBe(true);
    expect(w.firstItemIndex).toBe(FIRST_ITEM_INDEX - 2);
    // It holds more than its view now: new groups wait for the declaration.
    expect(w.frozen).toBe(true);
  });
});
