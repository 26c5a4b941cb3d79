/**
 * The WebSocket protocol's basics (docs/protocol.md, "WebSocket"): hello, the
 * initial live view, ping, `send` and its `sent` reply, and `page` with every
 * anchor. Pushes and pages are compared with the kit's model (test/support/model.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import { msg, series } from "../support/data.ts";
import { closeAll } from "../support/socket.ts";
import type { Anchor, Frame } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import { allMessages, harness, openSocket, postMessages, worker } from "./net.ts";

afterEach(closeAll);

describe("hello", () => {
  it("greets an empty channel with protocol 1, total 0 and newest null", async () => {
    const client = await openSocket("hello-empty", "alice");
    expect(await client.next("hello")).toEqual({
      type: "hello",
      protocol: 1,
      minor: 2,
      channel: "hello-empty",
      user: "alice",
      total: 0,
      ...unmarkedCounts(0),
      read: null,
      newest: null,
      seq: 0,
    });
  });

  it("greets with the channel's total and newest key", async () => {
    await postMessages("hello-seeded", [
      msg("b", 2_000),
      msg("c", 3_000),
      msg("a", 1_000), // late, but before alice's first connection
    ]);
    const client = await openSocket("hello-seeded", "alice");
    expect(await client.next("hello")).toEqual({
      type: "hello",
      protocol: 1,
      minor: 2,
      channel: "hello-seeded",
      user: "alice",
      total: 3,
      ...unmarkedCounts(3),
      read: null,
      newest: { ts: 3_000, id: "c" },
      seq: 3,
    });
  });
});

describe("initial view", () => {
  it("starts live holding just the newest message", async () => {
    const h = harness("initial-live");
    await h.post(series(100)); // m00000…m00099 at ts 1,000,000 + i·1,000
    const alice = await h.connect("alice");
    // Just before the newest: outside the view (late). Just after: a new bottom arrival.
    const { status, body } = await postMessages(h.channel, [
      msg("before-newest", 1_098_999),
      msg("after-newest", 1_099_001),
    ]);
    expect(status).toBe(200);
    expect(body).toEqual({ inserted: 2, duplicates: 0, total: 102 });
    const frames = await alice.client.drain();
    expect(frames).toContainEqual({
      type: "insert",
      messages: [
        {
          id: "after-newest",
          ts: 1_099_001,
          author: "tester",
          text: "text of after-newest",
          seq: 102,
          late: false,
          position: 101,
        },
      ],
      total: 102,
      seq: 102,
    });
    expect(frames).toContainEqual({
      type: "status",
      total: 102,
      ...unmarkedCounts(102, 1),
      shifted: 1,
      latest: [{ id: "before-newest", ts: 1_098_999, position: 99 }],
      seq: 102,
    });
    expect(frames).toHaveLength(2);
  });

  it("keeps pushing to the live view every arrival after the first key it held", async () => {
    const h = harness("initial-grows");
    await h.post(series(10));
    await h.connect("alice");
    await h.post([msg("new-1", 2_000_000), msg("new-2", 3_000_000)]);
    // Between the first newest and new-2: inside the grown view, so pushed.
    await h.post([msg("between", 2_500_000)]);
    // Before the first message held: not pushed, shifts the view.
    await h.post([msg("older", 1_008_500)]);
  });

  it("treats every message as after the view on an empty channel", async () => {
    const client = await openSocket("initial-empty", "alice");
    await client.next("hello");
    await postMessages("initial-empty", [msg("y", 20), msg("x", 10), msg("z", 30)]);
    const frames = await client.drain();
    expect(frames).toContainEqual({
      type: "insert",
      messages: [
        { id: "x", ts: 10, author: "tester", text: "text of x", seq: 2, late: true, position: 0 },
        { id: "y", ts: 20, author: "tester", text: "text of y", seq: 1, late: false, position: 1 },
        { id: "z", ts: 30, author: "tester", text: "text of z", seq: 3, late: false, position: 2 },
      ],
      total: 3,
      seq: 3,
    });
    // x was late but pushed, so seen: nothing unread, nothing outside the view.
    const status = frames.find((f) => f.type === "status");
    expect(status).toMatchObject({ total: 3, lateUnread: 0, shifted: 0, seq: 3 });
    expect(status && "latest" in status ? (status.latest ?? []) : []).toEqual([]);
    expect(frames).toHaveLength(2);
  });

  it("keeps the grown view of a socket that connected to an empty channel", async () => {
    const h = harness("initial-empty-model");
    await h.connect("alice");
    await h.post([msg("b", 200), msg("a", 100)]);
    await h.post([msg("c", 300), msg("ab", 150), msg("0", 50)]);
    await h.post([msg("d", 400)]);
  });
});

describe("upgrade", () => {
  const upgrade = (query: string, headers: Record<string, string> = { Upgrade: "websocket" }) =>
    worker.fetch(new Request(`http://x/v1/channels/upgrade/ws${query}`, { headers }));

  it("refuses a request that is not a WebSocket upgrade with bad_request", async () => {
    const res = await upgrade("?user=alice", {});
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "bad_request" } });
  });

  it("refuses a missing or malformed user with bad_request", async () => {
    for (const query of ["", "?user=", "?user=a%20b", `?user=${"u".repeat(65)}`]) {
      const res = await upgrade(query);
      expect(res.status, query).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "bad_request" } });
    }
  });

  it("refuses a malformed channel name with bad_request", async () => {
    const res = await worker.fetch(
      new Request("http://x/v1/channels/bad!name/ws?user=alice", {
        headers: { Upgrade: "websocket" },
      }),
    );
    expect(res.status).toBe(400);
  });
});

describe("ping", () => {
  it("answers ping with pong", async () => {
    const client = await openSocket("ping", "alice");
    await client.next("hello");
    client.send({ type: "ping" });
    expect(await client.next()).toEqual({ type: "pong" });
  });

  it("echoes the rid of a ping", async () => {
    const client = await openSocket("ping-rid", "alice");
    await client.next("hello");
    client.send({ type: "ping", rid: "p-1" });
    expect(await client.next()).toEqual({ type: "pong", rid: "p-1" });
  });
});

describe("send", () => {
  it("replies sent with each id, its seq, duplicate false and the total", async () => {
    await postMessages("send-reply", series(5));
    const client = await openSocket("send-reply", "alice");
    await client.next("hello");
    const { reply } = await client.call(
      { type: "send", messages: [msg("n1", 5_000_000), msg("n2", 5_000_001)] },
      "s-1",
    );
    expect(reply).toEqual({
      type: "sent",
      rid: "s-1",
      results: [
        { id: "n1", seq: 6, duplicate: false },
        { id: "n2", seq: 7, duplicate: false },
      ],
      total: 7,
      seq: 7,
    });
  });

  it("pushes a socket's own send to it and to the channel's other sockets", async () => {
    const h = harness("send-fanout");
    await h.post(series(20));
    const alice = await h.connect("alice");
    await h.connect("bob");
    await h.send(alice, [msg("a1", 5_000_000), msg("a0", 1_005_500), msg("a2", 5_000_001)]);
    await h.send(alice, [msg("a3", 6_000_000)]);
  });

  it("fills in a server id, the server's clock and the socket's user when omitted", async () => {
    const client = await openSocket("send-defaults", "alice");
    await client.next("hello");
    const watcher = await openSocket("send-defaults", "bob");
    await watcher.next("hello");
    const before = Date.now();
    const { reply } = await client.call({
      type: "send",
      messages: [{ text: "one" }, { text: "two" }, { text: "three", author: "carol" }],
    });
    const after = Date.now();
    if (reply.type !== "sent") throw new Error(`expected sent, got ${JSON.stringify(reply)}`);
    const ids = reply.results.map((r) => r.id);
    expect(reply.results.map((r) => [r.seq, r.duplicate])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id.length).toBeGreaterThanOrEqual(1);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(64);
    const stored = await allMessages("send-defaults");
    expect(stored.map((m) => [m.id, m.author, m.text]).sort()).toEqual(
      [
        [ids[0], "alice", "one"],
        [ids[1], "alice", "two"],
        [ids[2], "carol", "three"],
      ].sort(),
    );
    for (const m of stored) {
      expect(m.ts).toBeGreaterThanOrEqual(before);
      expect(m.ts).toBeLessThanOrEqual(after);
    }
    // The other socket was on an empty channel: all three are pushed to it.
    const pushed = (await watcher.drain()).filter((f) => f.type === "insert");
    expect(pushed.flatMap((f) => f.messages.map((m) => m.id)).sort()).toEqual([...ids].sort());
  });

  it("reports re-sent ids as duplicates with their first seq and stores nothing", async () => {
    const h = harness("send-duplicates");
    await h.post(series(10));
    const alice = await h.connect("alice");
    const bob = await h.connect("bob");
    await h.send(alice, [msg("x", 5_000_000), msg("y", 5_000_001)]);
    const results = await h.send(bob, [
      { ...msg("x", 1), text: "a different text" },
      msg("m00003", 7),
      msg("z", 5_000_002),
      msg("z", 9),
    ]);
    expect(results).toEqual([
      { id: "x", seq: 11, duplicate: true },
      { id: "m00003", seq: 4, duplicate: true },
      { id: "z", seq: 13, duplicate: false },
      { id: "z", seq: 13, duplicate: true },
    ]);
    // A batch of duplicates only: a sent reply, no insert or status anywhere.
    const { reply, others } = await bob.client.call(
      { type: "send", messages: [msg("x", 3), msg("y", 4)] },
      "dups",
    );
    expect(reply).toEqual({
      type: "sent",
      rid: "dups",
      results: [
        { id: "x", seq: 11, duplicate: true },
        { id: "y", seq: 12, duplicate: true },
      ],
      total: 13,
      seq: 13,
    });
    expect(others).toEqual([]);
    expect(await alice.client.drain()).toEqual([]);
    const stored = await allMessages(h.channel);
    expect(stored).toEqual(h.model.sorted.map((m) => h.model.wire(m)));
  });
});

describe("page", () => {
  it("answers every anchor with the page the model holds", async () => {
    const h = harness("page-anchors");
    // 700 messages (more than one bucket of the index), ts collisions ordered by id.
    await h.post(series(600, 1_000_000, 1_000));
    await h.post(
      Array.from({ length: 100 }, (_, i) => msg(`t${String(i % 10)}-${i}`, 1_000_000 + i * 5_000)),
    );
    const alice = await h.connect("alice");
    const anchors: Anchor[] = [
      "newest",
      "oldest",
      { id: "m00300" },
      { id: "t5-35" },
      { id: "m00000" },
      { id: "m00599" },
      { position: 0 },
      { position: 350 },
      { position: 699 },
      { position: -5 },
      { position: 10_000 },
      { ts: 1_300_000 }, // exactly the ts of two messages: the first by id
      { ts: 1_300_001 }, // between two: the next one
      { ts: 0 }, // before the oldest
      { ts: 9_000_000 }, // after the newest: the newest
    ];
    const sides: [number | undefined, number | undefined][] = [
      [undefined, undefined],
      [0, 0],
      [3, 7],
      [200, 200],
      [0, 200],
    ];
    for (const anchor of anchors) {
      for (const [before, after] of sides) await h.page(alice, anchor, before, after);
    }
  });

  it("orders by ts, then id by UTF-16 code unit, at the extremes of ts", async () => {
    const h = harness("page-order");
    await h.post([msg("seed", 0)]);
    const alice = await h.connect("alice");
    // Code-unit order puts U+1F600 (a surrogate pair, D83D DE00) before U+E000 and U+FFFF.
    const ids = ["\uFFFF", "z", "\u{1F600}", "A", "\uE000", "aa", "a", "\u00E9"];
    await h.post(ids.map((id) => msg(id, 5_000)));
    expect(h.model.sorted.map((m) => m.id)).toEqual([
      "seed",
      "A",
      "a",
      "aa",
      "z",
      "\u00E9",
      "\u{1F600}",
      "\uE000",
      "\uFFFF",
    ]);
    await h.post([
      msg("max", Number.MAX_SAFE_INTEGER),
      msg("min", Number.MIN_SAFE_INTEGER),
      msg("minus-one", -1),
      msg("\u{1F601}", 5_000),
    ]);
    for (const anchor of [
      "oldest",
      "newest",
      { ts: -1 },
      { ts: 5_000 },
      { id: "\uE000" },
    ] as const) {
      await h.page(alice, anchor, 20, 20);
    }
  });

  it("answers an unknown id with not_found and echoes the rid", async () => {
    await postMessages("page-unknown", series(3));
    const client = await openSocket("page-unknown", "alice");
    await client.next("hello");
    const { reply } = await client.call({ type: "page", anchor: { id: "nope" } }, "p-404");
    expect(reply).toMatchObject({ type: "error", rid: "p-404", code: "not_found" });
    expect(typeof (reply as Frame & { message: unknown }).message).toBe("string");
  });

  it("answers an empty page on an empty channel", async () => {
    const client = await openSocket("page-empty", "alice");
    await client.next("hello");
    for (const anchor of ["newest", "oldest", { position: 3 }, { ts: 5 }]) {
      const { reply } = await client.call({ type: "page", anchor }, "p-e");
      expect(reply).toEqual({
        type: "page",
        rid: "p-e",
        messages: [],
        start: 0,
        total: 0,
        hasOlder: false,
        hasNewer: false,
        seq: 0,
      });
    }
  });

  it("flags unread: true on late messages this user has not seen, and only on them", async () => {
    const h = harness("page-unread");
    await h.post(series(50));
    await h.post([msg("early-late", 1_010_500)]); // late before anyone connected
    const alice = await h.connect("alice");
    const bob = await h.connect("bob");
    await h.post([msg("late-1", 1_020_500), msg("late-2", 1_030_500), msg("late-3", 1_040_500)]);
    // Bob sees late-2 by declaring a view around it; alice sees nothing.
    await h.declare(bob, { ts: 1_030_000, id: "m00030" }, { ts: 1_031_000, id: "m00031" }, false);
    const carol = await h.connect("carol"); // after the late arrivals: none unread for her
    for (const peer of [alice, bob, carol]) {
      const page = await h.page(peer, { position: 25 }, 30, 30);
      expect(page.messages.filter((m) => m.unread).map((m) => m.id)).toEqual(
        { alice: ["late-1", "late-2", "late-3"], bob: ["late-1", "late-3"], carol: [] }[
          peer.socket.user as "alice" | "bob" | "carol"
        ],
      );
    }
    // Asking a page marks nothing seen.
    await h.page(alice, { position: 25 }, 30, 30);
    const { reply } = await alice.client.call({ type: "late.list" }, "ll");
    expect(reply).toMatchObject({ type: "late.list", unread: 3 });
  });
});
