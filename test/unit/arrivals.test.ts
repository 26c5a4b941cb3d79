import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Arrival,
  type ArrivalSettings,
  bottomCount,
  generateTick,
  lateDistance,
  MAX_CHUNK,
  slotAt,
  slotsBefore,
} from "../../src/core/arrivals.ts";
import { prng } from "../../src/core/random.ts";
import { NewMessage } from "../../src/protocol/schemas.ts";
import { compareKeys } from "../support/keys.ts";

const START = 1_795_480_000_000;
const BASE: ArrivalSettings = {
  rate: 100,
  lateRatio: 0.1,
  chunkEvery: 30,
  chunkSize: 200,
  seed: 1,
};

interface Tick {
  readonly tick: number;
  /** The window start: start + tick·tickMs. */
  readonly from: number;
  readonly arrivals: Arrival[];
}

function run(settings: ArrivalSettings, tickMs: number, ticks: number, firstTick = 0): Tick[] {
  const out: Tick[] = [];
  for (let tick = firstTick; tick < firstTick + ticks; tick++) {
    const arrivals = generateTick(settings, { idPrefix: "sim1", start: START, tickMs, tick });
    out.push({ tick, from: START + tick * tickMs, arrivals });
  }
  return out;
}

const count = (arrivals: readonly Arrival[], kind: Arrival["kind"]) =>
  arrivals.filter((a) => a.kind === kind).length;

