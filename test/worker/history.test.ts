/**
 * A channel's history at 10,000 messages, through the object's RPC methods,
 * against the independent model in helpers.ts: stats, pages by every anchor,
 * timeline, duplicates, atomicity, rows read, and the same after eviction.
 */
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { NewMessage } from "../../src/protocol/schemas.ts";
import { arrivalsOf, HistoryModel } from "../support/history.ts";
import { mulberry32, randInt } from "../support/random.ts";
import type { Draft } from "../support/wire.ts";
import { batchOf, expectPage, generate, randomAnchor, SIDES, seed, T0 } from "./helpers.ts";
import { historyCase } from "./history.case.ts";
import { api, channelStub, expectError, okValue, post } from "./net.ts";

describe("history at 10K", () => {
  const CHANNEL = "history-10k";
  const stub = channelStub(CHANNEL);
  const { data, model } = historyCase({
    channel: CHANNEL,
    count: 10_000,
    chunkSize: 2_000,
    seedBatch: 1_000,
    randomPages: 400,
    wakePages: 60,
    edgeSides: [
      [25, 25],
      [0, 0],
      [200, 200],
      [0, 200],
      [200, 0],
    ],
    timelinePoints: [2, 3, 7, 999, 1_000],
    checkData: (data, model) => {
      // The data has what the tests rely on: ties, late singles, one contiguous late chunk.
      const lo = model.position[data.chunkFirst] as number;
      expect(model.total - lo).toBeGreaterThan(data.chunkLast - data.chunkFirst + 3_000);
      expect(model.lateTotal).toBeGreaterThan(2_000 + 300);
      // Ties, many of them sorted against their arrival order by id.
      let ties = 0;
      let reordered = 0;
      for (let p = 1; p < model.total; p++) {
        if (model.tsAt(p) !== model.tsAt(p - 1)) continue;
        ties++;
        if (model.at(p) < model.at(p - 1)) reordered++;
      }
      expect(ties).toBeGreaterThan(500);
      expect(reordered).toBeGreaterThan(200);
    },
  });

  it("counts re-sent ids as duplicates and changes nothing", async () => {
    const rand = mulberry32(77);
    const picks = Array.from({ length: 500 }, () => randInt(rand, 0, data.count - 1));
    const unique = new Set(picks).size;
    // Same ids with another ts, author and text: none of it may be stored.
    const resent = picks.map((n) => ({
      id: data.id(n),
      ts: T0 - n,
      author: "intruder",
      text: "changed",
    }));
    const outcome = await stub.insert(resent, "nobody");
    expect(okValue(outcome)).toStrictEqual({
      inserted: 0,
      duplicates: picks.length,
      total: model.total,
    });
    expect(unique).toBeGreaterThan(400);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
    for (const n of picks.slice(0, 40)) {
      await expectPage(stub, model, { id: data.id(n) }, 3, 3);
    }
  });

  it("stores nothing of an HTTP batch with one invalid item", async () => {
    // Fresh ids, all valid but the last: a text one code unit too long.
    const batch: NewMessage[] = batchOf(data, 0, 10_000).map((m, i) => ({
      ...m,
      id: `fresh-${i}`,
      ts: T0 + i,
    }));
    batch[9_999] = { id: "fresh-9999", ts: T0, author: "a", text: "x".repeat(4_001) };
    await expectError(
      await post(`/v1/channels/${CHANNEL}/messages`, { messages: batch }),
      "bad_request",
    );
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
    await expectPage(stub, model, { ts: T0 }, 25, 25);
    const missing = await stub.page({ anchor: { id: "fresh-0" }, before: 0, after: 0 });
    expect(missing).toMatchObject({ ok: false, error: { code: "not_found" } });
  });

  it("takes new messages where the model puts them after eviction", async () => {
    await evictDurableObject(stub);
    // It still takes new messages where the model puts them.
    const next = batchOf(data, 0, 1).map((m) => ({ ...m, id: "after-wake", ts: model.tsAt(0) }));
    const grown = new HistoryModel(arrivalsOf([...batchOf(data, 0, data.count), ...next]));
    expect(okValue(await stub.insert(next, "nobody"))).toStrictEqual({
      inserted: 1,
      duplicates: 0,
      total: model.total + 1,
    });
    expect(okValue(await stub.stats())).toStrictEqual(grown.stats(CHANNEL));
    await expectPage(stub, grown, { id: "after-wake" }, 25, 25);
    await expectPage(stub, grown, { position: 5_000 }, 25, 25);
  });
});

