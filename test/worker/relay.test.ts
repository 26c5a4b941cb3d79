/**
 * Relay objects (issue 18), in the `relay` project (RELAY_SOCKETS=0: every
 * socket of a channel lives on a relay object): stats count the relays'
 * sockets exactly as they open and close; a user's tabs share a relay and
 * hear each other's counts; a relay evicted with its sockets hibernated
 * (between groups and in the middle of one: an HTTP insert, a socket's
 * send or change on their way) and the channel evicted under the relays'
 * sockets lose nothing: every push, reply, resume and badge is still the
 * kit's model's; a relay restarted (its sockets closed) is resumed from
 * exactly; a relay's sockets keep their frame budget and their token's
 * expiry, and a relay answers the subprotocol `scrollback`.
 */
import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { Channel } from "../../src/channel/channel.ts";
import type { RelayAnswer } from "../../src/channel/relay-contract.ts";
import { Relay } from "../../src/relay/relay.ts";
import app from "../../src/worker.ts";
import { del, edit, msg, react, series, seriesKey } from "../support/data.ts";
import { normalizePushes } from "../support/model.ts";
import { eachSeed } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import type { SocketModel } from "../support/views.ts";
import type { Frame } from "../support/wire.ts";
import { hs256 } from "./jwt.ts";
import { api, channelStub, clientOf, harness, openSocket, postMessages, stats } from "./net.ts";
import { EvictionRun } from "./relay-run.ts";
import { expectAudience, relayStub } from "./relays.ts";

afterEach(closeAll);

describe("a relay's audience", () => {
  it("counts the sockets on its relay in stats, exactly, as they open and close", async () => {
    const ch = "relay-stats";
    await postMessages(ch, series(5));
    await expectAudience(ch, 0, []);
    const alice = await openSocket(ch, "alice");
    await alice.next("hello");
    await expectAudience(ch, 0, [1]);
    const tab = await openSocket(ch, "alice");
    const bob = await openSocket(ch, "bob");
    await Promise.all([tab.next("hello"), bob.next("hello")]);
    await expectAudience(ch, 0, [3]);
    await bob.closeAndWait();
    await expectAudience(ch, 0, [2]);
    await alice.closeAndWait();
    await tab.closeAndWait();
    await expectAudience(ch, 0, [0]);
    expect(await stats(ch)).toMatchObject({ sockets: 0, relays: 0, total: 5 });
    // Back again: the same relay, counted anew.
    const again = await openSocket(ch, "alice");
    await again.next("hello");
    await expectAudience(ch, 0, [1]);
  });

  it("owes a relay with no sockets nothing: greeting a socket reads no history", async () => {
    const ch = "relay-fresh";
    await postMessages(ch, series(3_000));
    const first = await watchingOps(async () => {
      const alice = await openSocket(ch, "alice");
      await alice.next("hello");
      await alice.drain();
      return alice;
    });
    expect(first.answers.map((a) => a.segment)).toEqual(first.answers.map(() => undefined));
    // Its sockets gone and the relay evicted, the channel moves on; the next socket is owed nothing older.
    await first.value.closeAndWait();
    await expectAudience(ch, 0, [0]);
    await evictDurableObject(relayStub(ch), { webSockets: "hibernate" });
    await postMessages(ch, series(2_000, 9_000_000, 1, "later"));
    const again = await watchingOps(async () => {
      const bob = await openSocket(ch, "bob");
      await bob.next("hello");
      await bob.drain();
    });
    expect(again.answers.map((a) => a.segment)).toEqual(again.answers.map(() => undefined));
  });

  it("puts a user's tabs on one relay, where each hears the counts the other changed", async () => {
    const h = harness("relay-tabs");
    await h.post(series(40));
    const [a1, a2, bob] = [
      await h.connect("alice"),
      await h.connect("alice"),
      await h.connect("bob"),
    ];
    await expectAudience(h.channel, 0, [3]);
    await h.declare(a1, null, null, true);
    // Late messages, outside a2's view: alice's badge on both tabs.
    await h.post([msg("late-1", 1_000_500, "bob"), msg("late-2", 1_010_500, "bob")]);
    expect(h.model.lateUnread("alice")).toBe(0); // a1 holds the whole channel: seen
    await h.declare(a1, { ts: 1_020_000, id: "m00020" }, { ts: 1_030_000, id: "m00030" }, false);
    await h.post([msg("late-3", 1_000_700, "bob"), msg("late-4", 1_025_500, "bob")]);
    expect(h.model.lateUnread("alice")).toBe(1);
    await h.ack(a2); // a1 hears the badge cleared
    await h.read(a2, "m00035"); // a1 hears the marker
    await h.read(bob, "m00010");
    // Reactions to alice's message: her badge on both tabs, cleared from one.
    await h.send(a1, [msg("mine", 5_000_000, "alice")]);
    await h.declare(a2, { ts: 1_000_000, id: "m00000" }, { ts: 1_001_000, id: "m00001" }, false);
    await h.declare(a1, { ts: 1_000_000, id: "m00000" }, { ts: 1_001_000, id: "m00001" }, false);
    await h.change(bob, [{ kind: "react", id: "mine", emoji: "👍", on: true, ts: 1 }]);
    expect(h.model.counts("alice").reactionsUnread).toBe(1);
    await h.reactionsAck(a1);
    await h.reactionsList(a2);
    expect(h.compared).toBeGreaterThan(30);
  });
});

