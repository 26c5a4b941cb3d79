/**
 * Protocol 1.2's pushes (docs/protocol.md, "Pushes: remove and update"):
 * sockets viewing above, inside and below deleted, edited and reacted
 * messages, live and not, get `insert`, `remove`, `update` and `status` in
 * that order with the group's net effect, as the kit's model says, from one
 * writer at a time and from concurrent writers whose writes the server
 * groups. Readers that hold a page and apply the pushes the way the
 * protocol says stay equal to a fresh page; a few frames are spelled out.
 */
import { afterEach, describe, expect, it } from "vitest";
import { authoredBy, del, edit, msg, react, series, seriesKey } from "../support/data.ts";
import { type Concurrent, Harness, type Peer } from "../support/harness.ts";
import type { Stored } from "../support/model.ts";
import { mulberry32, randInt } from "../support/random.ts";
import { follow, reader } from "../support/readers.ts";
import { closeAll } from "../support/socket.ts";
import type { Change, Draft } from "../support/wire.ts";
import { holdCommits } from "./gate.ts";
import { harness, securedTransport } from "./net.ts";

afterEach(closeAll);

const key = seriesKey;
/** Message i of the series is by ann when i is even, by bob when odd. */
const author = (i: number) => (i % 2 === 0 ? "ann" : "bob");
const id = (i: number) => key(i).id;

/** A reader of messages first…last of the series. */
const holding = (h: Harness, user: string, first: number, last: number, live: boolean) =>
  reader(h, user, { id: id(first) }, [0, last - first], live);

/**
 * 300 messages by ann and bob; ann live at the bottom, bob in the middle
 * [100, 149], cid at the top [.., 49], dan below the middle [200, ..) and not
 * live, and ann's second socket live from 120. Bob, cid and ann's second
 * socket hold their pages.
 */
async function scene(h: Harness) {
  await h.post(authoredBy(series(300), ["ann", "bob"]));
  const ann = await h.connect("ann");
  const bob = await holding(h, "bob", 100, 149, false);
  const cid = await holding(h, "cid", 0, 49, false);
  const dan = await h.connect("dan");
  await h.declare(dan, key(200), null, false);
  const ann2 = await holding(h, "ann", 120, 299, true);
  return { h, ann, bob, cid, dan, ann2, readers: [bob, cid, ann2] };
}

