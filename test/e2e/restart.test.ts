/**
 * A restart of `wrangler dev` on the same state directory: the channel's
 * history, positions, late flags, timeline and simulator settings read back
 * exactly as before, because they come from SQLite and not from memory.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  removeStateDir,
  type Server,
  startServer,
  tempStateDir,
} from "../../scripts/lib/server.ts";
import { seed } from "../../scripts/seed.ts";
import { getJson, page, stats } from "./client.ts";

const CHANNEL = "restart";
const COUNT = 20_000;

let dir: string;
let server: Server | undefined;

beforeAll(async () => {
  dir = await tempStateDir();
});

afterAll(async () => {
  await server?.stop();
  await removeStateDir(dir);
});

/** Everything a client can read about the channel, as the server answers it now. */
async function snapshot(base: string, ids: readonly string[]): Promise<unknown> {
  const s = await stats(base, CHANNEL);
  const middle = Math.floor(s.total / 2);
  const reads: Record<string, Promise<unknown>> = {
    stats: Promise.resolve(s),
    newest: page(base, CHANNEL, "anchor=newest&before=200&after=0"),
    oldest: page(base, CHANNEL, "anchor=oldest&before=0&after=200"),
    middle: page(base, CHANNEL, `anchor=pos:${middle}&before=100&after=100`),
    byTs: page(base, CHANNEL, `anchor=ts:${(s.oldest?.ts ?? 0) + 86_400_000}`),
    timeline: getJson(base, `/v1/channels/${CHANNEL}/timeline?points=500`),
    simulator: getJson(base, `/v1/channels/${CHANNEL}/simulator`),
  };
  for (const id of ids) reads[`id:${id}`] = page(base, CHANNEL, `anchor=id:${id}&before=3&after=3`);
  const entries = await Promise.all(
    Object.entries(reads).map(async ([name, read]) => [name, await read] as const),
  );
  return Object.fromEntries(entries);
}

describe("server restart", () => {
  it("answers identical stats, pages, timeline and simulator state on the same state", async () => {
    server = await startServer({ persistTo: dir });
    const base = server.url;
    await seed({
      url: base,
      channel: CHANNEL,
      count: COUNT,
      seed: 3,
      batch: 5_000,
      rate: 20_000 / (3 * 86_400),
      concurrency: 2,
      progress: false,
    });
    // A few late arrivals far back, so positions after them shifted once already.
    const oldest = (await stats(base, CHANNEL)).oldest;
    if (!oldest) throw new Error("the seeded channel is empty");
    const late = [1, 2, 3].map((k) => ({
      id: `late-${k}`,
      ts: oldest.ts + k * 3_600_000,
      author: "restart",
      text: `late ${k}`,
    }));
    const inserted = await getJson<{ inserted: number; total: number }>(
      base,
      `/v1/channels/${CHANNEL}/messages`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: late }),
      },
    );
    expect(inserted).toMatchObject({ inserted: 3, total: COUNT + 3 });
    // Non-default settings and counters, stopped so nothing changes across the restart.
    await getJson(base, `/v1/channels/${CHANNEL}/simulator`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ rate: 3, lateRatio: 0.2, seed: 42, tickMs: 60_000 }),
    });
    await getJson(base, `/v1/channels/${CHANNEL}/simulator`, { method: "DELETE" });

    const ids = [
      "late-2",
      ...(await page(base, CHANNEL, "anchor=pos:777&before=0&after=0")).messages.map((m) => m.id),
    ];
    const before = await snapshot(base, ids);
    expect(before).toMatchObject({
      stats: { total: COUNT + 3 },
      simulator: { running: false, settings: { rate: 3, lateRatio: 0.2, seed: 42 } },
      "id:late-2": {
        messages: expect.arrayContaining([expect.objectContaining({ id: "late-2", late: true })]),
      },
    });

    await server.stop();
    server = undefined;
    server = await startServer({ persistTo: dir });
    expect(await snapshot(server.url, ids)).toEqual(before);

    // Writes go on where they stopped: the next seq, and late against the stored history.
    const next = { id: "after-restart", ts: oldest.ts + 1, author: "restart", text: "back" };
    expect(
      await getJson(server.url, `/v1/channels/${CHANNEL}/messages`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [next] }),
      }),
    ).toEqual({ inserted: 1, duplicates: 0, total: COUNT + 4 });
    const around = await page(server.url, CHANNEL, "anchor=id:after-restart&before=0&after=0");
    expect(around).toEqual({
      messages: [{ ...next, seq: COUNT + 4, late: true }],
      start: 1,
      total: COUNT + 4,
      anchorIndex: 0,
      hasOlder: true,
      hasNewer: true,
      // Protocol 1.1: the watermark survives the restart and moves with the write.
      seq: COUNT + 4,
    });
  });
});