// ── Evictions: a relay's memory, and the channel's, come back exact ─────────

const USERS = ["ann", "bob", "cid"];

describe("relays and evictions", () => {
  it("keeps every push, reply, resume and badge the model's through relay and channel evictions", async () => {
    const tally = new Map<string, number>();
    let compared = 0;
    await eachSeed(1, 6, async (seed) => {
      const h = harness(`relay-evict-${seed}`);
      const run = new EvictionRun(h, seed, () => relayStub(h.channel));
      await run.run(USERS, 60, tally);
      await expectAudience(h.channel, 0, [h.peers.length]);
      compared += h.compared;
    });
    console.log(
      `relays and evictions: ${JSON.stringify(Object.fromEntries(tally))}; ${compared} frames compared with the model`,
    );
    expect(tally.get("evict home mid-send")).toBeGreaterThan(2);
  });

  it("pushes a group once, though the relay was evicted right after pushing it", async () => {
    const h = harness("relay-evict-pushed");
    await h.post(series(10));
    const peers = [await h.connect("alice"), await h.connect("bob")];
    const drafts = [msg("x1", 5_000_000)];
    expect((await postMessages(h.channel, drafts)).status).toBe(200);
    // The group reaches the sockets, and no frame of theirs follows it before the eviction.
    while (peers.some((p) => p.client.seq < 11)) await new Promise((r) => setTimeout(r, 1));
    await evictDurableObject(relayStub(h.channel), { webSockets: "hibernate" });
    await h.arrived(drafts);
    await h.post([msg("x2", 5_000_001)]);
  });

  it("tells a woken relay's user of a reaction they are shown at once with no status", async () => {
    const h = harness("relay-evict-reaction");
    await h.post([msg("mine", 1_000, "alice"), msg("other", 2_000, "bob")]);
    const alice = await h.connect("alice");
    const bob = await h.connect("bob");
    await h.declare(alice, null, null, true);
    await h.page(alice, "newest", 0, 0);
    await evictDurableObject(relayStub(h.channel), { webSockets: "hibernate" });
    // The reaction raises alice's count and the update she is pushed lowers it again: no status.
    await h.change(bob, [react("mine", "👍", true, 1)]);
    expect(h.pushed.get(alice.socket)?.map((f) => f.type)).toEqual(["update"]);
    // One she is not shown raises it: a status.
    await h.declare(alice, null, { ts: 1_000, id: "mine" }, false);
    await h.send(alice, [msg("mine-2", 3_000, "alice")]);
    await h.page(alice, "newest", 0, 0);
    await evictDurableObject(relayStub(h.channel), { webSockets: "hibernate" });
    await h.change(bob, [react("mine-2", "👍", true, 1)]);
    expect(h.pushed.get(alice.socket)?.map((f) => f.type)).toEqual(["status"]);
  });
});

// ── A frame while a group is owed ───────────────────────────────────────────

/** Runs `fn` with the channel's nudges to its relays lost: what they are owed comes with their next frame. */
async function withoutPokes<T>(fn: () => Promise<T>): Promise<T> {
  const poke = Relay.prototype.poke;
  Relay.prototype.poke = async () => {};
  try {
    return await fn();
  } finally {
    Relay.prototype.poke = poke;
  }
}

