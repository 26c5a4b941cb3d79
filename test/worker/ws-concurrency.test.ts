/**
 * Concurrent senders: 50 sockets send at once, with ids repeated across
 * sockets. The object stores the batches in some order, concurrent ones in
 * groups (group commit: one commit and one push per group); the `sent`
 * replies' seqs reveal both, the model replays the groups in that order, and
 * every reply, every push to every socket and the final list must match.
 */
import { afterEach, describe, expect, it } from "vitest";
import { series, seriesKey } from "../support/data.ts";
import { coalescedPushes } from "../support/merges.ts";
import { ChannelModel, normalizePushes } from "../support/model.ts";
import { mulberry32 } from "../support/random.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { initialView, type SocketModel, type View } from "../support/views.ts";
import type { Draft, Frame, FrameOf } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import { allMessages, openSocket, postMessages, stats } from "./net.ts";

afterEach(closeAll);

const SOCKETS = 50;
const FRAMES = 4;
const PER_FRAME = 5;
const POOL = 400;

const key = seriesKey;

/** Pool message k: even ones land among the seeded messages (late), odd ones after them. */
function pooled(k: number): { id: string; ts: number; text: string } {
  const ts = k % 2 === 0 ? 1_000_001 + ((k * 997) % 199_000) : 2_000_000 + k * 10;
  return { id: `c${k}`, ts, text: `text of c${k}` };
}

/** The pool ids socket i sends in frame j: distinct within a frame, repeated across sockets. */
const idsOf = (i: number, j: number) =>
  Array.from({ length: PER_FRAME }, (_, x) => (i * 7 + j * 13 + x * 29) % POOL);

