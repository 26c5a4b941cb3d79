/**
 * The HTTP API of docs/protocol.md through the worker's fetch handler (an open
 * worker: no AUTH_SECRET), against the independent model in helpers.ts.
 * Every bad request is checked to store nothing.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { arrivalsOf, HistoryModel } from "../support/history.ts";
import { spacedTimelineProblems } from "../support/pages.ts";
import type { Anchor, Draft, Timeline } from "../support/wire.ts";
import { batchOf, generate, T0 } from "./helpers.ts";
import { api, expectError, post, rowsOf } from "./net.ts";

/** The channel's total as the worker reports it. */
async function totalOf(channel: string): Promise<number> {
  const res = await api(`/v1/channels/${channel}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { total: number }).total;
}

/** Asserts the Server-Timing header of an answer from the object names its rows read. */
function expectRows(res: Response): void {
  expect(res.headers.get("Server-Timing"), "Server-Timing").toMatch(/(^|,)\s*rows;dur=\d+(;|,|$)/);
  expect(rowsOf(res)).toBeGreaterThanOrEqual(0);
}

/** A JSON answer with its status, for one exact comparison. */
async function answer(res: Response): Promise<{ status: number; body: unknown }> {
  return { status: res.status, body: await res.json() };
}

/**
 * The worker's body limit (MAX_BODY_BYTES in src/worker.ts). Written out: in
 * the test runtime the main module exposes only its entry points.
 */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

const message = (id: string, ts: number, text = `text of ${id}`): Draft => ({
  id,
  ts,
  author: "alice",
  text,
});

describe("GET /v1/channels/{ch}", () => {
  it("reports an empty channel", async () => {
    const res = await api("/v1/channels/stats-empty");
    expectRows(res);
    expect(await answer(res)).toStrictEqual({
      status: 200,
      body: {
        channel: "stats-empty",
        total: 0,
        lateTotal: 0,
        oldest: null,
        newest: null,
        seq: 0,
        sockets: 0,
        relays: 0,
      },
    });
  });

  it("reports total, lateTotal, oldest and newest like the model", async () => {
    const sent = [
      message("b", T0 + 5),
      message("a", T0 + 9),
      message("c", T0 + 1),
      message("d", T0 + 9),
    ];
    expect(
      await answer(await post("/v1/channels/stats-some/messages", { messages: sent })),
    ).toStrictEqual({
      status: 200,
      body: { inserted: 4, duplicates: 0, total: 4 },
    });
    const res = await api("/v1/channels/stats-some");
    expectRows(res);
    expect(await res.json()).toStrictEqual(new HistoryModel(arrivalsOf(sent)).stats("stats-some"));
  });
});

describe("GET /v1/channels/{ch}/messages", () => {
  const CHANNEL = "http-pages";
  const data = generate({ count: 600, seed: 600, chunkSize: 60 });
  const model = new HistoryModel(data);
  const path = `/v1/channels/${CHANNEL}/messages`;

  beforeAll(async () => {
    for (let from = 0; from < data.count; from += 200) {
      const res = await post(path, { messages: batchOf(data, from, from + 200) });
      expect(res.status).toBe(200);
    }
  });

  /** GETs a page with the given query and asserts it equals the model's. */
  async function expectHttpPage(
    query: string,
    anchor: Anchor,
    before = 25,
    after = 25,
  ): Promise<void> {
    const res = await api(`${path}?${query}`);
    expectRows(res);
    expect(await answer(res), query).toStrictEqual({
      status: 200,
      body: model.page(anchor, before, after),
    });
  }

  it("pages by every anchor form like the model", async () => {
    const last = model.total - 1;
    const chunkLo = model.position[data.chunkFirst] as number;
    const some = data.id(model.at(300));
    const cases: [string, Anchor][] = [
      ["anchor=newest", "newest"],
      ["anchor=oldest", "oldest"],
      [`anchor=id:${some}`, { id: some }],
      [`anchor=id:${data.id(data.chunkFirst)}`, { id: data.id(data.chunkFirst) }],
      ["anchor=pos:0", { position: 0 }],
      [`anchor=pos:${chunkLo}`, { position: chunkLo }],
      [`anchor=pos:${last}`, { position: last }],
      ["anchor=pos:-5", { position: -5 }],
      [`anchor=pos:${last + 1}`, { position: last + 1 }],
      ["anchor=pos:9999999999999", { position: 9_999_999_999_999 }],
      [`anchor=ts:${model.tsAt(0)}`, { ts: model.tsAt(0) }],
      [`anchor=ts:${model.tsAt(0) - 1}`, { ts: model.tsAt(0) - 1 }],
      [`anchor=ts:${model.tsAt(250) + 1}`, { ts: model.tsAt(250) + 1 }],
      [`anchor=ts:${model.tsAt(last) + 1}`, { ts: model.tsAt(last) + 1 }],
      ["anchor=ts:-1", { ts: -1 }],
    ];
    for (const [query, anchor] of cases) {
      await expectHttpPage(query, anchor);
      await expectHttpPage(`${query}&before=0&after=0`, anchor, 0, 0);
      await expectHttpPage(`${query}&before=200&after=200`, anchor, 200, 200);
      await expectHttpPage(`after=3&${query}&before=7`, anchor, 7, 3);
    }
  });

  it("defaults to the newest message and 25 on each side", async () => {
    await expectHttpPage("", "newest");
    await expectHttpPage("before=4", "newest", 4, 25);
    await expectHttpPage(`anchor=pos:100&after=0`, { position: 100 }, 25, 0);
  });

  it("finds ids that need URL escaping", async () => {
    const odd = [message("a b:c/é?&=#%", T0 - 2), message("id:x", T0 - 1), message("😀", T0 - 1)];
    const channel = "http-odd-ids";
    expect((await post(`/v1/channels/${channel}/messages`, { messages: odd })).status).toBe(200);
    const oddModel = new HistoryModel(arrivalsOf(odd));
    for (const m of odd) {
      const res = await api(
        `/v1/channels/${channel}/messages?anchor=${encodeURIComponent(`id:${m.id}`)}&before=1&after=1`,
      );
      expect(await answer(res)).toStrictEqual({
        status: 200,
        body: oddModel.page({ id: m.id }, 1, 1),
      });
    }
  });

  it("answers not_found for an unknown id, with its rows read", async () => {
    const res = await api(`${path}?anchor=id:nope`);
    expectRows(res);
    await expectError(res, "not_found");
  });

  it("rejects invalid queries with 400", async () => {
    const queries = [
      "anchor=",
      "anchor=latest",
      "anchor=id:",
      `anchor=id:${"x".repeat(65)}`,
      "anchor=pos:",
      "anchor=pos:abc",
      "anchor=pos:1.5",
      "anchor=pos:1e3",
      "anchor=ts:",
      "anchor=ts:12x",
      "anchor=ts:99999999999999999999",
      "anchor=position:3",
      "anchor=NEWEST",
      "before=201",
      "after=201",
      "before=-1",
      "after=abc",
      "before=",
      "after=2.5",
    ];
    for (const query of queries) {
      const res = await api(`${path}?${query}`);
      expect(res.status, query).toBe(400);
      await expectError(res, "bad_request");
    }
    expect(await totalOf(CHANNEL)).toBe(model.total);
  });
});

describe("POST /v1/channels/{ch}/messages", () => {
  it("stores a batch of 10,000 messages", async () => {
    const channel = "post-10k";
    const data = generate({ count: 10_000, seed: 10, chunkSize: 500 });
    const res = await post(`/v1/channels/${channel}/messages`, {
      messages: batchOf(data, 0, 10_000),
    });
    expectRows(res);
    expect(await answer(res)).toStrictEqual({
      status: 200,
      body: { inserted: 10_000, duplicates: 0, total: 10_000 },
    });
    const model = new HistoryModel(data);
    const page = await api(`/v1/channels/${channel}/messages?anchor=pos:5000`);
    expect(await page.json()).toStrictEqual(model.page({ position: 5_000 }, 25, 25));
  });

  it("makes an id and takes the server's clock when they are missing", async () => {
    const channel = "post-defaults";
    const before = Date.now();
    const res = await post(`/v1/channels/${channel}/messages`, {
      messages: [
        { author: "bob", text: "one" },
        { author: "bob", text: "two" },
        { id: "given", ts: T0, author: "carol", text: "three" },
      ],
    });
    const after = Date.now();
    expect(await answer(res)).toStrictEqual({
      status: 200,
      body: { inserted: 3, duplicates: 0, total: 3 },
    });
    const page = (await (await api(`/v1/channels/${channel}/messages?anchor=oldest`)).json()) as {
      messages: { id: string; ts: number; author: string; text: string; seq: number }[];
    };
    const [given, one, two] = page.messages;
    expect(given).toMatchObject({ id: "given", ts: T0, author: "carol", text: "three", seq: 3 });
    expect(one).toMatchObject({ author: "bob", text: "one", seq: 1, late: false });
    expect(two).toMatchObject({ author: "bob", text: "two", seq: 2, late: false });
    for (const m of [one, two]) {
      expect(m?.id).toMatch(/^.{1,64}$/);
      expect(m?.ts).toBeGreaterThanOrEqual(before);
      expect(m?.ts).toBeLessThanOrEqual(after);
    }
    expect(one?.id).not.toBe(two?.id);
  });

  it("counts text in UTF-16 code units: 4,000 are allowed", async () => {
    const channel = "post-text-length";
    const texts = ["x".repeat(4_000), "😀".repeat(2_000), "é".repeat(4_000)];
    const res = await post(`/v1/channels/${channel}/messages`, {
      messages: texts.map((text, i) => ({ id: `t${i}`, ts: T0 + i, author: "a", text })),
    });
    expect(await answer(res)).toStrictEqual({
      status: 200,
      body: { inserted: 3, duplicates: 0, total: 3 },
    });
    const page = await (await api(`/v1/channels/${channel}/messages?anchor=oldest`)).json();
    expect((page as { messages: { text: string }[] }).messages.map((m) => m.text)).toStrictEqual(
      texts,
    );
  });

  it("rejects text over 4,000 UTF-16 code units, even of fewer code points", async () => {
    const channel = "post-text-units";
    // 2,001 emoji: 4,002 code units (docs/protocol.md's measure), 2,001 code points.
    const res = await post(`/v1/channels/${channel}/messages`, {
      messages: [{ ...message("emoji", T0), text: "😀".repeat(2_001) }],
    });
    await expectError(res, "bad_request");
    expect(await totalOf(channel)).toBe(0);
  });

  it("rejects an invalid batch with 400 and stores none of it", async () => {
    const channel = "post-invalid";
    const path = `/v1/channels/${channel}/messages`;
    const ok = message("ok", T0);
    expect((await post(path, { messages: [ok] })).status).toBe(200);
    const many = (n: number) =>
      Array.from({ length: n }, (_, i) => message(`many-${i}`, T0 + i, "x"));
    const bodies: [string, unknown][] = [
      ["10,001 items", { messages: many(10_001) }],
      ["no items", { messages: [] }],
      ["text of 4,001", { messages: [ok, { ...message("long", T0), text: "x".repeat(4_001) }] }],
      ["empty text", { messages: [{ ...message("empty", T0), text: "" }] }],
      ["no text", { messages: [{ id: "no-text", ts: T0, author: "a" }] }],
      ["no author", { messages: [message("fine", T0 + 1), { id: "anon", ts: T0, text: "hi" }] }],
      ["author of 65", { messages: [{ ...message("a65", T0), author: "a".repeat(65) }] }],
      ["empty author", { messages: [{ ...message("a0", T0), author: "" }] }],
      ["id of 65", { messages: [message("i".repeat(65), T0)] }],
      ["empty id", { messages: [message("", T0)] }],
      ["fractional ts", { messages: [message("frac", T0 + 0.5)] }],
      ["ts as a string", { messages: [{ ...message("str", T0), ts: String(T0) }] }],
      ["unsafe ts", { messages: [{ ...message("big", T0), ts: 2 ** 60 }] }],
      ["text as a number", { messages: [{ ...message("num", T0), text: 5 }] }],
      ["lone surrogate", { messages: [{ ...message("lone", T0), text: "\ud800" }] }],
      ["null item", { messages: [ok, null] }],
      ["messages not an array", { messages: { 0: ok } }],
      ["no messages", {}],
      ["an array body", [ok]],
      ["invalid JSON", '{"messages": ['],
      ["an empty body", ""],
      ["a JSON string", '"hello"'],
    ];
    for (const [what, body] of bodies) {
      const res = await post(path, body);
      expect(res.status, what).toBe(400);
      await expectError(res, "bad_request");
    }
    // A valid batch of many items fails for its last one.
    const last = many(10_000);
    last[9_999] = { ...message("bad-last", T0), text: "" };
    await expectError(await post(path, { messages: last }), "bad_request");
    expect(await totalOf(channel)).toBe(1);
    const page = await api(`${path}?anchor=oldest`);
    expect(await page.json()).toStrictEqual(
      new HistoryModel(arrivalsOf([ok])).page("oldest", 25, 25),
    );
  });

  it("answers 413 too_large for a body over the limit and stores nothing", async () => {
    const channel = "post-too-large";
    const path = `/v1/channels/${channel}/messages`;
    const head = '{"messages":[{"author":"a","text":"';
    const tail = '"}]}';
    const body = head + "x".repeat(MAX_BODY_BYTES + 1 - head.length - tail.length) + tail;
    expect(body.length).toBe(MAX_BODY_BYTES + 1);
    await expectError(await post(path, body), "too_large");
    expect(await totalOf(channel)).toBe(0);
  });

  it("answers 413 too_large for a streamed body over the limit, without a length", async () => {
    const channel = "post-too-large-stream";
    const chunk = new TextEncoder().encode("x".repeat(1024 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES) controller.close();
        else {
          controller.enqueue(chunk);
          sent += chunk.length;
        }
      },
    });
    const res = await api(`/v1/channels/${channel}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    await expectError(res, "too_large");
    expect(await totalOf(channel)).toBe(0);
  });
});

