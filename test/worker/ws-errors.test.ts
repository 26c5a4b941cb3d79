/**
 * Bad frames and the frame budget (docs/protocol.md, "WebSocket"): each bad frame
 * gets one `error` frame with its code (and the frame's rid when it had a
 * valid one), nothing is stored, nothing is pushed, and the socket stays
 * open. More than the burst of 400 frames gets `rate_limited` errors for
 * frames that are then not executed.
 */
import { afterEach, describe, expect, it } from "vitest";
import { msg, series, seriesKey } from "../support/data.ts";
import { closeAll } from "../support/socket.ts";
import type { Frame } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import { allMessages, harness, openSocket, postMessages, stats } from "./net.ts";

afterEach(closeAll);

const MIB = 1024 * 1024;

const key = seriesKey;
const good = (id: string) => msg(id, 9_000_000);

/**
 * A valid `send` frame of exactly `bytes` bytes of JSON (ASCII only), made of
 * `count` messages whose texts fill the space.
 */
function sendFrameOfBytes(bytes: number, rid: string, count = 300): string {
  const skeleton = (texts: string[]) =>
    JSON.stringify({
      type: "send",
      rid,
      messages: texts.map((text, i) => ({ id: `big-${i}`, ts: 9_000_000 + i, text })),
    });
  const fill = bytes - skeleton(Array.from({ length: count }, () => "")).length;
  if (fill < count || fill > count * 4_000) throw new Error(`cannot make ${bytes} bytes`);
  const texts = Array.from({ length: count }, (_, i) =>
    "x".repeat(Math.floor(fill / count) + (i < fill % count ? 1 : 0)),
  );
  const frame = skeleton(texts);
  expect(new TextEncoder().encode(frame).length).toBe(bytes);
  return frame;
}

interface BadFrame {
  readonly name: string;
  readonly frame: string | object | Uint8Array;
  readonly code: string;
  /** The rid the error must echo; absent when the frame had no valid one. */
  readonly rid?: string;
}

const manyMessages = (n: number) => Array.from({ length: n }, (_, i) => good(`many-${i}`));

