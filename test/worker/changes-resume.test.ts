/**
 * `resume` after missed changes (protocol 1.2, docs/protocol.md "Resume with
 * changes"): clients holding the bottom, the middle and the top go away
 * while messages are deleted above, inside and below what they hold (their
 * first and last ones too), edited, reacted to (by themselves from elsewhere:
 * `mine`), inserted and deleted again, held and then delivered. Each comes
 * back on a new socket; the reply must equal the kit's model's, and applied
 * to what the client held it must equal a fresh page. The 1,000 limit counts
 * arrivals of every kind; beyond it the client pages again by id and
 * declares with `resume` from the page's seq.
 */
import { afterEach, describe, expect, it } from "vitest";
import { authoredBy, del, edit, msg, react, series, seriesKey } from "../support/data.ts";
import type { Harness } from "../support/harness.ts";
import { Held } from "../support/held.ts";
import { comeBack, expectFresh, type Reader, reader } from "../support/readers.ts";
import { closeAll } from "../support/socket.ts";
import { MAX_RESUME } from "../support/wire.ts";
import { harness } from "./net.ts";

afterEach(closeAll);

const key = seriesKey;
const id = (i: number) => key(i).id;

/** 600 messages, even ones by ann, odd ones by bob; readers at the bottom, middle and top. */
async function scene(channel: string) {
  const h = harness(channel);
  await h.post(authoredBy(series(600), ["ann", "bob"]));
  const ann = await h.connect("ann");
  const bob = await h.connect("bob");
  const bottom = await reader(h, "rb", "newest", [60, 0], true);
  const middle = await reader(h, "rm", { position: 300 }, [30, 30], false);
  const top = await reader(h, "rt", "oldest", [0, 60], false);
  const readers = [bottom, middle, top];
  for (const r of readers) h.disconnect(r.peer);
  return { h, ann, bob, readers };
}

/** Comes back with each reader; then one more group, pushed to the views declared by resume. */
async function allBack(h: Harness, readers: readonly Reader[]) {
  const back = [];
  for (const r of readers) back.push(await comeBack(h, r));
  return back;
}