describe("generateTick", () => {
  it("replays identical arrivals for the same settings and window", () => {
    for (const tick of [0, 1, 17, 100_000]) {
      const window = { idPrefix: "sim3", start: START, tickMs: 1000, tick };
      const settings = { ...BASE, chunkEvery: 1 };
      expect(generateTick({ ...settings }, { ...window })).toEqual(generateTick(settings, window));
    }
  });

  it("draws different arrivals for a different seed or tick", () => {
    const window = { idPrefix: "sim1", start: START, tickMs: 1000, tick: 5 };
    const settings = { ...BASE, chunkEvery: 1 };
    const of = (s: ArrivalSettings, w: typeof window) =>
      generateTick(s, w).map(({ ts, author, text, kind }) => ({ ts, author, text, kind }));
    const base = of(settings, window);
    expect(of({ ...settings, seed: 2 }, window)).not.toEqual(base);
    const next = of(settings, { ...window, tick: 6 }).map((a) => ({ ...a, ts: a.ts - 1000 }));
    expect(next).not.toEqual(base);
    // Seeds past 32 bits are folded in, not dropped.
    expect(of({ ...settings, seed: 2 ** 32 + 1 }, window)).not.toEqual(
      of({ ...settings, seed: 1 }, window),
    );
  });

  it("replays the same arrivals at any epoch, shifted in time", () => {
    const settings = { ...BASE, chunkEvery: 1 };
    for (const tick of [0, 3, 40]) {
      const here = generateTick(settings, { idPrefix: "a", start: START, tickMs: 1000, tick });
      const later = generateTick(settings, {
        idPrefix: "a",
        start: START + 86_400_000,
        tickMs: 1000,
        tick,
      });
      expect(later).toEqual(here.map((a) => ({ ...a, ts: a.ts + 86_400_000 })));
    }
  });

  it("names arrivals idPrefix-tick-i (i zero-padded to 6) in arrival order, unique over a run", () => {
    const ticks = run({ ...BASE, chunkEvery: 2 }, 1000, 200);
    const ids = new Set<string>();
    for (const { tick, arrivals } of ticks) {
      arrivals.forEach((a, i) => {
        expect(a.id).toBe(`sim1-${tick}-${String(i).padStart(6, "0")}`);
        ids.add(a.id);
      });
    }
    expect(ids.size).toBe(ticks.reduce((n, t) => n + t.arrivals.length, 0));
  });

  it("makes arrivals that are valid messages with non-negative ts", () => {
    const ticks = run({ ...BASE, chunkEvery: 5, chunkSize: 50 }, 1000, 100);
    for (const { arrivals } of ticks) {
      for (const a of arrivals) {
        const parsed = NewMessage.safeParse({ id: a.id, ts: a.ts, author: a.author, text: a.text });
        expect(parsed.success).toBe(true);
        expect(a.ts).toBeGreaterThanOrEqual(0);
      }
    }
    // Runs that start near the epoch clamp late ts at 0 instead of going negative.
    const early = generateTick(
      { ...BASE, lateRatio: 1, chunkEvery: 1, chunkSize: 1000 },
      { idPrefix: "e", start: 0, tickMs: 1000, tick: 0 },
    );
    expect(early.every((a) => a.ts >= 0)).toBe(true);
  });

  it("makes about lateRatio of the single arrivals late over 100K arrivals", () => {
    for (const lateRatio of [0.1, 0.35]) {
      const ticks = run({ ...BASE, lateRatio, chunkEvery: 0, seed: 11 }, 1000, 1000);
      const all = ticks.flatMap((t) => t.arrivals);
      expect(all.length).toBe(100_000); // rate 100/s for 1,000 s
      expect(count(all, "chunk")).toBe(0);
      const late = count(all, "late") / (count(all, "late") + count(all, "bottom"));
      // 5 standard deviations of a binomial proportion at n = 100K.
      expect(Math.abs(late - lateRatio)).toBeLessThan(
        5 * Math.sqrt((lateRatio * (1 - lateRatio)) / 1e5),
      );
    }
    for (const lateRatio of [0, 1]) {
      const all = run({ ...BASE, lateRatio, chunkEvery: 0 }, 1000, 20).flatMap((t) => t.arrivals);
      expect(count(all, "late")).toBe(lateRatio * all.length);
    }
  });

  it("starts a chunk in about tickMs / chunkEvery of the ticks, about chunkSize long", () => {
    const settings = { ...BASE, rate: 2, chunkEvery: 4, chunkSize: 20, seed: 5 };
    const ticks = run(settings, 1000, 8000);
    const sizes = ticks.map((t) => count(t.arrivals, "chunk")).filter((n) => n > 0);
    // p = 1 s / 4 s = 0.25 over 8,000 ticks: 2,000 expected, σ ≈ 39.
    expect(Math.abs(sizes.length - 2000)).toBeLessThan(200);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(Math.abs(mean - 20)).toBeLessThan(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_CHUNK);
  });

  it("makes no chunks when chunkEvery is 0 and caps chunks at MAX_CHUNK", () => {
    const none = run({ ...BASE, chunkEvery: 0 }, 1000, 300).flatMap((t) => t.arrivals);
    expect(count(none, "chunk")).toBe(0);
    const huge = run({ ...BASE, rate: 1, chunkEvery: 0.001, chunkSize: 1_000_000 }, 1000, 5);
    for (const { arrivals } of huge) expect(count(arrivals, "chunk")).toBe(MAX_CHUNK);
  });

  /** Settings a simulator may run with, up to 500 messages a second. */
  const moderate = fc.record({
    rate: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.constantFrom(0.5, 0.25, 2.5)),
    lateRatio: fc.double({ min: 0, max: 1, noNaN: true }),
    chunkEvery: fc.constantFrom(0, 0.5, 2, 30),
    chunkSize: fc.oneof(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 10_000 })),
    seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  });
  const tickMsArb = fc.integer({ min: 100, max: 2000 });
  const firstTickArb = fc.integer({ min: 0, max: 1e6 });

  it("gives bottom arrivals strictly increasing ts across ticks", () => {
    fc.assert(
      fc.property(moderate, tickMsArb, firstTickArb, (settings, tickMs, first) => {
        let previous = Number.NEGATIVE_INFINITY;
        const wrong: string[] = [];
        for (const { from, arrivals } of run(settings, tickMs, 4, first)) {
          for (const a of arrivals) {
            if (a.kind !== "bottom") continue;
            if (a.ts <= previous || a.ts < from || a.ts >= from + tickMs) wrong.push(a.id);
            previous = a.ts;
          }
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 80 },
    );
  });

  it("places a tick's chunk consecutively, ascending, before the tick's window", () => {
    fc.assert(
      fc.property(moderate, tickMsArb, firstTickArb, (settings, tickMs, first) => {
        for (const { from, arrivals } of run(settings, tickMs, 4, first)) {
          expect(chunkProblems(arrivals, from)).toEqual([]);
        }
      }),
      { numRuns: 80 },
    );
  });

  it("keeps bottom arrivals ascending by key at the simulator's top rates", () => {
    // SimulatorSettings allows rate up to 5,000 a second: more than one message a millisecond,
    // so ts may tie; the zero-padded ids then keep key order equal to arrival order.
    for (const rate of [2000, 5000]) {
      const ticks = run({ ...BASE, rate, chunkEvery: 0 }, 100, 3);
      const bottoms = ticks.flatMap((t) => t.arrivals.filter((a) => a.kind === "bottom"));
      const ties = bottoms.filter(
        (a, i) => i > 0 && compareKeys(a, bottoms[i - 1] as Arrival) <= 0,
      );
      expect(ties.map((a) => a.id).slice(0, 3), `rate ${rate}`).toEqual([]);
    }
  });

  it("keeps chunks before the tick's window at the simulator's top rates", () => {
    for (const rate of [2000, 5000]) {
      const ticks = run({ ...BASE, rate, chunkEvery: 0.5, chunkSize: 1000 }, 1000, 3);
      for (const { from, arrivals } of ticks) {
        const chunk = arrivals.filter((a) => a.kind === "chunk");
        const after = chunk.filter((a) => a.ts >= from);
        expect(
          { rate, chunk: chunk.length, atOrAfterWindowStart: after.length },
          `rate ${rate}: latest chunk ts is ${(chunk.at(-1)?.ts ?? from) - from} ms after the window start`,
        ).toEqual({ rate, chunk: chunk.length, atOrAfterWindowStart: 0 });
      }
    }
  });

  it("labels late only the arrivals that sort below one already made", () => {
    // The store marks a message late when a greater key exists at its arrival.
    // Replay runs from their first tick and check each label against that rule.
    const cases = [
      { ...BASE, rate: 5, chunkEvery: 30, chunkSize: 200 }, // the simulator's defaults
      { ...BASE, rate: 100, chunkEvery: 10 },
    ];
    const results = cases.map((settings) => {
      let max: Arrival | undefined;
      const mislabelled: string[] = [];
      let late = 0;
      for (const { arrivals } of run(settings, 1000, 300)) {
        const hasBottom = arrivals.some((a) => a.kind === "bottom");
        for (const a of arrivals) {
          const isLate = max !== undefined && compareKeys(a, max) < 0;
          if (a.kind === "bottom" && isLate) mislabelled.push(`${a.id} bottom but late`);
          // A chunk lands before the window, so a bottom arrival of its tick is above it.
          if (a.kind === "chunk" && hasBottom && !isLate)
            mislabelled.push(`${a.id} chunk not late`);
          if (a.kind === "late" && max !== undefined) {
            late++;
            if (!isLate) mislabelled.push(`${a.id} late, ts ${a.ts} ≥ newest ${max.id} ${max.ts}`);
          }
          if (!isLate) max = a;
        }
      }
      return {
        rate: settings.rate,
        mislabelled: `${mislabelled.length} mislabelled; ${late} labelled late`,
        examples: mislabelled.slice(0, 2),
      };
    });
    expect(results).toEqual(
      cases.map((s) => ({
        rate: s.rate,
        mislabelled: expect.stringMatching(/^0 mislabelled/),
        examples: [],
      })),
    );
  });
});

