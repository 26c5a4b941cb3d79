/**
 * Shared by the worker tests: an independent model of a channel's history
 * (PROTOCOL.md's ordering, positions, late flags and pages, computed from the
 * arrival order alone), a deterministic data generator, and small HTTP helpers.
 * Nothing here imports the app's logic, only its types.
 */

import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Channel, Outcome } from "../../src/channel/channel.ts";
import type { Anchor, Message, PageBody } from "../../src/protocol/schemas.ts";
import { mulberry32 } from "../support/random.ts";
import { STATUS_OF } from "../support/wire.ts";

/** A plausible epoch: 2026-11-24. Generated ts start here. */
export const T0 = 1_795_480_000_000;

export { STATUS_OF };
export type Code = keyof typeof STATUS_OF;

// ── Row budgets: costs that must not grow with the channel ─────────────────

/** A page of 50 (before 25, after 25) reads at most this many rows, at 10K as at 1M. */
export const PAGE_ROW_BUDGET = 1_000;
/**
 * A page anywhere reads at most this many rows more than the newest page:
 * finding a position may walk part of one bucket; a lookup that walked the
 * list instead would read hundreds of thousands at 1M.
 */
export const MIDDLE_PAGE_EXTRA_ROWS = 600;
/**
 * The first call after a wake: a page, plus loading the persisted index, which
 * reads a row per page of 128–256 buckets (~15 at 1M; a row per bucket was 2,315).
 */
export const WAKE_ROW_BUDGET = PAGE_ROW_BUDGET + 100;

/** The budget of a page: pages of up to 50 keep it, bigger ones may add their own rows. */
export function rowBudget(before: number, after: number): number {
  return before + after <= 50 ? PAGE_ROW_BUDGET : PAGE_ROW_BUDGET + before + after;
}

// ── Randomness ─────────────────────────────────────────────────────────────

export { mulberry32 };

/** An integer in [lo, hi], both inclusive. */
export function randInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

// ── The model ──────────────────────────────────────────────────────────────

/** What the model needs to know about the n-th arrival (0-based) of a channel. */
export interface Arrivals {
  readonly count: number;
  ts(n: number): number;
  id(n: number): string;
  author(n: number): string;
  text(n: number): string;
  /** The arrival index of a stored id, or undefined. */
  find(id: string): number | undefined;
}

/** A message as the tests send it: every field given. */
export interface Sent {
  id: string;
  ts: number;
  author: string;
  text: string;
}

/** Arrivals held as plain objects, for small channels: the stored ones, in arrival order. */
export function arrivalsOf(messages: readonly Sent[]): Arrivals {
  const byId = new Map(messages.map((m, n) => [m.id, n]));
  const at = (n: number) => messages[n] as Sent;
  return {
    count: messages.length,
    ts: (n) => at(n).ts,
    id: (n) => at(n).id,
    author: (n) => at(n).author,
    text: (n) => at(n).text,
    find: (id) => byId.get(id),
  };
}

/**
 * PROTOCOL.md's view of a channel, computed from its arrivals: the key order
 * (ts, then id by UTF-16 code unit, which is what JS `<` compares), positions,
 * late flags (a greater key existed at arrival) and seq (arrival order).
 * Typed arrays keep a million messages in about 20 MB.
 */
export class HistoryModel {
  readonly arrivals: Arrivals;
  readonly total: number;
  /** Arrival indices in key order: sorted[position] = n. */
  readonly sorted: Int32Array;
  /** position[n]: where arrival n sits in key order. */
  readonly position: Int32Array;
  readonly late: Uint8Array;
  readonly lateTotal: number;
  readonly #ts: Float64Array;

  constructor(arrivals: Arrivals) {
    this.arrivals = arrivals;
    const count = arrivals.count;
    this.total = count;
    this.#ts = new Float64Array(count);
    for (let n = 0; n < count; n++) this.#ts[n] = arrivals.ts(n);
    const ts = this.#ts;
    const compare = (a: number, b: number): number => {
      const d = (ts[a] as number) - (ts[b] as number);
      if (d !== 0) return d;
      const ia = arrivals.id(a);
      const ib = arrivals.id(b);
      return ia < ib ? -1 : ia > ib ? 1 : 0;
    };
    this.late = new Uint8Array(count);
    let lateTotal = 0;
    let max = -1;
    for (let n = 0; n < count; n++) {
      if (max >= 0 && compare(n, max) < 0) {
        this.late[n] = 1;
        lateTotal++;
      } else {
        max = n;
      }
    }
    this.lateTotal = lateTotal;
    this.sorted = new Int32Array(count);
    for (let n = 0; n < count; n++) this.sorted[n] = n;
    this.sorted.sort(compare);
    this.position = new Int32Array(count);
    for (let p = 0; p < count; p++) this.position[this.sorted[p] as number] = p;
  }