const BAD: readonly BadFrame[] = [
  { name: "invalid JSON", frame: '{"type":"send","rid":"j1",', code: "bad_request" },
  { name: "a JSON array", frame: '[{"type":"ping"}]', code: "bad_request" },
  { name: "a JSON string", frame: '"ping"', code: "bad_request" },
  { name: "a JSON number", frame: "42", code: "bad_request" },
  { name: "JSON null", frame: "null", code: "bad_request" },
  { name: "an unknown type", frame: { type: "shout", rid: "t1" }, code: "bad_request", rid: "t1" },
  { name: "no type", frame: { rid: "t2", messages: [good("n")] }, code: "bad_request", rid: "t2" },
  {
    name: "a type that is not a string",
    frame: { type: 7, rid: "t3" },
    code: "bad_request",
    rid: "t3",
  },
  {
    name: "a send without messages",
    frame: { type: "send", rid: "f1" },
    code: "bad_request",
    rid: "f1",
  },
  {
    name: "a send of no messages",
    frame: { type: "send", rid: "f2", messages: [] },
    code: "bad_request",
    rid: "f2",
  },
  {
    name: "a message without text",
    frame: { type: "send", rid: "f3", messages: [{ id: "x", ts: 9_000_000 }] },
    code: "bad_request",
    rid: "f3",
  },
  {
    name: "a message with an empty text",
    frame: { type: "send", rid: "f4", messages: [{ ...good("x"), text: "" }] },
    code: "bad_request",
    rid: "f4",
  },
  {
    name: "a view without live",
    frame: { type: "view", rid: "f5", first: null, last: null },
    code: "bad_request",
    rid: "f5",
  },
  {
    name: "a view without first",
    frame: { type: "view", rid: "f6", last: null, live: true },
    code: "bad_request",
    rid: "f6",
  },
  {
    name: "a view with a key without id",
    frame: { type: "view", rid: "f7", first: { ts: 1 }, last: null, live: false },
    code: "bad_request",
    rid: "f7",
  },
  {
    name: "a page with an anchor of no known form",
    frame: { type: "page", rid: "f8", anchor: { seq: 3 } },
    code: "bad_request",
    rid: "f8",
  },
  {
    name: "a page with before 201",
    frame: { type: "page", rid: "o1", anchor: "newest", before: 201, after: 0 },
    code: "bad_request",
    rid: "o1",
  },
  {
    name: "a page with after 201",
    frame: { type: "page", rid: "o2", anchor: "oldest", before: 0, after: 201 },
    code: "bad_request",
    rid: "o2",
  },
  {
    name: "a page with before -1",
    frame: { type: "page", rid: "o3", anchor: "newest", before: -1, after: 0 },
    code: "bad_request",
    rid: "o3",
  },
  {
    name: "a page with after 2.5",
    frame: { type: "page", rid: "o4", anchor: "oldest", before: 0, after: 2.5 },
    code: "bad_request",
    rid: "o4",
  },
  {
    name: "a late.next with before 201",
    frame: { type: "late.next", rid: "o5", before: 201 },
    code: "bad_request",
    rid: "o5",
  },
  {
    name: "a late.list with limit 0",
    frame: { type: "late.list", rid: "o6", limit: 0 },
    code: "bad_request",
    rid: "o6",
  },
  {
    name: "a late.list with limit 101",
    frame: { type: "late.list", rid: "o7", limit: 101 },
    code: "bad_request",
    rid: "o7",
  },
  {
    name: "a text of 4,001 characters",
    frame: { type: "send", rid: "l1", messages: [{ ...good("long"), text: "y".repeat(4_001) }] },
    code: "bad_request",
    rid: "l1",
  },
  {
    name: "a send of 1,001 messages",
    frame: { type: "send", rid: "l2", messages: manyMessages(1_001) },
    code: "bad_request",
    rid: "l2",
  },
  {
    name: "an id of 65 characters",
    frame: { type: "send", rid: "l3", messages: [good("i".repeat(65))] },
    code: "bad_request",
    rid: "l3",
  },
  {
    name: "an empty id",
    frame: { type: "send", rid: "l4", messages: [good("")] },
    code: "bad_request",
    rid: "l4",
  },
  {
    name: "an author of 65 characters",
    frame: { type: "send", rid: "l5", messages: [{ ...good("a"), author: "a".repeat(65) }] },
    code: "bad_request",
    rid: "l5",
  },
  {
    name: "a ts that is not an integer",
    frame: { type: "send", rid: "l6", messages: [{ ...good("a"), ts: 1.5 }] },
    code: "bad_request",
    rid: "l6",
  },
  {
    name: "a ts that is a string",
    frame: { type: "send", rid: "l7", messages: [{ ...good("a"), ts: "9000000" }] },
    code: "bad_request",
    rid: "l7",
  },
  {
    name: "one bad message among good ones",
    frame: {
      type: "send",
      rid: "l8",
      messages: [
        good("ok-1"),
        good("ok-2"),
        { ...good("bad"), text: "z".repeat(4_001) },
        good("ok-3"),
      ],
    },
    code: "bad_request",
    rid: "l8",
  },
  {
    name: "a view with first after last",
    frame: { type: "view", rid: "v1", first: key(20), last: key(10), live: false },
    code: "bad_request",
    rid: "v1",
  },
  {
    name: "a binary frame",
    frame: new TextEncoder().encode('{"type":"ping"}'),
    code: "bad_request",
  },
  {
    name: "a send frame over 1 MiB",
    frame: {
      type: "send",
      messages: Array.from({ length: 1_000 }, (_, i) => ({
        ...good(`h${i}`),
        text: "w".repeat(1_100),
      })),
    },
    code: "too_large",
  },
  {
    name: "a rid over 64 characters",
    frame: { type: "ping", rid: "r".repeat(65) },
    code: "bad_request",
  },
  { name: "a rid that is a number", frame: { type: "ping", rid: 5 }, code: "bad_request" },
];