/** What is wrong with a tick's chunk: it must be one run at the end, ascending, before the window. */
function chunkProblems(arrivals: readonly Arrival[], from: number): string[] {
  const firstChunk = arrivals.findIndex((a) => a.kind === "chunk");
  if (firstChunk < 0) return [];
  const chunk = arrivals.slice(firstChunk);
  const problems: string[] = [];
  chunk.forEach((a, i) => {
    if (a.kind !== "chunk") problems.push(`${a.id} is a ${a.kind} inside the chunk`);
    if (i > 0 && a.ts <= (chunk[i - 1] as Arrival).ts) problems.push(`${a.id} not ascending`);
    if (a.ts >= from) problems.push(`${a.id} at ${a.ts - from} ms into the window`);
  });
  return problems;
}

describe("lateDistance", () => {
  const draws = (n: number, seed: number) => {
    const random = prng(seed);
    return Array.from({ length: n }, () => lateDistance(random));
  };

  it("is a heavy-tailed integer ≥ 1: small median, some in the thousands", () => {
    const d = draws(100_000, 42);
    expect(d.every((x) => Number.isInteger(x) && x >= 1)).toBe(true);
    const sorted = [...d].sort((a, b) => a - b);
    expect(sorted[50_000]).toBeLessThanOrEqual(3);
    expect(d.filter((x) => x >= 1000).length).toBeGreaterThan(0);
  });

  it("follows a Pareto tail P(X ≥ k) = k^−0.7", () => {
    const d = draws(100_000, 7);
    for (const k of [2, 10, 100, 1000]) {
      const share = d.filter((x) => x >= k).length / d.length;
      const expected = k ** -0.7;
      // Within 5σ of a binomial proportion, plus the floor's rounding.
      expect(Math.abs(share - expected)).toBeLessThan(5 * Math.sqrt(expected / 1e5) + 1e-3);
    }
  });

  it("stays within max at the extremes of the random source", () => {
    expect(lateDistance(() => 0)).toBe(1);
    expect(lateDistance(() => 1 - 2 ** -53)).toBe(1_000_000);
    expect(lateDistance(() => 0.999999, 50)).toBe(50);
  });
});

