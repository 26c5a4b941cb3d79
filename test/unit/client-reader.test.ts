/**
 * Protocol 1.2's reader's place in the client library, over the fake
 * WebSocket (no network, fake timers, no real waiting): each new call's
 * frame and reply (`reactionsNext`, `reactionsList`, `reactionsAck`,
 * `read`, the `first_unread` page), the read marker the client tracks
 * (also from another tab's `status` while a resume holds pushes back), and
 * ChannelWindow over a played server: `open({ at: "first_unread" })`,
 * `firstUnread` following another tab, `reactions()`, `ackReactions()`,
 * and `markRead`'s throttling: the first `read` at once, then at most one
 * per `readEveryMs` for the furthest row, none that would not move the
 * marker, the last never dropped (a pause's end, a reconnect, a deleted
 * row's fallback, `dispose`).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChannelWindow, type Key } from "../../src/client/index.ts";
import { wireMsg as msg } from "../support/data.ts";
import { answer, connected, FakeSocket, flush, hello } from "./fake-socket.ts";

beforeEach(() => {
  FakeSocket.all = [];
  FakeSocket.serve = undefined;
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});
afterEach(() => {
  vi.useRealTimers();
});

const key = (i: number): Key => ({ ts: i * 10, id: `m${i}` });
const ZERO = { lateUnread: 0, reactionsUnread: 0, unread: 0 };

describe("ScrollbackClient's reader's place calls", () => {
  it("sends each frame and resolves with its reply's body", async () => {
    const { client, socket } = await connected();
    const page = { messages: [msg("m3", 30)], start: 3, total: 6, anchorIndex: 0 };
    const cases: [() => Promise<unknown>, object, Record<string, unknown>, unknown][] = [
      [
        () => client.page({ anchor: "first_unread", before: 0, after: 0 }),
        { type: "page", anchor: "first_unread", before: 0, after: 0 },
        { type: "page", ...page, hasOlder: true, hasNewer: true, seq: 5, firstUnread: 3 },
        { ...page, hasOlder: true, hasNewer: true, seq: 5, firstUnread: 3 },
      ],
      [
        () => client.reactionsNext({ before: 1 }),
        { type: "reactions.next", before: 1 },
        { type: "page", ...page, hasOlder: true, hasNewer: true, seq: 5 },
        { ...page, hasOlder: true, hasNewer: true, seq: 5 },
      ],
      [
        () => client.reactionsNext(),
        { type: "reactions.next" },
        { type: "error", code: "not_found", message: "no unread reactions" },
        null,
      ],
      [
        () => client.reactionsList(5),
        { type: "reactions.list", limit: 5 },
        {
          type: "reactions.list",
          unread: 1,
          items: [{ ...key(3), position: 3, seq: 9, reactions: [] }],
        },
        { unread: 1, items: [{ ...key(3), position: 3, seq: 9, reactions: [] }] },
      ],
      [
        () => client.reactionsAck(),
        { type: "reactions.ack" },
        { type: "view", lateUnread: 2, reactionsUnread: 0, unread: 4, seq: 5 },
        { lateUnread: 2, reactionsUnread: 0, unread: 4, seq: 5 },
      ],
      [
        () => client.read("m3"),
        { type: "read", id: "m3" },
        { type: "read", read: key(3), unread: 2, seq: 5 },
        { read: key(3), unread: 2, seq: 5 },
      ],
    ];
    for (const [call, sent, reply, body] of cases) {
      const pending = call();
      await flush();
      expect(socket.last()).toMatchObject(sent);
      expect(socket.last()).toHaveProperty("rid");
      await answer(socket, reply);
      expect(await pending).toEqual(body);
    }
    const unknown = expect(client.read("nope")).rejects.toMatchObject({ code: "not_found" });
    await answer(socket, { type: "error", code: "not_found", message: "unknown id" });
    await unknown;
    client.close();
  }, 30_000);

  it("tracks the read marker from hello, read replies and another tab's status, even while a resume holds pushes back", async () => {
    const { client, socket } = await connected();
    expect(client.readMarker).toBeNull();
    const read = client.read("m3");
    await answer(socket, { type: "read", read: key(3), unread: 2, seq: 5 });
    await read;
    expect(client.readMarker).toEqual(key(3));
    // A resume in flight holds the pushes of later groups back, not another tab's read.
    const statuses: unknown[] = [];
    client.on("status", (f) => statuses.push(f));
    const resumed = client.resume({ since: 5, first: key(1), last: key(4), live: false });
    await flush();
    socket.push({ type: "status", total: 7, ...ZERO, shifted: 1, seq: 7 });
    const otherTab = { type: "status", total: 7, ...ZERO, read: key(6), shifted: 0, seq: 7 };
    socket.push(otherTab);
    expect(statuses).toEqual([otherTab]);
    expect([client.readMarker, client.seq, client.resumeFrom]).toEqual([key(6), 5, 5]);
    await answer(socket, {
      type: "resumed",
      complete: true,
      seq: 7,
      total: 7,
      ...ZERO,
      shifted: 1,
      messages: [],
    });
    await resumed;
    expect([client.seq, client.resumeFrom]).toEqual([7, 7]);
    client.close();
  }, 30_000);
});

/**
 * Plays a channel of `n` messages m0… (ts 10·i) on every fake socket:
 * pages (newest, first_unread, id, position), declarations (nothing
 * missed), `read`, `reactions.next` and `reactions.ack`. `reacted` are the
 * user's messages with unread reactions; a declared view over one sees it.
 */