  /** The arrival index at a position. */
  at(position: number): number {
    return this.sorted[position] as number;
  }

  tsAt(position: number): number {
    return this.#ts[this.at(position)] as number;
  }

  /** The wire message of arrival n. */
  message(n: number): Message {
    const a = this.arrivals;
    return {
      id: a.id(n),
      ts: a.ts(n),
      author: a.author(n),
      text: a.text(n),
      seq: n + 1,
      late: this.late[n] === 1,
    };
  }

  /** The first position whose ts ≥ `ts` (total when none). */
  firstAtOrAfter(ts: number): number {
    let lo = 0;
    let hi = this.total;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.tsAt(mid) < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The position an anchor resolves to, or "not_found". */
  resolve(anchor: Anchor): number | "not_found" {
    const last = this.total - 1;
    if (anchor === "newest") return last;
    if (anchor === "oldest") return 0;
    if ("position" in anchor) return Math.min(Math.max(anchor.position, 0), last);
    if ("id" in anchor) {
      const n = this.arrivals.find(anchor.id);
      return n === undefined ? "not_found" : (this.position[n] as number);
    }
    return Math.min(this.firstAtOrAfter(anchor.ts), last);
  }

  /** The page PROTOCOL.md specifies, or "not_found" for an unknown id. */
  page(anchor: Anchor, before: number, after: number): PageBody | "not_found" {
    if (this.total === 0) {
      if (typeof anchor === "object" && "id" in anchor) return "not_found";
      return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq: 0 };
    }
    const p = this.resolve(anchor);
    if (p === "not_found") return p;
    const start = Math.max(0, p - before);
    const end = Math.min(this.total, p + after + 1);
    const messages: Message[] = [];
    for (let q = start; q < end; q++) messages.push(this.message(this.at(q)));
    return {
      messages,
      start,
      total: this.total,
      anchorIndex: p - start,
      hasOlder: start > 0,
      hasNewer: end < this.total,
      // Every arrival is stored once: the latest seq is the count.
      seq: this.total,
    };
  }

  /** `timeline`: positions round(i·(total−1)/(N−1)) and their ts. */
  timeline(points: number): { total: number; points: { position: number; ts: number }[] } {
    if (this.total === 0) return { total: 0, points: [] };
    const out = [];
    for (let i = 0; i < points; i++) {
      const position = Math.round((i * (this.total - 1)) / (points - 1));
      out.push({ position, ts: this.tsAt(position) });
    }
    return { total: this.total, points: out };
  }

  stats(channel: string) {
    const key = (p: number) => ({ ts: this.tsAt(p), id: this.arrivals.id(this.at(p)) });
    return {
      channel,
      total: this.total,
      lateTotal: this.lateTotal,
      oldest: this.total > 0 ? key(0) : null,
      newest: this.total > 0 ? key(this.total - 1) : null,
      seq: this.total,
    };
  }
}

// ── Generated histories ────────────────────────────────────────────────────

export interface HistoryShape {
  readonly count: number;
  readonly seed: number;
  /** Consecutive arrivals that all land in one gap, long after it opened. */
  readonly chunkSize: number;
}

/** An odd multiplier: n ↦ n·SCRAMBLE mod 2³² is a bijection on 32-bit integers. */
const SCRAMBLE = 0x9e3779b1;
/** Its inverse mod 2³² (Newton's iteration doubles the correct low bits each step). */
const UNSCRAMBLE = (() => {
  let x = SCRAMBLE;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(SCRAMBLE, x));
  return x;
})();

/**
 * The id of arrival n: `m` and a scrambled n in base 36, 2–8 characters.
 * Unique, derived from n alone (no table at 1M), ordered unlike n.
 */
export function scrambledId(n: number): string {
  return `m${(Math.imul(n, SCRAMBLE) >>> 0).toString(36)}`;
}

/** The n of a {@link scrambledId}, or undefined for any other string. */
export function unscrambleId(id: string): number | undefined {
  if (!/^m[0-9a-z]{1,7}$/.test(id)) return undefined;
  const value = Number.parseInt(id.slice(1), 36);
  if (value >= 2 ** 32 || `m${value.toString(36)}` !== id) return undefined;
  return Math.imul(value, UNSCRAMBLE) >>> 0;
}

/** Where the late chunk sits, for tests that look at its edges. */
export interface Generated extends Arrivals {
  readonly chunkFirst: number;
  readonly chunkLast: number;
}

const LATE_SINGLE_RATIO = 0.05;
const TIE_RATIO = 0.1;

