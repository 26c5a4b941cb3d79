import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  adjustCounts,
  changeKey,
  editWins,
  mayChange,
  type ReactionCounts,
  reactionWins,
} from "../../src/core/changes.ts";
import { markPath, ORDINAL_CAP, prefixPath } from "../../src/core/ordinal-counts.ts";

const stampArb = fc.record({
  ts: fc.integer({ min: 0, max: 5 }),
  text: fc.constantFrom("a", "b", "ab"),
});
const reactArb = fc.record({ ts: fc.integer({ min: 0, max: 5 }), on: fc.boolean() });

/** The winner of a set by folding `wins` in the given order. */
function fold<T>(items: readonly T[], wins: (a: T, b: T | null) => boolean): T | null {
  let best: T | null = null;
  for (const item of items) if (wins(item, best)) best = item;
  return best;
}

describe("last writer wins", () => {
  it("picks the same edit and the same reaction whatever the order and repeats", () => {
    fc.assert(
      fc.property(fc.array(stampArb, { minLength: 1, maxLength: 8 }), fc.nat(), (edits, seed) => {
        const shuffled = [...edits, ...edits.slice(0, seed % edits.length)].sort(
          (a, b) =>
            ((a.ts * 7 + a.text.length + seed) % 5) - ((b.ts * 7 + b.text.length + seed) % 5),
        );
        // The model: the greatest (ts, text).
        const max = [...edits]
          .sort((a, b) => a.ts - b.ts || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
          .at(-1);
        expect(fold(edits, editWins)).toEqual(max);
        expect(fold(shuffled, editWins)).toEqual(max);
      }),
    );
    fc.assert(
      fc.property(fc.array(reactArb, { minLength: 1, maxLength: 8 }), (stamps) => {
        const latest = Math.max(...stamps.map((s) => s.ts));
        const on = stamps.some((s) => s.ts === latest && s.on);
        expect(fold(stamps, reactionWins)).toEqual({ ts: latest, on });
        expect(fold([...stamps].reverse(), reactionWins)).toEqual({ ts: latest, on });
      }),
    );
  });

  it("does not let a repeat or an equal stamp win again", () => {
    expect(editWins({ ts: 1, text: "x" }, { ts: 1, text: "x" })).toBe(false);
    expect(reactionWins({ ts: 1, on: true }, { ts: 1, on: true })).toBe(false);
    expect(reactionWins({ ts: 1, on: false }, { ts: 1, on: true })).toBe(false);
    expect(reactionWins({ ts: 1, on: true }, { ts: 1, on: false })).toBe(true);
  });
});

describe("mayChange", () => {
  const author = "alice";
  it("lets only the author edit, the author or a moderator delete, anyone react", () => {
    const as = (user: string, moderator = false) => ({ user, moderator });
    expect(mayChange({ kind: "edit" }, as("alice"), author)).toBe(true);
    expect(mayChange({ kind: "edit" }, as("bob", true), author)).toBe(false);
    expect(mayChange({ kind: "delete" }, as("bob"), author)).toBe(false);
    expect(mayChange({ kind: "delete" }, as("bob", true), author)).toBe(true);
    expect(mayChange({ kind: "delete" }, as("alice"), author)).toBe(true);
    expect(mayChange({ kind: "react" }, as("bob"), author)).toBe(true);
  });
});

describe("adjustCounts", () => {
  it("keeps counts above zero, sorted by emoji in code-unit order, like a recount", () => {
    const emojis = ["👍", "❤", "a", "\uD83D\uDE00", "z"];
    fc.assert(
      fc.property(
        fc.array(fc.record({ e: fc.constantFrom(...emojis), on: fc.boolean() }), { maxLength: 40 }),
        (steps) => {
          const model = new Map<string, number>();
          let counts: ReactionCounts = [];
          for (const { e, on } of steps) {
            const n = model.get(e) ?? 0;
            if (!on && n === 0) continue; // a register turns off only from on
            model.set(e, n + (on ? 1 : -1));
            counts = adjustCounts(counts, e, on ? 1 : -1);
          }
          const expected = [...model]
            .filter(([, n]) => n > 0)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          expect(counts).toEqual(expected);
        },
      ),
    );
  });

  it("refuses to take back a reaction nobody has on", () => {
    expect(() => adjustCounts([], "x", -1)).toThrow(RangeError);
  });
});

describe("changeKey", () => {
  it("tells exact repeats apart from other changes", () => {
    const edit = { kind: "edit" as const, id: "m", text: "t", ts: 1 };
    expect(changeKey(edit, "u")).toBe(changeKey({ ...edit }, "u"));
    expect(changeKey(edit, "u")).not.toBe(changeKey(edit, "v"));
    expect(changeKey(edit, "u")).not.toBe(changeKey({ ...edit, ts: 2 }, "u"));
    const react = { kind: "react" as const, id: "m", emoji: "x", on: true, ts: 1 };
    expect(changeKey(react, "u")).not.toBe(changeKey({ ...react, on: false }, "u"));
  });
});

describe("ordinal counts (a sparse Fenwick tree)", () => {
  it("counts marked ordinals up to n like a sorted list, touching O(log cap) nodes", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { maxLength: 60 }),
        fc.array(fc.integer({ min: 0, max: 6_000 }), { maxLength: 20 }),
        (marked, queries) => {
          const nodes = new Map<number, number>();
          for (const o of marked) {
            const path = markPath(o);
            expect(path.length).toBeLessThanOrEqual(31);
            for (const n of path) nodes.set(n, (nodes.get(n) ?? 0) + 1);
          }
          for (const q of [...queries, ORDINAL_CAP]) {
            const path = prefixPath(q);
            expect(path.length).toBeLessThanOrEqual(30);
            const sum = path.reduce((s, n) => s + (nodes.get(n) ?? 0), 0);
            expect(sum).toBe(marked.filter((o) => o <= q).length);
          }
        },
      ),
    );
  });

  it("refuses ordinals outside 1…cap", () => {
    expect(() => markPath(0)).toThrow(RangeError);
    expect(() => markPath(ORDINAL_CAP + 1)).toThrow(RangeError);
    expect(prefixPath(0)).toEqual([]);
  });
});
