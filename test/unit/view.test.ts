import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Key } from "../../src/core/key.ts";
import { initialView, inView, route, type View } from "../../src/core/view.ts";
import { compareKeys } from "../support/keys.ts";
import type { Key as ModelKey } from "../support/wire.ts";

/** Keys from a small space: batches often hit the view's bounds exactly. */
const keyArb = fc.record({
  ts: fc.integer({ min: 0, max: 6 }),
  id: fc.constantFrom("a", "b", "\uD83D\uDE00", "\uFFFF"),
});
const tag = (k: ModelKey) => `${k.ts}|${k.id}`;
const sortedBatch = (maxLength: number) =>
  fc.uniqueArray(keyArb, { maxLength, selector: tag }).map((keys) => [...keys].sort(compareKeys));

/** A view a client may declare: first ≤ last (the object rejects the reverse). */
const declaredView: fc.Arbitrary<View> = fc
  .record({ a: fc.option(keyArb), b: fc.option(keyArb), live: fc.boolean() })
  .map(({ a, b, live }) => {
    if (a && b && compareKeys(a, b) > 0) return { first: b, last: a, live };
    return { first: a, last: b, live };
  });
const connectView: fc.Arbitrary<View> = fc.option(keyArb).map((newest) => initialView(newest));
/** Not made by initialView, but route takes it: an empty view that does not follow. */
const stillEmpty: View = { first: null, last: null, live: false, empty: true };
const anyView = fc.oneof(declaredView, connectView, fc.constant(stillEmpty));

/** The protocol's rules, one key at a time. */
type Fate = "push" | "shifted" | "none";

function modelFate(view: View, key: ModelKey): Fate {
  // An empty view (empty channel at connect): every message is after it.
  if (view.empty) return view.live ? "push" : "none";
  if (view.first !== null && compareKeys(key, view.first) < 0) return "shifted";
  if (view.last !== null && compareKeys(key, view.last) > 0) return view.live ? "push" : "none";
  return "push";
}

/** A live view has grown to hold everything after its last key: it holds all from its first down. */
function modelInView(view: View, key: ModelKey): boolean {
  if (view.empty) return false;
  return (
    (view.first === null || compareKeys(view.first, key) <= 0) &&
    (view.live || view.last === null || compareKeys(key, view.last) <= 0)
  );
}

/** The view after a batch: only an empty live view changes, to the bounds of what it was pushed. */
function modelNext(view: View, batch: readonly ModelKey[]): View {
  const pushed = batch.filter((k) => modelFate(view, k) === "push");
  const top = pushed.at(-1);
  if (!view.live || top === undefined) return view;
  if (view.empty) return { first: pushed[0] as ModelKey, last: top, live: true };
  return view;
}

describe("initialView", () => {
  it("holds just the newest message of the channel and is live", () => {
    const newest = { ts: 5, id: "m" };
    expect(initialView(newest)).toEqual({ first: newest, last: newest, live: true });
    expect(inView(initialView(newest), newest)).toBe(true);
    expect(inView(initialView(newest), { ts: 5, id: "l" })).toBe(false);
    // Live, it follows the bottom: what comes after the newest is pushed to it.
    expect(inView(initialView(newest), { ts: 5, id: "n" })).toBe(true);
  });

  it("is empty and live on an empty channel, holding nothing", () => {
    const view = initialView(null);
    expect(view).toEqual({ first: null, last: null, live: true, empty: true });
    expect(inView(view, { ts: 0, id: "a" })).toBe(false);
  });
});

describe("inView", () => {
  it("holds the keys from first to last inclusive, null being open, and all after first when live", () => {
    fc.assert(
      fc.property(anyView, keyArb, (view, key) => {
        expect(inView(view, key)).toBe(modelInView(view, key));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("route", () => {
  it("pushes, shifts and grows exactly as the protocol's rules say", () => {
    fc.assert(
      fc.property(anyView, sortedBatch(12), (view, batch) => {
        const routing = route(view, batch);
        const fates = batch.map((k) => modelFate(view, k));
        const pushed = fates.flatMap((f, i) => (f === "push" ? [i] : []));
        const expectedFrom = pushed[0] ?? routing.from;
        // The pushed messages are one ascending run [from, to) of the sorted batch.
        expect(routing.to - routing.from).toBe(pushed.length);
        if (pushed.length > 0) {
          expect(routing.from).toBe(expectedFrom);
          expect(pushed).toEqual(pushed.map((_, j) => expectedFrom + j));
        }
        expect(routing.shifted).toBe(fates.filter((f) => f === "shifted").length);
        expect(routing.next).toEqual(modelNext(view, batch));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps a live view holding everything it was pushed, batch after batch", () => {
    fc.assert(
      fc.property(anyView, fc.array(sortedBatch(6), { maxLength: 6 }), (start, batches) => {
        let view = start;
        let modelView = start;
        const seen = new Set<string>();
        for (const raw of batches) {
          const batch = raw.filter((k) => !seen.has(tag(k))); // a key is stored once
          for (const k of batch) seen.add(tag(k));
          const routing = route(view, batch);
          expect(routing.next).toEqual(modelNext(modelView, batch));
          for (const key of batch.slice(routing.from, routing.to)) {
            if (view.live) expect(inView(routing.next, key)).toBe(true);
          }
          view = routing.next;
          modelView = modelNext(modelView, batch);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("pushes a whole batch to a live socket of an empty channel, then follows the bottom", () => {
    const a: Key = { ts: 1, id: "a" };
    const b: Key = { ts: 2, id: "b" };
    const c: Key = { ts: 3, id: "c" };
    const early: Key = { ts: 0, id: "z" };
    const first = route(initialView(null), [a, b]);
    expect(first).toEqual({ from: 0, to: 2, shifted: 0, next: { first: a, last: b, live: true } });
    const second = route(first.next, [early, c]);
    expect(second).toEqual({ from: 1, to: 2, shifted: 1, next: { first: a, last: b, live: true } });
    // Live, it holds c although its last key is still b.
    expect(inView(second.next, c)).toBe(true);
  });

  it("leaves an empty view empty when a batch is empty", () => {
    const view = initialView(null);
    expect(route(view, [])).toEqual({ from: 0, to: 0, shifted: 0, next: view });
  });

  it("pushes nothing after the last key of a view that is not live", () => {
    const view: View = { first: { ts: 10, id: "a" }, last: { ts: 20, id: "a" }, live: false };
    const routing = route(view, [
      { ts: 5, id: "x" },
      { ts: 10, id: "a" },
      { ts: 15, id: "x" },
      { ts: 20, id: "a" },
      { ts: 20, id: "b" },
      { ts: 30, id: "x" },
    ]);
    expect(routing).toEqual({ from: 1, to: 4, shifted: 1, next: view });
  });
});