/**
 * A deterministic history: ts mostly increasing (steps of 0–2,000 ms; 10 %
 * are 0, so equal-ts ties), about 5 % late singles at a random earlier ts,
 * and a chunk of `chunkSize` consecutive arrivals with increasing ts that all
 * land in one gap opened at 30 % of the arrivals and filled at 60 %: before
 * most existing messages. Ids are {@link scrambledId}s: among equal ts their
 * order is unrelated to arrival order, so ties test the id order.
 */
export function generate({ count, seed, chunkSize }: HistoryShape): Generated {
  const rand = mulberry32(seed);
  const ts = new Float64Array(count);
  const gapAt = Math.floor(count * 0.3);
  const chunkFirst = Math.floor(count * 0.6);
  const chunkLast = chunkFirst + chunkSize - 1;
  const step = 300;
  const gapLength = chunkSize * step + 1_000;
  let clock = T0;
  let gapLo = 0;
  for (let n = 0; n < count; n++) {
    if (n === gapAt) {
      gapLo = clock + 1;
      clock += gapLength;
    }
    if (n >= chunkFirst && n <= chunkLast) {
      ts[n] = gapLo + 500 + (n - chunkFirst) * step;
    } else if (n > 0 && rand() < LATE_SINGLE_RATIO) {
      let t: number;
      do t = randInt(rand, T0, clock);
      while (n >= gapAt && t >= gapLo && t < gapLo + gapLength);
      ts[n] = t;
    } else {
      clock += rand() < TIE_RATIO ? 0 : randInt(rand, 1, 2_000);
      ts[n] = clock;
    }
  }
  return {
    count,
    chunkFirst,
    chunkLast,
    ts: (n) => ts[n] as number,
    id: scrambledId,
    author: (n) => `u${n % 7}`,
    text: (n) => `text ${n}`,
    find: (id) => {
      const n = unscrambleId(id);
      return n !== undefined && n < count ? n : undefined;
    },
  };
}

/** Arrivals [from, to) as an insert batch. */
export function batchOf(a: Arrivals, from: number, to: number): Sent[] {
  const out = [];
  for (let n = from; n < to; n++) {
    out.push({ id: a.id(n), ts: a.ts(n), author: a.author(n), text: a.text(n) });
  }
  return out;
}

/** Stores every arrival through the object's insert RPC, in batches. */
export async function seed(
  stub: DurableObjectStub<Channel>,
  a: Arrivals,
  batch = 10_000,
): Promise<void> {
  for (let from = 0; from < a.count; from += batch) {
    const to = Math.min(a.count, from + batch);
    const outcome = await stub.insert(batchOf(a, from, to), "nobody");
    expect(outcome).toMatchObject({ ok: true, value: { inserted: to - from, duplicates: 0 } });
  }
}

// ── Anchors ────────────────────────────────────────────────────────────────

/** Before/after pairs that random points cycle through: defaults, both limits, mixes. */
export const SIDES: readonly (readonly [number, number])[] = [
  [25, 25],
  [0, 0],
  [200, 200],
  [0, 200],
  [200, 0],
  [25, 25],
  [1, 7],
];

/** Keeps a computed ts a valid one (a safe integer), as PROTOCOL.md requires of anchors. */
const safeTs = (ts: number) =>
  Math.min(Math.max(ts, Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);

/** A random anchor of every kind PROTOCOL.md names, edges included. */
export function randomAnchor(rand: () => number, model: HistoryModel): Anchor {
  const last = model.total - 1;
  const somewhere = () => randInt(rand, 0, last);
  switch (randInt(rand, 0, 11)) {
    case 0:
      return "newest";
    case 1:
      return "oldest";
    case 2:
    case 3:
      return { position: somewhere() };
    case 4:
      return rand() < 0.5
        ? { position: -randInt(rand, 1, 2_000_000) }
        : { position: last + randInt(rand, 1, 2_000_000) };
    case 5:
    case 6:
      // By arrival: late messages as often as they arrived.
      return { id: model.arrivals.id(randInt(rand, 0, model.total - 1)) };
    case 7:
      return { ts: model.tsAt(somewhere()) };
    case 8:
      // Usually between two messages: no message has this ts.
      return { ts: safeTs(model.tsAt(somewhere()) + 1) };
    case 9:
      return { ts: safeTs(model.tsAt(0) - randInt(rand, 1, 10_000_000)) };
    case 10:
      return { ts: safeTs(model.tsAt(last) + randInt(rand, 1, 10_000_000)) };
    default:
      // By position: every stretch of the list as often.
      return { id: model.arrivals.id(model.at(somewhere())) };
  }
}

/** The value of a successful outcome (fails the test otherwise). */
export function okValue<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) expect.unreachable(`expected ok, got ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

// ── HTTP ───────────────────────────────────────────────────────────────────

/** The worker's own fetch handler, through the runtime's loopback. */
const worker = (exports as unknown as { default: Fetcher }).default;

/** Calls the worker: `path` starts with `/`. */
export function api(path: string, init?: RequestInit): Promise<Response> {
  return worker.fetch(new Request(`http://scrollback.test${path}`, init));
}

