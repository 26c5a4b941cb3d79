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
import {
  type ChangeSettings,
  generateChanges,
  type SimulatedChange,
} from "../../src/core/tick-changes.ts";
import { Change, NewMessage } from "../../src/protocol/schemas.ts";
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

// ── Changes (protocol 1.2) ─────────────────────────────────────────────────

/** 20 messages a second with a chunk every 10 s, and the default change ratios. */
const CHANGING: ChangeSettings = {
  ...BASE,
  rate: 20,
  chunkEvery: 10,
  chunkSize: 40,
  seed: 7,
  editRatio: 0.05,
  deleteRatio: 0.01,
  reactRatio: 0.3,
};

interface ChangeTick extends Tick {
  readonly changes: SimulatedChange[];
}

/** Where the run's messages are and who wrote them, as generateTick made them. */
type RunMessages = Map<string, Arrival & { readonly tick: number }>;

/**
 * Ticks [0, ticks) of a run with their changes, and every message of the run
 * by id, `extra` ticks beyond (where changes made ahead of their message land).
 */
function changeRun(
  settings: ChangeSettings,
  ticks: number,
  extra = 5,
): { ticks: ChangeTick[]; messages: RunMessages } {
  const messages: RunMessages = new Map();
  const out: ChangeTick[] = [];
  for (let tick = 0; tick < ticks + extra; tick++) {
    const window = { idPrefix: "sim1", start: START, tickMs: 1000, tick };
    const arrivals = generateTick(settings, window);
    for (const a of arrivals) messages.set(a.id, { ...a, tick });
    if (tick < ticks) {
      const changes = generateChanges(settings, window);
      out.push({ tick, from: START + tick * 1000, arrivals, changes });
    }
  }
  return { ticks: out, messages };
}

const changesOf = (ticks: readonly ChangeTick[]) => ticks.flatMap((t) => t.changes);