describe("resume after changes", () => {
  it("replays removed, updated and new messages to views at the bottom, middle and top", async () => {
    const { h, ann, bob, readers } = await scene("chg-resume-views");
    // Deletes above, inside, below and at the ends of each view; some late.
    await h.change(ann, [del(10), del(0), del(270), del(300), del(330), del(598)]);
    await h.change(bob, [del(271), del(331), del(599), del(59), del(541)]);
    // Edits and reactions inside and outside, the readers' own among them.
    await h.change(ann, [edit(20, "top, edited", 1), edit(302, "middle, edited", 1)]);
    await h.postChanges("rm", [react(301, "👍", true, 1), react(20, "👍", true, 1)]);
    await h.postChanges("rb", [react(580, "🎉", true, 1), react(580, "🎉", false, 2)]);
    await h.postChanges("rt", [react(580, "👍", true, 1), react(5, "a", false, 1)]);
    // New messages, one edited, one deleted again (in neither list), one late in the middle.
    await h.send(ann, [msg("new-1", key(599).ts + 1, "ann"), msg("new-2", 9_000_000, "ann")]);
    await h.send(bob, [
      msg("late-mid", key(305).ts + 1, "bob"),
      msg("late-top", key(3).ts + 1, "bob"),
    ]);
    await h.change(ann, [edit("new-1", "new, edited", 5), del("new-2")]);
    await h.change(bob, [edit("late-mid", "late, edited", 3)]);
    // Held before their message, then delivered; a change and a delete of one message.
    await h.postChanges("rm", [react("held-1", "❤", true, 1)]);
    await h.change(bob, [del("held-2")]);
    await h.post([msg("held-1", key(310).ts + 1, "bob"), msg("held-2", key(311).ts + 1, "bob")]);
    await h.change(ann, [edit(312, "gone soon", 4), del(312)]);

    const [b, m, t] = await allBack(h, readers);
    expect(m?.reply.removed).toEqual([id(270), id(271), id(300), id(312), id(330)]);
    expect(m?.reply.updated.map((x) => x.id)).toEqual([id(301), id(302)]);
    expect(m?.reply.messages.map((x) => x.id)).toEqual(["late-mid", "held-1"]);
    // Above the middle: late-top inserted, 0, 10 and 59 deleted.
    expect(m?.reply.shifted).toBe(1 - 3);
    expect(t?.reply.removed).toEqual([id(0), id(10), id(59)]);
    expect(t?.reply.updated).toMatchObject([{ id: id(5) }, { id: id(20), text: "top, edited" }]);
    expect(b?.reply.updated).toMatchObject([
      { id: id(580), reactions: [{ emoji: "👍", count: 1 }] },
    ]);
    expect(b?.reply.messages.map((x) => x.id)).toEqual(["new-1"]);

    // The views are the declared ones: the next group is pushed to them as to any socket.
    await h.change(ann, [del(304), edit(306, "after", 9), del(40), del(594)]);
    for (const r of [b, m, t]) {
      if (!r) continue;
      r.held.applyBatch(h.pushed.get(r.peer.socket) ?? []);
      await expectFresh(h, r);
    }
  });

  it("counts changes and held ones among the 1,000 arrivals it replays, and not stale ones", async () => {
    for (const missed of [MAX_RESUME, MAX_RESUME + 1]) {
      const { h, ann, readers } = await scene(`chg-resume-limit-${missed}`);
      const middle = readers[1] as Reader;
      const since = middle.held.seq;
      // Reactions on every message but the last, by ann: each an arrival.
      const reactions = Array.from({ length: 599 }, (_, i) => react(i, "👍", true, 1));
      await h.change(ann, reactions);
      // Repeats are stale: not arrivals.
      await h.change(ann, reactions.slice(0, 300));
      const held = Array.from({ length: missed - 599 - 1 }, (_, i) =>
        react(`held-${i}`, "a", true, 1),
      );
      await h.change(ann, [...held, del(300)]);
      expect(h.model.seq - since).toBe(missed);
      const peer = await h.connect("rm");
      const reply = await h.resume(peer, since, middle.view);
      if (reply.type !== "resumed") throw new Error("expected resumed");
      expect(reply.complete).toBe(missed <= MAX_RESUME);
      if (reply.complete) {
        middle.held.apply(reply);
        await expectFresh(h, { ...middle, peer });
        expect(reply.removed).toEqual([id(300)]);
        expect(reply.updated).toHaveLength(60);
      }
      console.log(`resume after ${missed} missed arrivals of changes: complete ${reply.complete}`);
    }
  });

  it("pages again after an incomplete resume and declares with resume from the page's seq", async () => {
    const { h, ann, bob, readers } = await scene("chg-resume-again");
    const middle = readers[1] as Reader;
    // More than 1,000 arrivals, among them the delete of the middle's first message.
    const many = Array.from({ length: 1_000 }, (_, i) => react(i % 600, `e${i % 7}`, true, i));
    await h.change(ann, many);
    await h.change(bob, [del(271)]);
    await h.change(ann, [del(270)]);
    const peer = await h.connect("rm");
    const incomplete = await h.resume(peer, middle.held.seq, middle.view);
    expect(incomplete).toMatchObject({ complete: false, removed: [], updated: [], messages: [] });
    // Its first id is gone: as docs/protocol.md says, it pages the newest messages instead.
    const gone = await peer.client.call({ type: "page", anchor: { id: id(270) } }, "gone");
    expect(gone.reply).toMatchObject({ type: "error", rid: "gone", code: "not_found" });
    const held = new Held(await h.page(peer, "newest", 60, 0));
    const view = { first: held.first, last: held.last, live: true };
    await h.change(bob, [del(597), react(580, "👍", true, 2_000)]);
    const again = await h.resume(peer, held.seq, view);
    expect(again).toMatchObject({ complete: true, removed: [id(597)], messages: [] });
    if (again.type !== "resumed") throw new Error("expected resumed");
    expect(again.updated.map((m) => m.id)).toEqual([id(580)]);
    held.apply(again);
    await expectFresh(h, { peer, held, view });
  });
});
