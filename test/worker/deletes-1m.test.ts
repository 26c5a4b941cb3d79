/**
 * Deletes at 1,000,000 messages (protocol 1.2): 10,000 spread over the
 * channel and a run of 2,000 consecutive ones, sent over HTTP as their
 * authors, against an independent model (the history model with those
 * arrivals gone): exact stats, late state, pages by every anchor and
 * timeline, before and after eviction. And the rows one delete reads, counted
 * from Server-Timing: no more at 1M messages than at 10K (a delete that
 * scanned the channel, or re-counted positions, would read up to a million).
 */
import { evictDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Bucket, MAX_BUCKET, SPLIT_FILL } from "../../src/core/position-index.ts";
import { DeletedHistory, HistoryModel } from "../support/history.ts";
import { compareKeys, partition } from "../support/keys.ts";
import { spacedTimelineProblems } from "../support/pages.ts";
import { mulberry32, randInt } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import type { Anchor, Key } from "../support/wire.ts";
import {
  batchOf,
  edgeAnchors,
  expectPage,
  type Generated,
  generate,
  MIDDLE_PAGE_EXTRA_ROWS,
  PAGE_ROW_BUDGET,
  randomAnchor,
  rowBudget,
  SIDES,
  seed,
  storedBuckets,
  storedPages,
  WAKE_ROW_BUDGET,
} from "./helpers.ts";
import { channelStub, okValue, openSocket, post, rowsOf } from "./net.ts";

afterAll(closeAll);

/** Arrivals after the reader's first connection: the late ones among them are its unread. */
const EXTRA = 500;
const SPREAD = 10_000;
const RUN = 2_000;
/** Most changes a request carries (docs/protocol.md 1.2). */
const MAX_CHANGES = 1_000;
/**
 * Rows one delete may read, at any size: its message and tombstone, held
 * changes, a late ordinal's O(log) counters, the newest key, a page of buckets.
 */
const DELETE_ROW_BUDGET = 150;

interface Scene {
  readonly channel: string;
  readonly data: Generated;
  readonly base: HistoryModel;
  readonly deleted: Set<number>;
  model: DeletedHistory;
}

/** `count` arrivals seeded, a reader's first connection, then EXTRA more arrivals. */
async function scene(channel: string, count: number): Promise<Scene> {
  const data = generate({
    count: count + EXTRA,
    seed: 29,
    chunkSize: Math.min(10_000, count / 10),
  });
  const stub = channelStub(channel);
  await seed(stub, { ...data, count });
  const first = await openSocket(channel, "reader");
  expect(await first.next("hello")).toMatchObject({ total: count, lateUnread: 0 });
  await first.closeAndWait();
  expect(okValue(await stub.insert(batchOf(data, count, count + EXTRA), "nobody"))).toMatchObject({
    inserted: EXTRA,
  });
  const base = new HistoryModel(data);
  return { channel, data, base, deleted: new Set(), model: new DeletedHistory(base, []) };
}

/**
 * Deletes arrivals over HTTP as their authors, up to MAX_CHANGES a request,
 * asserting each answer against the model; returns each request's rows read.
 */
async function deleteAll(s: Scene, arrivals: readonly number[]): Promise<number[]> {
  const byAuthor = Map.groupBy(arrivals, (n) => s.data.author(n));
  const rows: number[] = [];
  for (const [user, mine] of byAuthor) {
    for (let from = 0; from < mine.length; from += MAX_CHANGES) {
      const chunk = mine.slice(from, from + MAX_CHANGES);
      const changes = chunk.map((n) => ({ kind: "delete", id: s.data.id(n) }));
      const res = await post(`/v1/channels/${s.channel}/changes`, { user, changes });
      expect(res.status).toBe(200);
      const seq0 = s.model.seq;
      for (const n of chunk) s.deleted.add(n);
      s.model = new DeletedHistory(s.base, s.deleted);
      // Each delete is an arrival: the next seqs, in the order sent.
      expect(await res.json()).toStrictEqual({
        results: chunk.map((n, i) => ({ id: s.data.id(n), outcome: "applied", seq: seq0 + 1 + i })),
        total: s.model.total,
        seq: s.model.seq,
      });
      const read = rowsOf(res) ?? Number.NaN;
      expect(read).toBeLessThanOrEqual(DELETE_ROW_BUDGET * chunk.length);
      rows.push(read);
    }
  }
  return rows;
}

