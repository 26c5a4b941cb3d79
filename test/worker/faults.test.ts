/**
 * Faults, each checked against the kit's channel model (test/support/model.ts): sockets
 * that close in the middle of a session (by the client, or all at once when
 * the object is evicted), twenty sockets and HTTP batches writing at once with
 * overlapping ids, an eviction with hibernated sockets in the middle of those
 * writes, and a batch that fails inside the object half-way through. No
 * message may be lost or stored twice, every push must reach its socket once,
 * each user's lateUnread must survive, and a failed batch must leave storage
 * and the in-memory position index as they were.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ChannelStore, type Draft as StoreDraft } from "../../src/channel/store.ts";
import type { NewMessage } from "../../src/protocol/schemas.ts";
import { msg, series, seriesKey } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { keyOf } from "../support/keys.ts";
import { coalescedPushes, type StoredGroup } from "../support/merges.ts";
import { ChannelModel, normalizePushes } from "../support/model.ts";
import { mulberry32 } from "../support/random.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { initialView, type SocketModel, type View } from "../support/views.ts";
import type { Anchor, Draft, Frame, FrameOf, Key } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import {
  allMessages,
  harness,
  isMarked,
  markInstance,
  openSocket,
  postMessages,
  stats,
} from "./net.ts";
import { evictHolders } from "./relays.ts";

afterEach(closeAll);

/** m00000… at ts 1,000,000 + i·1,000 (the keys of `series`). */
const key = seriesKey;

const stubOf = (channel: string) => env.CHANNEL.get(env.CHANNEL.idFromName(channel));

/** Asks `late.list` (up to 100) and checks it against the model. */
async function checkLateList(h: Harness, peer: Peer): Promise<void> {
  const { reply, others } = await peer.client.call({ type: "late.list", limit: 100 }, "list");
  expect(others).toEqual([]);
  const unread = h.model.unreadLate(peer.socket.user);
  expect(reply, `late.list of ${peer.socket.user}`).toEqual({
    type: "late.list",
    rid: "list",
    unread: unread.length,
    items: unread
      .slice(0, 100)
      .map((m) => ({ id: m.id, ts: m.ts, position: h.model.position(m.id), seq: m.seq })),
  });
}

// ── (a) Sockets closed in the middle of a session ──────────────────────────