describe("bad frames", () => {
  BAD.forEach((bad, n) => {
    it(`answers ${bad.name} with ${bad.code}, stores nothing and stays open`, async () => {
      const channel = `bad-${n}`;
      await postMessages(channel, series(30));
      const sender = await openSocket(channel, "alice");
      await sender.next("hello");
      const watcher = await openSocket(channel, "bob");
      await watcher.next("hello");
      // The watcher would be pushed anything stored anywhere.
      const { reply } = await watcher.call(
        { type: "view", first: null, last: null, live: true },
        "w",
      );
      expect(reply).toEqual({ type: "view", rid: "w", ...unmarkedCounts(30), seq: 30 });

      sender.send(bad.frame);
      const frames = await sender.drain(); // the pong after it: still open
      expect(frames).toHaveLength(1);
      const error = frames[0] as Frame;
      expect(error).toEqual({
        type: "error",
        ...(bad.rid === undefined ? {} : { rid: bad.rid }),
        code: bad.code,
        message: expect.any(String),
      });
      expect(await watcher.drain()).toEqual([]);
      expect((await stats(channel)).total).toBe(30);
      // And the socket still works for real requests.
      const after = await sender.call({ type: "send", messages: [good("after")] }, "after");
      expect(after.reply).toMatchObject({ type: "sent", rid: "after", total: 31 });
    });
  });

  it("echoes the rid of a frame over 1 MiB", async () => {
    const client = await openSocket("bad-large-rid", "alice");
    await client.next("hello");
    client.send(sendFrameOfBytes(MIB + 1, "big"));
    expect(await client.drain()).toEqual([
      { type: "error", rid: "big", code: "too_large", message: expect.any(String) },
    ]);
  });

  it("accepts a frame of exactly 1 MiB and refuses one byte more", async () => {
    const client = await openSocket("bad-large-edge", "alice");
    await client.next("hello");
    client.send(sendFrameOfBytes(MIB + 1, "over"));
    const over = await client.drain();
    expect(over).toHaveLength(1);
    expect(over[0]).toMatchObject({ type: "error", code: "too_large" });
    expect((await stats("bad-large-edge")).total).toBe(0);
    client.send(sendFrameOfBytes(MIB, "edge"));
    const frames = await client.drain();
    expect(frames.filter((f) => f.type === "sent")).toMatchObject([
      { type: "sent", rid: "edge", total: 300 },
    ]);
  });

  it("accepts a text of exactly 4,000 characters and a send of exactly 1,000 messages", async () => {
    const client = await openSocket("bad-limits-edge", "alice");
    await client.next("hello");
    const long = await client.call(
      { type: "send", messages: [{ ...good("long"), text: "y".repeat(4_000) }] },
      "long",
    );
    expect(long.reply).toMatchObject({ type: "sent", rid: "long", total: 1 });
    const many = await client.call({ type: "send", messages: manyMessages(1_000) }, "many");
    expect(many.reply).toMatchObject({ type: "sent", rid: "many", total: 1_001 });
  });

  it("measures text length in UTF-16 code units", async () => {
    const client = await openSocket("bad-limits-units", "alice");
    await client.next("hello");
    // U+1F600 is two code units: 2,000 of them are 4,000 units, one more unit is too many.
    const emoji = await client.call(
      { type: "send", messages: [{ ...good("emoji"), text: "\u{1F600}".repeat(2_000) }] },
      "emoji",
    );
    expect(emoji.reply).toMatchObject({ type: "sent", rid: "emoji", total: 1 });
    const over = await client.call(
      {
        type: "send",
        messages: [{ ...good("emoji-over"), text: `${"\u{1F600}".repeat(2_000)}x` }],
      },
      "emoji-over",
    );
    expect(over.reply).toMatchObject({ type: "error", rid: "emoji-over", code: "bad_request" });
    expect((await stats("bad-limits-units")).total).toBe(1);
  });

  it("keeps the socket's view when a view is refused", async () => {
    const h = harness("bad-view-kept");
    await h.post(series(100));
    const bob = await h.connect("bob");
    await h.declare(bob, key(40), key(60), false);
    const { reply } = await bob.client.call(
      { type: "view", first: key(80), last: key(70), live: true },
      "bad",
    );
    expect(reply).toMatchObject({ type: "error", rid: "bad", code: "bad_request" });
    // Pushed only if the old view [40, 60] still holds.
    await h.post([
      msg("in-old", key(50).ts + 1),
      msg("in-new", key(75).ts + 1),
      msg("bottom", 9e6),
    ]);
  });

  it("stores nothing of a refused HTTP batch and pushes nothing", async () => {
    const h = harness("bad-http");
    await h.post(series(10));
    const alice = await h.connect("alice");
    const { status, body } = await postMessages(h.channel, [
      good("fine"),
      { ...good("too-long"), text: "t".repeat(4_001) },
    ]);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: { code: "bad_request" } });
    expect(await alice.client.drain()).toEqual([]);
    expect(await allMessages(h.channel)).toEqual(h.model.sorted.map((m) => h.model.wire(m)));
  });
});