describe("key order", () => {
  it("orders equal-ts ids by UTF-16 code unit", async () => {
    const CHANNEL = "code-units";
    const stub = channelStub(CHANNEL);
    // U+1F600 is the surrogate pair D83D DE00: below U+FFFF by code unit, above it by code point.
    const ids = ["a\u{1F600}", "a\uFFFF", "a", "aa", "A", "b", "\u00e9", "a\uE000", "Z", "a b"];
    const messages = ids.map((id) => ({ id, ts: T0, author: "x", text: `id ${id}` }));
    expect(okValue(await stub.insert(messages, "nobody"))).toMatchObject({
      inserted: ids.length,
    });
    const model = new HistoryModel(arrivalsOf(messages));
    await expectPage(stub, model, "oldest", 0, 200);
    for (const id of ids) await expectPage(stub, model, { id }, 1, 1);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
  });
});

describe("extreme timestamps", () => {
  it("orders negative and near-limit ts like the model, through bucket splits", async () => {
    const CHANNEL = "extreme-ts";
    const stub = channelStub(CHANNEL);
    const rand = mulberry32(53);
    const edges = [Number.MIN_SAFE_INTEGER, -1, 0, 1, Number.MAX_SAFE_INTEGER];
    // Random order over the whole safe range: nearly every arrival lands mid-list.
    const sent: Draft[] = Array.from({ length: 3_000 }, (_, n) => ({
      id: `e${n}`,
      ts:
        n < 50
          ? (edges[n % edges.length] as number)
          : Math.round((rand() * 2 - 1) * Number.MAX_SAFE_INTEGER),
      author: "x",
      text: `e ${n}`,
    }));
    const model = new HistoryModel(arrivalsOf(sent));
    await seed(stub, arrivalsOf(sent), 300);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
    for (const ts of [...edges, Number.MIN_SAFE_INTEGER + 1, Number.MAX_SAFE_INTEGER - 1]) {
      await expectPage(stub, model, { ts }, 2, 2);
    }
    for (let i = 0; i < 60; i++) {
      const [before, after] = SIDES[i % SIDES.length] ?? [25, 25];
      await expectPage(stub, model, randomAnchor(rand, model), before, after);
    }
    expect(okValue(await stub.timeline(1_000))).toStrictEqual(model.timeline(1_000));
  });
});

describe("atomicity", () => {
  it("rolls back a batch that fails midway, in storage and in memory", async () => {
    const CHANNEL = "rollback";
    const stub = channelStub(CHANNEL);
    const data = generate({ count: 3_000, seed: 3, chunkSize: 300 });
    await seed(stub, data, 1_000);
    const model = new HistoryModel(data);
    // Past the worker's validation only an internal failure can break a batch:
    // a null text violates the table's NOT NULL after 999 rows went in.
    const failing = batchOf(data, 0, 1_000).map((m, i) => ({
      ...m,
      id: `late-${i}`,
      ts: m.ts + 1,
      text: i === 999 ? (null as unknown as string) : m.text,
    }));
    const outcome = await stub.insert(failing, "nobody");
    expect(outcome).toMatchObject({ ok: false, error: { code: "internal" } });
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
    await expectPage(stub, model, { position: 1_500 }, 200, 200);
    await expectPage(stub, model, { id: "late-0" }, 0, 0);
    // The next batch continues seq, late flags and positions as if nothing had happened.
    const good = failing.slice(0, 999);
    expect(okValue(await stub.insert(good, "nobody"))).toMatchObject({
      inserted: 999,
      total: 3_999,
    });
    const grown = new HistoryModel(arrivalsOf([...batchOf(data, 0, data.count), ...good]));
    expect(okValue(await stub.stats())).toStrictEqual(grown.stats(CHANNEL));
    const rand = mulberry32(9);
    for (let i = 0; i < 40; i++) {
      await expectPage(stub, grown, randomAnchor(rand, grown), 25, 25);
    }
  });
});

