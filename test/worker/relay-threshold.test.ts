/**
 * Where a channel's sockets go (issue 18), in the `relay-threshold` project:
 * the channel object serves RELAY_SOCKETS=2 sockets itself, and relays take
 * RELAY_CAPACITY=2 each. The first two sockets stay on the object and the
 * rest go to relays; a user with a socket on the object keeps new tabs
 * there, and a user's tabs on relays share one (kept once given, even full);
 * a full relay opens the next; stats count every socket and the relays
 * holding any, exactly, as sockets open and close. And a group reaches the
 * object's sockets and the relays' alike, as the kit's model says.
 */
import { afterEach, describe, expect, it } from "vitest";
import { del, edit, msg, react, series, seriesKey } from "../support/data.ts";
import { eachSeed } from "../support/random.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { channelStub, harness, openSocket } from "./net.ts";
import { EvictionRun } from "./relay-run.ts";
import { expectAudience, relayStub } from "./relays.ts";

afterEach(closeAll);

/** Opens a socket and reads its hello. */
async function open(channel: string, user: string): Promise<Client> {
  const client = await openSocket(channel, user);
  await client.next("hello");
  return client;
}

describe("placement past the threshold", () => {
  it("keeps the first sockets on the object, a user's tabs together, and fills relays in turn", async () => {
    const ch = "threshold-place";
    const alice = await open(ch, "alice");
    const bob = await open(ch, "bob");
    await expectAudience(ch, 2, []);
    // The object is full, but alice has a socket there: her new tab joins it.
    const alice2 = await open(ch, "alice");
    await expectAudience(ch, 3, []);
    // Everyone else goes to a relay; carol's tabs share hers, full or not.
    const carol = await open(ch, "carol");
    await expectAudience(ch, 3, [1]);
    const carol2 = await open(ch, "carol");
    await expectAudience(ch, 3, [2]);
    const dave = await open(ch, "dave");
    await expectAudience(ch, 3, [2, 1]);
    const carol3 = await open(ch, "carol");
    await expectAudience(ch, 3, [3, 1]);
    await open(ch, "erin");
    await expectAudience(ch, 3, [3, 2]);
    await open(ch, "fay"); // both relays full: a third
    await expectAudience(ch, 3, [3, 2, 1]);

    // Closing: counted at once. The object still holds two (alice's): gus goes to the relay with room.
    await bob.closeAndWait();
    await expectAudience(ch, 2, [3, 2, 1]);
    await open(ch, "gus");
    await expectAudience(ch, 2, [3, 2, 2]);
    // Carol's tabs all close and she comes back: to her relay, kept once given.
    for (const tab of [carol, carol2, carol3]) await tab.closeAndWait();
    await expectAudience(ch, 2, [0, 2, 2]);
    await open(ch, "carol");
    await expectAudience(ch, 2, [1, 2, 2]);
    // Alice leaves the object, which has room again when she comes back.
    await alice.closeAndWait();
    await alice2.closeAndWait();
    await expectAudience(ch, 0, [1, 2, 2]);
    await open(ch, "alice");
    await expectAudience(ch, 1, [1, 2, 2]);
    await dave.closeAndWait();
    await expectAudience(ch, 1, [1, 1, 2]);
  });
});

describe("a mixed audience", () => {
  it("pushes every group to the object's sockets and the relays' as the model says", async () => {
    const h = harness("threshold-mixed");
    await h.post(
      series(30, 1_000_000, 1_000, "m").map((d, i) => ({
        ...d,
        author: ["ann", "bob", "cid"][i % 3] as string,
      })),
    );
    // ann on the object (two tabs), bob on the object; cid (two tabs) on a relay, dot on the next.
    const ann = await h.connect("ann");
    const bob = await h.connect("bob");
    const ann2 = await h.connect("ann");
    const cid = await h.connect("cid");
    const cid2 = await h.connect("cid");
    const dot = await h.connect("dot");
    await expectAudience(h.channel, 3, [2, 1]);
    await h.declare(ann, seriesKey(5), seriesKey(15), false);
    await h.declare(cid, seriesKey(10), seriesKey(20), false);
    await h.declare(dot, null, null, true);
    await h.post([msg("late-1", seriesKey(12).ts + 1, "bob"), msg("late-2", seriesKey(25).ts + 1)]);
    await h.send(bob, [msg("b1", 9_000_000, "bob")]);
    await h.send(cid2, [msg("c1", 9_000_001, "cid"), msg("late-3", seriesKey(7).ts + 1, "cid")]);
    await h.change(dot, [react(seriesKey(11).id, "👍", true, 1), react("c1", "🎉", true, 1)]);
    await h.change(ann2, [react(seriesKey(2).id, "👍", true, 2)]); // cid's message, outside cid's view
    await h.change(cid, [edit(seriesKey(11).id, "cid edited", 3), del(seriesKey(14).id)]);
    await h.ack(ann2);
    await h.reactionsAck(cid2);
    await h.read(cid, "c1");
    await h.read(ann, seriesKey(20).id);
    await h.postChanges("bob", [del("b1")]);
    await h.resume(dot, dot.client.seq - 3, { first: seriesKey(3), last: null, live: true });
    await h.send(ann, [msg("a1", 9_000_002, "ann")]);
    expect(h.compared).toBeGreaterThan(60);
  });
});

describe("a mixed audience and evictions", () => {
  it("keeps every frame the model's with users on the object and on relays, whichever is evicted", async () => {
    const tally = new Map<string, number>();
    let compared = 0;
    await eachSeed(1, 3, async (seed) => {
      const h = harness(`threshold-evict-${seed}`);
      // ann's two tabs on the object; bob's, cid's and dot's on relays 0, 1 and 2.
      const homes = new Map<string, DurableObjectStub>([
        ["ann", channelStub(h.channel)],
        ["bob", relayStub(h.channel, 0)],
        ["cid", relayStub(h.channel, 1)],
        ["dot", relayStub(h.channel, 2)],
      ]);
      const run = new EvictionRun(h, seed, (user) => homes.get(user) as DurableObjectStub);
      let relays = 0;
      await run.run([...homes.keys()], 60, tally, async (user) => {
        if (user !== "ann") relays++;
        await expectAudience(
          h.channel,
          2,
          Array.from({ length: relays }, () => 2),
        );
      });
      await expectAudience(h.channel, 3, [3, 3, 3]);
      compared += h.compared;
    });
    console.log(
      `a mixed audience and evictions: ${JSON.stringify(Object.fromEntries(tally))}; ${compared} frames compared with the model`,
    );
  });
});
