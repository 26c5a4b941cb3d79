/**
 * A channel's history at 1,000,000 messages (seeded through the insert RPC in
 * batches of 10,000, about 15 s), against the independent model: exact pages
 * by every anchor, and rows read that do not grow with the channel, before
 * and after eviction.
 */
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import {
  channelStub,
  edgeAnchors,
  expectPage,
  generate,
  HistoryModel,
  MIDDLE_PAGE_EXTRA_ROWS,
  mulberry32,
  okValue,
  PAGE_ROW_BUDGET,
  randomAnchor,
  rowBudget,
  SIDES,
  seed,
  WAKE_ROW_BUDGET,
} from "./helpers.ts";

describe("history at 1M", () => {
  const CHANNEL = "history-1m";
  const data = generate({ count: 1_000_000, seed: 1_000_000, chunkSize: 10_000 });
  const model = new HistoryModel(data);
  const stub = channelStub(CHANNEL);

  beforeAll(async () => {
    const lo = model.position[data.chunkFirst] as number;
    expect(model.position[data.chunkLast]).toBe(lo + data.chunkLast - data.chunkFirst);
    expect(model.total - lo).toBeGreaterThan(500_000);
    await seed(stub, CHANNEL, data);
  }, 300_000);

  it("reports the model's stats", async () => {
    expect(okValue(await stub.stats(CHANNEL))).toStrictEqual(model.stats(CHANNEL));
  });

  it("pages every edge anchor like the model, within the row budget", async () => {
    for (const anchor of edgeAnchors(model, data)) {
      const rows = await expectPage(stub, CHANNEL, model, anchor, 25, 25);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
      await expectPage(stub, CHANNEL, model, anchor, 0, 0);
      await expectPage(stub, CHANNEL, model, anchor, 200, 200);
    }
  });

  it("pages random anchors like the model, within the row budget", async () => {
    const rand = mulberry32(1_000_001);
    for (let i = 0; i < 140; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, model);
      const rows = await expectPage(stub, CHANNEL, model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
    }
  });

  it("reads about as many rows for the page at 500,000 as for the newest page", async () => {
    const newest = await expectPage(stub, CHANNEL, model, "newest", 25, 25);
    const middle = await expectPage(stub, CHANNEL, model, { position: 500_000 }, 25, 25);
    expect(newest).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
    expect(middle).toBeLessThanOrEqual(newest + MIDDLE_PAGE_EXTRA_ROWS);
  });

  it("answers not_found for an unknown id", async () => {
    for (const id of [`${data.id(500_000)}0`, "m0x", "nope"]) {
      expect(model.resolve({ id })).toBe("not_found");
      const outcome = await stub.page(CHANNEL, { anchor: { id }, before: 25, after: 25 });
      expect(outcome).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(outcome.rowsRead).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
    }
  });

  it("places timeline points at the model's positions", async () => {
    for (const points of [2, 3, 1_000]) {
      expect(okValue(await stub.timeline(CHANNEL, points))).toStrictEqual(model.timeline(points));
    }
  });

  it("wakes within the row budget and answers like the model after eviction", async () => {
    await evictDurableObject(stub);
    const first = await expectPage(stub, CHANNEL, model, { position: 500_000 }, 25, 25);
    expect(first).toBeLessThanOrEqual(WAKE_ROW_BUDGET);
    expect(okValue(await stub.stats(CHANNEL))).toStrictEqual(model.stats(CHANNEL));
    expect(okValue(await stub.timeline(CHANNEL, 1_000))).toStrictEqual(model.timeline(1_000));
    const rand = mulberry32(1_000_002);
    for (let i = 0; i < 60; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, model);
      const rows = await expectPage(stub, CHANNEL, model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
    }
  });
});