function playChannel(n: number) {
  const list = Array.from({ length: n }, (_, i) => msg(`m${i}`, i * 10));
  const state = { marker: null as Key | null, reacted: [] as string[], gone: new Set<string>() };
  const indexOf = (id: string) => list.findIndex((m) => m.id === id);
  const readCount = () => (state.marker ? indexOf(state.marker.id) + 1 : 0);
  const counts = () => ({
    lateUnread: 0,
    reactionsUnread: state.reacted.length,
    unread: n - readCount(),
  });
  const pageAround = (at: number, before = 25, after = 25) => {
    const start = Math.max(0, at - before);
    const end = Math.min(n, at + after + 1);
    const messages = list.slice(start, end);
    return {
      messages,
      start,
      total: n,
      anchorIndex: at - start,
      hasOlder: start > 0,
      hasNewer: end < n,
      seq: n,
    };
  };
  FakeSocket.serve = (frame, socket) => {
    const reply = (body: object) => socket.push({ ...body, rid: frame.rid });
    const { before, after } = frame as { before?: number; after?: number };
    switch (frame.type) {
      case "page": {
        const anchor = frame.anchor as string | { id: string } | { position: number };
        if (anchor === "first_unread") {
          const first = readCount();
          const at = first < n ? first : n - 1;
          reply({
            type: "page",
            ...pageAround(at, before, after),
            ...(first < n ? { firstUnread: first } : {}),
          });
        } else {
          const at =
            anchor === "newest"
              ? n - 1
              : "id" in (anchor as object)
                ? indexOf((anchor as { id: string }).id)
                : (anchor as { position: number }).position;
          reply({ type: "page", ...pageAround(at, before, after) });
        }
        return;
      }
      case "resume": {
        const { first, last } = frame as unknown as { first: Key | null; last: Key | null };
        const seen = (id: string) => {
          const i = indexOf(id);
          return (!first || i >= indexOf(first.id)) && (!last || i <= indexOf(last.id));
        };
        state.reacted = state.reacted.filter((id) => !seen(id));
        reply({
          type: "resumed",
          complete: true,
          seq: n,
          total: n,
          ...counts(),
          shifted: 0,
          messages: [],
          removed: [],
          updated: [],
        });
        return;
      }
      case "read": {
        const id = frame.id as string;
        const i = indexOf(id);
        if (i < 0 || state.gone.has(id)) {
          reply({ type: "error", code: "not_found", message: "unknown id" });
          return;
        }
        if (!state.marker || i > indexOf(state.marker.id)) state.marker = key(i);
        reply({ type: "read", read: state.marker, unread: counts().unread, seq: n });
        return;
      }
      case "reactions.next": {
        const next = state.reacted[0];
        if (next === undefined) reply({ type: "error", code: "not_found", message: "none" });
        else reply({ type: "page", ...pageAround(indexOf(next), before, after) });
        return;
      }
      case "reactions.ack":
        state.reacted = [];
        reply({ type: "view", ...counts(), seq: n });
        return;
    }
  };
  return state;
}