describe("generateChanges", () => {
  it("makes editRatio, deleteRatio and reactRatio of the arrivals over 2,000 ticks", () => {
    const cases = [
      [0.05, 0.01, 0.3],
      [0.2, 0.05, 0.4],
      [0, 0, 0.5],
      [0, 0, 0],
    ] as const;
    for (const [editRatio, deleteRatio, reactRatio] of cases) {
      const { ticks } = changeRun({ ...CHANGING, editRatio, deleteRatio, reactRatio }, 2000, 0);
      const changes = changesOf(ticks);
      const arrivals = ticks.reduce((n, t) => n + t.arrivals.length, 0) + changes.length;
      const wanted = { edit: editRatio, delete: deleteRatio, react: reactRatio };
      for (const [kind, ratio] of Object.entries(wanted)) {
        const share = changes.filter((c) => c.change.kind === kind).length / arrivals;
        // 5 standard deviations of a binomial proportion at this many arrivals.
        const tolerance = 5 * Math.sqrt((ratio * (1 - ratio)) / arrivals);
        expect(Math.abs(share - ratio), `${kind} at ${ratio} of ${arrivals}`).toBeLessThanOrEqual(
          tolerance,
        );
      }
    }
  });

  it("replays the same changes for the same seed and tick, shifted with the epoch", () => {
    for (const tick of [1, 30, 500, 100_000]) {
      const window = { idPrefix: "sim4", start: START, tickMs: 1000, tick };
      const here = generateChanges(CHANGING, window);
      expect(here.length, `tick ${tick}`).toBeGreaterThan(0);
      expect(generateChanges({ ...CHANGING }, { ...window })).toEqual(here);
      const later = generateChanges(CHANGING, { ...window, start: START + 86_400_000 });
      const shifted = (c: Change): Change => ("ts" in c ? { ...c, ts: c.ts + 86_400_000 } : c);
      expect(later).toEqual(here.map((c) => ({ ...c, change: shifted(c.change) })));
      expect(generateChanges({ ...CHANGING, seed: 8 }, window)).not.toEqual(here);
    }
  });

  it("makes none without single messages to change", () => {
    // Chunks only: changes go to single messages, and there are none.
    const { ticks } = changeRun({ ...CHANGING, rate: 0, chunkEvery: 1 }, 50, 0);
    expect(ticks.some((t) => t.arrivals.length > 0)).toBe(true);
    expect(changesOf(ticks)).toEqual([]);
  });

  it("falls short of deleteRatio, never over it, when it asks for more deletes than messages", () => {
    // 30 % deletes beside 10 % messages: three deletes a message. One drawn on a message
    // deleted just before is dropped rather than sent again.
    const settings = { ...CHANGING, editRatio: 0.3, deleteRatio: 0.3, reactRatio: 0.3 };
    const { ticks } = changeRun(settings, 300, 0);
    const changes = changesOf(ticks);
    const arrivals = ticks.reduce((n, t) => n + t.arrivals.length, 0) + changes.length;
    const share = changes.filter((c) => c.change.kind === "delete").length / arrivals;
    expect(share).toBeLessThan(0.3);
    expect(share).toBeGreaterThan(0.05);
  });

  it("changes only messages of the run that came before it, but for a few ahead of their message", () => {
    const { ticks, messages } = changeRun(CHANGING, 600);
    const problems: string[] = [];
    let ahead = 0;
    for (const { tick, changes } of ticks) {
      for (const { change, ahead: isAhead } of changes) {
        const target = messages.get(change.id);
        if (target === undefined) problems.push(`${change.id} at tick ${tick}: no such message`);
        else if (isAhead !== target.tick > tick) {
          problems.push(
            `${change.id} at tick ${tick}: ahead ${isAhead}, message of ${target.tick}`,
          );
        } else if (target.tick === tick && target.kind === "bottom" && "ts" in change) {
          // A message of its own tick: one that came before it (in the same millisecond at most).
          if (target.ts > change.ts) problems.push(`${change.id} changed at ${change.ts} first`);
        }
        if (isAhead) ahead++;
      }
    }
    const total = changesOf(ticks).length;
    expect(problems.slice(0, 3), `of ${total} changes`).toEqual([]);
    // "A few": about 2 %.
    expect(ahead / total).toBeGreaterThan(0.005);
    expect(ahead / total).toBeLessThan(0.05);
  });

  it("falls mostly on recent messages and some on old ones", () => {
    const { ticks, messages } = changeRun(CHANGING, 600);
    const ages = ticks
      .filter((t) => t.tick >= 300)
      .flatMap(({ tick, changes }) =>
        changes.filter((c) => !c.ahead).map((c) => tick - (messages.get(c.change.id)?.tick ?? 0)),
      )
      .sort((a, b) => a - b);
    expect(ages[Math.floor(ages.length / 2)], "the median age in ticks").toBeLessThanOrEqual(2);
    // Over a minute old (1,200 messages back and more): late changes, out of a live reader's view.
    const old = ages.filter((a) => a >= 60).length / ages.length;
    expect(old).toBeGreaterThan(0.03);
    expect(old).toBeLessThan(0.3);
  });

  it("edits and deletes as the message's author, reacts as several other users", () => {
    const { ticks, messages } = changeRun(CHANGING, 300);
    const wrong: string[] = [];
    const reactors = new Set<string>();
    const emojis = new Set<string>();
    for (const { user, change } of changesOf(ticks)) {
      const author = messages.get(change.id)?.author;
      if (change.kind === "react") {
        if (user === author) wrong.push(`${user} reacts to their own ${change.id}`);
        reactors.add(user);
        emojis.add(change.emoji);
      } else if (user !== author) {
        wrong.push(`${user} makes a ${change.kind} of ${author}'s ${change.id}`);
      }
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(reactors.size).toBeGreaterThanOrEqual(5);
    expect(emojis.size).toBeGreaterThan(1);
    expect(emojis.size).toBeLessThanOrEqual(8);
  });

  it("clears reactions that the same user set before, at a later ts", () => {
    const { ticks } = changeRun(CHANGING, 600);
    const set = new Map<string, number>();
    let reactions = 0;
    let cleared = 0;
    let unmatched = 0;
    for (const { user, change } of changesOf(ticks)) {
      if (change.kind !== "react") continue;
      reactions++;
      const register = JSON.stringify([change.id, user, change.emoji]);
      if (change.on) set.set(register, change.ts);
      else {
        cleared++;
        if (!((set.get(register) ?? Number.POSITIVE_INFINITY) < change.ts)) unmatched++;
      }
    }
    expect(cleared / reactions).toBeGreaterThan(0.1);
    expect(cleared / reactions).toBeLessThan(0.3);
    expect(unmatched / cleared, `${unmatched} of ${cleared} clear nothing set`).toBeLessThan(0.01);
  });

  it("leaves a deleted message alone in the ticks after its delete, and nearly always after", () => {
    const { ticks } = changeRun({ ...CHANGING, deleteRatio: 0.05 }, 600);
    const deletedAt = new Map<string, number>();
    const soon: string[] = [];
    let later = 0;
    let deletes = 0;
    for (const { tick, changes } of ticks) {
      for (const { change } of changes) {
        const at = deletedAt.get(change.id);
        if (at !== undefined && tick - at <= 3) soon.push(`${change.kind} ${change.id} at ${tick}`);
        else if (at !== undefined) later++;
        if (change.kind === "delete") {
          deletes++;
          if (at === undefined) deletedAt.set(change.id, tick);
        }
      }
    }
    const total = changesOf(ticks).length;
    expect(deletes).toBeGreaterThan(100);
    expect(soon.slice(0, 3), `of ${deletes} deletes`).toEqual([]);
    expect(later / total, `${later} of ${total} changes`).toBeLessThan(0.02);
  });

  it("makes valid changes stamped inside their tick's window, in order", () => {
    const { ticks } = changeRun(CHANGING, 200);
    const problems: string[] = [];
    for (const { from, changes } of ticks) {
      let previous = from;
      for (const { change } of changes) {
        const parsed = Change.safeParse(change);
        if (!parsed.success) problems.push(`${change.id}: ${parsed.error.message}`);
        if (!("ts" in change)) continue;
        if (change.ts < previous || change.ts >= from + 1000)
          problems.push(`${change.id} at ${change.ts - from}`);
        previous = change.ts;
      }
    }
    expect(problems.slice(0, 3)).toEqual([]);
  });
});

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
