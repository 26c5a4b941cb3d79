/**
 * Protocol 1.2, the reader's place, step by step with every expected frame
 * written out: unread reactions (what raises and lowers `reactionsUnread`,
 * `reactions.next` / `list` / `ack`, one count across a user's sockets), the
 * read marker (`read`, `unread`, `first_unread` over the socket and HTTP)
 * and how both follow inserts and deletes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { closeAll } from "../support/socket.ts";
import type { Frame, Key } from "../support/wire.ts";
import { api, expectError, openSocket, post, postMessages } from "./net.ts";

afterEach(closeAll);

const T0 = 1_000_000;
const key = (i: number): Key => ({ ts: T0 + i * 1_000, id: `m${i}` });
/** m0 … m{n−1}, written by alice. */
const mine = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...key(i), author: "alice", text: `text ${i}` }));

async function connect(channel: string, user: string) {
  const client = await openSocket(channel, user);
  const hello = await client.next("hello");
  return { client, hello };
}

async function change(channel: string, user: string, changes: unknown[]) {
  const res = await post(`/v1/channels/${channel}/changes`, { user, changes });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as { results: { outcome: string; seq?: number }[]; seq: number };
}

const react = (i: number, emoji = "👍", on = true, ts = 1) => ({
  kind: "react",
  id: `m${i}`,
  emoji,
  on,
  ts,
});

/** The statuses among frames, without the fields this file does not look at. */
const statuses = (frames: Frame[]) =>
  frames.flatMap((f) =>
    f.type === "status"
      ? [{ reactionsUnread: f.reactionsUnread, unread: f.unread, read: f.read }]
      : [],
  );

