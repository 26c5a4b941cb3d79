/**
 * Protocol 1.1 `resume` (docs/protocol.md, "resume: coming back after a dropped
 * connection"), against the kit's model: clients holding the bottom (live),
 * the middle and the top close their sockets, other sockets and HTTP store
 * on-time, late and late-chunk arrivals, and each client comes back on a new
 * socket from the last seq it applied. The reply must equal the model's, and
 * applied to what the client held it must equal a fresh page over the same
 * range. Beyond 1,000 missed arrivals, or from the future, it is incomplete.
 */
import { afterEach, describe, expect, it } from "vitest";
import { seriesKey as key, msg, series } from "../support/data.ts";
import { comeBack, expectFresh, reader } from "../support/readers.ts";
import { closeAll } from "../support/socket.ts";
import { type Draft, MAX_RESUME } from "../support/wire.ts";
import { harness } from "./net.ts";

afterEach(closeAll);

/** Late messages just after message i of the series, `n` of them in a row (a chunk when n > 1). */
const lateAfter = (i: number, tag: string, n = 1): Draft[] =>
  Array.from({ length: n }, (_, k) => msg(`${tag}-${k}`, key(i).ts + 1 + k));

describe("resume", () => {
  it("replays what views at the bottom, middle and top missed, equal to a fresh page", async () => {
    const h = harness("resume-views");
    await h.post(series(600));
    const writer = await h.connect("wes");
    const bottom = await reader(h, "ann", "newest", [60, 0], true);
    const middle = await reader(h, "ben", { position: 300 }, [30, 30], false);
    const top = await reader(h, "cy", "oldest", [0, 60], false);
    const readers = [bottom, middle, top];
    for (const r of readers) {
      // The last seq each client applied is the channel's: nothing was missed yet.
      expect(r.peer.client.seq).toBe(h.model.seq);
      expect(r.held.seq).toBe(h.model.seq);
      h.disconnect(r.peer);
    }

    // While they are away: on-time, late singles everywhere, a late chunk, by socket and HTTP.
    await h.send(writer, [msg("bottom-1", 2_000_000), msg("bottom-2", 2_000_001)]);
    await h.post([
      ...lateAfter(290, "mid-single"),
      ...lateAfter(30, "top-single"),
      msg("before-all", 0),
      ...lateAfter(150, "between"),
      ...lateAfter(598, "bottom-late"),
    ]);
    await h.post(lateAfter(305, "mid-chunk", 40));
    await h.send(writer, [...lateAfter(10, "top-chunk", 12), msg("bottom-3", 2_000_002)]);
    await h.post([...lateAfter(400, "after-mid"), msg("bottom-4", 2_000_003)]);

    const back = [];
    for (const r of readers) back.push(await comeBack(h, r));
    // Each view got its own share, and the shifts that keep it still.
    const [b, m, t] = back.map((r) => r.reply as { shifted: number; messages: { id: string }[] });
    expect(b?.messages.map((x) => x.id)).toEqual(
      expect.arrayContaining(["bottom-late-0", "bottom-1", "bottom-4"]),
    );
    expect(m?.messages.map((x) => x.id)).toContain("mid-chunk-39");
    expect(m?.shifted).toBe(1 + 1 + 1 + 12); // top-single, before-all, between, top-chunk
    expect(t?.shifted).toBe(1); // before-all
    expect(t?.messages).toHaveLength(1 + 12);

    // The views are the declared ones: the next batch is pushed as to any socket with them.
    const after = [...lateAfter(20, "next-top"), ...lateAfter(300, "next-mid"), msg("z", 3e6)];
    const { pushes } = await h.post(after);
    for (const r of back) {
      r.held.applyBatch(pushes.get(r.peer.socket) ?? []);
      await expectFresh(h, r);
    }
  });

  it("answers a complete empty replay when nothing was missed", async () => {
    const h = harness("resume-nothing");
    await h.post(series(50));
    const r = await reader(h, "ann", { position: 20 }, [5, 5], false);
    h.disconnect(r.peer);
    const back = await comeBack(h, r);
    expect(back.reply).toMatchObject({ complete: true, messages: [], shifted: 0, seq: 50 });
  });

  it("replays exactly 1,000 missed arrivals and gives up at 1,001", async () => {
    for (const missed of [MAX_RESUME, MAX_RESUME + 1]) {
      const h = harness(`resume-limit-${missed}`);
      await h.post(series(300));
      const r = await reader(h, "ann", { position: 150 }, [20, 20], false);
      h.disconnect(r.peer);
      // Late arrivals inside the view, before it and after it, then on-time ones.
      const batch = [
        ...lateAfter(140, "in", 30),
        ...lateAfter(10, "before", 30),
        ...lateAfter(250, "after", 30),
        ...series(missed - 90, 5_000_000, 1, "n"),
      ];
      await h.post(batch);
      const peer = await h.connect("ann");
      const reply = await h.resume(peer, r.held.seq, r.view);
      if (reply.type !== "resumed") throw new Error("expected resumed");
      if (missed <= MAX_RESUME) {
        r.held.apply(reply);
        await expectFresh(h, { ...r, peer });
        expect(reply).toMatchObject({ complete: true, shifted: 30, lateUnread: 60 });
      } else {
        // Incomplete, but the view is declared: its late messages are seen all the same.
        expect(reply).toMatchObject({ complete: false, messages: [], shifted: 0, lateUnread: 60 });
      }
      console.log(`resume after ${missed} missed: complete ${reply.complete}`);
    }
  });

  it("answers complete: false for a since after the channel's seq, and declares the view", async () => {
    const h = harness("resume-future");
    await h.post(series(100));
    const alice = await h.connect("alice");
    await h.post(lateAfter(50, "late", 3));
    const view = { first: key(40), last: key(60), live: false };
    const reply = await h.resume(alice, h.model.seq + 1, view);
    expect(reply).toMatchObject({ complete: false, messages: [], shifted: 0, lateUnread: 0 });
    // Pushed as to the declared view from now on.
    await h.post([...lateAfter(45, "in-view"), ...lateAfter(70, "outside")]);
  });

  it("refuses bad resume frames with bad_request and keeps the socket and its view", async () => {
    const h = harness("resume-bad");
    await h.post(series(100));
    const alice = await h.connect("alice");
    await h.declare(alice, key(40), key(60), false);
    const view = { first: key(10), last: key(20), live: false };
    const bad: Record<string, unknown>[] = [
      { ...view, since: -1 },
      { ...view, since: 1.5 },
      { ...view },
      { ...view, since: "3" },
      { ...view, since: 0, first: key(30), last: key(20) },
      { first: key(10), last: key(20), since: 0 },
      { since: 0, last: key(20), live: true },
    ];
    for (const [n, fields] of bad.entries()) {
      const { reply, others } = await alice.client.call({ type: "resume", ...fields }, `bad-${n}`);
      expect(others).toEqual([]);
      expect(reply, JSON.stringify(fields)).toEqual({
        type: "error",
        rid: `bad-${n}`,
        code: "bad_request",
        message: expect.any(String),
      });
    }
    // Still open, and still the old view [40, 60]: pushed only what lands in it.
    await h.post([...lateAfter(50, "in-old"), ...lateAfter(15, "in-refused"), msg("z", 9e6)]);
  });
});