describe("bottomCount", () => {
  /** floor(rate·tickMs·n / 1000) in exact integer arithmetic, rate = num / den. */
  const exactUpTo = (num: number, den: number, tickMs: number, n: number) =>
    (BigInt(num) * BigInt(tickMs) * BigInt(n)) / (BigInt(den) * 1000n);

  it("sums exactly to floor(rate·tickMs·n / 1000) over any run of ticks", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc.constantFrom(1, 2, 4),
        fc.integer({ min: 100, max: 60_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 300 }),
        (num, den, tickMs, first, n) => {
          const rate = num / den;
          let sum = 0;
          for (let tick = first; tick < first + n; tick++) {
            const c = bottomCount(rate, tickMs, tick);
            expect(c).toBeGreaterThanOrEqual(0);
            expect(c).toBeLessThanOrEqual(Math.ceil((rate * tickMs) / 1000));
            sum += c;
          }
          const exact = exactUpTo(num, den, tickMs, first + n) - exactUpTo(num, den, tickMs, first);
          expect(BigInt(sum)).toBe(exact);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("names every slot of a run by (tick, k) and back, at any rate", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 0.01, max: 5000, noNaN: true }), fc.constantFrom(0.3, 1, 7)),
        fc.integer({ min: 100, max: 60_000 }),
        fc.integer({ min: 0, max: 1e6 }),
        (rate, tickMs, tick) => {
          for (let t = tick; t < tick + 3; t++) {
            const first = slotsBefore(rate, tickMs, t);
            const count = bottomCount(rate, tickMs, t);
            if (count === 0) continue; // a tick with no slot
            for (const k of new Set([0, count >> 1, count - 1])) {
              expect(slotAt(rate, tickMs, first + k)).toEqual({ tick: t, k });
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("spreads a fractional rate without drift", () => {
    // 0.3 a second in 1 s ticks: 3 messages every 10 ticks.
    const counts = Array.from({ length: 30 }, (_, t) => bottomCount(0.3, 1000, t));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(9);
    expect(counts.every((c) => c === 0 || c === 1)).toBe(true);
  });
});