describe("empty channel", () => {
  it("answers empty pages, null stats and no timeline points", async () => {
    const CHANNEL = "empty";
    const stub = channelStub(CHANNEL);
    const model = new HistoryModel(arrivalsOf([]));
    for (const anchor of [
      "newest",
      "oldest",
      { position: 0 },
      { position: 5 },
      { ts: T0 },
    ] as const) {
      await expectPage(stub, model, anchor, 25, 25);
    }
    await expectPage(stub, model, { id: "m0" }, 25, 25);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
    expect(okValue(await stub.timeline(10))).toStrictEqual({ total: 0, points: [] });
  });
});

describe("duplicates", () => {
  it("counts an id repeated inside one batch as a duplicate, keeping the first", async () => {
    const CHANNEL = "dup-in-batch";
    const stub = channelStub(CHANNEL);
    const x = { id: "x", ts: T0 + 10, author: "a", text: "first" };
    const y = { id: "y", ts: T0 + 20, author: "a", text: "y" };
    const z = { id: "z", ts: T0 + 5, author: "a", text: "z" };
    const batch = [x, y, { id: "x", ts: T0 + 30, author: "b", text: "second" }, z];
    expect(okValue(await stub.insert(batch, "nobody"))).toStrictEqual({
      inserted: 3,
      duplicates: 1,
      total: 3,
    });
    // Seq counts stored arrivals only: z is the third.
    const model = new HistoryModel(arrivalsOf([x, y, z]));
    await expectPage(stub, model, "oldest", 0, 10);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
  });

  it("stores the new ids of a batch that mixes new and existing ones", async () => {
    const CHANNEL = "dup-mixed";
    const stub = channelStub(CHANNEL);
    const a = { id: "a", ts: T0 + 1, author: "a", text: "a" };
    const b = { id: "b", ts: T0 + 2, author: "a", text: "b" };
    const c = { id: "c", ts: T0 + 0, author: "a", text: "c" };
    const d = { id: "d", ts: T0 + 3, author: "a", text: "d" };
    const first = [a, b];
    const second = [
      { id: "b", ts: T0 - 100, author: "z", text: "changed" },
      c,
      { id: "a", ts: T0 + 99, author: "z", text: "changed" },
      d,
    ];
    okValue(await stub.insert(first, "nobody"));
    expect(okValue(await stub.insert(second, "nobody"))).toStrictEqual({
      inserted: 2,
      duplicates: 2,
      total: 4,
    });
    const model = new HistoryModel(arrivalsOf([a, b, c, d]));
    await expectPage(stub, model, "oldest", 0, 10);
    expect(okValue(await stub.stats())).toStrictEqual(model.stats(CHANNEL));
  });

  it("answers the same over HTTP: duplicates counted, total unchanged", async () => {
    const CHANNEL = "dup-http";
    const p = { id: "p", ts: T0, author: "a", text: "p" };
    const q = { id: "q", ts: T0 + 1, author: "a", text: "q" };
    const messages = [p, q];
    const path = `/v1/channels/${CHANNEL}/messages`;
    expect(await (await post(path, { messages })).json()).toStrictEqual({
      inserted: 2,
      duplicates: 0,
      total: 2,
    });
    const again = await post(path, { messages: [q, p, { ...p, ts: T0 - 1, text: "other" }] });
    expect({ status: again.status, body: await again.json() }).toStrictEqual({
      status: 200,
      body: { inserted: 0, duplicates: 3, total: 2 },
    });
    const page = await (await api(`${path}?anchor=oldest&after=10`)).json();
    expect(page).toStrictEqual(new HistoryModel(arrivalsOf(messages)).page("oldest", 25, 10));
  });
});