describe("sockets closed mid-session", () => {
  it("keeps every message once and each user's lateUnread across hang-ups and evictions", async () => {
    const h = harness("fault-hangup");
    await h.post(series(120));
    const random = mulberry32(7);
    const users = ["alice", "bob", "carol", "dave"];
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    let made = 0;
    const sentIds: string[] = [];

    /** A batch: late ones anywhere in the list, on-time ones at the bottom, and a redelivery. */
    const batch = (onTimeOnly = false): Draft[] => {
      const out: Draft[] = [];
      const n = 1 + Math.floor(random() * 4);
      for (let i = 0; i < n; i++) {
        const id = `x${made++}`;
        const newest = h.model.newest?.ts ?? 0;
        const late = !onTimeOnly && random() < 0.6;
        const ts = late ? key(Math.floor(random() * 120)).ts + 1 + i : newest + 1_000 + i;
        out.push(msg(id, ts, pick(users)));
        sentIds.push(id);
      }
      const again = sentIds[Math.floor(random() * sentIds.length)];
      const earlier = again === undefined ? undefined : h.model.byId.get(again);
      if (!onTimeOnly && earlier && random() < 0.5) {
        out.push({ id: earlier.id, ts: earlier.ts, author: earlier.author, text: earlier.text });
      }
      return out;
    };

    /** A view for a new socket: the whole channel, a window, the top, or the live bottom. */
    const declareSomething = async (peer: Peer): Promise<void> => {
      const a = Math.floor(random() * 100);
      const choice = Math.floor(random() * 4);
      if (choice === 0) await h.declare(peer, null, null, true);
      else if (choice === 1) await h.declare(peer, key(a), key(a + 20), false);
      else if (choice === 2) await h.declare(peer, null, key(a), false);
    };

    for (const user of users) await declareSomething(await h.connect(user));
    await declareSomething(await h.connect("alice"));

    for (let round = 0; round < 60; round++) {
      const op = Math.floor(random() * 10);
      const open = h.peers;
      if (op <= 2 && open.length > 0) {
        await h.send(pick(open), batch());
      } else if (op <= 4) {
        await h.post(batch());
      } else if (op === 5 && open.length > 1) {
        // A hang-up, then writes: the closed socket is not pushed to, so late
        // messages in its view stay unread for its user.
        const peer = pick(open);
        await peer.client.closeAndWait();
        h.disconnect(peer);
        await h.post(batch());
      } else if (op === 6 && open.length > 2) {
        // A hang-up while another socket sends: only on-time messages, so
        // whether the closing socket still got them changes no user's state.
        const peer = pick(open);
        h.disconnect(peer);
        const sender = pick(h.peers);
        await Promise.all([peer.client.closeAndWait(), h.send(sender, batch(true))]);
      } else if (op === 7) {
        await declareSomething(await h.connect(pick(users)));
      } else if (op === 8 && open.length > 0) {
        await checkLateList(h, pick(open));
      } else if (op === 9) {
        // Every socket closed at once by the eviction (of the relay too, where it holds them);
        // the clients reconnect.
        const closing = h.peers.map((p) => p.client.closeAndWait());
        await evictHolders(h.channel, "close");
        await Promise.all(closing);
        for (const peer of [...h.peers]) h.disconnect(peer);
        await h.post(batch()); // while nobody is connected
        for (const user of users.filter(() => random() < 0.6)) {
          await declareSomething(await h.connect(user));
        }
      }
    }

    // Every user, reconnected: the same unread late messages as the model, in the same order.
    for (const user of users) await checkLateList(h, await h.connect(user));
    expect(h.model.lateArrivals.length).toBeGreaterThan(20);
    expect(await allMessages(h.channel)).toEqual(h.model.sorted.map((m) => h.model.wire(m)));
  });

  it("does not count a push to a socket its client has closed as seen", async () => {
    const h = harness("fault-hangup-seen");
    await h.post(series(50));
    const whole = await h.connect("erin");
    await h.declare(whole, null, null, true);
    const other = await h.connect("frank");
    await whole.client.closeAndWait();
    h.disconnect(whole);
    // Late messages that erin's closed socket would have held.
    await h.post([msg("late-1", key(10).ts + 1), msg("late-2", key(30).ts + 1)]);
    await h.send(other, [msg("late-3", key(20).ts + 1)]);
    expect(h.model.lateUnread("erin")).toBe(3);
    const back = await h.connect("erin"); // hello: lateUnread 3
    await checkLateList(h, back);
  });
});

// ── (b) and (c): interleaved writers ───────────────────────────────────────

const SOCKETS = 20;
const FRAMES = 5;
const PER_FRAME = 4;
const POSTS = 10;
const PER_POST = 8;
const POOL = 300;
const SEEDED = 150;

/** Pool message k: even ones land among the seeded messages (late), odd ones after them. */
function pooled(k: number): { id: string; ts: number; text: string } {
  const ts = k % 2 === 0 ? 1_000_001 + ((k * 997) % 149_000) : 2_000_000 + k * 10;
  return { id: `c${k}`, ts, text: `text of c${k}` };
}

/** The pool ids of socket i's frame j, and of HTTP batch b: distinct within, shared across. */
const frameIds = (i: number, j: number) =>
  Array.from({ length: PER_FRAME }, (_, x) => (i * 7 + j * 13 + x * 29) % POOL);
const postIds = (b: number) =>
  Array.from({ length: PER_POST }, (_, x) => (b * 31 + x * 17 + 5) % POOL);

const userOf = (i: number) => `u${i % 7}`;

/** Views of the sockets: live bottom, whole channel, a window, the top, a live window. */
function viewOf(i: number): View {
  switch (i % 5) {
    case 0:
      return initialView(key(SEEDED - 1));
    case 1:
      return { first: null, last: null, live: true };
    case 2:
      return { first: key(40), last: key(110), live: false };
    case 3:
      return { first: null, last: key(30), live: false };
    default:
      return { first: key(100), last: key(SEEDED - 1), live: true };
  }
}

/** One write as the object stored it: a socket frame or an HTTP batch. */
type Write =
  | { kind: "frame"; i: number; j: number; reply: FrameOf<"sent"> }
  | { kind: "post"; b: number; reply: { inserted: number; duplicates: number; total: number } };

const draftsOf = (w: Write): Draft[] =>
  w.kind === "frame"
    ? frameIds(w.i, w.j).map((k) => ({ ...pooled(k), author: userOf(w.i) }))
    : postIds(w.b).map((k) => ({ ...pooled(k), author: "http" }));