describe("a frame that reaches a relay while a group is owed to its sockets", () => {
  it("is answered after the group's pushes, whose statuses count as before the frame", async () => {
    const h = harness("relay-owed");
    await h.post(series(30));
    const [a1, a2, bob] = [
      await h.connect("alice"),
      await h.connect("alice"),
      await h.connect("bob"),
    ];
    await h.declare(a1, seriesKey(5), seriesKey(12), false);
    const frames: [string, Record<string, unknown>, (rid: string) => Map<SocketModel, Frame>][] = [
      [
        "read",
        { type: "read", id: seriesKey(20).id },
        (rid) => {
          const outcome = h.model.read("alice", seriesKey(20).id);
          if (outcome === "not_found") throw new Error("no such message");
          const { read, unread } = outcome;
          const others = h.model.markerMoved(
            a1.socket,
            h.peers.map((p) => p.socket),
          );
          return new Map([
            [a1.socket, { type: "read", rid, read, unread, seq: h.model.seq }],
            ...others,
          ]);
        },
      ],
      [
        "late.ack",
        { type: "late.ack" },
        (rid) => {
          const before = h.model.counts("alice");
          h.model.places.lateAck("alice");
          const reply: Frame = { type: "view", rid, ...h.model.counts("alice"), seq: h.model.seq };
          const others = h.model.badgeChanged(
            a1.socket,
            h.peers.map((p) => p.socket),
            before,
          );
          return new Map([[a1.socket, reply], ...others]);
        },
      ],
      [
        "view",
        { type: "view", first: null, last: null, live: true },
        (rid) => {
          const before = h.model.counts("alice");
          a1.socket.view = { first: null, last: null, live: true };
          h.model.seeRange("alice", null, null);
          const reply: Frame = { type: "view", rid, ...h.model.counts("alice"), seq: h.model.seq };
          const others = h.model.badgeChanged(
            a1.socket,
            h.peers.map((p) => p.socket),
            before,
          );
          return new Map([[a1.socket, reply], ...others]);
        },
      ],
    ];
    let n = 0;
    for (const [name, frame, answers] of frames) {
      // Late messages outside alice's window, and one at the bottom: her counts move.
      const drafts = [msg(`late-${n}`, seriesKey(25).ts + 1 + n), msg(`new-${n}`, 9_000_000 + n)];
      n++;
      const rid = `f-${name}`;
      const received = await withoutPokes(async () => {
        expect((await postMessages(h.channel, drafts)).status).toBe(200);
        a1.client.send({ ...frame, rid });
        return Promise.all(h.peers.map((p) => p.client.drain()));
      });
      const { pushes } = h.model.batch(
        drafts,
        h.peers.map((p) => p.socket),
      );
      const replies = answers(rid);
      h.peers.forEach((p, k) => {
        const want = [...(pushes.get(p.socket) ?? []), ...[replies.get(p.socket) ?? []].flat()];
        expect(normalizePushes(received[k] ?? []), `${name}: ${p.socket.user}`).toEqual(
          normalizePushes(want),
        );
      });
    }
    expect(bob.client.closed).toBeUndefined();
    expect(a2.client.closed).toBeUndefined();
  });
});

// ── A relay restarted: its sockets closed ────────────────────────────────────

describe("a relay restarted", () => {
  it("closes its sockets, whose clients resume exactly from what they were told", async () => {
    const h = harness("relay-restart");
    await h.post(series(40));
    const a1 = await h.connect("alice");
    const a2 = await h.connect("alice");
    const bob = await h.connect("bob");
    await h.declare(a1, seriesKey(5), seriesKey(15), false);
    await h.declare(bob, null, null, true);
    await h.post([msg("late-a", seriesKey(8).ts + 1, "bob"), msg("late-b", seriesKey(30).ts + 1)]);
    await h.send(bob, [msg("bob-1", 9_000_000, "bob")]);
    await h.page(a1, "newest", 0, 0);
    const before = h.peers.map((p) => ({
      user: p.socket.user,
      since: p.client.seq,
      view: { first: p.socket.view.first, last: p.socket.view.last, live: p.socket.view.live },
    }));
    await evictDurableObject(relayStub(h.channel), { webSockets: "close" });
    for (const p of [a1, a2, bob]) {
      while (!p.client.closed) await new Promise((resolve) => setTimeout(resolve, 1));
      h.disconnect(p);
    }
    // While nobody is connected: late messages inside and outside the views, a delete, an edit.
    await h.post([msg("late-c", seriesKey(10).ts + 1, "bob"), msg("late-d", seriesKey(35).ts + 1)]);
    await h.postChanges("bob", [del("bob-1"), edit(seriesKey(9).id, "edited", 1)]);
    expect(h.model.lateUnread("alice")).toBeGreaterThan(0);
    // Each client comes back (its hello checked) and resumes its view from its seq.
    for (const { user, since, view } of before) {
      const peer = await h.connect(user);
      await h.resume(peer, since, view);
    }
    await h.post([msg("after", 9_500_000, "alice"), msg("late-e", seriesKey(12).ts + 1)]);
    await expectAudience(h.channel, 0, [3]);
  });
});

