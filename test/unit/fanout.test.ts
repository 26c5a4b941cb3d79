import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_LATEST, planPushes } from "../../src/core/fanout.ts";
import type { View } from "../../src/core/view.ts";
import { compareKeys } from "../support/keys.ts";
import type { Key as ModelKey } from "../support/wire.ts";

const keyArb = fc.record({
  ts: fc.integer({ min: 0, max: 8 }),
  id: fc.constantFrom("a", "b", "c", "\uD83D\uDE00"),
});
const tag = (k: ModelKey) => `${k.ts}|${k.id}`;

const viewArb: fc.Arbitrary<View> = fc.oneof(
  fc
    .record({ a: fc.option(keyArb), b: fc.option(keyArb), live: fc.boolean() })
    .map(({ a, b, live }) =>
      a && b && compareKeys(a, b) > 0 ? { first: b, last: a, live } : { first: a, last: b, live },
    ),
  fc.constant<View>({ first: null, last: null, live: true, empty: true }),
);

/** The protocol, one key at a time: pushed when inside the view, or after it when live. */
function pushed(view: View, key: ModelKey): boolean {
  if (view.empty) return view.live;
  if (view.first && compareKeys(key, view.first) < 0) return false;
  if (view.last && compareKeys(key, view.last) > 0) return view.live;
  return true;
}

describe("planPushes", () => {
  it("plans each view's run, shift, latest and seen ordinals, and positions exactly for what is sent", () => {
    fc.assert(
      fc.property(
        fc.array(viewArb, { maxLength: 8 }),
        // A batch in arrival order, each message late (with its ordinal) or not.
        fc
          .uniqueArray(fc.record({ key: keyArb, late: fc.boolean() }), {
            maxLength: 14,
            selector: (m) => tag(m.key),
          })
          .map((batch) => {
            let ordinal = 100;
            return batch.map((m) => ({ key: m.key, lateNo: m.late ? ++ordinal : null }));
          }),
        (views, arrivals) => {
          const sorted = [...arrivals].sort((x, y) => compareKeys(x.key, y.key));
          const indexOf = (m: (typeof arrivals)[number]) => sorted.indexOf(m);
          const plan = planPushes(views, arrivals);
          expect(plan.order.map((i) => arrivals[i])).toEqual(sorted);

          const needed = new Set<number>();
          views.forEach((view, v) => {
            const push = plan.pushes[v];
            if (!push) throw new Error("a view without a push");
            const mine = sorted.flatMap((m, i) => (pushed(view, m.key) ? [i] : []));
            expect(push.to - push.from).toBe(mine.length);
            if (mine.length > 0) expect(push.from).toBe(mine[0]);
            const shifted =
              view.empty || !view.first
                ? 0
                : sorted.filter((m) => compareKeys(m.key, view.first as ModelKey) < 0).length;
            expect(push.shifted).toBe(shifted);
            const latest = arrivals
              .filter((m) => m.lateNo !== null && !mine.includes(indexOf(m)))
              .reverse()
              .slice(0, MAX_LATEST)
              .map(indexOf);
            expect(push.latest).toEqual(latest);
            const seen = mine.flatMap((i) => {
              const lateNo = sorted[i]?.lateNo;
              return lateNo === null || lateNo === undefined ? [] : [lateNo];
            });
            expect([...push.seen].sort()).toEqual(seen.sort());
            for (const i of [...mine, ...latest]) needed.add(i);
          });
          expect(plan.needed).toEqual([...needed].sort((a, b) => a - b));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** A deleted or changed message is the view's when it lies inside it (or after it, live); never an empty view's. */
function holds(view: View, key: ModelKey): boolean {
  if (view.empty) return false;
  return pushed(view, key);
}

describe("planPushes with removes and updates", () => {
  it("routes each view's removed and updated keys and nets removes out of shifted", () => {
    let checks = 0;
    const keys = fc.uniqueArray(keyArb, { maxLength: 10, selector: tag });
    fc.assert(
      fc.property(
        fc.array(viewArb, { maxLength: 6 }),
        keys,
        keys,
        keys,
        (views, inserted, removed, updated) => {
          const sortedRemoved = [...removed].sort(compareKeys);
          const sortedUpdated = [...updated].sort(compareKeys);
          const plan = planPushes(
            views,
            inserted.map((key) => ({ key, lateNo: null })),
            { removed: sortedRemoved, updated: sortedUpdated },
          );
          const needed = new Set<number>();
          views.forEach((view, k) => {
            const push = plan.pushes[k];
            if (!push) throw new Error("a push a view");
            const gone = sortedRemoved.slice(push.removed.from, push.removed.to);
            expect(gone).toEqual(sortedRemoved.filter((key) => holds(view, key)));
            const changed = sortedUpdated.slice(push.updated.from, push.updated.to);
            expect(changed).toEqual(sortedUpdated.filter((key) => holds(view, key)));
            for (let i = push.updated.from; i < push.updated.to; i++) needed.add(i);
            const countAbove = (list: readonly ModelKey[]) =>
              view.empty || !view.first
                ? 0
                : list.filter((key) => compareKeys(key, view.first as ModelKey) < 0).length;
            expect(push.shifted).toBe(countAbove(inserted) - countAbove(removed));
            checks += 3;
          });
          expect(plan.updatedNeeded).toEqual([...needed].sort((a, b) => a - b));
          checks++;
        },
      ),
      { numRuns: 400 },
    );
    console.log(`planPushes with changes: ${checks} checks`);
  });
});