/** What the client has sent as `read` frames, on every socket: the ids. */
const readsSent = () =>
  FakeSocket.all.flatMap((s) => s.sent.filter((f) => f.type === "read").map((f) => f.id));

/** A connected client (hello at seq 200, the marker from `read`) and a ChannelWindow over it, opened. */
async function opened(
  state: ReturnType<typeof playChannel>,
  open: Parameters<ChannelWindow["open"]>[0] = 20,
) {
  const { client, socket } = await connected(200);
  const list = new ChannelWindow(client, { margin: 10, readEveryMs: 250 });
  socket.push({
    ...hello(200, key(199)),
    reactionsUnread: state.reacted.length,
    unread: 200,
    read: state.marker,
  });
  await list.open(open);
  await flush();
  return { client, socket, list };
}

/** A channel of 200 whose user has read to m{marker}, opened there, 50 rows on screen. */
async function readingFrom(marker: number) {
  const state = playChannel(200);
  state.marker = key(marker);
  return { state, ...(await opened(state, { at: "first_unread", rows: 50 })) };
}

describe("ChannelWindow's reader's place", () => {
  it("opens at the first unread message, the reader on the last one read above it", async () => {
    const state = playChannel(200);
    state.marker = key(120);
    const { client, socket, list } = await opened(state, { at: "first_unread", rows: 20 });
    expect(socket.sent.find((f) => f.type === "page")).toMatchObject({
      anchor: "first_unread",
      before: 30,
      after: 30,
    });
    const w = list.window;
    expect([list.firstUnread, w.at(121)?.id, list.reader, w.unread, w.read]).toEqual([
      121,
      "m121",
      120,
      79,
      key(120),
    ]);
    expect([w.start, w.end, w.live, w.frozen]).toEqual([91, 152, false, false]);
    // Nothing unread: the newest messages, live.
    state.marker = key(199);
    await list.open({ at: "first_unread", rows: 20 });
    expect([list.firstUnread, w.unread, w.live, w.end, w.total]).toEqual([null, 0, true, 200, 200]);
    list.dispose();
    client.close();
  }, 30_000);

  it("follows another tab's read: the marker, unread and the new messages line", async () => {
    const state = playChannel(200);
    state.marker = key(150);
    const { client, socket, list } = await opened(state, { at: "first_unread" });
    expect(list.firstUnread).toBe(151);
    const changes: (number | null)[] = [];
    list.onChange(() => changes.push(list.firstUnread));
    socket.push({
      type: "status",
      total: 200,
      lateUnread: 0,
      reactionsUnread: 0,
      unread: 10,
      read: key(189),
      shifted: 0,
      seq: 200,
    });
    expect([list.firstUnread, list.window.unread, list.window.read, changes]).toEqual([
      190,
      10,
      key(189),
      [190],
    ]);
    list.dispose();
    client.close();
  }, 30_000);

  it("jumps to the next message with unread reactions, whose view sees them, and acks the rest", async () => {
    const state = playChannel(200);
    state.reacted = ["m42", "m77"];
    const { client, list } = await opened(state);
    expect(list.window.reactionsUnread).toBe(2);
    const page = await list.reactions({ before: 2, after: 2 });
    expect([page?.start, list.reader, list.window.at(list.reader)?.id]).toEqual([40, 42, "m42"]);
    expect(list.window.reactionsUnread).toBe(1);
    expect(await list.ackReactions()).toBe(0);
    expect(list.window.reactionsUnread).toBe(0);
    expect(await list.reactions()).toBeNull();
    list.dispose();
    client.close();
  }, 30_000);

  it("sends the first read at once, then at most one per readEveryMs for the furthest row, never one that moves nothing", async () => {
    const { client, list } = await readingFrom(100);
    const w = list.window;
    list.markRead(90); // behind the marker: nothing
    await flush();
    expect(readsSent()).toEqual([]);
    // A second of scrolling, a row every 10 ms.
    for (let row = 101; row <= 200; row++) {
      list.markRead(row);
      await vi.advanceTimersByTimeAsync(10);
    }
    const sent = readsSent();
    // At most one each 250 ms: the first at once, the furthest row at each pause's end.
    expect(sent.length).toBeLessThanOrEqual(5);
    expect(sent[0]).toBe("m101");
    await vi.advanceTimersByTimeAsync(250);
    expect(readsSent().at(-1)).toBe(`m${w.end - 1}`);
    expect([w.read, w.unread, list.firstUnread]).toEqual([
      key(w.end - 1),
      199 - (w.end - 1),
      w.end < 200 ? w.end : null,
    ]);
    const count = readsSent().length;
    list.markRead(w.end - 1); // the marker is there: nothing
    list.markRead(120);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readsSent()).toHaveLength(count);
    list.dispose();
    client.close();
  }, 30_000);

  it("reads to the newest message when called without a row at the bottom, and nothing when parked", async () => {
    const state = playChannel(200);
    state.marker = key(10);
    const { client, list } = await opened(state);
    expect(list.window.live).toBe(true);
    list.markRead();
    await flush();
    expect(readsSent()).toEqual(["m199"]);
    expect([list.window.unread, list.firstUnread]).toEqual([0, null]);
    list.dispose();

    const parked = await opened(playChannel(200), { at: "first_unread", rows: 20 });
    expect(parked.list.window.live).toBe(false);
    parked.list.markRead();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readsSent()).toEqual(["m199"]);
    parked.list.dispose();
    client.close();
    parked.client.close();
  }, 30_000);

  it("sends the row it holds back when disposed, and leaves no timer", async () => {
    const { client, list } = await readingFrom(100);
    list.markRead(120);
    list.markRead(130); // held back by the pause
    await flush();
    expect(readsSent()).toEqual(["m120"]);
    list.dispose();
    await flush();
    expect(readsSent()).toEqual(["m120", "m130"]);
    expect(vi.getTimerCount()).toBe(0);
    client.close();
  }, 30_000);

  it("sends a read the connection lost after the reconnect, and the row above one deleted meanwhile", async () => {
    const { state, client, list } = await readingFrom(100);
    const serve = FakeSocket.serve;
    FakeSocket.serve = undefined; // the server never answers: the connection drops
    list.markRead(120);
    await flush();
    (FakeSocket.all.at(-1) as FakeSocket).close();
    await vi.advanceTimersByTimeAsync(20);
    const next = FakeSocket.all.at(-1) as FakeSocket;
    FakeSocket.serve = serve;
    next.push({ ...hello(200, key(199)), unread: 99, read: key(100) });
    await vi.advanceTimersByTimeAsync(0);
    await flush();
    expect(next.sent.filter((f) => f.type === "read").map((f) => f.id)).toEqual(["m120"]);
    expect(list.window.read).toEqual(key(120));
    // m130 is deleted before its read arrives: the row above it goes instead, when the pause ends.
    await vi.advanceTimersByTimeAsync(250);
    state.gone.add("m130");
    list.markRead(130);
    await flush();
    expect(list.window.read).toEqual(key(120));
    await vi.advanceTimersByTimeAsync(250);
    expect(readsSent().slice(-2)).toEqual(["m130", "m129"]);
    expect(list.window.read).toEqual(key(129));
    list.dispose();
    client.close();
  }, 30_000);
});
