/**
 * The history suite both sizes run (10K and 1M messages), as hono runs one
 * router suite against every router: the same questions against the same
 * independent model, with row budgets that must hold whatever the size.
 */
import { evictDurableObject } from "cloudflare:test";
import { beforeAll, expect, it } from "vitest";
import { HistoryModel } from "../support/history.ts";
import { mulberry32 } from "../support/random.ts";
import {
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
  WAKE_ROW_BUDGET,
} from "./helpers.ts";
import { channelStub, okValue } from "./net.ts";

export interface HistoryCase {
  readonly channel: string;
  readonly count: number;
  readonly chunkSize: number;
  /** Messages per seeding call. */
  readonly seedBatch: number;
  /** Random pages checked before and after eviction. */
  readonly randomPages: number;
  readonly wakePages: number;
  /** before/after pairs tried at every edge anchor. */
  readonly edgeSides: readonly (readonly [number, number])[];
  readonly timelinePoints: readonly number[];
  /** Checks of the generated data, before seeding. */
  readonly checkData?: (data: Generated, model: HistoryModel) => void;
}

/** Seeds a channel with the case's data and registers the shared tests; returns the data and model. */
export function historyCase(c: HistoryCase): { data: Generated; model: HistoryModel } {
  const data = generate({ count: c.count, seed: c.count, chunkSize: c.chunkSize });
  const model = new HistoryModel(data);
  const stub = channelStub(c.channel);

  beforeAll(async () => {
    // The late chunk landed as one contiguous run, well before the bottom.
    const lo = model.position[data.chunkFirst] as number;
    expect(model.position[data.chunkLast]).toBe(lo + data.chunkLast - data.chunkFirst);
    c.checkData?.(data, model);
    await seed(stub, data, c.seedBatch);
  }, 300_000);

  it("reports the model's stats", async () => {
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(c.channel));
  });

  it("pages every edge anchor like the model, within the row budget", async () => {
    for (const anchor of edgeAnchors(model, data)) {
      for (const [before, after] of c.edgeSides) {
        const rows = await expectPage(stub, model, anchor, before, after);
        expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
      }
    }
  });

  it("pages random anchors like the model, within the row budget", async () => {
    const rand = mulberry32(c.count + 1);
    for (let i = 0; i < c.randomPages; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, model);
      const rows = await expectPage(stub, model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
    }
  });

  it("reads about as many rows for the page in the middle as for the newest page", async () => {
    const newest = await expectPage(stub, model, "newest", 25, 25);
    const middle = await expectPage(stub, model, { position: c.count / 2 }, 25, 25);
    expect(newest).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
    expect(middle).toBeLessThanOrEqual(newest + MIDDLE_PAGE_EXTRA_ROWS);
  });

  it("answers not_found for an unknown id", async () => {
    for (const id of [`${data.id(c.count / 2)}0`, "m-1", "nope", "m\u{1F600}"]) {
      expect(model.resolve({ id })).toBe("not_found");
      const outcome = await stub.page({ anchor: { id }, before: 25, after: 25 });
      expect(outcome).toMatchObject({ ok: false, error: { code: "not_found" } });
      expect(outcome.rowsRead).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
    }
  });

  it("places timeline points at the model's positions", async () => {
    for (const points of c.timelinePoints) {
      expect(okValue(await stub.timeline(points))).toStrictEqual(model.timeline(points));
    }
  });

  it("wakes within the row budget and answers like the model after eviction", async () => {
    await evictDurableObject(stub);
    // The first call after waking loads the bucket index.
    const first = await expectPage(stub, model, { position: c.count / 2 }, 25, 25);
    expect(first).toBeLessThanOrEqual(WAKE_ROW_BUDGET);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(c.channel));
    const rand = mulberry32(c.count + 2);
    for (let i = 0; i < c.wakePages; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      const anchor = randomAnchor(rand, model);
      const rows = await expectPage(stub, model, anchor, before, after);
      expect(rows, JSON.stringify(anchor)).toBeLessThanOrEqual(rowBudget(before, after));
    }
  });

  return { data, model };
}
