/**
 * The history suites' own tools (the model is the kit's HistoryModel): row
 * budgets, a deterministic generator of histories up to a million arrivals,
 * seeding through the object's RPC, anchors at every edge, and a checked page.
 */

import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import type { Channel } from "../../src/channel/channel.ts";
import { fromBlob } from "../../src/channel/sql.ts";
import { ChannelStore, type ChannelStoreOptions } from "../../src/channel/store.ts";
import { decodePage } from "../../src/core/page-codec.ts";
import type { Bucket } from "../../src/core/position-index.ts";
import type { Arrivals, HistoryModel } from "../support/history.ts";
import { mulberry32, randInt } from "../support/random.ts";
import type { Anchor, Draft } from "../support/wire.ts";

/** A plausible epoch: 2026-11-24. Generated ts start here. */
export const T0 = 1_795_480_000_000;

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
export function batchOf(a: Arrivals, from: number, to: number): Draft[] {
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

/** Keeps a computed ts a valid one (a safe integer), as docs/protocol.md requires of anchors. */
const safeTs = (ts: number) =>
  Math.min(Math.max(ts, Number.MIN_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);

/** What anchors and pages are drawn from: the history model, or one after deletes. */
export type PagedHistory = Pick<HistoryModel, "total" | "arrivals" | "at" | "tsAt" | "page">;

/** A random anchor of every kind docs/protocol.md names, edges included. */
export function randomAnchor(rand: () => number, model: PagedHistory): Anchor {
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

/**
 * Asks the object for a page and asserts it equals the model's, exactly.
 * Returns the rows the object read for it.
 */
export async function expectPage(
  stub: DurableObjectStub<Channel>,
  model: PagedHistory,
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

/** Anchors at every edge docs/protocol.md names, plus the late chunk's edges. */
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

/**
 * The SQLite rows the object reads while `action` runs (a socket frame, which
 * has no Server-Timing): the runtime's `SqlStorage.exec` is wrapped and every
 * cursor's `rowsRead` summed.
 */
export async function rowsDuring<T>(stub: DurableObjectStub<Channel>, action: () => Promise<T>) {
  const cursors: { readonly rowsRead: number }[] = [];
  const restore = await runInDurableObject(stub, (_instance, state) => {
    const proto = Object.getPrototypeOf(state.storage.sql) as SqlStorage;
    const exec = proto.exec;
    proto.exec = function (this: SqlStorage, ...args: Parameters<SqlStorage["exec"]>) {
      const cursor = exec.apply(this, args);
      cursors.push(cursor);
      return cursor;
    } as SqlStorage["exec"];
    return () => {
      proto.exec = exec;
    };
  });
  try {
    const value = await action();
    return { value, rows: cursors.reduce((n, c) => n + c.rowsRead, 0), queries: cursors.length };
  } finally {
    restore();
  }
}

/**
 * Stores a history through a store on an object's own storage (inside
 * runInDurableObject), in batches of 1,000 messages; `options` may shrink
 * the buckets. Returns the store.
 */
export function storeHistory(
  storage: Storage,
  data: Arrivals,
  options: ChannelStoreOptions,
): ChannelStore {
  const store = new ChannelStore(storage, options);
  for (let from = 0; from < data.count; from += 1_000) {
    store.insert(batchOf(data, from, Math.min(data.count, from + 1_000)));
  }
  return store;
}

// ── The stored bucket directory ────────────────────────────────────────────

/** An object's storage as the store takes it. */
export type Storage = Pick<DurableObjectStorage, "sql" | "transactionSync">;

/** Every stored page of the directory, in name order, decoded here (the store is not asked). */
export function pagesIn(storage: Storage): Bucket[][] {
  return storage.sql
    .exec<{ lo_ts: number; lo_id: ArrayBuffer; buckets: ArrayBuffer }>(
      "SELECT lo_ts, lo_id, buckets FROM bucket_pages ORDER BY lo_ts, lo_id",
    )
    .toArray()
    .map((r) => decodePage({ ts: r.lo_ts, id: fromBlob(r.lo_id) }, new Uint8Array(r.buckets)));
}

/** The directory's pages as stored, in name order, decoded here (the store is not asked). */
export function storedPages(stub: DurableObjectStub<Channel>): Promise<Bucket[][]> {
  return runInDurableObject(stub, (_instance, state) => pagesIn(state.storage));
}

/** Every bucket of the stored directory, ascending. */
export async function storedBuckets(stub: DurableObjectStub<Channel>): Promise<Bucket[]> {
  return (await storedPages(stub)).flat();
}
