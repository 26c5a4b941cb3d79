/**
 * The timeline at two sizes with buckets of 64 messages (thousands of
 * buckets): the exact answer is the model's, each bucket scanned once at
 * most; with `exact=false` each point is a real message at a bucket start of
 * the stored directory (or the newest), near the even positions, and the
 * rows it reads are exactly the buckets taken whose bound is not a stored
 * message's key (the first one's, MIN_KEY; deleted ones): about none a
 * point, where the exact answer reads a share of a bucket each. Then after
 * deletes (bounds among them), after a wake, and after migrating pages
 * written before bounds were marked. Rows are counted, never timed.
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SCHEMA_VERSION } from "../../src/channel/schema.ts";
import { blob } from "../../src/channel/sql.ts";
import { ChannelStore } from "../../src/channel/store.ts";
import { encodePage } from "../../src/core/page-codec.ts";
import type { Bucket } from "../../src/core/position-index.ts";
import { DeletedHistory, HistoryModel } from "../support/history.ts";
import { evenPositions, spacedTimelineProblems } from "../support/pages.ts";
import { mulberry32, randInt } from "../support/random.ts";
import type { Key } from "../support/wire.ts";
import { generate, pagesIn, type Storage, storeHistory } from "./helpers.ts";
import { channelStub } from "./net.ts";

const BUCKET = 64;
const OPTIONS = { bucketSize: BUCKET } as const;
/** A point at a bucket start lies at most half a bucket from its even position. */
const REACH = BUCKET / 2;
const POINTS = 1_000;
/** Deletes any message: the test deletes as a moderator. */
const MODERATOR = { user: "mod", moderator: true } as const;

type Model = HistoryModel | DeletedHistory;

function history(count: number) {
  const data = generate({ count, seed: count + 18, chunkSize: Math.ceil(count / 100) });
  return { data, model: new HistoryModel(data) };
}

/** The rows a store reads for one call. */
function counted<T>(store: ChannelStore, call: () => T): { value: T; rows: number } {
  const before = store.rowsRead;
  const value = call();
  return { value, rows: store.rowsRead - before };
}

/** Whether a bound is a message the model still holds (MIN_KEY's empty id is none). */
const storedIn = (model: Model) => (lo: Key) =>
  lo.id !== "" && model.positionOf(lo.id) !== undefined;

/** Each non-empty stored bucket by the position of its first message. */
function startsIn(storage: Storage): Map<number, Bucket> {
  const starts = new Map<number, Bucket>();
  let start = 0;
  for (const bucket of pagesIn(storage).flat()) {
    if (bucket.size > 0) starts.set(start, bucket);
    start += bucket.size;
  }
  return starts;
}

/** The stored marks: a bound after the first is marked gone exactly when its message is. */
function expectMarks(storage: Storage, model: Model): number {
  const buckets = pagesIn(storage).flat();
  const stored = storedIn(model);
  const wrong = buckets.filter((b, i) => i > 0 && (b.boundGone === true) === stored(b.lo));
  expect(wrong.map((b) => b.lo)).toEqual([]);
  expect(buckets[0]?.boundGone).toBeUndefined();
  return buckets.filter((b) => b.boundGone).length;
}

interface Seen {
  readonly total: number;
  readonly buckets: number;
  readonly exact: number;
  readonly spaced: number;
  readonly points: number;
}

/**
 * Both timelines of `store` against the model and the stored directory;
 * returns the rows each read.
 */
function expectTimelines(store: ChannelStore, storage: Storage, model: Model): Seen {
  const { total } = model;
  const exact = counted(store, () => store.timeline(POINTS));
  expect(exact.value).toStrictEqual(model.timeline(POINTS));
  const starts = startsIn(storage);
  // A point reads at most half a bucket; a bucket is read once at most, from each end.
  const distinct = new Set(evenPositions(total, POINTS)).size;
  expect(exact.rows).toBeLessThanOrEqual(distinct * (REACH + 1));
  expect(exact.rows).toBeLessThanOrEqual(total + 2 * starts.size);

  const spaced = counted(store, () => store.timeline(POINTS, false));
  expect(spacedTimelineProblems(model, POINTS, spaced.value, REACH)).toEqual([]);
  const stored = storedIn(model);
  let reads = 0;
  for (const { position } of spaced.value.points) {
    if (position === total - 1) continue;
    const bucket = starts.get(position);
    expect(bucket, `point at ${position}: no bucket starts there`).toBeDefined();
    if (bucket && !stored(bucket.lo)) reads++;
  }
  // One row for each bucket taken whose bound is not a stored message; the rest from memory.
  expect(spaced.rows).toBe(reads);
  expect(spaced.rows).toBeLessThanOrEqual(2 * spaced.value.points.length);
  return {
    total,
    buckets: starts.size,
    exact: exact.rows,
    spaced: spaced.rows,
    points: spaced.value.points.length,
  };
}

/** Deletes the arrivals as a moderator, 1,000 a frame, and returns the model after them. */
function deleteArrivals(store: ChannelStore, base: HistoryModel, arrivals: Set<number>): Model {
  const ids = [...arrivals].map((n) => base.arrivals.id(n));
  for (let from = 0; from < ids.length; from += 1_000) {
    const changes = ids.slice(from, from + 1_000).map((id) => ({ kind: "delete" as const, id }));
    const result = store.change(MODERATOR, changes);
    expect(result.results.every((r) => r.outcome === "applied")).toBe(true);
  }
  return new DeletedHistory(base, arrivals);
}