const storedSomething = (w: Write) =>
  w.kind === "frame" ? w.reply.results.some((r) => !r.duplicate) : w.reply.inserted > 0;

/**
 * Twenty sockets send frames and ten HTTP batches go out at once, in a
 * seeded random interleaving; with `evictMidway`, the object is evicted
 * (sockets hibernated) half-way through. Concurrent writes are stored in
 * groups; the totals in the replies give the groups, the stored seqs the order
 * inside them; the model replays them in that order, and every reply, every
 * push and the final list must match.
 */
async function interleavedWriters(channel: string, evictMidway: boolean): Promise<void> {
  const stub = stubOf(channel);
  const seed = series(SEEDED);
  expect((await postMessages(channel, seed)).status).toBe(200);

  const clients: Client[] = [];
  for (let i = 0; i < SOCKETS; i++) {
    const client = await openSocket(channel, userOf(i));
    expect(await client.next("hello")).toMatchObject({ total: SEEDED, lateUnread: 0 });
    if (i % 5 !== 0) {
      const { reply } = await client.call({ type: "view", ...viewOf(i) }, "v");
      expect(reply).toEqual({ type: "view", rid: "v", ...unmarkedCounts(SEEDED), seq: SEEDED });
    }
    clients.push(client);
  }

  // Every frame and batch, shuffled; a socket's frames stay in its own order.
  const random = mulberry32(evictMidway ? 2 : 1);
  const actions: ({ kind: "frame"; i: number } | { kind: "post"; b: number })[] = [
    ...Array.from({ length: SOCKETS * FRAMES }, (_, n) => ({
      kind: "frame" as const,
      i: n % SOCKETS,
    })),
    ...Array.from({ length: POSTS }, (_, b) => ({ kind: "post" as const, b })),
  ];
  for (let n = actions.length - 1; n > 0; n--) {
    const m = Math.floor(random() * (n + 1));
    [actions[n], actions[m]] = [
      actions[m] as (typeof actions)[number],
      actions[n] as (typeof actions)[number],
    ];
  }
  if (evictMidway) await markInstance(stub);
  const nextFrame = clients.map(() => 0);
  const posts: Promise<Write>[] = [];
  for (const [n, action] of actions.entries()) {
    if (evictMidway && n === Math.floor(actions.length / 2)) {
      // Half the writes are in flight (frames queued on the sockets, batches on
      // their way): the eviction lets them finish, hibernates the sockets, and
      // the other half wakes a new instance through the same sockets (a relay's too).
      await evictHolders(channel, "hibernate");
    }
    if (action.kind === "frame") {
      const j = nextFrame[action.i] as number;
      nextFrame[action.i] = j + 1;
      clients[action.i]?.send({
        type: "send",
        rid: `s${action.i}-${j}`,
        messages: frameIds(action.i, j).map(pooled), // authors left to the server
      });
    } else {
      const b = action.b;
      const messages = postIds(b).map((k) => ({ ...pooled(k), author: "http" }));
      posts.push(
        postMessages(channel, messages).then(({ status, body }) => {
          expect(status, `post ${b}`).toBe(200);
          return { kind: "post", b, reply: body as Write["reply"] } as Write;
        }),
      );
    }
  }
  const posted = await Promise.all(posts);
  // A first barrier per socket passes its own frames; once all have, every
  // batch is stored, and a second barrier collects the last pushes.
  const first = await Promise.all(clients.map((c) => c.drain(60_000)));
  const second = await Promise.all(clients.map((c) => c.drain(60_000)));
  const received = first.map((f, i) => [...f, ...(second[i] ?? [])]);
  if (evictMidway) expect(await isMarked(stub), "a fresh instance after the eviction").toBe(false);

  // Every frame got its one reply.
  const writes: Write[] = [...posted];
  received.forEach((frames, i) => {
    const replies = frames.filter((f): f is FrameOf<"sent"> => f.type === "sent");
    expect(replies.map((r) => r.rid).sort(), `socket ${i}`).toEqual(
      Array.from({ length: FRAMES }, (_, j) => `s${i}-${j}`).sort(),
    );
    for (const reply of replies) {
      const j = Number((reply.rid ?? "").split("-")[1]);
      writes.push({ kind: "frame", i, j, reply });
    }
    const errors = frames.filter((f) => f.type === "error");
    expect(errors, `socket ${i}`).toEqual([]);
  });

  // Concurrent writes share a group (one commit, one push); every reply of a
  // group carries the total after it, and with no deletions the total is the
  // seq watermark. The final list's seqs give the arrival order inside a group:
  // the model replays each group's new messages in seq order, each as the
  // write that stored it wrote it (a frame's results name its new ids; the
  // rest of a group came from its HTTP batches, all written alike).
  const stored = await allMessages(channel);
  const seqOf = new Map(stored.map((m) => [m.id, m.seq]));
  const byFrame = new Map<string, Draft>();
  for (const w of writes) {
    if (w.kind !== "frame") continue;
    const drafts = draftsOf(w);
    w.reply.results.forEach((r, x) => {
      const draft = drafts[x];
      expect(r.id).toBe(draft?.id);
      if (r.duplicate || !draft) return;
      expect(byFrame.has(r.id), `${r.id} stored new once`).toBe(false);
      byFrame.set(r.id, draft);
    });
  }
  const byPost = new Map(
    writes.filter((w) => w.kind === "post").flatMap((w) => draftsOf(w).map((d) => [d.id, d])),
  );
  const groupEnds = [...new Set(writes.filter(storedSomething).map((w) => w.reply.total))].sort(
    (a, b) => a - b,
  );
  console.log(`interleaved writers: ${writes.length} writes in ${groupEnds.length} groups`);

  const start = () => {
    const model = new ChannelModel();
    model.store(seed);
    const sockets: SocketModel[] = clients.map((c, i) => {
      model.connect(c.user);
      return { user: c.user, view: { ...viewOf(i) } };
    });
    return { model, sockets };
  };
  const { model, sockets } = start();
  const groups: StoredGroup<Draft>[] = [];
  const bySeq = stored.filter((m) => m.seq > SEEDED).sort((a, b) => a.seq - b.seq);
  let at = 0;
  for (const end of groupEnds) {
    const drafts: Draft[] = [];
    for (; at < bySeq.length && (bySeq[at]?.seq ?? 0) <= end; at++) {
      const id = bySeq[at]?.id ?? "";
      const draft = byFrame.get(id) ?? byPost.get(id);
      expect(draft, `${id} was sent`).toBeDefined();
      if (draft) drafts.push(draft);
    }
    model.batch(drafts, sockets);
    expect(model.total).toBe(end);
    groups.push({ end, items: drafts });
  }
  // The pushes: groups a user's sockets fell behind on came merged (push coalescing).
  const expected = coalescedPushes(start, groups, received);
  // Every reply, against the replay: a frame's results and the group's total
  // and seq; an HTTP batch's counts, which its group's new messages account for.
  for (const w of writes) {
    if (w.kind === "frame") {
      // Each id at its stored seq; the new ones consecutive, inside the group.
      expect(w.reply.results, `frame s${w.i}-${w.j}`).toEqual(
        draftsOf(w).map((d, x) => ({
          id: d.id,
          seq: seqOf.get(d.id),
          duplicate: w.reply.results[x]?.duplicate,
        })),
      );
      const fresh = w.reply.results.filter((r) => !r.duplicate).map((r) => r.seq);
      expect(fresh).toEqual(fresh.map((_, x) => (fresh[0] ?? 0) + x));
      for (const seq of fresh) {
        expect(seq).toBeGreaterThan(groupStart(w.reply.seq));
        expect(seq).toBeLessThanOrEqual(w.reply.seq);
      }
      expect(w.reply).toMatchObject({ type: "sent", total: w.reply.seq });
      expect([SEEDED, ...groupEnds]).toContain(w.reply.seq);
    } else {
      expect(w.reply.inserted + w.reply.duplicates, `post ${w.b}`).toBe(PER_POST);
      const inGroup = draftsOf(w).filter((d) => {
        const seq = seqOf.get(d.id) ?? 0;
        return !byFrame.has(d.id) && seq <= w.reply.total && seq > groupStart(w.reply.total);
      });
      expect(w.reply.inserted, `post ${w.b}`).toBeLessThanOrEqual(inGroup.length);
    }
  }
  const postsInserted = new Map<number, number>();
  for (const w of writes) {
    if (w.kind === "post") {
      postsInserted.set(w.reply.total, (postsInserted.get(w.reply.total) ?? 0) + w.reply.inserted);
    }
  }
  for (const [end, inserted] of postsInserted) {
    const fromPosts = bySeq.filter(
      (m) => m.seq <= end && m.seq > groupStart(end) && !byFrame.has(m.id),
    ).length;
    expect(inserted, `HTTP batches of the group ending at ${end}`).toBe(fromPosts);
  }
  const totals = groupEnds;

  /** The seq before the group that ends at `end`. */
  function groupStart(end: number): number {
    return [SEEDED, ...groupEnds].filter((e) => e < end).at(-1) ?? SEEDED;
  }

  // Every pool id sent is stored once; the list is the model's.
  const sentIds = new Set(writes.flatMap((w) => draftsOf(w).map((d) => d.id)));
  expect(model.total).toBe(SEEDED + sentIds.size);
  expect(await stats(channel)).toMatchObject({
    total: model.total,
    lateTotal: model.lateArrivals.length,
  });
  expect(await allMessages(channel)).toEqual(model.sorted.map((m) => model.wire(m)));

  // Each socket got the model's pushes, run by run, in storing order.
  received.forEach((frames, n) => {
    const pushes = frames.filter((f) => f.type === "insert" || f.type === "status");
    const pushTotals = pushes.map((f) => ("total" in f ? f.total : 0));
    expect(pushTotals, `socket ${n}: groups in storing order`).toEqual(
      [...pushTotals].sort((a, b) => a - b),
    );
    const byBatch = (fs: readonly Frame[]) =>
      totals.map((t) => normalizePushes(fs.filter((f) => "total" in f && f.total === t)));
    expect(byBatch(pushes), `socket ${n}`).toEqual(byBatch(expected[n] ?? []));
    expect(pushes.length, `socket ${n}: nothing but the groups' pushes`).toBe(
      (expected[n] ?? []).length,
    );
  });

  // A socket open at both ends was pushed every new message exactly once.
  const pushedIds = (received[1] ?? []).flatMap((f) =>
    f.type === "insert" ? f.messages.map((m) => m.id) : [],
  );
  expect(pushedIds.length).toBe(sentIds.size);
  expect(new Set(pushedIds)).toEqual(sentIds);

  // Each user's unread late count, on a new socket, is the model's.
  for (const user of new Set(clients.map((c) => c.user))) {
    const again = await openSocket(channel, user);
    expect(await again.next("hello"), user).toMatchObject({
      user,
      total: model.total,
      lateUnread: model.lateUnread(user),
    });
  }
}