describe("rate limit", () => {
  it("counts bad frames against the budget too", async () => {
    const client = await openSocket("rate-limit-bad", "alice");
    await client.next("hello");
    const FRAMES = 1_000;
    for (let n = 0; n < FRAMES; n++)
      client.send(n % 2 === 0 ? "{not json" : new Uint8Array([n % 256]));
    const codes: string[] = [];
    while (codes.length < FRAMES) {
      const frame = await client.next(undefined, 30_000);
      codes.push(frame.type === "error" ? frame.code : frame.type);
    }
    expect(codes.slice(0, 400).every((c) => c === "bad_request")).toBe(true);
    expect(codes).toContain("rate_limited");
  });

  it("refuses frames beyond a burst of 400 with rate_limited, executes none of them, stays open", async () => {
    const channel = "rate-limit";
    const client = await openSocket(channel, "alice");
    await client.next("hello");
    const other = await openSocket(channel, "alice");
    await other.next("hello");
    // Enough pings that the budget cannot refill in time for the sends, even on a loaded machine.
    const PINGS = 2_960;
    const SENDS = 40;
    const started = Date.now();
    for (let n = 0; n < PINGS; n++) client.send({ type: "ping", rid: `p${n}` });
    for (let n = 0; n < SENDS; n++) {
      client.send({ type: "send", rid: `s${n}`, messages: [msg(`rl-${n}`, 1_000 + n)] });
    }
    // Every frame is answered once, by its reply or by an error carrying its rid.
    const answers = new Map<string, Frame>();
    while (answers.size < PINGS + SENDS) {
      const frame = await client.next(undefined, 30_000);
      if (!("rid" in frame) || frame.rid === undefined) continue; // pushes of stored sends
      expect(answers.has(frame.rid), `one answer to ${frame.rid}`).toBe(false);
      answers.set(frame.rid, frame);
    }
    const elapsed = Date.now() - started;
    const limited = [...answers.values()].filter(
      (f) => f.type === "error" && f.code === "rate_limited",
    );
    for (const f of answers.values()) {
      expect(["pong", "sent", "error"]).toContain(f.type);
      if (f.type === "error") expect(f.code).toBe("rate_limited");
    }
    // The burst itself passes; beyond it, at most the refill (200 a second) does.
    for (let n = 0; n < 400; n++) expect(answers.get(`p${n}`)?.type, `p${n}`).toBe("pong");
    const executed = answers.size - limited.length;
    expect(executed).toBeLessThanOrEqual(400 + Math.ceil((200 * elapsed) / 1_000) + 1);
    expect(limited.length).toBeGreaterThan(0);

    // Refused sends stored nothing; accepted ones are stored.
    const accepted = Array.from({ length: SENDS }, (_, n) => n).filter(
      (n) => answers.get(`s${n}`)?.type === "sent",
    );
    expect(accepted.length).toBeLessThan(SENDS);
    const stored = (await allMessages(channel)).map((m) => m.id).sort();
    expect(stored).toEqual(accepted.map((n) => `rl-${n}`).sort());

    // The socket is open (the runtime answers a plain ping) and another socket has its own budget.
    client.send({ type: "ping" });
    for (;;) {
      const frame = await client.next();
      if (frame.type === "pong" && !("rid" in frame)) break;
    }
    expect(
      (await other.call({ type: "send", messages: [msg("other", 5)] }, "o")).reply,
    ).toMatchObject({
      type: "sent",
      rid: "o",
    });
    // Once the budget refills, the socket is served again.
    let served = false;
    for (let attempt = 0; attempt < 50 && !served; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the budget refills with time only
      const rid = `again-${attempt}`;
      client.send({ type: "late.list", rid });
      let reply = await client.next();
      while (!("rid" in reply) || reply.rid !== rid) reply = await client.next();
      served = reply.type === "late.list";
    }
    expect(served).toBe(true);
  });
});