/** Distinct arrivals drawn at random from [0, count), none of `excluded`. */
function spread(rand: () => number, count: number, n: number, excluded: ReadonlySet<number>) {
  const out = new Set<number>();
  while (out.size < n) {
    const a = randInt(rand, 0, count - 1);
    if (!excluded.has(a)) out.add(a);
  }
  return out;
}

function shuffled<T>(items: T[], rand: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/** The late arrivals after the reader's first connection that are left, ascending. */
const lateExtras = (s: Scene) =>
  Array.from({ length: EXTRA }, (_, k) => s.base.total - EXTRA + k).filter(
    (n) => s.base.late[n] === 1 && s.deleted.has(n) === false,
  );

/** Asserts the reader's late badge and list equal the model's: deleted late messages left both. */
async function expectLateState(s: Scene): Promise<number> {
  const client = await openSocket(s.channel, "reader");
  const unread = lateExtras(s);
  expect(await client.next("hello")).toMatchObject({
    total: s.model.total,
    seq: s.model.seq,
    lateUnread: unread.length,
  });
  const { reply } = await client.call({ type: "late.list", limit: 100 }, "list");
  expect(reply).toStrictEqual({
    type: "late.list",
    rid: "list",
    unread: unread.length,
    items: unread.slice(0, 100).map((n) => ({
      id: s.data.id(n),
      ts: s.data.ts(n),
      position: s.model.positionOf(s.data.id(n)),
      seq: n + 1,
    })),
  });
  await client.closeAndWait();
  return unread.length;
}

/** How many of the model's messages sort before `key`. */
function countBelow(model: DeletedHistory, key: Key): number {
  const keyAt = (p: number): Key => ({ ts: model.tsAt(p), id: model.arrivals.id(model.at(p)) });
  return partition(model.total, (p) => compareKeys(keyAt(p), key) >= 0);
}

/**
 * Two neighbouring buckets of one stored page whose sizes sum least, the
 * first small enough to take the second: deleting from the second, one key a
 * request, merges it into the first (its right neighbour is no smaller than
 * the first, or names the next page, so the merge goes left).
 */
function mergeablePair(pages: readonly Bucket[][]) {
  let best: { a: Bucket; b: Bucket; hi: Key | undefined } | undefined;
  pages.forEach((page, k) => {
    for (let i = 1; i < page.length; i++) {
      const a = page[i - 1] as Bucket;
      const b = page[i] as Bucket;
      const next = page[i + 1];
      if (a.size > SPLIT_FILL || (next !== undefined && next.size < a.size)) continue;
      if (best && best.a.size + best.b.size <= a.size + b.size) continue;
      best = { a, b, hi: (next ?? pages[k + 1]?.[0])?.lo };
    }
  });
  if (best === undefined) expect.unreachable("no two buckets that can merge");
  return best;
}

/**
 * Asserts the stored directory tiles the key space from MIN_KEY, that each
 * bucket's size is exactly the model's messages in its range, and that a
 * bound after the first is marked gone exactly when its message was deleted.
 */
function expectDirectory(buckets: readonly Bucket[], model: DeletedHistory): void {
  const below = (key: Key) => countBelow(model, key);
  expect(buckets[0]?.lo).toStrictEqual({ ts: Number.MIN_SAFE_INTEGER, id: "" });
  const wrong: string[] = [];
  let sum = 0;
  buckets.forEach((bucket, b) => {
    const next = buckets[b + 1];
    if (next && compareKeys(bucket.lo, next.lo) >= 0) wrong.push(`bucket ${b} out of order`);
    const size = (next ? below(next.lo) : model.total) - below(bucket.lo);
    if (bucket.size !== size || size > MAX_BUCKET)
      wrong.push(`bucket ${b}: ${bucket.size}, not ${size}`);
    const gone = b > 0 && model.positionOf(bucket.lo.id) === undefined;
    if ((bucket.boundGone === true) !== gone) wrong.push(`bucket ${b}: bound gone ${gone}`);
    sum += bucket.size;
  });
  expect(wrong).toStrictEqual([]);
  expect(sum).toBe(model.total);
}

/** Anchors at and around the deleted run, at deleted ids and at the old edges. */
function deletedAnchors(s: Scene, runLo: number, sample: readonly number[]): Anchor[] {
  const { base, model, data } = s;
  const runHi = runLo + RUN - 1;
  const at = model.positionAfter(runLo);
  const anchors: Anchor[] = [-2, -1, 0, 1, 2].map((d) => ({ position: at + d }));
  for (const p of [runLo - 1, runHi + 1]) {
    const n = base.at(p);
    if (!s.deleted.has(n)) anchors.push({ id: data.id(n) });
  }
  for (const p of [runLo, runLo + 1, runLo + RUN / 2, runHi]) {
    anchors.push({ id: data.id(base.at(p)) }, { ts: base.tsAt(p) }, { ts: base.tsAt(p) + 1 });
  }
  anchors.push({ ts: base.tsAt(runLo) - 1 });
  for (const n of sample) anchors.push({ id: data.id(n) }, { ts: data.ts(n) });
  return anchors;
}

describe("deletes at 1M", () => {
  let small: Scene;
  let large: Scene;
  let runLo = 0;
  let bucketsBefore = 0;
  const sample: number[] = [];
  const stub = () => channelStub(large.channel);
  let checks = 0;

  beforeAll(async () => {
    small = await scene("deletes-10k", 10_000);
    large = await scene("deletes-1m", 1_000_000);
    bucketsBefore = (await storedBuckets(stub())).length;
    const { base, data } = large;
    // The run crosses the end of the late chunk, which landed as one contiguous run.
    runLo = (base.position[data.chunkLast] as number) - RUN / 2;
    const run = Array.from({ length: RUN }, (_, k) => base.at(runLo + k));
    const rand = mulberry32(31);
    const scattered = spread(rand, base.total, SPREAD, new Set(run));
    // The oldest and the newest go too, and half the reader's late unread.
    for (const p of [0, base.total - 1]) scattered.add(base.at(p));
    for (const n of lateExtras(large).filter((_, k) => k % 2 === 0)) scattered.add(n);
    for (const n of run) scattered.delete(n);
    const order = shuffled([...scattered], rand);
    sample.push(...order.slice(0, 8), base.at(0), base.at(base.total - 1));
    const rows = [...(await deleteAll(large, order)), ...(await deleteAll(large, run))];
    expect(large.model.total).toBe(base.total - scattered.size - RUN);
    console.log(
      `deleted ${scattered.size} spread and ${RUN} in a run of ${base.total} in ${rows.length} ` +
        `requests: at most ${Math.max(...rows)} rows a request`,
    );
  }, 300_000);

  afterAll(() => console.log(`deletes at 1M: ${checks} checks against the model`));

  it("reports the model's stats and late state", async () => {
    expect(okValue(await stub().stats())).toStrictEqual(large.model.stats(large.channel));
    const unread = await expectLateState(large);
    expect(unread).toBeGreaterThan(0);
    checks += 2 + unread;
  });

  it("stores a directory that counts the model's messages, the run's empty buckets merged away", async () => {
    const buckets = await storedBuckets(stub());
    expectDirectory(buckets, large.model);
    console.log(`buckets: ${bucketsBefore} before the deletes, ${buckets.length} after`);
    // The run empties at least two whole buckets (of at most 512); one at most names a page.
    expect(buckets.length).toBeLessThan(bucketsBefore);
    checks += buckets.length;
  });

  it("pages every edge, the deleted run's edges and deleted ids like the model", async () => {
    const anchors = [
      ...edgeAnchors(large.base, large.data),
      ...deletedAnchors(large, runLo, sample),
    ];
    let notFound = 0;
    for (const anchor of anchors) {
      if (large.model.resolve(anchor) === "not_found") notFound++;
      for (const [before, after] of [
        [25, 25],
        [0, 0],
        [200, 200],
      ] as const) {
        const rows = await expectPage(stub(), large.model, anchor, before, after);
        expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
        checks++;
      }
    }
    // The run's ids, the sample and the old oldest and newest are gone.
    expect(notFound).toBeGreaterThanOrEqual(4 + sample.length);
  });

  it("pages random anchors like the model, within the row budget", async () => {
    const rand = mulberry32(37);
    for (let i = 0; i < 140; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, large.model);
      const rows = await expectPage(stub(), large.model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
      checks++;
    }
  });

  it("reads about as many rows for the page in the middle as for the newest page", async () => {
    const newest = await expectPage(stub(), large.model, "newest", 25, 25);
    const middle = await expectPage(stub(), large.model, { position: 500_000 }, 25, 25);
    expect(newest).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
    expect(middle).toBeLessThanOrEqual(newest + MIDDLE_PAGE_EXTRA_ROWS);
    checks += 2;
  });

  it("places timeline points at the model's positions, and with exact=false at real messages near them", async () => {
    for (const points of [2, 3, 1_000]) {
      expect(okValue(await stub().timeline(points))).toStrictEqual(large.model.timeline(points));
      const spaced = okValue(await stub().timeline(points, false));
      expect(spacedTimelineProblems(large.model, points, spaced, MAX_BUCKET / 2)).toEqual([]);
      checks += points + spaced.points.length;
    }
  });

  it("answers a repeated delete as deleted and a re-sent message as a duplicate", async () => {
    const n = sample[0] as number;
    const id = large.data.id(n);
    const res = await post(`/v1/channels/${large.channel}/changes`, {
      user: large.data.author(n),
      changes: [{ kind: "delete", id }],
    });
    expect(await res.json()).toStrictEqual({
      results: [{ id, outcome: "deleted" }],
      total: large.model.total,
      seq: large.model.seq,
    });
    expect(okValue(await stub().insert(batchOf(large.data, n, n + 1), "nobody"))).toStrictEqual({
      inserted: 0,
      duplicates: 1,
      total: large.model.total,
    });
    expect(okValue(await stub().stats())).toStrictEqual(large.model.stats(large.channel));
    checks += 3;
  });

  it("reads no more rows for one delete at 1M messages than at 10K", async () => {
    const costs = [];
    for (const s of [small, large]) {
      // Warm: the first call after seeding may load the index; one delete alone is measured.
      await expectPage(channelStub(s.channel), s.model, "newest", 0, 0);
      const middle = s.base.at(Math.floor(s.base.total / 2));
      const onTime = [middle, middle + 1, middle + 2].find(
        (n) => s.base.late[n] === 0 && !s.deleted.has(n),
      );
      const late = lateExtras(s)[0];
      const newest = s.model.at(s.model.total - 1);
      const rows = [];
      for (const n of [onTime, late, newest]) {
        if (n === undefined) expect.unreachable("no message of that kind to delete");
        const [read] = await deleteAll(s, [n]);
        rows.push(read ?? Number.NaN);
      }
      expect(okValue(await channelStub(s.channel).stats())).toStrictEqual(s.model.stats(s.channel));
      await expectLateState(s);
      costs.push(rows);
      console.log(
        `one delete at ${s.base.total} messages: ${rows.join(", ")} rows (on time, late, newest)`,
      );
    }
    const [at10k = [], at1m = []] = costs;
    at1m.forEach((rows, k) => {
      expect(rows).toBeLessThanOrEqual(DELETE_ROW_BUDGET);
      // The late counters' paths differ by ordinal, not by the channel's size.
      expect(rows).toBeLessThanOrEqual((at10k[k] ?? 0) + 40);
    });
    checks += 6;
  });

  it("stores a merge made by one delete alone, reading no more rows for it", async () => {
    const pages = await storedPages(stub());
    const before = pages.flat().length;
    const { a, b, hi } = mergeablePair(pages);
    // B's messages, from its high end: deleting enough of them makes A + B fit in a split piece.
    const from = countBelow(large.model, b.lo);
    const to = hi === undefined ? large.model.total : countBelow(large.model, hi);
    expect(to - from).toBe(b.size);
    const need = a.size + b.size - SPLIT_FILL;
    const doomed = Array.from({ length: need }, (_, k) => large.model.at(to - 1 - k));
    let worst = 0;
    for (const n of doomed) {
      const [rows = Number.NaN] = await deleteAll(large, [n]);
      worst = Math.max(worst, rows);
    }
    const after = await storedBuckets(stub());
    expectDirectory(after, large.model);
    console.log(
      `merged buckets of ${a.size} and ${b.size} with ${need} single deletes ` +
        `(at most ${worst} rows each): ${before} buckets, now ${after.length}`,
    );
    expect(after.length).toBe(before - 1);
    expect(worst).toBeLessThanOrEqual(DELETE_ROW_BUDGET);
    checks += after.length + need;
  });

  it("wakes within the row budget and answers like the model after eviction", async () => {
    await evictDurableObject(stub());
    const first = await expectPage(stub(), large.model, { position: 500_000 }, 25, 25);
    expect(first).toBeLessThanOrEqual(WAKE_ROW_BUDGET);
    expectDirectory(await storedBuckets(stub()), large.model);
    expect(okValue(await stub().stats())).toStrictEqual(large.model.stats(large.channel));
    for (const anchor of deletedAnchors(large, runLo, sample)) {
      await expectPage(stub(), large.model, anchor, 25, 25);
      checks++;
    }
    const rand = mulberry32(41);
    for (let i = 0; i < 60; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, large.model);
      const rows = await expectPage(stub(), large.model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
      checks++;
    }
    expect(okValue(await stub().timeline(1_000))).toStrictEqual(large.model.timeline(1_000));
    await expectLateState(large);
    checks += 1_003;
  });
});
