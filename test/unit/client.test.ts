/**
 * The client library (src/client/index.ts) over a fake WebSocket, no network:
 * it offers a token as a subprotocol (or `?token=` when asked), never both,
 * stays closed after close(), settles a request whose send throws at once
 * with no timer left, answers every request with its reply's body, and
 * resumes by itself after a drop (complete replay, or a page again when too
 * much was missed), holding back pushes the replay includes. Protocol 1.2:
 * `change`, the `remove` and `update` events, the watermarks they move, and
 * resyncs that carry `removed` and `updated`.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type ClientOptions, type ResyncEvent, ScrollbackError } from "../../src/client/index.ts";
import { wireMsg } from "../support/data.ts";
import { answer, connected, FakeSocket, flush, hello, makeClient } from "./fake-socket.ts";

const msg = wireMsg;
/** A `resumed` reply for a client that missed more than a resume replays (the channel at seq 5,000). */
const TOO_MUCH_MISSED = {
  type: "resumed",
  complete: false,
  seq: 5_000,
  total: 5_000,
  lateUnread: 0,
  shifted: 0,
  messages: [],
};
beforeEach(() => {
  FakeSocket.all = [];
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("ScrollbackClient's socket address", () => {
  const JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
  /** The URL and subprotocols the client opens its socket with. */
  function opened(options: Partial<ClientOptions>): { url: string; protocols: unknown } {
    const client = makeClient(options);
    client.connect().catch(() => {});
    const socket = FakeSocket.all.at(-1) as FakeSocket;
    client.close();
    return { url: socket.url, protocols: socket.protocols };
  }

  it("offers a token as the subprotocols scrollback and bearer.<jwt>, never in the URL", () => {
    expect(opened({ token: JWT })).toEqual({
      url: "ws://x/v1/channels/c/ws?user=u",
      protocols: ["scrollback", `bearer.${JWT}`],
    });
    expect(opened({ url: "https://h.example/base", channel: "a.b", token: JWT })).toEqual({
      url: "wss://h.example/v1/channels/a.b/ws?user=u",
      protocols: ["scrollback", `bearer.${JWT}`],
    });
  });

  it("puts the token in ?token= with tokenIn query, offering no subprotocol", () => {
    expect(opened({ token: JWT, tokenIn: "query" })).toEqual({
      url: `ws://x/v1/channels/c/ws?user=u&token=${JWT}`,
      protocols: [],
    });
  });

  it("offers nothing without a token", () => {
    for (const tokenIn of ["subprotocol", "query"] as const) {
      expect(opened({ tokenIn })).toEqual({ url: "ws://x/v1/channels/c/ws?user=u", protocols: [] });
    }
  });
});

describe("ScrollbackClient fixes", () => {
  it("stays closed: a request after close() fails with disconnected and opens nothing", async () => {
    const { client } = await connected();
    client.close();
    await expect(client.page()).rejects.toMatchObject({ code: "disconnected" });
    await expect(client.connect()).rejects.toBeInstanceOf(ScrollbackError);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(FakeSocket.all).toHaveLength(1);
  }, 30_000);

  it("settles a request whose send throws at once, leaving no timer behind", async () => {
    const { client, socket } = await connected();
    expect(vi.getTimerCount()).toBe(0);
    socket.throwOnSend = true;
    await expect(client.page()).rejects.toMatchObject({ code: "disconnected" });
    expect(vi.getTimerCount()).toBe(0);
    client.close();
  }, 30_000);

  it("answers each request kind with its reply's body, without type or rid", async () => {
    const { client, socket } = await connected();
    const viewed = client.view({ first: null, last: null, live: true });
    await answer(socket, { type: "view", lateUnread: 2, seq: 5 });
    // Protocol 1.2's counts default to 0 when a server sends none.
    expect(await viewed).toEqual({ lateUnread: 2, reactionsUnread: 0, unread: 0, seq: 5 });
    const sent = client.send([{ text: "hi" }]);
    await answer(socket, { type: "sent", results: [], total: 6, seq: 6 });
    expect(await sent).toEqual({ results: [], total: 6, seq: 6 });
    // `sent` does not advance the resume point: its batch's pushes follow it.
    expect(client.seq).toBe(5);
    const acked = client.lateAck();
    await answer(socket, { type: "view", lateUnread: 0, seq: 6 });
    expect(await acked).toEqual({ lateUnread: 0, reactionsUnread: 0, unread: 0, seq: 6 });
    client.close();
  }, 30_000);
});

/**
 * Declares a parked view, applies one push (by default a status, seq 6),
 * then loses the socket and reconnects to a server at `seqAfter`.
 */
async function dropAndReconnect(
  seqAfter: number,
  last: Record<string, unknown> = { type: "status", total: 6, lateUnread: 0, shifted: 1, seq: 6 },
) {
  const { client, socket } = await connected();
  const events: ResyncEvent[] = [];
  const inserts: unknown[] = [];
  client.on("resync", (e) => events.push(e));
  client.on("insert", (e) => inserts.push(e));
  const view = { first: { ts: 10, id: "m1" }, last: { ts: 30, id: "m3" }, live: false };
  const viewed = client.view(view);
  await answer(socket, { type: "view", lateUnread: 0, seq: 5 });
  await viewed;
  socket.push(last);
  expect(client.seq).toBe(6);
  socket.close();
  await vi.advanceTimersByTimeAsync(20);
  const next = FakeSocket.all.at(-1) as FakeSocket;
  expect(next).not.toBe(socket);
  next.push(hello(seqAfter));
  await flush();
  return { client, next, events, inserts, view };
}

describe("ScrollbackClient resume", () => {
  it("sends resume from the last seq with the last view, holds back pushes, emits one resync", async () => {
    const { client, next, events, inserts, view } = await dropAndReconnect(9);
    expect(next.last()).toMatchObject({ type: "resume", since: 6, ...view });
    // A push for the socket's initial view, before the reply: the replay includes it.
    next.push({ type: "insert", messages: [msg("x", 99, 8)], total: 8, seq: 8 });
    expect(inserts).toHaveLength(0);
    await answer(next, {
      type: "resumed",
      complete: true,
      seq: 9,
      total: 9,
      lateUnread: 1,
      shifted: 2,
      messages: [msg("m2b", 25, 4)],
    });
    expect(events).toEqual([
      {
        complete: true,
        since: 6,
        seq: 9,
        total: 9,
        lateUnread: 1,
        shifted: 2,
        messages: [msg("m2b", 25, 4)],
        // Protocol 1.2's fields, empty or 0 when the server sends none.
        reactionsUnread: 0,
        unread: 0,
        removed: [],
        updated: [],
      },
    ]);
    expect(client.seq).toBe(9);
    // After the reply, pushes flow again.
    next.push({ type: "status", total: 10, lateUnread: 1, shifted: 0, seq: 10 });
    expect(client.seq).toBe(10);
    client.close();
  }, 30_000);

  it("pages again around the first message held when too much was missed, and declares it", async () => {
    const { client, next, events, view } = await dropAndReconnect(5_000);
    await answer(next, TOO_MUCH_MISSED);
    expect(next.last()).toMatchObject({ type: "page", anchor: { id: view.first.id }, before: 0 });
    const page = {
      type: "page",
      messages: [msg("m1", 10), msg("m2", 20), msg("m3", 30)],
      start: 40,
      total: 5_000,
      anchorIndex: 0,
      hasOlder: true,
      hasNewer: true,
      seq: 5_000,
    };
    await answer(next, page);
    expect(next.last()).toMatchObject({
      type: "resume",
      since: 5_000,
      first: { ts: 10, id: "m1" },
      last: { ts: 30, id: "m3" },
      live: false,
    });
    // One arrival landed between the page and its declaration: it is replayed.
    await answer(next, {
      type: "resumed",
      complete: true,
      seq: 5_001,
      total: 5_001,
      lateUnread: 0,
      shifted: 0,
      messages: [msg("m2b", 25, 42)],
    });
    expect(events).toHaveLength(1);
    const [event] = events;
    if (event?.complete !== false) throw new Error("expected an incomplete resync");
    expect(event.page.start).toBe(40);
    expect(event.page.messages.map((m) => m.id)).toEqual(["m1", "m2", "m2b", "m3"]);
    expect([event.total, event.seq, event.live]).toEqual([5_001, 5_001, false]);
    client.close();
  }, 30_000);

  it("falls back to the newest messages when the first message held is gone", async () => {
    const { client, next } = await dropAndReconnect(5_000);
    await answer(next, TOO_MUCH_MISSED);
    await answer(next, { type: "error", code: "not_found", message: "unknown id" });
    expect(next.last()).toMatchObject({ type: "page", anchor: "newest" });
    client.close();
  }, 30_000);
});

describe("ScrollbackClient changes (protocol 1.2)", () => {
  const removeFrame = (seq: number, ids: string[]) => ({ type: "remove", ids, total: 9, seq });
  const updateFrame = (seq: number, text: string) => ({
    type: "update",
    messages: [{ ...msg("m3", 30, 2), text, edited: 77 }],
    seq,
  });

  it("sends a change frame and resolves with its reply's body, which moves no watermark", async () => {
    const { client, socket } = await connected();
    const changes = [
      { kind: "edit" as const, id: "m3", text: "hey", ts: 77 },
      { kind: "react" as const, id: "m4", emoji: "🎉", on: true, ts: 78 },
    ];
    const changed = client.change(changes);
    await flush();
    expect(socket.last()).toMatchObject({ type: "change", changes });
    const results = [
      { id: "m3", outcome: "applied", seq: 6 },
      { id: "m4", outcome: "stale" },
    ];
    await answer(socket, { type: "changed", results, total: 5, seq: 6 });
    expect(await changed).toEqual({ results, total: 5, seq: 6 });
    // Its group's pushes come after it.
    expect([client.seq, client.resumeFrom]).toEqual([5, 5]);
    client.close();
  }, 30_000);

  it("emits remove and update; seq follows every push, the resume point every group delivered whole", async () => {
    const { client, socket } = await connected();
    const seen: unknown[] = [];
    client.on("remove", (f) => seen.push(f));
    client.on("update", (f) => seen.push(f));
    socket.push(removeFrame(6, ["m1"]));
    expect([client.seq, client.resumeFrom]).toEqual([6, 5]); // its status is still to come
    socket.push({ type: "status", total: 9, lateUnread: 0, shifted: -1, seq: 6 });
    socket.push(updateFrame(7, "edited"));
    // Edits alone mostly push no status: the group may have more; a reconnect replays it (idempotent).
    expect([client.seq, client.resumeFrom]).toEqual([7, 6]);
    expect(seen).toEqual([removeFrame(6, ["m1"]), updateFrame(7, "edited")]);
    client.close();
  }, 30_000);

  it("holds back the pushes of later groups while a resume is in flight, not the rest of the group it follows", async () => {
    const { client, socket } = await connected();
    const seen: string[] = [];
    for (const type of ["insert", "remove", "update", "status"] as const) {
      client.on(type, (f) => seen.push(`${type} ${f.seq}`));
    }
    socket.push({ type: "insert", messages: [msg("m6", 60, 5)], total: 6, seq: 6 });
    const resumed = client.resume({
      since: 6,
      first: { ts: 10, id: "m1" },
      last: null,
      live: true,
    });
    await flush();
    expect(client.resumeFrom).toBe(6);
    // Group 6 began before the resume: its reply does not replay it.
    socket.push(removeFrame(6, ["m2"]));
    socket.push({ type: "status", total: 5, lateUnread: 0, shifted: 0, seq: 6 });
    // Group 7 is in the reply.
    socket.push(removeFrame(7, ["m3"]));
    socket.push(updateFrame(7, "x"));
    socket.push({ type: "status", total: 4, lateUnread: 0, shifted: 0, seq: 7 });
    expect(seen).toEqual(["insert 6", "remove 6", "status 6"]);
    const reply = { complete: true, seq: 7, total: 4, lateUnread: 0, shifted: 0, messages: [] };
    await answer(socket, { type: "resumed", ...reply, removed: ["m3"], updated: [] });
    expect(await resumed).toMatchObject({ seq: 7, removed: ["m3"] });
    socket.push(updateFrame(8, "y"));
    expect(seen.at(-1)).toBe("update 8");
    expect([client.seq, client.resumeFrom]).toEqual([8, 7]);
    client.close();
  }, 30_000);

  it("resumes a reconnect from the last group delivered whole and hands over removed and updated", async () => {
    const { client, next, events } = await dropAndReconnect(9, updateFrame(6, "cut"));
    // Group 6 (no status seen) is replayed: the connection may have cut it.
    expect(next.last()).toMatchObject({ type: "resume", since: 5, live: false });
    const updated = [{ ...msg("m3", 30, 1), text: "cut", edited: 77 }];
    const replay = {
      seq: 9,
      total: 8,
      lateUnread: 0,
      reactionsUnread: 0,
      unread: 0,
      shifted: -1,
      messages: [],
      removed: ["m2"],
      updated,
    };
    await answer(next, { type: "resumed", complete: true, ...replay });
    expect(events).toEqual([{ complete: true, since: 5, ...replay }]);
    client.close();
  }, 30_000);
});