// ── A relay's sockets: their limits and their subprotocol ─────────────────────

const SECRET = "relay-test-secret";

/** The worker with AUTH_SECRET, as a deployment runs it (ws-auth.test.ts does the same). */
function guarded(path: string, headers: Record<string, string>): Promise<Response> {
  const request = new Request(`http://x${path}`, { headers: { Upgrade: "websocket", ...headers } });
  return Promise.resolve(app.fetch(request, { ...env, AUTH_SECRET: SECRET }));
}

/** The answers to the operations relays send their channels while `fn` runs. */
async function watchingOps<T>(fn: () => Promise<T>): Promise<{ value: T; answers: RelayAnswer[] }> {
  const answers: RelayAnswer[] = [];
  const relayOp = Channel.prototype.relayOp;
  Channel.prototype.relayOp = async function watched(this: Channel, ...args) {
    const answer = await relayOp.apply(this, args);
    answers.push(answer);
    return answer;
  };
  try {
    return { value: await fn(), answers };
  } finally {
    Channel.prototype.relayOp = relayOp;
  }
}

describe("a relay's sockets", () => {
  it("answers anything but an upgrade the worker placed with bad_request, as the channel does", async () => {
    const ch = "relay-not-placed";
    const cases: [string, Record<string, string>][] = [
      ["no user header", { Upgrade: "websocket" }],
      ["not an upgrade", { "x-scrollback-user": "alice" }],
    ];
    for (const [what, headers] of cases) {
      for (const stub of [channelStub(ch), relayStub(ch)]) {
        const res = await stub.fetch("https://object/ws", { headers });
        expect(res.status, what).toBe(400);
        expect(await res.json(), what).toMatchObject({ error: { code: "bad_request" } });
      }
    }
    expect((await stats(ch)).sockets).toBe(0);
  });

  it("refuses frames beyond a socket's burst with rate_limited, which cost the channel nothing", async () => {
    const ch = "relay-rate";
    const client = await openSocket(ch, "alice");
    await client.next("hello");
    await expectAudience(ch, 0, [1]);
    const FRAMES = 1_500;
    const { value: answers, answers: ops } = await watchingOps(async () => {
      for (let n = 0; n < FRAMES; n++) {
        client.send({ type: "page", rid: `p${n}`, anchor: "newest", before: 0, after: 0 });
      }
      const got = new Map<string, Frame>();
      while (got.size < FRAMES) {
        const frame = await client.next(undefined, 60_000);
        if ("rid" in frame && frame.rid !== undefined) got.set(frame.rid, frame);
      }
      return [...got.values()];
    });
    const served = answers.filter((f) => f.type === "page").length;
    const limited = answers.filter((f) => f.type === "error" && f.code === "rate_limited");
    expect(served + limited.length).toBe(FRAMES);
    expect(limited.length).toBeGreaterThan(0);
    // One operation a frame served, and none a frame refused (a report or two besides).
    expect(ops.length).toBeLessThanOrEqual(served + 3);
    // Once the budget refills, the socket is served again.
    let reply: Frame | undefined;
    for (let attempt = 0; reply?.type !== "late.list" && attempt < 50; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the budget refills with time only
      const rid = `again-${attempt}`;
      client.send({ type: "late.list", rid });
      do reply = await client.next();
      while (!("rid" in reply) || reply.rid !== rid);
    }
    expect(reply?.type).toBe("late.list");
  });

  // A token expiring on a relay's socket: ws-auth.test.ts, which the relay project runs.

  it("answers the subprotocol scrollback from a relay, on an open worker and with a token", async () => {
    const ch = "relay-subprotocol";
    const open = await api(`/v1/channels/${ch}/ws?user=olga`, {
      headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": "scrollback" },
    });
    expect(open.headers.get("Sec-WebSocket-Protocol")).toBe("scrollback");
    expect(await (await clientOf(open, ch, "olga")).next("hello")).toMatchObject({ user: "olga" });
    const jwt = await hs256({ sub: "alice", ch, scope: "read" }, SECRET);
    const res = await guarded(`/v1/channels/${ch}/ws?user=mallory`, {
      "Sec-WebSocket-Protocol": `scrollback, bearer.${jwt}`,
    });
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBe("scrollback");
    expect(await (await clientOf(res, ch, "alice")).next("hello")).toMatchObject({ user: "alice" });
    const plain = await api(`/v1/channels/${ch}/ws?user=pat`, {
      headers: { Upgrade: "websocket" },
    });
    expect(plain.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    await (await clientOf(plain, ch, "pat")).next("hello");
    await expectAudience(ch, 0, [3]);
  });
});
