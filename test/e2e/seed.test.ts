/**
 * scripts/seed.ts against a real `wrangler dev`: what it stores is compared
 * with an independent model of the channel built from `seedBatches` (the
 * arrivals in order, sorted by docs/protocol.md's key), and re-runs, resumed runs
 * and interrupted runs must end with exactly `count` messages, none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { removeStateDir, type Server, startServer } from "../../scripts/lib/server.ts";
import { type SeedOptions, seed, seedBatches, seedEnd } from "../../scripts/seed.ts";
import { ChannelModel } from "../support/model.ts";
import type { Draft } from "../support/wire.ts";
import { allMessages, compareKeys, stats, type WireMessage } from "./client.ts";

const OPTIONS = {
  count: 25_000,
  seed: 7,
  batch: 5_000,
  rate: 25_000 / (3 * 86_400),
  concurrency: 2,
  progress: false,
} as const;

type Options = Omit<SeedOptions, "url" | "channel">;

/**
 * The seeded arrivals as batches, for an `end` of our own: seed() takes its
 * end from the clock, which shifts every ts by the same amount and so keeps
 * the key order and the ids.
 */
function modelBatches(options: Options): Draft[][] {
  return [...seedBatches(options, seedEnd())].map((batch) =>
    batch.map(({ id, ts, author, text }) => {
      if (id === undefined || ts === undefined || author === undefined) {
        throw new Error("seedBatches made a message without id, ts or author");
      }
      return { id, ts, author, text };
    }),
  );
}

/** The longest a test's seed runs may lie before its model is built. */
const MAX_SHIFT_MS = 120_000;

/**
 * Describes the first way `stored` differs from the model, or answers
 * undefined. Each run of seed() takes its own end from the clock, so every
 * batch's ts are shifted by whole seconds, the same within a run: `runs` is
 * how many different shifts may occur (a resumed run adds one).
 */
function difference(
  stored: readonly WireMessage[],
  batches: readonly Draft[][],
  runs = 1,
  maxShift = MAX_SHIFT_MS,
): string | undefined {
  const byId = new Map(stored.map((m) => [m.id, m]));
  if (byId.size !== stored.length) return `${stored.length - byId.size} duplicate ids`;
  const count = batches.reduce((n, batch) => n + batch.length, 0);
  if (stored.length !== count) return `stored ${stored.length} messages, the model has ${count}`;
  const shifts = new Set<number>();
  const model: Draft[] = [];
  for (const [b, batch] of batches.entries()) {
    const head = batch[0] as Draft;
    const got = byId.get(head.id);
    if (!got) return `batch ${b}: ${head.id} is missing`;
    const shift = got.ts - head.ts;
    if (shift % 1000 !== 0 || Math.abs(shift) > maxShift) {
      return `batch ${b}: implausible ts shift ${shift}`;
    }
    shifts.add(shift);
    for (const m of batch) model.push({ ...m, ts: m.ts + shift });
  }
  if (shifts.size > runs) return `ts shifts ${[...shifts].join(", ")}: more than ${runs} run(s)`;
  model.sort(compareKeys);
  for (const [i, m] of stored.entries()) {
    const want = model[i] as Draft;
    if (m.id !== want.id || m.ts !== want.ts || m.author !== want.author || m.text !== want.text) {
      return `position ${i}: stored ${JSON.stringify(m)}, model ${JSON.stringify(want)}`;
    }
  }
  // seq is arrival order: 1…n, and each batch arrived whole and in its own order.
  const seqOf = new Map(stored.map((m) => [m.id, m.seq]));
  const seqs = [...seqOf.values()].sort((a, b) => a - b);
  if (seqs.some((s, i) => s !== i + 1)) return "seq is not 1…total";
  for (const [b, batch] of batches.entries()) {
    for (let j = 1; j < batch.length; j++) {
      const prev = seqOf.get((batch[j - 1] as Draft).id) as number;
      const here = seqOf.get((batch[j] as Draft).id) as number;
      if (here !== prev + 1) return `batch ${b} is not stored contiguously at ${j}`;
    }
  }
  // late: a greater key existed at arrival, in the order the server saw.
  const channel = new ChannelModel();
  channel.store([...stored].sort((a, b) => a.seq - b.seq));
  for (const m of stored) {
    const late = channel.byId.get(m.id)?.late;
    if (m.late !== late) return `${m.id} (seq ${m.seq}): late ${m.late}, model ${late}`;
  }
  return undefined;
}

