import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bottomTop, lastWholeRow, rowsFrom } from "../../src/demo/geometry.ts";

/** Each row's top on a screen that starts at `top`, from prefix sums: the model. */
function tops(heights: readonly number[], top: number): number[] {
  const out: number[] = [];
  let y = 0;
  for (const h of heights.slice(top)) {
    out.push(y);
    y += h;
  }
  return out;
}

const heights = fc.array(fc.constantFrom(28, 58, 88), { maxLength: 60 });
const screen = fc.integer({ min: 1, max: 900 });
let checks = 0;

describe("demo geometry", () => {
  it("shows every row whose top is on screen (at least the first), from any first row", () => {
    fc.assert(
      fc.property(heights, screen, fc.nat(), (hs, px, seed) => {
        const top = hs.length === 0 ? 0 : seed % hs.length;
        const expected = Math.max(
          hs.length > top ? 1 : 0,
          tops(hs, top).filter((y) => y < px).length,
        );
        expect(rowsFrom(top, hs.length, (p) => hs[p] ?? 0, px)).toBe(expected);
        checks++;
      }),
      { numRuns: 2_000 },
    );
  });

  it("puts the last row at the bottom: the rows from the answer fit whole, one more would not", () => {
    fc.assert(
      fc.property(heights, screen, (hs, px) => {
        const sum = (from: number) => hs.slice(from).reduce((a, b) => a + b, 0);
        let expected = hs.length;
        while (expected > 0 && sum(expected - 1) <= px) expected--;
        // The last row shows even on a screen shorter than it.
        if (hs.length > 0 && expected === hs.length) expected = hs.length - 1;
        expect(bottomTop(hs.length, (p) => hs[p] ?? 0, px)).toBe(expected);
        checks++;
      }),
      { numRuns: 2_000 },
    );
  });

  it("reads down to the last row whose bottom is on screen, from any first row", () => {
    fc.assert(
      fc.property(heights, screen, fc.nat(), (hs, px, seed) => {
        const top = hs.length === 0 ? 0 : seed % hs.length;
        const bottoms = tops(hs, top).map((y, i) => y + (hs[top + i] ?? 0));
        const whole = bottoms.filter((b) => b <= px).length;
        expect(lastWholeRow(top, hs.length, (p) => hs[p] ?? 0, px)).toBe(top + whole - 1);
        checks++;
      }),
      { numRuns: 2_000 },
    );
    console.log(`demo geometry: ${checks} layouts checked against prefix sums`);
  });
});