describe("remove and update pushes", () => {
  it("removes a deleted message from the views holding it and shifts the views below it", async () => {
    const { h, ann, bob, cid, dan, readers } = await scene(harness("chg-push-delete"));
    let checks = 0;
    // Above bob's view, inside cid's: cid gets it removed, bob and dan move up one.
    await h.change(ann, [del(10)]);
    // Nobody has a read marker or a reaction: every message is unread, no reaction.
    const counts = { lateUnread: 0, reactionsUnread: 0, unread: 299 };
    expect(h.pushed.get(bob.peer.socket)).toEqual([
      { type: "status", total: 299, ...counts, shifted: -1, latest: [], seq: 301 },
    ]);
    expect(h.pushed.get(cid.peer.socket)).toEqual([
      { type: "remove", ids: [id(10)], total: 299, seq: 301 },
      { type: "status", total: 299, ...counts, shifted: 0, latest: [], seq: 301 },
    ]);
    checks += await follow(h, readers);
    const steps: [Peer | string, Change[]][] = [
      [bob.peer, [del(121)]], // inside bob's and ann's second socket's
      [ann, [del(100)]], // bob's first key: removed, not shifted
      [bob.peer, [del(149)]], // bob's last key
      [ann, [del(250)]], // below bob: dan's, and the live views'
      [bob.peer, [del(299)]], // the newest
      ["ann", [del(20), del(130), del(220)]], // one group in three views, over HTTP
      [dan, [del(201)]], // not dan's own: refused whole, nothing pushed
      ["bob", [del(141), del(140)]], // bob's, then ann's: refused whole
    ];
    for (const [who, changes] of steps) {
      if (typeof who === "string") await h.postChanges(who, changes);
      else await h.change(who, changes);
      checks += await follow(h, readers);
    }
    expect(h.model.total).toBe(300 - 9);
    expect(h.pushed.get(dan.socket)).toEqual([]);
    console.log(`remove pushes: ${checks} held messages checked against fresh pages`);
  });

  it("pushes edits and reactions as updates in their final state, mine per user, with no status", async () => {
    const { h, ann, bob, cid, readers } = await scene(harness("chg-push-update"));
    await h.change(ann, [edit(120, "edited", 5)]);
    expect(h.pushed.get(bob.peer.socket)).toEqual([
      {
        type: "update",
        messages: [{ ...h.model.wire(h.model.sorted[120] as Stored), position: 120 }],
        seq: 301,
      },
    ]);
    expect(h.pushed.get(bob.peer.socket)?.[0]).toMatchObject({
      messages: [{ id: id(120), text: "edited", edited: 5 }],
    });
    expect(h.pushed.get(cid.peer.socket)).toEqual([]);
    await follow(h, readers);
    const steps: [Peer | string, Change[]][] = [
      [bob.peer, [react(120, "👍", true, 1), react(121, "👍", true, 1), react(10, "🎉", true, 1)]],
      [cid.peer, [react(120, "👍", true, 1)]], // a second 👍
      [cid.peer, [react(120, "👍", false, 1)]], // stale: a tie goes to on
      [cid.peer, [react(120, "👍", false, 2)]], // off again
      [cid.peer, [react(120, "👍", false, 3)]], // applied, no count moves: nothing pushed
      ["dan", [react(130, "a", true, 1), react(130, "\uffff", true, 1), react(130, "😀", true, 1)]],
      [ann, [edit(120, "f", 5), edit(120, "a", 5), edit(120, "z", 4)]], // "edited" < "f" at ts 5
      [bob.peer, [react(120, "👍", true, 7), react(120, "👍", false, 8), react(120, "❤", true, 8)]],
      [ann, [edit(140, "x", 1), del(140)]], // changed, then deleted: only removed
      [bob.peer, [edit(141, "mine", 1), edit(141, "mine", 1)]], // the repeat is stale
    ];
    for (const [who, changes] of steps) {
      if (typeof who === "string") await h.postChanges(who, changes);
      else await h.change(who, changes);
      await follow(h, readers);
    }
    // The reactions as bob's socket shows them: code-unit order, mine where bob has one on.
    const page = await h.page(bob.peer, { id: id(130) }, 10, 0);
    expect(page.messages.find((m) => m.id === id(130))?.reactions).toEqual([
      { emoji: "a", count: 1 },
      { emoji: "😀", count: 1 },
      { emoji: "\uffff", count: 1 },
    ]);
    expect(page.messages.find((m) => m.id === id(120))).toMatchObject({
      text: "f",
      edited: 5,
      reactions: [{ emoji: "❤", count: 1, mine: true }],
    });
  });

  it("pushes each group's net effect: held changes arrive with their message", async () => {
    const { h, ann, bob, cid, readers } = await scene(harness("chg-push-held"));
    const inside = (n: string, i: number, by: string): Draft => ({
      ...msg(n, key(i).ts + 1, by),
      text: `${n}, original`,
    });
    // Changes before their message: pending, each an arrival of its own.
    await h.change(cid.peer, [react("new-1", "👍", true, 1)]);
    await h.change(ann, [edit("new-1", "new-1 by ann, edited", 3)]);
    await h.change(bob.peer, [edit("new-1", "bob may not", 9)]); // dropped when new-1 arrives
    await h.change(bob.peer, [del("new-2")]); // bob's own: new-2 arrives deleted
    await h.change(cid.peer, [del("new-3"), del("new-3")]); // not cid's: dropped; the repeat stale
    const seq = h.model.seq;
    await h.send(ann, [
      inside("new-1", 120, "ann"),
      inside("new-2", 121, "bob"),
      inside("new-3", 5, "ann"),
    ]);
    // new-1 comes to bob in its final state; new-2 nowhere; new-3 shifts bob down one.
    expect(h.pushed.get(bob.peer.socket)).toMatchObject([
      {
        type: "insert",
        messages: [
          {
            id: "new-1",
            text: "new-1 by ann, edited",
            edited: 3,
            reactions: [{ emoji: "👍", count: 1 }],
            seq: seq + 1,
            position: 122,
          },
        ],
      },
      { type: "status", shifted: 1, total: 302, seq: seq + 3 },
    ]);
    await follow(h, readers);
    // Sent again: a duplicate, and the deleted one stays deleted.
    const again = await h.send(bob.peer, [
      inside("new-2", 121, "bob"),
      inside("new-1", 120, "ann"),
    ]);
    expect(again).toEqual([
      { id: "new-2", seq: seq + 2, duplicate: true, deleted: true },
      { id: "new-1", seq: seq + 1, duplicate: true },
    ]);
    expect(h.pushed.get(bob.peer.socket)).toEqual([]);
    await h.change(cid.peer, [react("new-2", "👍", true, 2), edit("new-3", "no", 1)]);
  });

  it("starts an empty channel's live view with the first group it is shown", async () => {
    const h = harness("chg-push-empty");
    const ann = await h.connect("ann");
    const bob = await h.connect("bob");
    await h.change(bob, [react("a", "👍", true, 1), del("b")]);
    await h.postChanges("cid", [del("a"), edit("a", "not cid's", 1)]);
    await h.send(ann, [msg("b", 5, "ann"), msg("a", 10, "ann")]);
    await h.change(ann, [edit("a", "edited", 2), del("b")]);
    await h.send(bob, [msg("c", 1, "bob"), msg("d", 20, "bob")]);
    await h.change(bob, [del("c"), del("d")]);
    expect(h.model.total).toBe(1);
  });

  it("takes a deleted late message out of every user's lateUnread", async () => {
    const { h, ann, cid, dan } = await scene(harness("chg-push-late"));
    await h.post([msg("late-1", key(10).ts + 1, "ann"), msg("late-2", key(230).ts + 1, "ann")]);
    // Each saw the one pushed to its view.
    expect([h.model.lateUnread("cid"), h.model.lateUnread("dan")]).toEqual([1, 1]);
    await h.change(ann, [del("late-1")]);
    expect(h.pushed.get(dan.socket)).toMatchObject([
      { type: "status", lateUnread: 0, shifted: -1 },
    ]);
    expect(h.pushed.get(cid.peer.socket)).toMatchObject([
      { type: "remove", ids: ["late-1"] },
      { type: "status", lateUnread: 1, shifted: 0 },
    ]);
    await h.postChanges("ann", [del("late-2")]);
    expect(h.pushed.get(dan.socket)).toMatchObject([
      { type: "remove", ids: ["late-2"] },
      { type: "status", lateUnread: 0, shifted: 0 },
    ]);
    expect(h.pushed.get(cid.peer.socket)).toMatchObject([{ type: "status", lateUnread: 0 }]);
  });
});

