import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ackAll,
  afterGone,
  isUnread,
  type LateTotals,
  markSeen,
  newReader,
  type Reader,
  type SeenSet,
  unreadCount,
} from "../../src/core/late.ts";

/** The store's seen table for one user, as a Set. */
class MemorySeen implements SeenSet {
  readonly set = new Set<number>();
  add(ordinal: number): boolean {
    if (this.set.has(ordinal)) return false;
    this.set.add(ordinal);
    return true;
  }
  has(ordinal: number): boolean {
    return this.set.has(ordinal);
  }
  delete(ordinal: number): void {
    this.set.delete(ordinal);
  }
}

type Step =
  | { readonly kind: "arrive"; readonly n: number }
  | { readonly kind: "see"; readonly picks: readonly number[] }
  | { readonly kind: "ack" }
  | { readonly kind: "delete"; readonly pick: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("arrive"), n: fc.integer({ min: 1, max: 5 }) }),
  },
  {
    weight: 4,
    // Fractions of lateTotal, so ordinals below the base, repeats and the newest all come up.
    arbitrary: fc.record({
      kind: fc.constant("see"),
      picks: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "ack" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("delete"),
      pick: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

const totals = (lateTotal: number, goneTotal = 0): LateTotals => ({ lateTotal, goneTotal });

/** Every ordinal the reader could be asked about, and a few past the newest. */
function expectMatchesModel(
  reader: Reader,
  seen: MemorySeen,
  lateTotals: LateTotals,
  unread: ReadonlySet<number>,
  gone: ReadonlySet<number>,
): void {
  expect(unreadCount(reader, lateTotals)).toBe(unread.size);
  for (let ordinal = 1; ordinal <= lateTotals.lateTotal; ordinal++) {
    if (gone.has(ordinal)) continue; // no message to ask about
    expect(isUnread(reader, ordinal, seen)).toBe(unread.has(ordinal));
  }
  // The watermark is never followed by a seen ordinal ...
  expect(seen.has(reader.base + 1)).toBe(false);
  // ... so the first unread (what late.next jumps to) is base + 1, unless that one was deleted.
  if (unread.size > 0 && !gone.has(reader.base + 1)) {
    expect(Math.min(...unread)).toBe(reader.base + 1);
  }
  expect(reader.goneBelow).toBe([...gone].filter((o) => o <= reader.base).length);
  // The stored count agrees with the stored set, which holds only ordinals above the base.
  expect(reader.seen).toBe(seen.set.size);
  for (const ordinal of seen.set) expect(ordinal).toBeGreaterThan(reader.base);
}

describe("late tracking", () => {
  it("counts and flags unread late messages exactly like a set of unread ordinals", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        fc.array(stepArb, { maxLength: 60 }),
        (initialLate, steps) => {
          let lateTotal = initialLate;
          // Late messages before the first connection are not unread.
          let reader = newReader(totals(lateTotal));
          const seen = new MemorySeen();
          const unread = new Set<number>();
          const gone = new Set<number>();
          // The store recounts the deleted ordinals below a watermark that moved.
          const goneUpTo = (base: number) => [...gone].filter((o) => o <= base).length;

          for (const step of steps) {
            switch (step.kind) {
              case "arrive":
                for (let i = 0; i < step.n; i++) unread.add(++lateTotal);
                break;
              case "see": {
                const ordinals = step.picks.map((f) => 1 + Math.floor(f * lateTotal));
                const valid = ordinals.filter((o) => o <= lateTotal && !gone.has(o));
                const before = reader.base;
                reader = markSeen(reader, valid, seen);
                if (reader.base !== before)
                  reader = { ...reader, goneBelow: goneUpTo(reader.base) };
                for (const o of valid) unread.delete(o);
                break;
              }
              case "ack":
                reader = ackAll(totals(lateTotal, gone.size));
                seen.set.clear(); // the caller clears the seen set
                unread.clear();
                break;
              case "delete": {
                const o = 1 + Math.floor(step.pick * lateTotal);
                if (o > lateTotal || gone.has(o)) break;
                gone.add(o);
                reader = afterGone(reader, o, seen.has(o));
                seen.delete(o); // the store drops it from every seen set
                unread.delete(o);
                break;
              }
              default: {
                const unreachable: never = step;
                throw new Error(`unknown step ${JSON.stringify(unreachable)}`);
              }
            }
            expectMatchesModel(reader, seen, totals(lateTotal, gone.size), unread, gone);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("advances the watermark over a contiguous run seen out of order", () => {
    const seen = new MemorySeen();
    let reader = newReader(totals(0));
    reader = markSeen(reader, [3, 5], seen);
    expect(reader).toEqual({ base: 0, seen: 2, goneBelow: 0 });
    reader = markSeen(reader, [2], seen);
    expect(reader).toEqual({ base: 0, seen: 3, goneBelow: 0 });
    reader = markSeen(reader, [1], seen);
    // 1, 2, 3 join the watermark; 5 waits for 4.
    expect(reader).toEqual({ base: 3, seen: 1, goneBelow: 0 });
    expect([...seen.set]).toEqual([5]);
    expect(unreadCount(reader, totals(6))).toBe(2); // 4 and 6
  });

  it("ignores ordinals at or below the watermark and repeats", () => {
    const seen = new MemorySeen();
    const reader = markSeen(newReader(totals(10)), [1, 10, 12, 12, 12], seen);
    expect(reader).toEqual({ base: 10, seen: 1, goneBelow: 0 });
    expect(unreadCount(reader, totals(15))).toBe(4); // 11, 13, 14, 15
  });

  it("counts a new reader's backlog as read and everything after it as unread", () => {
    const reader = newReader(totals(7));
    expect(unreadCount(reader, totals(7))).toBe(0);
    expect(unreadCount(reader, totals(9))).toBe(2);
    const seen = new MemorySeen();
    expect(isUnread(reader, 7, seen)).toBe(false);
    expect(isUnread(reader, 8, seen)).toBe(true);
  });

  it("reads everything on ack", () => {
    const reader = ackAll(totals(42, 5));
    expect(unreadCount(reader, totals(42, 5))).toBe(0);
    expect(unreadCount(reader, totals(43, 5))).toBe(1);
  });

  it("forgets a deleted late message for readers below, above and who saw it", () => {
    const seen = new MemorySeen();
    let reader = markSeen(newReader(totals(2)), [5], seen); // unread: 3, 4, 6
    expect(unreadCount(reader, totals(6))).toBe(3);
    reader = afterGone(reader, 4, false); // unread → 3, 6
    expect(unreadCount(reader, totals(6, 1))).toBe(2);
    reader = afterGone(reader, 5, true); // seen one leaves the seen set
    seen.delete(5);
    expect(unreadCount(reader, totals(6, 2))).toBe(2);
    reader = afterGone(reader, 1, false); // below the base: counted below
    expect(reader.goneBelow).toBe(1);
    expect(unreadCount(reader, totals(6, 3))).toBe(2);
  });
});
