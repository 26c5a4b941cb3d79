/**
 * Late messages and `lateUnread` (docs/protocol.md, "Late messages and
 * lateUnread"): what counts, what makes a late message seen (a push, a
 * declared view, `late.ack`), `late.next` and `late.list`, and that the state
 * is per user across sockets, reconnects and hibernation.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { msg, series, seriesKey } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { compareKeys, keyOf } from "../support/keys.ts";
import type { Stored } from "../support/model.ts";
import { mulberry32 } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import type { Frame, Key, PageBody } from "../support/wire.ts";
import { harness, isMarked, markInstance } from "./net.ts";

afterEach(closeAll);

/** m00000… at ts 1,000,000 + i·1,000. */
const key = seriesKey;
/** A late message just after m<i>. */
const lateAfter = (i: number, id: string) => msg(id, key(i).ts + 1);

/** Asks `late.list` and checks it against the model. */
async function checkLateList(h: Harness, peer: Peer, limit?: number): Promise<void> {
  const frame: Record<string, unknown> = { type: "late.list" };
  if (limit !== undefined) frame.limit = limit;
  const { reply, others } = await peer.client.call(frame, "list");
  expect(others).toEqual([]);
  const unread = h.model.unreadLate(peer.socket.user);
  expect(reply).toEqual({
    type: "late.list",
    rid: "list",
    unread: unread.length,
    items: unread
      .slice(0, limit ?? 20)
      .map((m) => ({ id: m.id, ts: m.ts, position: h.model.position(m.id), seq: m.seq })),
  });
}

/** Asks `late.next` and checks the page against the model; returns it. */
async function checkLateNext(
  h: Harness,
  peer: Peer,
  before?: number,
  after?: number,
): Promise<PageBody> {
  const frame: Record<string, unknown> = { type: "late.next" };
  if (before !== undefined) frame.before = before;
  if (after !== undefined) frame.after = after;
  const { reply, others } = await peer.client.call(frame, "next");
  expect(others).toEqual([]);
  const first = h.model.unreadLate(peer.socket.user)[0] as Stored;
  expect(first, "an unread late message to go to").toBeDefined();
  const page = h.model.page({ id: first.id }, before, after, peer.socket.user);
  if (page === "not_found") throw new Error("unreachable: the model holds it");
  expect(reply).toEqual({ type: "page", rid: "next", ...page });
  const anchored = page.messages[page.anchorIndex ?? -1];
  expect(anchored?.id).toBe(first.id);
  return page;
}

async function lateUnreadOf(peer: Peer): Promise<number> {
  const { reply } = await peer.client.call({ type: "late.list", limit: 1 }, "count");
  if (reply.type !== "late.list")
    throw new Error(`expected late.list, got ${JSON.stringify(reply)}`);
  return reply.unread;
}