describe("remove and update pushes of one group of writers", () => {
  it("pushes the group's net effect: inserted and changed in insert, inserted and deleted nowhere, changed and deleted in remove", async () => {
    const { h, ann, bob, ann2, readers } = await scene(harness("chg-push-gated"));
    const gate = await holdCommits(h.channel);
    // Stored at once and pushed; its commit is held, so the five writes after it form one group.
    await h.change(ann, [react(0, "a", true, 1)]);
    await follow(h, readers);
    const near = (n: string, i: number, by: string) => msg(n, key(i).ts + 1, by);
    const marker = (n: number) => react(`never-${n}`, "👍", true, 1);
    const writes: Concurrent[] = [
      {
        peer: ann,
        send: [near("g-new", 120, "ann"), near("g-gone", 125, "bob"), near("g-up", 50, "ann")],
      },
      { peer: bob.peer, change: [marker(1), del("g-gone")] },
      {
        user: "ann",
        change: [marker(2), edit("g-new", "edited", 1), react("g-new", "🎉", true, 1)],
      },
      { peer: ann2.peer, change: [marker(3), edit(130, "x", 1), del(132)] },
      { user: "bob", change: [marker(4), react(132, "👍", true, 1), del(131), del(31)] },
    ];
    const groups = await h.concurrently(writes, async () => {
      await gate.arrived(1 + writes.length);
      gate.release();
    });
    expect(groups).toBe(1);
    // Whatever order the writes ran in, bob's view [100, 149] is told the same.
    expect(h.pushed.get(bob.peer.socket)).toMatchObject([
      {
        type: "insert",
        messages: [
          { id: "g-new", text: "edited", edited: 1, reactions: [{ emoji: "🎉", count: 1 }] },
        ],
      },
      { type: "remove", ids: [id(131), id(132)] },
      { type: "update", messages: [{ id: id(130), text: "x", position: 130 - 1 + 1 + 1 }] },
      { type: "status", shifted: 0 },
    ]);
    await follow(h, readers);
  });
});