describe("interleaved writers", () => {
  it("stores every id once and pushes each group once to each of 20 sockets, with HTTP batches at once", async () => {
    await interleavedWriters("fault-interleaved", false);
  });

  it("loses and repeats nothing when the object is evicted with hibernated sockets mid-writes", async () => {
    await interleavedWriters("fault-interleaved-evict", true);
  });
});

// ── (d) A batch that fails half-way inside the object ──────────────────────

/** A message whose text SQLite refuses (NOT NULL): the batch fails where it stands. */
const poison = (id: string, ts: number) => ({ id, ts, text: null }) as unknown as NewMessage;

/** Every page of the channel from the object (by position and by id) equals the model's. */
async function expectPagesLikeModel(channel: string, model: ChannelModel): Promise<void> {
  const stub = stubOf(channel);
  const anchors: Anchor[] = ["newest", "oldest", { position: -1 }, { position: 1e9 }];
  for (let p = 0; p < model.total; p += 7) anchors.push({ position: p });
  for (const m of model.sorted.filter((_, n) => n % 5 === 0))
    anchors.push({ id: m.id }, { ts: m.ts });
  for (const a of anchors) {
    const outcome = await stub.page({ anchor: a, before: 3, after: 3 });
    expect(outcome.ok ? outcome.value : outcome, JSON.stringify(a)).toStrictEqual(
      model.page(a, 3, 3),
    );
  }
  expect(await allMessages(channel)).toEqual(model.sorted.map((m) => model.wire(m)));
}