describe("lateUnread", () => {
  it("counts only late arrivals after the user's first connection", async () => {
    const h = harness("late-first-connection");
    await h.post(series(100));
    await h.post([lateAfter(10, "old-late-1"), lateAfter(20, "old-late-2")]);
    const alice = await h.connect("alice"); // hello: lateUnread 0
    await h.post([lateAfter(30, "late-1"), lateAfter(40, "late-2"), lateAfter(50, "late-3")]);
    expect(h.model.lateUnread("alice")).toBe(3);
    await h.connect("bob"); // hello: lateUnread 0, alice still has 3
    await h.connect("alice"); // a second socket of alice: hello lateUnread 3
    expect(await lateUnreadOf(alice)).toBe(3);
  });

  it("does not count a late message pushed to the user's socket", async () => {
    const h = harness("late-pushed");
    await h.post(series(100));
    const alice = await h.connect("alice");
    await h.declare(alice, key(30), key(60), false);
    await h.post([lateAfter(45, "inside"), lateAfter(70, "outside")]);
    expect(h.model.lateUnread("alice")).toBe(1);
    expect(await lateUnreadOf(alice)).toBe(1);
  });

  it("marks seen exactly the late messages inside a declared view", async () => {
    const h = harness("late-view");
    await h.post(series(200));
    const alice = await h.connect("alice");
    await h.post([
      lateAfter(10, "a"),
      lateAfter(20, "b"),
      lateAfter(30, "c"),
      lateAfter(40, "d"),
      lateAfter(150, "e"),
    ]);
    await h.declare(alice, key(15), key(35), false); // b and c: 5 → 3
    expect(h.model.lateUnread("alice")).toBe(3);
    await h.declare(alice, null, key(12), false); // a (top, open): 3 → 2
    await h.declare(alice, key(100), null, true); // e (bottom, open): 2 → 1
    expect(h.model.lateUnread("alice")).toBe(1);
    await checkLateList(h, alice);
  });

  it("is per user across the user's sockets", async () => {
    const h = harness("late-sockets");
    await h.post(series(100));
    const middle = await h.connect("alice");
    await h.declare(middle, key(20), key(40), false);
    const bottom = await h.connect("alice");
    const bob = await h.connect("bob");
    // inside: pushed to alice's middle socket, so seen by alice, also on her bottom socket.
    await h.post([lateAfter(30, "inside"), lateAfter(60, "outside")]);
    expect(h.model.lateUnread("alice")).toBe(1);
    expect(h.model.lateUnread("bob")).toBe(2);
    // A view declared on one socket clears it for the other.
    await h.declare(bottom, key(55), key(65), false);
    await h.post([msg("new", 9_000_000)]); // every status carries the user's count
    expect(await lateUnreadOf(middle)).toBe(0);
    expect(await lateUnreadOf(bob)).toBe(2);
  });

  it("survives closing every socket and reconnecting", async () => {
    const h = harness("late-reconnect");
    await h.post(series(100));
    const alice = await h.connect("alice");
    await h.post([lateAfter(10, "l1"), lateAfter(20, "l2"), lateAfter(30, "l3")]);
    await h.declare(alice, key(19), key(21), false); // sees l2 only
    h.disconnect(alice);
    await h.connect("bob");
    await h.post([lateAfter(40, "l4")]); // arrives while alice is away: counts
    const again = await h.connect("alice"); // hello: lateUnread 3
    expect(h.model.lateUnread("alice")).toBe(3);
    await checkLateList(h, again);
  });
});

describe("late.ack", () => {
  it("marks every late message read and answers view with lateUnread 0", async () => {
    const h = harness("late-ack");
    await h.post(series(100));
    const alice = await h.connect("alice");
    const bob = await h.connect("bob");
    await h.post([lateAfter(10, "l1"), lateAfter(20, "l2")]);
    await h.ack(alice);
    await h.page(alice, "oldest", 0, 50); // no unread flags left for alice
    await h.page(bob, "oldest", 0, 50); // bob's are untouched
    await checkLateList(h, bob);
    await h.post([lateAfter(30, "l3")]); // a later late arrival counts again
    expect(h.model.lateUnread("alice")).toBe(1);
  });
});