/** A third of the stored bounds, a spread of 1 % and a run of 3,000 (merging buckets). */
function victims(storage: Storage, base: HistoryModel, seed: number): Set<number> {
  const rand = mulberry32(seed);
  const out = new Set<number>();
  for (const bucket of pagesIn(storage).flat()) {
    const n = base.arrivals.find(bucket.lo.id);
    if (n !== undefined && rand() < 1 / 3) out.add(n);
  }
  for (let k = 0; k < base.total / 100; k++) out.add(randInt(rand, 0, base.total - 1));
  const run = randInt(rand, 0, base.total - 3_001);
  for (let p = run; p < run + 3_000; p++) out.add(base.at(p));
  return out;
}

describe("timeline", () => {
  it("reads exact points sharing bucket scans, and bucket starts from memory, at 10K and 200K", async () => {
    const seen: Seen[] = [];
    for (const count of [10_000, 200_000]) {
      const { data, model } = history(count);
      await runInDurableObject(channelStub(`timeline-${count}`), (_instance, state) => {
        const store = storeHistory(state.storage, data, OPTIONS);
        expect(expectMarks(state.storage, model)).toBe(0);
        seen.push(expectTimelines(store, state.storage, model));
      });
    }
    console.log(`timeline?points=${POINTS}, buckets of ${BUCKET}:`, JSON.stringify(seen));
    const [small, large] = seen as [Seen, Seen];
    for (const s of seen) {
      // No bound deleted: the first bucket's row (its bound is MIN_KEY) and nothing else.
      expect(s.spaced).toBe(1);
    }
    // More points than buckets: one point a bucket at most, each bucket scanned once at most.
    expect(small.buckets).toBeLessThan(POINTS);
    expect(small.points).toBeLessThanOrEqual(small.buckets + 1);
    expect(small.exact).toBeLessThanOrEqual(small.total + 2 * small.buckets);
    // Fewer: the exact answer reads a share of a bucket a point, 20× and more what memory needs.
    expect(large.buckets).toBeGreaterThan(POINTS);
    expect(large.points).toBeGreaterThan(POINTS / 2);
    expect(large.exact).toBeGreaterThanOrEqual(Math.max(20 * large.spaced, 5 * POINTS));
  });

  it("stays exact and real after deletes of bounds, a spread and a run, and after a wake", async () => {
    const { data, model: base } = history(60_000);
    await runInDurableObject(channelStub("timeline-deletes"), (_instance, state) => {
      const store = storeHistory(state.storage, data, OPTIONS);
      const model = deleteArrivals(store, base, victims(state.storage, base, 7));
      const gone = expectMarks(state.storage, model);
      const awake = expectTimelines(store, state.storage, model);
      const woken = new ChannelStore(state.storage, OPTIONS);
      const again = expectTimelines(woken, state.storage, model);
      console.log("after deletes:", JSON.stringify({ gone, awake, again }));
      expect(gone).toBeGreaterThan(100);
      // Some points fell on deleted bounds: each read its one row, after a wake as before it.
      expect(awake.spaced).toBeGreaterThan(1);
      expect(again).toEqual(awake);
    });
  });

  it("migrates pages written before bounds were marked (schema 4), marking them from tombstones", async () => {
    const { data, model: base } = history(20_000);
    await runInDurableObject(channelStub("timeline-migrate"), (_instance, state) => {
      const sql = state.storage.sql;
      const store = storeHistory(state.storage, data, OPTIONS);
      const model = deleteArrivals(store, base, victims(state.storage, base, 11));
      const marked = pagesIn(state.storage);
      const gone = expectMarks(state.storage, model);
      // The pages as schema 4 wrote them: sizes alone (page format 1).
      for (const page of marked) {
        const first = page[0] as Bucket;
        const plain = page.map((b) => ({ lo: b.lo, size: b.size }));
        sql.exec(
          "UPDATE bucket_pages SET buckets = ? WHERE lo_ts = ? AND lo_id = ?",
          encodePage(plain, 1).buffer,
          first.lo.ts,
          blob(first.lo.id),
        );
      }
      // Nor had schema 4 what schema 6 adds (relays).
      for (const table of ["relay_users", "relays"]) sql.exec(`DROP TABLE ${table}`);
      sql.exec("ALTER TABLE changes DROP COLUMN shown");
      sql.exec("UPDATE meta SET value = '4' WHERE key = 'schema'");
      const migrated = new ChannelStore(state.storage, OPTIONS);
      const buckets = marked.flat().length;
      console.log(
        "migration to schema 5:",
        JSON.stringify({ pages: marked.length, buckets, gone, rows: migrated.rowsRead }),
      );
      expect(migrated.meta.get("schema")).toBe(String(SCHEMA_VERSION));
      expect(pagesIn(state.storage)).toEqual(marked);
      // Each page read twice (migrated, then loaded), a tombstone probe a bound (SQLite counts
      // each value of an IN list as a row read) and the tombstone of each deleted one, the
      // wake's few tips: once; and the later schemas' statements' own reads (a constant).
      expect(migrated.rowsRead).toBeLessThanOrEqual(2 * marked.length + buckets + gone + 50);
      const next = new ChannelStore(state.storage, OPTIONS);
      expect(next.rowsRead).toBeLessThanOrEqual(marked.length + 10);
      expectTimelines(migrated, state.storage, model);
    });
  });
});