describe("concurrent sends", () => {
  it("stores each id once and pushes each group once to every socket, as the model replays it", async () => {
    const channel = "concurrent";
    const seed = series(200);
    await postMessages(channel, seed);

    // Fifty sockets of ten users: live at the bottom, open at both ends, or in the middle.
    const clients: Client[] = [];
    const views: View[] = [];
    for (let i = 0; i < SOCKETS; i++) {
      const client = await openSocket(channel, `u${i % 10}`);
      const hello = await client.next("hello");
      expect(hello.total).toBe(200);
      let view = initialView(key(199));
      if (i % 3 === 1) view = { first: null, last: null, live: true };
      if (i % 3 === 2) view = { first: key(50), last: key(150), live: false };
      if (i % 3 !== 0) {
        const { reply } = await client.call({ type: "view", ...view }, "v");
        expect(reply).toEqual({ type: "view", rid: "v", ...unmarkedCounts(200), seq: 200 });
      }
      clients.push(client);
      views.push(view);
    }

    // Everyone sends at once, interleaved at random; the authors are left to the server.
    const random = mulberry32(50);
    const nextFrame = clients.map(() => 0);
    for (let left = SOCKETS * FRAMES; left > 0; left--) {
      const ready = nextFrame.flatMap((j, i) => (j < FRAMES ? [i] : []));
      const i = ready[Math.floor(random() * ready.length)] as number;
      const j = nextFrame[i] as number;
      nextFrame[i] = j + 1;
      clients[i]?.send({ type: "send", rid: `s${i}-${j}`, messages: idsOf(i, j).map(pooled) });
    }
    // A first barrier per socket passes its own sends; once all have, every
    // batch is stored, and a second barrier collects the last pushes.
    const frames = await Promise.all(clients.map((c) => c.drain(60_000)));
    const rest = await Promise.all(clients.map((c) => c.drain(60_000)));
    const received = frames.map((f, i) => [...f, ...(rest[i] ?? [])]);

    // The replies, by socket and frame.
    const sent = new Map<string, FrameOf<"sent">>();
    received.forEach((list, i) => {
      const replies = list.filter((f): f is FrameOf<"sent"> => f.type === "sent");
      expect(replies.map((f) => f.rid).sort()).toEqual(
        Array.from({ length: FRAMES }, (_, j) => `s${i}-${j}`).sort(),
      );
      for (const r of replies) sent.set(r.rid ?? "", r);
    });

    // The order the object stored the batches in: concurrent batches share a
    // group (one commit, one push), whose replies all carry the seq after it;
    // inside a group, by the seq of each batch's first new message.
    const batches = [...sent.entries()].map(([rid, reply]) => {
      const [i, j] = rid.slice(1).split("-").map(Number) as [number, number];
      const fresh = reply.results.filter((r) => !r.duplicate).map((r) => r.seq);
      return { i, j, reply, firstSeq: fresh.length > 0 ? Math.min(...fresh) : null };
    });
    const groups = new Map<number, typeof batches>();
    for (const b of batches) groups.set(b.reply.seq, [...(groups.get(b.reply.seq) ?? []), b]);
    const storing = [...groups.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, group]) =>
        group.sort((a, b) => (a.firstSeq ?? Infinity) - (b.firstSeq ?? Infinity)),
      );
    console.log(`concurrent sends: ${batches.length} batches in ${storing.length} groups`);

    // Replay into the model, group by group, with the same sockets and views.
    const start = () => {
      const model = new ChannelModel();
      model.store(seed);
      const sockets: SocketModel[] = clients.map((c, i) => {
        model.connect(c.user);
        return { user: c.user, view: { ...(views[i] as View) } };
      });
      return { model, sockets };
    };
    const { model, sockets } = start();
    const draftsOf = (b: (typeof batches)[number]): Draft[] =>
      idsOf(b.i, b.j).map((k) => ({ ...pooled(k), author: `u${b.i % 10}` }));
    for (const group of storing) {
      // A group stores its batches in turn, as one batch of them all would.
      const { results } = model.batch(group.flatMap(draftsOf), sockets);
      let at = 0;
      for (const b of group) {
        expect(b.reply, `sent s${b.i}-${b.j}`).toEqual({
          type: "sent",
          rid: `s${b.i}-${b.j}`,
          results: results.slice(at, at + PER_FRAME),
          total: model.total,
          seq: model.seq,
        });
        at += PER_FRAME;
      }
    }
    // The pushes: groups a user's sockets fell behind on came merged (push coalescing).
    const expected = coalescedPushes(
      start,
      storing.map((group) => ({
        end: (group[0] as (typeof batches)[number]).reply.seq,
        items: group.flatMap(draftsOf),
      })),
      received,
    );
    // Batches that were all duplicates name the stored seqs.
    for (const b of batches.filter((x) => x.firstSeq === null)) {
      expect(b.reply.results).toEqual(
        idsOf(b.i, b.j).map((k) => ({
          id: `c${k}`,
          seq: model.byId.get(`c${k}`)?.seq,
          duplicate: true,
        })),
      );
    }

    // Every pooled id that was sent is stored exactly once, with the first sender as author.
    const sentIds = new Set(batches.flatMap((b) => idsOf(b.i, b.j)));
    expect(model.total).toBe(200 + sentIds.size);
    expect((await stats(channel)).total).toBe(model.total);
    expect(await allMessages(channel)).toEqual(model.sorted.map((m) => model.wire(m)));

    // Each socket got the model's pushes, run by run, in the order they were stored.
    received.forEach((list, n) => {
      const pushes = list.filter((f) => f.type === "insert" || f.type === "status");
      const totals = pushes.map((f) => (f.type === "insert" || f.type === "status" ? f.total : 0));
      expect(totals, `socket ${n}: groups in storing order`).toEqual(
        [...totals].sort((a, b) => a - b),
      );
      const want = expected[n] ?? [];
      const all = [...new Set([...totals, ...want.map((f) => ("total" in f ? f.total : 0))])];
      const byBatch = (fs: Frame[]) =>
        all.map((t) =>
          normalizePushes(
            fs.filter((f) => (f.type === "insert" || f.type === "status") && f.total === t),
          ),
        );
      expect(byBatch(pushes), `socket ${n}`).toEqual(byBatch(want));
    });

    // A socket open at both ends saw every new message exactly once.
    const everything = received[1] ?? [];
    const pushedIds = everything.flatMap((f) =>
      f.type === "insert" ? f.messages.map((m) => m.id) : [],
    );
    expect(pushedIds).toHaveLength(sentIds.size);
    expect(new Set(pushedIds)).toEqual(new Set([...sentIds].map((k) => `c${k}`)));
  });
});