describe("late.next", () => {
  it("goes to the unread late message that arrived first, without marking it seen", async () => {
    const h = harness("late-next");
    await h.post(series(300));
    const alice = await h.connect("alice");
    // Arrival order differs from key order: first-arrived sits lower in the list.
    await h.post([lateAfter(200, "first"), lateAfter(100, "second"), lateAfter(210, "third")]);
    await h.post([lateAfter(5, "fourth")]);
    const page = await checkLateNext(h, alice);
    expect(page.messages).toHaveLength(51); // default before 25, after 25
    expect(page.messages[page.anchorIndex ?? -1]?.id).toBe("first");
    // Nothing was marked seen: the same answer again, the count unchanged.
    await checkLateNext(h, alice);
    expect(await lateUnreadOf(alice)).toBe(4);
    // Declaring the page as the view sees exactly the late messages in it (first and third).
    const first = page.messages[0];
    const last = page.messages.at(-1);
    if (!first || !last) throw new Error("an empty page");
    await h.declare(alice, keyOf(first), keyOf(last), false);
    expect(h.model.lateUnread("alice")).toBe(2);
    const next = await checkLateNext(h, alice, 2, 3);
    expect(next.messages[next.anchorIndex ?? -1]?.id).toBe("second");
    expect(next.messages).toHaveLength(6);
  });

  it("clamps its page at the ends of the list", async () => {
    const h = harness("late-next-ends");
    await h.post(series(30));
    const alice = await h.connect("alice");
    await h.post([msg("at-top", 1)]);
    await checkLateNext(h, alice, 10, 200);
  });

  it("answers not_found with the rid when nothing is unread", async () => {
    const h = harness("late-next-none");
    await h.post(series(30));
    await h.post([lateAfter(3, "before-alice")]); // not hers: it arrived before she connected
    const alice = await h.connect("alice");
    const { reply, others } = await alice.client.call({ type: "late.next" }, "none");
    expect(others).toEqual([]);
    expect(reply).toMatchObject({ type: "error", rid: "none", code: "not_found" });
    // And again after reading the only one.
    await h.post([lateAfter(4, "hers")]);
    await alice.client.call({ type: "late.ack" }, "ack");
    h.model.places.lateAck("alice");
    const again = await alice.client.call({ type: "late.next" }, "none-2");
    expect(again.reply).toMatchObject({ type: "error", rid: "none-2", code: "not_found" });
  });
});

describe("late.list", () => {
  it("lists unread late messages oldest arrival first with positions and seq, up to limit", async () => {
    const h = harness("late-list");
    await h.post(series(500));
    const alice = await h.connect("alice");
    // 30 late messages arriving in an order unrelated to their keys.
    await h.post(Array.from({ length: 30 }, (_, i) => lateAfter((i * 157) % 480, `late-${i}`)));
    await checkLateList(h, alice); // default limit 20
    await checkLateList(h, alice, 1);
    await checkLateList(h, alice, 7);
    await checkLateList(h, alice, 100);
    // Seen ones leave the list; positions follow later inserts.
    await h.declare(alice, key(100), key(300), false);
    await h.post([lateAfter(0, "shifter")]);
    await checkLateList(h, alice, 100);
  });

  it("answers an empty list when nothing is unread", async () => {
    const h = harness("late-list-empty");
    await h.post(series(10));
    const alice = await h.connect("alice");
    await checkLateList(h, alice);
  });
});

describe("hibernation", () => {
  it("keeps views and late state of open sockets across an eviction", async () => {
    const h = harness("late-hibernate");
    await h.post(series(400));
    const live = await h.connect("alice");
    const middle = await h.connect("bob");
    await h.declare(middle, key(100), key(199), false);
    const top = await h.connect("carol");
    await h.declare(top, null, key(50), false);
    // The live view grows; alice sees late "b" by a view on a second socket, not "a".
    await h.post([msg("bottom-1", 5_000_000), msg("bottom-2", 6_000_000)]);
    await h.post([lateAfter(10, "a"), lateAfter(150, "b"), lateAfter(300, "c")]);
    const aliceToo = await h.connect("alice");
    await h.declare(aliceToo, key(140), key(160), false);
    expect(h.model.lateUnread("alice")).toBe(2);

    const stub = env.CHANNEL.get(env.CHANNEL.idFromName(h.channel));
    await markInstance(stub);
    await evictDurableObject(stub, { webSockets: "hibernate" });

    // The sockets are still open, and each view is as it was.
    for (const peer of h.peers) expect(await peer.client.drain()).toEqual([]);
    expect(await isMarked(stub), "a fresh instance after the eviction").toBe(false);
    await h.post([
      msg("inside-grown", 5_500_000), // inside alice's grown live view
      lateAfter(120, "mid"), // inside bob's view
      lateAfter(20, "top"), // inside carol's, before bob's
      msg("bottom-3", 7_000_000),
    ]);
    await checkLateList(h, live);
    await checkLateNext(h, live);
    await h.connect("alice"); // hello: the same count after the wake

    // Once more, now with late state that has gaps (seen ordinals above unread ones).
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await checkLateList(h, aliceToo, 100);
    await h.declare(live, null, key(15), false); // sees "a" (the first arrival)
    await checkLateNext(h, aliceToo);
    await h.send(middle, [lateAfter(180, "from-bob"), msg("bottom-4", 8_000_000)]);
  });

  it("keeps the empty start view of a socket on an empty channel across an eviction", async () => {
    const h = harness("late-hibernate-empty");
    await h.connect("alice");
    const stub = env.CHANNEL.get(env.CHANNEL.idFromName(h.channel));
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await h.post([msg("b", 20), msg("a", 10)]); // every message is after the view: both pushed
    await evictDurableObject(stub, { webSockets: "hibernate" });
    await h.post([msg("c", 15), msg("d", 5), msg("e", 30)]);
  });

  it("answers a plain ping on a hibernated socket without waking the object", async () => {
    const h = harness("late-hibernate-ping");
    await h.post(series(20));
    const alice = await h.connect("alice");
    const stub = env.CHANNEL.get(env.CHANNEL.idFromName(h.channel));
    await evictDurableObject(stub, { webSockets: "hibernate" });
    alice.client.send({ type: "ping" });
    expect(await alice.client.next()).toEqual({ type: "pong" } satisfies Frame);
    // The runtime answered it: the object is still not running.
    await expect(evictDurableObject(stub, { webSockets: "hibernate" })).rejects.toThrow(
      /not currently running/,
    );
    await h.post([msg("after", 9_000_000), lateAfter(3, "late")]);
    await h.page(alice, "newest", 5, 0);
  });
});