const WAVES = 40;

describe("remove and update pushes of concurrent groups", () => {
  it("pushes each group's net effect to every socket, whoever wrote what", async () => {
    const h = new Harness("chg-push-groups", securedTransport(["mod"]));
    const rand = mulberry32(16);
    const users = ["ann", "bob", "cid", "mod"];
    await h.post(authoredBy(series(120), ["ann", "bob"]));
    const peers = new Map<string, Peer>();
    for (const user of users) peers.set(user, await h.connect(user));
    await h.declare(peers.get("bob") as Peer, key(40), key(80), false);
    await h.declare(peers.get("cid") as Peer, null, key(30), false);
    await h.declare(peers.get("mod") as Peer, null, null, false);
    const authors = new Map<string, string>(series(120).map((d, i) => [d.id, author(i)]));
    let fresh = 0;
    let groups = 0;
    let writes = 0;
    const pick = (ids: readonly string[]) => ids[randInt(rand, 0, ids.length - 1)] as string;
    // A message of the channel, a new one (of this wave too), or a deleted one.
    const anyId = (): string => pick([...authors.keys()]);
    const changeBy = (user: string): Change => {
      const target = anyId();
      const ts = randInt(rand, 1, 6);
      const r = rand();
      if (r < 0.5)
        return react(target, ["👍", "🎉", "a"][randInt(rand, 0, 2)] as string, rand() < 0.7, ts);
      // Edits and deletes only where they are allowed whatever the order: no frame is refused.
      const own = authors.get(target) === user;
      if (r < 0.8 && own) return edit(target, `${user}-${ts}-${randInt(rand, 0, 2)}`, ts);
      if (own || user === "mod") return del(target);
      return react(target, "👍", false, ts);
    };
    for (let wave = 0; wave < WAVES; wave++) {
      const batch: Concurrent[] = [];
      // Sent again under another author: only ids stored before this wave, or it would be stored so.
      const known = [...authors.keys()];
      // A socket's write waits for its previous one: one write a socket a wave, the rest over HTTP.
      const busy = new Set<string>();
      for (let w = randInt(rand, 2, 6); w > 0; w--) {
        const user = users[randInt(rand, 0, users.length - 1)] as string;
        const peer = peers.get(user) as Peer;
        const kind = busy.has(user) ? 1 : rand();
        if (kind < 0.7) busy.add(user);
        if (kind < 0.3) {
          // A new message (its marker), sometimes among the others, and some sent again.
          const n = `k${fresh++}`;
          const ts = rand() < 0.5 ? key(randInt(rand, 0, 119)).ts + 1 : 10_000_000 + fresh;
          authors.set(n, user);
          const drafts = [msg(n, ts, user)];
          if (rand() < 0.3) drafts.push(msg(pick(known), 5, "x"));
          batch.push({ peer, send: drafts });
        } else {
          // A change of an id never sent is held: this write's marker.
          const changes = [react(`never-${fresh++}`, "👍", true, 1)];
          for (let c = randInt(rand, 1, 4); c > 0; c--) changes.push(changeBy(user));
          batch.push(kind < 0.7 ? { peer, change: changes } : { user, change: changes });
        }
      }
      writes += batch.length;
      // The first write to arrive is stored alone; the rest wait for its commit and form one group.
      const gate = await holdCommits(h.channel);
      groups += await h.concurrently(batch, async () => {
        await gate.arrived(batch.length);
        gate.release();
      });
    }
    const gone = [...authors.keys()].filter((k) => h.model.tombstones.has(k)).length;
    console.log(`concurrent changes: ${writes} writes in ${groups} groups, ${gone} deleted`);
    expect(groups).toBe(WAVES * 2);
    expect(gone).toBeGreaterThan(0);
    // The whole channel, as each user's socket shows it.
    for (const peer of peers.values()) {
      for (let p = 0; p < h.model.total; p += 201) await h.page(peer, { position: p }, 0, 200);
    }
  });
});