describe("unread reactions", () => {
  it("counts the user's messages with a reaction by someone else that the user has not seen", async () => {
    const ch = "place-react-count";
    await postMessages(ch, mine(6));
    const { client: tab1, hello } = await connect(ch, "alice");
    expect(hello).toMatchObject({ reactionsUnread: 0, unread: 6, read: null });
    const { client: tab2 } = await connect(ch, "alice");
    // tab1 holds m0…m1, tab2 only the newest (its start view).
    await tab1.call({ type: "view", first: key(0), last: key(1), live: false });

    // A reaction outside every view of alice's: the count rises, both tabs hear it.
    await change(ch, "bob", [react(3)]);
    for (const tab of [tab1, tab2]) {
      expect(statuses(await tab.drain())).toEqual([
        { reactionsUnread: 1, unread: 6, read: undefined },
      ]);
    }
    // Inside tab1's view: pushed in an update, so seen at once; no status anywhere.
    await change(ch, "bob", [react(1)]);
    const pushed = await tab1.drain();
    expect(pushed.map((f) => f.type)).toEqual(["update"]);
    expect(await tab2.drain()).toEqual([]);
    // Her own reaction never counts; a second emoji on m3 is the same message.
    await change(ch, "alice", [react(4, "🎉")]);
    await change(ch, "carol", [react(3, "❤")]);
    expect(statuses(await tab2.drain())).toEqual([]);

    const list = await tab1.call({ type: "reactions.list", limit: 5 });
    expect(list.reply).toMatchObject({
      type: "reactions.list",
      unread: 1,
      items: [
        {
          id: "m3",
          ts: key(3).ts,
          position: 3,
          seq: 4,
          reactions: [
            { emoji: "❤", count: 1 },
            { emoji: "👍", count: 1 },
          ],
        },
      ],
    });
    const next = await tab1.call({ type: "reactions.next", before: 1, after: 1 });
    expect(next.reply).toMatchObject({ type: "page", start: 2, anchorIndex: 1 });
  });

  it("forgets a reaction cleared before it was seen, and a deleted message's", async () => {
    const ch = "place-react-gone";
    await postMessages(ch, mine(6));
    const { client: alice } = await connect(ch, "alice");
    await change(ch, "bob", [react(2), react(3)]);
    expect(statuses(await alice.drain()).at(-1)?.reactionsUnread).toBe(2);
    await change(ch, "bob", [react(2, "👍", false, 2)]);
    expect(statuses(await alice.drain())).toEqual([
      { reactionsUnread: 1, unread: 6, read: undefined },
    ]);
    await change(ch, "alice", [{ kind: "delete", id: "m3" }]);
    expect(statuses(await alice.drain())).toEqual([
      { reactionsUnread: 0, unread: 5, read: undefined },
    ]);
    const next = await alice.call({ type: "reactions.next" });
    expect(next.reply).toMatchObject({ type: "error", code: "not_found" });
  });

  it("does not count reactions that arrived before the user's first connection", async () => {
    const ch = "place-react-before";
    await postMessages(ch, mine(3));
    await change(ch, "bob", [react(0)]);
    const { hello } = await connect(ch, "alice");
    expect(hello).toMatchObject({ reactionsUnread: 0 });
  });

  it("is seen by a declared view on one tab and by reactions.ack, and the other tab hears it", async () => {
    const ch = "place-react-tabs";
    await postMessages(ch, mine(8));
    const { client: tab1 } = await connect(ch, "alice");
    const { client: tab2 } = await connect(ch, "alice");
    await change(ch, "bob", [react(1), react(4), react(5)]);
    await tab1.drain();
    await tab2.drain();
    const viewed = await tab2.call({ type: "view", first: key(3), last: key(4), live: false });
    expect(viewed.reply).toMatchObject({ type: "view", reactionsUnread: 2, unread: 8 });
    expect(statuses(await tab1.drain())).toEqual([
      { reactionsUnread: 2, unread: 8, read: undefined },
    ]);
    const acked = await tab1.call({ type: "reactions.ack" });
    expect(acked.reply).toMatchObject({ type: "view", lateUnread: 0, reactionsUnread: 0 });
    expect(statuses(await tab2.drain())).toEqual([
      { reactionsUnread: 0, unread: 8, read: undefined },
    ]);
    // Nothing left: no status for another ack.
    await tab1.call({ type: "reactions.ack" });
    expect(await tab2.drain()).toEqual([]);
  });

  it("tells every tab when a push alone makes a reaction seen", async () => {
    const ch = "place-react-seen-by-push";
    await postMessages(ch, mine(6));
    const { client: tab1 } = await connect(ch, "alice");
    await tab1.call({ type: "view", first: key(0), last: key(1), live: false });
    // m5, the newest, in no view of alice's: unread.
    await change(ch, "bob", [react(5)]);
    expect(statuses(await tab1.drain())).toEqual([
      { reactionsUnread: 1, unread: 6, read: undefined },
    ]);
    // A new tab starts live on the newest message (declaring nothing): still unread.
    const { client: tab2, hello } = await connect(ch, "alice");
    expect(hello).toMatchObject({ reactionsUnread: 1 });
    // Another reaction on m5 is pushed to tab2 in an update: m5's reactions are seen, both tabs hear it.
    await change(ch, "carol", [react(5, "🎉")]);
    const pushed = await tab2.drain();
    expect(pushed.map((f) => f.type)).toEqual(["update", "status"]);
    expect(statuses(pushed)).toEqual([{ reactionsUnread: 0, unread: 6, read: undefined }]);
    expect(statuses(await tab1.drain())).toEqual([
      { reactionsUnread: 0, unread: 6, read: undefined },
    ]);
    // Her own edit does the same: a reaction from before, then the edit pushed to tab2.
    await tab1.call({ type: "view", first: key(0), last: key(0), live: false });
    await tab2.call({ type: "view", first: key(1), last: key(1), live: false });
    await change(ch, "bob", [react(4)]);
    await tab1.drain();
    await tab2.drain();
    await tab2.call({ type: "view", first: key(4), last: key(5), live: true });
    await tab1.drain();
    await change(ch, "bob", [react(3)]);
    expect(statuses(await tab1.drain())).toEqual([
      { reactionsUnread: 1, unread: 6, read: undefined },
    ]);
    await tab2.drain();
    await tab2.call({ type: "view", first: key(2), last: key(2), live: true });
    await tab1.drain();
    await change(ch, "alice", [{ kind: "edit", id: "m3", text: "edited", ts: 1 }]);
    expect(statuses(await tab1.drain())).toEqual([
      { reactionsUnread: 0, unread: 6, read: undefined },
    ]);
  });

  it("counts reactions held for a message not yet stored once it arrives", async () => {
    const ch = "place-react-held";
    await postMessages(ch, mine(2));
    const { client: alice } = await connect(ch, "alice");
    const held = await change(ch, "bob", [react(5)]);
    expect(held.results[0]?.outcome).toBe("pending");
    await alice.drain();
    // m5 arrives below alice's live view: pushed with its reaction, so seen.
    await postMessages(ch, [{ ...key(5), author: "alice", text: "late reply" }]);
    const frames = await alice.drain();
    expect(frames.map((f) => f.type)).toEqual(["insert", "status"]);
    expect(statuses(frames)).toEqual([{ reactionsUnread: 0, unread: 3, read: undefined }]);
    // m6 arrives outside her view (she moved away): unread.
    await alice.call({ type: "view", first: key(0), last: key(0), live: false });
    await change(ch, "bob", [react(6)]);
    await postMessages(ch, [{ ...key(6), author: "alice", text: "another" }]);
    expect(statuses(await alice.drain())).toEqual([
      { reactionsUnread: 1, unread: 4, read: undefined },
    ]);
  });
});