describe("a batch that fails half-way", () => {
  it("rolls back storage and the object's in-memory state: pages, positions, seqs and late flags", async () => {
    const h = harness("fault-rollback");
    await h.post(series(100));
    const watcher = await h.connect("wanda");
    await h.declare(watcher, null, null, true);
    const stub = stubOf(h.channel);

    // Late and on-time messages before the poison (they move newest, seq and the
    // late count in memory), the poison, and more after it; then a batch big
    // enough to split buckets, failing at its last message.
    const failing: NewMessage[][] = [
      [
        { ...msg("f-late", key(10).ts + 1), author: "x" },
        { ...msg("f-bottom", 9_000_000), author: "x" },
        poison("f-bad", 9_000_001),
        { ...msg("f-after", 9_000_002), author: "x" },
      ],
      [poison("f-first", 5)],
      [
        ...Array.from({ length: 700 }, (_, n) => ({
          ...msg(`f-bulk-${n}`, key(50).ts + 1 + n),
          author: "x",
        })),
        poison("f-last", key(50).ts + 900),
      ],
    ];
    for (const batch of failing) {
      const outcome = await stub.insert(batch, "nobody");
      expect(outcome).toMatchObject({ ok: false, error: { code: "internal" } });
      // Nothing was pushed for it, and the socket still answers.
      expect(await watcher.client.drain()).toEqual([]);
      expect(await stats(h.channel)).toMatchObject({ total: 100, lateTotal: 0 });
    }
    await expectPagesLikeModel(h.channel, h.model);

    // The next batches get the next seqs and the right late flags, and are pushed.
    await h.post([msg("after-late", key(10).ts + 1), msg("after-bottom", 9_000_000)]);
    await h.send(watcher, [msg("after-late-2", key(70).ts + 1), msg("f-bottom", 9_000_005)]);
    await expectPagesLikeModel(h.channel, h.model);
    await checkLateList(h, watcher);

    // And the same from a fresh instance, which loads everything from storage.
    await evictDurableObject(stub);
    await expectPagesLikeModel(h.channel, h.model);
  });

  it("rolls back a store whose batch fails after the position index took it", async () => {
    const channel = "fault-rollback-index";
    const model = new ChannelModel();
    const seed = series(600); // more than one bucket
    expect((await postMessages(channel, seed)).status).toBe(200);
    model.store(seed);
    const stub = stubOf(channel);

    const bulk: StoreDraft[] = Array.from({ length: 700 }, (_, n) => ({
      id: `b-${n}`,
      ts: key(300).ts + 1 + n, // all in one gap: splits a bucket
      author: "x",
      text: `bulk ${n}`,
    }));
    const sqlFails: StoreDraft[] = [
      { id: "s-1", ts: 5, author: "x", text: "fine" },
      { id: "s-2", ts: 1e12, author: "x", text: null as unknown as string },
    ];
    const check = (store: ChannelStore, label: string) => {
      expect(store.total, label).toBe(model.total);
      expect(store.lateTotal, label).toBe(model.lateArrivals.length);
      expect(store.newest, label).toEqual(model.newest);
      expect(store.oldest(), label).toEqual(keyOf(model.sorted[0] as Key));
      const keys = model.sorted.map(keyOf);
      expect(store.positionsOf(keys), label).toEqual(keys.map((_, p) => p));
      for (let p = 0; p < model.total; p += 37) {
        expect(store.page({ position: p }, 2, 2), `${label} at ${p}`).toStrictEqual(
          model.page({ position: p }, 2, 2),
        );
      }
    };

    await runInDurableObject(stub, (_instance, state) => {
      const store = new ChannelStore(state.storage);
      check(store, "before");
      // The index takes the batch, splits a bucket, then the write after it (in the same
      // transaction, as a simulator tick's record is) throws.
      expect(() =>
        store.atomically(() => {
          store.insert(bulk);
          throw new Error("fails after the index was updated");
        }),
      ).toThrow("fails after the index was updated");
      check(store, "after a failure past the index");
      expect(() => store.insert(sqlFails)).toThrow();
      check(store, "after an SQLite failure");
      // The same store goes on: the next seq, the right late flags.
      const next = store.insert([
        bulk[0] as StoreDraft,
        { ...(bulk[1] as StoreDraft), id: "b-1b" },
      ]);
      const replayed = model.store([
        bulk[0] as StoreDraft as Draft,
        { ...(bulk[1] as StoreDraft), id: "b-1b" } as Draft,
      ]);
      expect(next.results).toEqual(replayed.results);
      check(store, "after a good batch");
    });
    // The object's own store never saw the failed batches; it reloads the good one.
    await evictDurableObject(stub);
    await expectPagesLikeModel(channel, model);
    const outcome = await stub.insert([{ id: "last", ts: 1, author: "x", text: "t" }], "y");
    expect(outcome).toMatchObject({
      ok: true,
      value: { inserted: 1, duplicates: 0, total: model.total + 1 },
    });
    model.store([{ id: "last", ts: 1, author: "x", text: "t" }]);
    await expectPagesLikeModel(channel, model);
  });
});