describe("GET /v1/channels/{ch}/timeline", () => {
  const CHANNEL = "http-timeline";
  const data = generate({ count: 1_234, seed: 1_234, chunkSize: 100 });
  const model = new HistoryModel(data);

  beforeAll(async () => {
    const res = await post(`/v1/channels/${CHANNEL}/messages`, {
      messages: batchOf(data, 0, 1_234),
    });
    expect(res.status).toBe(200);
  });

  it("places points at round(i·(total−1)/(N−1)) with their ts, like the model", async () => {
    for (const points of [2, 3, 10, 999, 1_000]) {
      const res = await api(`/v1/channels/${CHANNEL}/timeline?points=${points}`);
      expectRows(res);
      expect(await answer(res)).toStrictEqual({ status: 200, body: model.timeline(points) });
    }
  });

  it("rejects a points count outside 2..1,000 with 400", async () => {
    for (const query of [
      "points=1",
      "points=1001",
      "points=0",
      "points=-2",
      "points=abc",
      "points=2.5",
      "points=",
    ]) {
      await expectError(await api(`/v1/channels/${CHANNEL}/timeline?${query}`), "bad_request");
    }
    expect(await totalOf(CHANNEL)).toBe(model.total);
  });

  it("answers 100 points when the query names none (README)", async () => {
    const res = await api(`/v1/channels/${CHANNEL}/timeline`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { total: number; points: { position: number }[] };
    expect(body.points.map((p) => p.position)).toEqual(
      Array.from({ length: 100 }, (_, i) => Math.round((i * (body.total - 1)) / 99)),
    );
  });

  it("answers a one-message channel with every point on it", async () => {
    const channel = "timeline-one";
    await post(`/v1/channels/${channel}/messages`, { messages: [message("only", T0)] });
    const res = await api(`/v1/channels/${channel}/timeline?points=4`);
    expect(await res.json()).toStrictEqual({
      total: 1,
      points: Array.from({ length: 4 }, () => ({ position: 0, ts: T0 })),
    });
    const spaced = await api(`/v1/channels/${channel}/timeline?points=4&exact=false`);
    expect(await spaced.json()).toStrictEqual({ total: 1, points: [{ position: 0, ts: T0 }] });
  });

  it("with exact=false places real messages near the even positions, reading a row or so", async () => {
    // Buckets of up to 512 messages: a point is at most 256 positions from its even position.
    for (const points of [2, 3, 10, 1_000]) {
      const res = await api(`/v1/channels/${CHANNEL}/timeline?points=${points}&exact=false`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Timeline;
      expect(spacedTimelineProblems(model, points, body, 256)).toEqual([]);
      // 1,234 messages are 3 or 4 buckets: the first's row (its bound is MIN_KEY), the rest from memory.
      expect(body.points.length).toBeLessThanOrEqual(5);
      expect(rowsOf(res)).toBeLessThanOrEqual(2);
    }
    const exact = await api(`/v1/channels/${CHANNEL}/timeline?points=7&exact=true`);
    expect(await answer(exact)).toStrictEqual({ status: 200, body: model.timeline(7) });
  });

  it("answers an empty channel with no points either way, and rejects an exact that is not true or false", async () => {
    for (const query of ["points=5", "points=5&exact=false", "exact=true"]) {
      const res = await api(`/v1/channels/timeline-empty/timeline?${query}`);
      expect(await answer(res)).toStrictEqual({ status: 200, body: { total: 0, points: [] } });
    }
    for (const query of ["exact=", "exact=0", "exact=no", "exact=False", "points=5&exact=1"]) {
      await expectError(await api(`/v1/channels/${CHANNEL}/timeline?${query}`), "bad_request");
    }
  });
});

describe("channel names", () => {
  const bad = ["bad%20name", "c".repeat(65), "bad%2Fname", "caf%C3%A9", "a%00b"];
  const routes = (ch: string): [string, RequestInit?][] => [
    [`/v1/channels/${ch}`],
    [`/v1/channels/${ch}/messages?anchor=newest`],
    [`/v1/channels/${ch}/timeline?points=5`],
    [
      `/v1/channels/${ch}/messages`,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ messages: [message("x", T0)] }),
      },
    ],
  ];

  it("rejects bad names with 400 on every route", async () => {
    for (const ch of bad) {
      for (const [path, init] of routes(ch)) {
        const res = await api(path, init);
        expect(res.status, `${init?.method ?? "GET"} ${path}`).toBe(400);
        await expectError(res, "bad_request");
      }
    }
  });

  it("accepts names of 1 to 64 characters of [A-Za-z0-9._-]", async () => {
    for (const ch of ["a", "c".repeat(64), "Az09._-"]) {
      for (const [path, init] of routes(ch)) {
        const res = await api(path, init);
        expect(res.status, `${init?.method ?? "GET"} ${path}`).toBe(200);
        expectRows(res);
      }
    }
  });
});

describe("routes", () => {
  it("answers 400 bad_request for an invalid path or method under /v1/", async () => {
    const cases: [string, string][] = [
      ["GET", "/v1/nope"],
      ["GET", "/v1/channels/x/nope"],
      ["GET", "/v1/channels/x/messages/y"],
      ["GET", "/v1/channels"],
      ["GET", "/v1/channels/x/naive"],
      ["GET", "/v1/channels/x/bench-stats"],
      ["PATCH", "/v1/channels/x"],
      ["DELETE", "/v1/channels/x/messages"],
    ];
    for (const [method, path] of cases) {
      const res = await api(path, { method });
      expect(res.status, `${method} ${path}`).toBe(400);
      await expectError(res, "bad_request");
    }
    expect(await totalOf("x")).toBe(0);
  });

  it("answers 404 not_found outside the API", async () => {
    for (const path of ["/v2/channels/x", "/nope.json"]) {
      const res = await api(path);
      expect(res.status, path).toBe(404);
      await expectError(res, "not_found");
    }
  });
});