describe("the read marker", () => {
  it("moves forward only, counts what follows it, and tells the user's other sockets", async () => {
    const ch = "place-read";
    await postMessages(ch, mine(6));
    const { client: tab1 } = await connect(ch, "alice");
    const { client: tab2 } = await connect(ch, "alice");
    const read = await tab1.call({ type: "read", id: "m3" });
    expect(read.reply).toMatchObject({ type: "read", read: key(3), unread: 2, seq: 6 });
    expect(read.others).toEqual([]);
    expect(statuses(await tab2.drain())).toEqual([{ reactionsUnread: 0, unread: 2, read: key(3) }]);
    // Backwards: nothing moves, nobody is told.
    const back = await tab1.call({ type: "read", id: "m1" });
    expect(back.reply).toMatchObject({ type: "read", read: key(3), unread: 2 });
    expect(await tab2.drain()).toEqual([]);
    const unknown = await tab1.call({ type: "read", id: "nope" });
    expect(unknown.reply).toMatchObject({ type: "error", code: "not_found" });
    const { hello } = await connect(ch, "alice");
    expect(hello).toMatchObject({ read: key(3), unread: 2 });
  });

  it("follows inserts and deletes: a late message before the marker is not unread", async () => {
    const ch = "place-read-moves";
    await postMessages(ch, mine(6));
    const { client: alice } = await connect(ch, "alice");
    await alice.call({ type: "read", id: "m3" });
    await postMessages(ch, [{ ts: key(1).ts + 1, id: "late-1", author: "bob", text: "x" }]);
    expect(statuses(await alice.drain())).toEqual([
      { reactionsUnread: 0, unread: 2, read: undefined },
    ]);
    await postMessages(ch, [{ ts: key(4).ts + 1, id: "late-4", author: "bob", text: "y" }]);
    expect(statuses(await alice.drain()).at(-1)?.unread).toBe(3);
    await change(ch, "alice", [{ kind: "delete", id: "m5" }]);
    expect(statuses(await alice.drain()).at(-1)?.unread).toBe(2);
    // The marker's own message deleted: what follows it is still unread.
    await change(ch, "alice", [{ kind: "delete", id: "m3" }]);
    expect(statuses(await alice.drain()).at(-1)?.unread).toBe(2);
    const page = await alice.call({ type: "page", anchor: "first_unread", before: 1, after: 1 });
    expect(page.reply).toMatchObject({
      type: "page",
      firstUnread: 4,
      start: 3,
      anchorIndex: 1,
      total: 6,
    });
    if (page.reply.type !== "page") throw new Error("not a page");
    expect(page.reply.messages.map((m) => m.id)).toEqual(["m2", "m4", "late-4"]);
  });

  it("answers first_unread over HTTP for ?user= on an open worker, the newest when all is read", async () => {
    const ch = "place-read-http";
    await postMessages(ch, mine(5));
    const { client: alice } = await connect(ch, "alice");
    const page = async (query: string) => {
      const res = await api(
        `/v1/channels/${ch}/messages?anchor=first_unread&before=0&after=0${query}`,
      );
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    // No marker yet: everything is unread, from the first message.
    expect((await page("&user=alice")).body).toMatchObject({ start: 0, firstUnread: 0 });
    await alice.call({ type: "read", id: "m2" });
    expect((await page("&user=alice")).body).toMatchObject({ start: 3, firstUnread: 3 });
    await alice.call({ type: "read", id: "m4" });
    const done = await page("&user=alice");
    expect(done.body).toMatchObject({ start: 4, anchorIndex: 0 });
    expect(done.body).not.toHaveProperty("firstUnread");
    await expectError(await api(`/v1/channels/${ch}/messages?anchor=first_unread`), "bad_request");
  });
});