/** A JSON POST. */
export function post(path: string, body: unknown): Promise<Response> {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Asserts an error answer: its status and exactly `{ error: { code, message } }`. */
export async function expectError(res: Response, code: Code): Promise<void> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await res.json();
  expect({ status: res.status, body }).toStrictEqual({
    status: STATUS_OF[code],
    body: { error: { code, message: expect.any(String) } },
  });
  expect((body as { error: { message: string } }).error.message).not.toBe("");
}

/** The `rows;dur=<n>` figure of a Server-Timing header, or undefined when absent. */
export function rowsOf(res: Response): number | undefined {
  const header = res.headers.get("Server-Timing") ?? "";
  const match = /(?:^|,)\s*rows;dur=(\d+)(?:;|,|$)/.exec(header);
  return match ? Number(match[1]) : undefined;
}

/** A Durable Object stub for a channel. */
export function channelStub(channel: string): DurableObjectStub<Channel> {
  return env.CHANNEL.get(env.CHANNEL.idFromName(channel));
}

/**
 * Asks the object for a page and asserts it equals the model's, exactly.
 * Returns the rows the object read for it.
 */
export async function expectPage(
  stub: DurableObjectStub<Channel>,
  model: HistoryModel,
  anchor: Anchor,
  before: number,
  after: number,
): Promise<number> {
  const outcome = await stub.page({ anchor, before, after });
  const expected = model.page(anchor, before, after);
  const label = `page ${JSON.stringify(anchor)} before ${before} after ${after}`;
  if (expected === "not_found") {
    expect(outcome, label).toMatchObject({ ok: false, error: { code: "not_found" } });
  } else {
    expect(outcome.ok ? outcome.value : outcome, label).toStrictEqual(expected);
  }
  return outcome.rowsRead;
}

/** Anchors at every edge PROTOCOL.md names, plus the late chunk's edges. */
export function edgeAnchors(model: HistoryModel, data: Generated): Anchor[] {
  const last = model.total - 1;
  const firstTs = model.tsAt(0);
  const lastTs = model.tsAt(last);
  const chunkLo = model.position[data.chunkFirst] as number;
  const chunkHi = model.position[data.chunkLast] as number;
  const anchors: Anchor[] = [
    "newest",
    "oldest",
    { position: 0 },
    { position: 1 },
    { position: last },
    { position: last - 1 },
    { position: -1 },
    { position: last + 1 },
    { position: -1_000_000_000_000 },
    { position: 1_000_000_000_000 },
    { position: chunkLo - 1 },
    { position: chunkLo },
    { position: chunkHi },
    { position: chunkHi + 1 },
    { id: data.id(0) },
    { id: data.id(data.count - 1) },
    { id: data.id(model.at(0)) },
    { id: data.id(model.at(last)) },
    { id: data.id(data.chunkFirst) },
    { id: data.id(data.chunkLast) },
    { ts: firstTs },
    { ts: firstTs - 1 },
    { ts: 0 },
    { ts: -1 },
    { ts: lastTs },
    { ts: lastTs + 1 },
    { ts: Number.MAX_SAFE_INTEGER },
    { ts: Number.MIN_SAFE_INTEGER },
    { ts: model.tsAt(chunkLo) },
    { ts: model.tsAt(chunkLo) - 1 },
    { ts: model.tsAt(chunkHi) + 1 },
  ];
  // A tie whose ids sort against their arrival order, and a ts strictly between two messages.
  for (let p = 0; p + 1 < model.total; p++) {
    if (model.tsAt(p) === model.tsAt(p + 1) && model.at(p) > model.at(p + 1)) {
      anchors.push({ ts: model.tsAt(p) }, { id: data.id(model.at(p + 1)) });
      break;
    }
  }
  for (let p = Math.floor(model.total / 2); p + 1 < model.total; p++) {
    if (model.tsAt(p + 1) - model.tsAt(p) >= 2) {
      anchors.push({ ts: model.tsAt(p) + 1 });
      break;
    }
  }
  // The first late single after the chunk.
  for (let n = data.chunkLast + 1; n < data.count; n++) {
    if (model.late[n] === 1) {
      anchors.push({ id: data.id(n) });
      break;
    }
  }
  return anchors;
}