describe("late state under random operations", () => {
  it("matches the model across random arrivals, views, acks, reconnects and evictions", async () => {
    await randomLateRun(`late-random`, 2_026, 80);
  });
});

/** A seeded run of every late-related operation, each checked against the model. */
async function randomLateRun(channel: string, seed: number, rounds: number): Promise<void> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const h = harness(channel);
  await h.post(series(400));
  for (const user of ["u0", "u1", "u1", "u2"]) await h.connect(user);
  const stub = env.CHANNEL.get(env.CHANNEL.idFromName(channel));
  let n = 0;
  const someKey = (): Key => keyOf(pick(h.model.sorted));
  for (let round = 0; round < rounds; round++) {
    const peer = pick(h.peers);
    const op = Math.floor(random() * 10);
    if (op <= 2) {
      // Mostly late arrivals anywhere, some at the bottom.
      const batch = Array.from({ length: 1 + Math.floor(random() * 6) }, () => {
        const at = someKey();
        return random() < 0.8
          ? msg(`x${n++}`, at.ts + Math.floor(random() * 3))
          : msg(`x${n++}`, 3_000_000 + n);
      });
      if (random() < 0.5) await h.post(batch);
      else await h.send(peer, batch);
    } else if (op === 3) {
      const a = someKey();
      const b = someKey();
      const [first, last] = compareKeys(a, b) <= 0 ? [a, b] : [b, a];
      await h.declare(
        peer,
        random() < 0.2 ? null : first,
        random() < 0.2 ? null : last,
        random() < 0.3,
      );
    } else if (op === 4 && random() < 0.3) {
      await h.ack(peer);
    } else if (op === 5) {
      await checkLateList(h, peer, 1 + Math.floor(random() * 100));
    } else if (op === 6) {
      if (h.model.lateUnread(peer.socket.user) > 0) {
        await checkLateNext(h, peer, Math.floor(random() * 30), Math.floor(random() * 30));
      } else {
        const { reply } = await peer.client.call({ type: "late.next" }, "none");
        expect(reply).toMatchObject({ type: "error", rid: "none", code: "not_found" });
      }
    } else if (op === 7) {
      await h.page(peer, { position: Math.floor(random() * h.model.total) }, 40, 40);
    } else if (op === 8) {
      h.disconnect(peer);
      await h.connect(random() < 0.2 ? `u${3 + Math.floor(random() * 2)}` : peer.socket.user);
    } else if (op === 9 && random() < 0.3) {
      expect(await peer.client.drain()).toEqual([]); // wakes the object, if it slept
      await evictDurableObject(stub, { webSockets: "hibernate" });
    }
  }
  for (const peer of h.peers) await checkLateList(h, peer, 100);
}