let server: Server;

beforeAll(async () => {
  server = await startServer();
});

afterAll(async () => {
  await server?.stop();
  if (server) await removeStateDir(server.persistTo);
});

describe("seed script", () => {
  it("stores exactly count messages, equal to the generator's arrivals in key order", async () => {
    const channel = "seed-once";
    const result = await seed({ ...OPTIONS, url: server.url, channel });
    expect(result).toMatchObject({ inserted: 25_000, duplicates: 0, skipped: 0, total: 25_000 });

    const stored = await allMessages(server.url, channel);
    expect(difference(stored, modelBatches(OPTIONS))).toBeUndefined();
    const lateTotal = stored.filter((m) => m.late).length;
    expect(lateTotal).toBeGreaterThan(0);
    expect(await stats(server.url, channel)).toEqual({
      channel,
      total: 25_000,
      lateTotal,
      oldest: { ts: stored[0]?.ts, id: stored[0]?.id },
      newest: { ts: stored.at(-1)?.ts, id: stored.at(-1)?.id },
      seq: 25_000,
      // The seed script opens no socket.
      sockets: 0,
      relays: 0,
    });
  });

  it("inserts nothing on a second run beyond resending its in-flight tail", async () => {
    const channel = "seed-twice";
    await seed({ ...OPTIONS, url: server.url, channel });
    const before = await allMessages(server.url, channel);

    const again = await seed({ ...OPTIONS, url: server.url, channel });
    expect(again.inserted).toBe(0);
    expect(again.skipped + again.duplicates).toBe(25_000);
    // Only the batches that could have been in flight are sent again.
    expect(again.duplicates).toBeLessThanOrEqual(OPTIONS.concurrency * OPTIONS.batch);
    expect((await stats(server.url, channel)).total).toBe(25_000);
    expect(await allMessages(server.url, channel)).toEqual(before);
  });

  it("completes an interrupted run without duplicates", async () => {
    const channel = "seed-interrupted";
    const options = { ...OPTIONS, batch: 2_500 };
    // The network fails for good at the 6th insert request, as a killed script would stop.
    const realFetch = globalThis.fetch;
    const requests: Promise<unknown>[] = [];
    let posts = 0;
    globalThis.fetch = (input, init) => {
      if (init?.method === "POST" && ++posts >= 6) {
        return Promise.reject(new TypeError("fetch failed (test: interrupted)"));
      }
      const request = realFetch(input, init);
      // Answered means stored: the server replies once the batch is durable.
      requests.push(request.catch(() => undefined));
      return request;
    };
    try {
      await expect(seed({ ...options, url: server.url, channel })).rejects.toThrow("interrupted");
      await Promise.all(requests); // what was already sent lands, as on a real server
    } finally {
      globalThis.fetch = realFetch;
    }
    const partial = (await stats(server.url, channel)).total;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(25_000);

    const resumed = await seed({ ...options, url: server.url, channel });
    expect(resumed.inserted).toBe(25_000 - partial);
    expect(resumed.skipped).toBeGreaterThan(0);
    expect(resumed.total).toBe(25_000);
    const stored = await allMessages(server.url, channel);
    // Two runs, two ends: the batches stored by the first keep its ts.
    expect(difference(stored, modelBatches(options), 2)).toBeUndefined();
  });

  it("grows a smaller run of the same seed to the larger count without duplicates", async () => {
    const channel = "seed-grown";
    await seed({ ...OPTIONS, count: 10_000, url: server.url, channel });
    expect((await stats(server.url, channel)).total).toBe(10_000);

    await seed({ ...OPTIONS, url: server.url, channel });
    const stored = await allMessages(server.url, channel);
    expect(new Set(stored.map((m) => m.id)).size).toBe(stored.length);
    expect((await stats(server.url, channel)).total).toBe(25_000);
    // The smaller run's history ended as late but started later: its ts are shifted by the difference.
    const shift = (Math.round(25_000 / OPTIONS.rate) - Math.round(10_000 / OPTIONS.rate)) * 1000;
    expect(difference(stored, modelBatches(OPTIONS), 2, shift + MAX_SHIFT_MS)).toBeUndefined();
  });
});
