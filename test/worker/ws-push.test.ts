/**
 * Pushes after a stored batch (docs/protocol.md, "Server → client pushes"): for
 * each socket at most one `insert` (the batch's messages inside its view, or
 * after its last key when live, with exact positions) and one `status`
 * (total, shifted, lateUnread, latest). Every socket's frames are compared
 * with the model's; a few cases are also spelled out by hand.
 */
import { afterEach, describe, expect, it } from "vitest";
import { msg, series, seriesKey } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { compareKeys, keyOf } from "../support/keys.ts";
import { normalizePushes } from "../support/model.ts";
import { mulberry32 } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import type { Draft, Frame, Key } from "../support/wire.ts";
import { harness, postMessages, worker } from "./net.ts";

afterEach(closeAll);

/** m00000… at ts 1,000,000 + i·1,000: room for 999 keys between neighbours. */
const key = seriesKey;

/** Four readers of a 2,000-message channel: bottom, middle, top, and a second bottom socket. */
async function readers(channel: string): Promise<{
  h: Harness;
  live: Peer;
  middle: Peer;
  top: Peer;
  liveToo: Peer;
}> {
  const h = harness(channel);
  await h.post(series(1_000));
  await h.post(series(1_000, 2_000_000, 1_000, "n")); // n00000… after every m
  const live = await h.connect("alice");
  const middle = await h.connect("bob");
  await h.declare(middle, key(400), key(449), false);
  const top = await h.connect("carol");
  await h.declare(top, null, key(49), false);
  const liveToo = await h.connect("alice"); // alice's second socket: bottom, declared
  await h.declare(liveToo, key(900), null, true);
  return { h, live, middle, top, liveToo };
}

describe("pushes to views", () => {
  it("pushes to a middle view only the batch messages inside it, with exact positions", async () => {
    const { h, middle } = await readers("push-middle");
    const body = [
      msg("in-a", key(420).ts + 1), // inside bob's view
      msg("before-a", key(10).ts + 1), // before it: shifts it
      msg("in-b", key(400).ts + 500),
      msg("after-a", key(700).ts + 1), // after it, bob is not live: not pushed
      msg("before-b", key(399).ts + 1),
    ];
    const { status } = await postMessages(h.channel, body);
    expect(status).toBe(200);
    const frames = await middle.client.drain();
    expect(frames).toHaveLength(2);
    // Positions after the batch: before-a and before-b land ahead of both.
    expect(frames).toContainEqual({
      type: "insert",
      messages: [
        {
          ...h.model.wire({ ...msg("in-b", key(400).ts + 500), seq: 2_003, late: true }),
          position: 403,
        },
        {
          ...h.model.wire({ ...msg("in-a", key(420).ts + 1), seq: 2_001, late: true }),
          position: 424,
        },
      ],
      total: 2_005,
      seq: 2_005,
    });
    const statusFrame = frames.find((f) => f.type === "status");
    expect(statusFrame).toMatchObject({
      type: "status",
      total: 2_005,
      shifted: 2,
      lateUnread: 3,
      seq: 2_005,
    });
    // The late messages bob did not get, newest arrival first, at most 3.
    expect(statusFrame && statusFrame.type === "status" ? statusFrame.latest : []).toEqual([
      { id: "before-b", ts: key(399).ts + 1, position: 401 },
      { id: "after-a", ts: key(700).ts + 1, position: 705 },
      { id: "before-a", ts: key(10).ts + 1, position: 11 },
    ]);
  });

  it("matches the model for every reader of a mixed batch over HTTP", async () => {
    const { h } = await readers("push-http");
    await h.post([
      msg("top-1", key(5).ts + 7),
      msg("mid-1", key(430).ts + 7),
      msg("pre-mid", key(300).ts + 7),
      msg("bottom-1", 9_000_000),
      msg("bottom-0", 8_000_000),
      msg("tail-late", key(950).ts + 7),
    ]);
  });

  it("matches the model for every reader of a batch sent over a socket", async () => {
    const { h, middle, top } = await readers("push-socket");
    await h.send(middle, [msg("b-1", key(401).ts + 3), msg("b-2", 9_000_000)]);
    await h.send(top, [
      msg("c-1", key(0).ts - 1),
      msg("c-2", key(48).ts + 1),
      msg("c-3", 9_000_001),
    ]);
  });

  it("pushes to live views every arrival after their first key, below earlier pushes too", async () => {
    const { h } = await readers("push-grow");
    await h.post([msg("bottom-1", 9_000_000), msg("bottom-2", 9_000_010)]);
    await h.post([msg("inside-grown", 9_000_005), msg("under-first", key(899).ts + 5)]);
  });

  it("pushes a batch of 10,000 messages over HTTP as one insert and one status per socket", async () => {
    const { h } = await readers("push-big");
    const all = await h.connect("dave");
    await h.declare(all, null, null, false);
    await h.post(
      Array.from({ length: 10_000 }, (_, i) => ({
        ...msg(`big-${i}`, 1_000_000 + ((i * 7_919) % 2_500_000)),
        text: "x".repeat(100),
      })),
    );
  });

  it("sends nothing for a batch of duplicates only", async () => {
    const { h } = await readers("push-dups");
    await h.post([msg("m00001", 5), msg("n00002", 6)]);
  });

  it("pushes to a view that is open at both ends every message, shifting nothing", async () => {
    const h = harness("push-open");
    await h.post(series(100));
    const all = await h.connect("dave");
    await h.declare(all, null, null, false);
    await h.post([msg("x", 0), msg("y", 99_999_999), msg("z", key(50).ts + 1)]);
  });

  it("matches the model across random batches, views and sources", async () => {
    const random = mulberry32(20_261_124);
    const h = harness("push-random");
    await h.post(series(1_500));
    const users = ["u0", "u1", "u2", "u1"]; // u1 has two sockets
    const peers: Peer[] = [];
    for (const user of users) peers.push(await h.connect(user));
    let n = 0;
    const randomKey = (): Key => {
      const i = Math.floor(random() * (h.model.total + 20));
      const at = h.model.sorted[i];
      // Mostly near an existing key (ts ties included), sometimes past the newest.
      return at
        ? { ts: at.ts + Math.floor(random() * 3), id: `r${n++}` }
        : { ts: 3_000_000 + Math.floor(random() * 1_000_000), id: `r${n++}` };
    };
    for (let round = 0; round < 60; round++) {
      // Now and then a reader moves: a middle range, the top, the bottom or everything.
      if (round % 4 === 0) {
        const peer = peers[Math.floor(random() * peers.length)] as Peer;
        const a = keyOf(h.model.sorted[Math.floor(random() * h.model.total)] as Key);
        const b = keyOf(h.model.sorted[Math.floor(random() * h.model.total)] as Key);
        let [first, last] = a.ts < b.ts || (a.ts === b.ts && a.id < b.id) ? [a, b] : [b, a];
        // Views may also end at keys no message has.
        if (random() < 0.3) first = { ts: first.ts, id: `${first.id}~` };
        if (random() < 0.3) last = { ts: last.ts, id: `${last.id}~` };
        if (compareKeys(first, last) > 0) [first, last] = [last, first];
        const choice = Math.floor(random() * 4);
        if (choice === 0) await h.declare(peer, first, last, false);
        else if (choice === 1) await h.declare(peer, null, last, false);
        else if (choice === 2) await h.declare(peer, first, null, true);
        else await h.declare(peer, first, last, true);
      }
      const size = 1 + Math.floor(random() * 12);
      const batch: Draft[] = [];
      for (let i = 0; i < size; i++) {
        const k = randomKey();
        batch.push(msg(k.id, k.ts));
        if (random() < 0.1) batch.push(msg(`r${Math.floor(random() * n)}`, k.ts)); // a re-send
      }
      if (random() < 0.5) await h.post(batch);
      else await h.send(peers[Math.floor(random() * peers.length)] as Peer, batch);
    }
  });

  it("pushes each simulator tick once to every socket, like any batch", async () => {
    const h = harness("push-simulator");
    const now = Date.now();
    await h.post(series(300, now - 30_000, 100)); // the last 30 s, where late arrivals land
    const sorted = () => h.model.sorted.map(keyOf);
    // The oracle holds everything: its inserts tell the test what each tick stored.
    const oracle = await h.connect("oracle");
    await h.declare(oracle, null, null, false);
    await h.connect("alice");
    const middle = await h.connect("bob");
    await h.declare(middle, sorted()[100] as Key, sorted()[200] as Key, false);
    const top = await h.connect("carol");
    await h.declare(top, null, sorted()[250] as Key, false);

    const simulator = (method: string, body?: object) =>
      worker.fetch(
        new Request(`http://x/v1/channels/${h.channel}/simulator`, {
          method,
          headers: { "content-type": "application/json" },
          ...(body ? { body: JSON.stringify(body) } : {}),
        }),
      );
    const started = await simulator("PUT", {
      rate: 50,
      lateRatio: 0.6,
      chunkEvery: 1,
      chunkSize: 20,
      seed: 7,
      tickMs: 100,
      // Messages only: this test's model has no changes (simulator.test.ts pushes those).
      editRatio: 0,
      deleteRatio: 0,
      reactRatio: 0,
    });
    expect(started.status).toBe(200);
    // Wait for a few ticks as the oracle sees them, then stop.
    const seen: Frame[] = [];
    while (seen.filter((f) => f.type === "status").length < 4)
      seen.push(await oracle.client.next());
    expect((await simulator("DELETE")).status).toBe(200);

    const got = new Map<Peer, Frame[]>();
    for (const peer of h.peers) {
      got.set(peer, [...(peer === oracle ? seen : []), ...(await peer.client.drain())]);
    }
    const oracleFrames = got.get(oracle) ?? [];
    const totals = [...new Set(oracleFrames.map((f) => ("total" in f ? f.total : -1)))];
    expect(totals, "ticks in storing order").toEqual([...totals].sort((a, b) => a - b));
    const expected = new Map<Peer, Frame[]>(h.peers.map((p) => [p, []]));
    for (const total of totals) {
      const insert = oracleFrames.find((f) => f.type === "insert" && f.total === total);
      if (insert?.type !== "insert") throw new Error(`the oracle got no insert for total ${total}`);
      // Arrival order is seq order; the model decides late flags, seqs and positions itself.
      const drafts = [...insert.messages]
        .sort((a, b) => a.seq - b.seq)
        .map(({ id, ts, author, text }) => ({ id, ts, author, text }));
      const { pushes } = h.model.batch(
        drafts,
        h.peers.map((p) => p.socket),
      );
      for (const peer of h.peers) expected.get(peer)?.push(...(pushes.get(peer.socket) ?? []));
      expect(h.model.total).toBe(total);
    }
    for (const peer of h.peers) {
      const byTotal = (frames: Frame[]) =>
        totals.map((t) => normalizePushes(frames.filter((f) => "total" in f && f.total === t)));
      expect(byTotal(got.get(peer) ?? []), `pushes to ${peer.socket.user}`).toEqual(
        byTotal(expected.get(peer) ?? []),
      );
      expect(got.get(peer)?.length).toBe(expected.get(peer)?.length);
    }
    expect(h.model.lateArrivals.length, "the ticks stored late messages").toBeGreaterThan(0);
  });

  it("answers a refused frame after the pushes of the group stored before it", async () => {
    const h = harness("push-then-refusal");
    await h.post(series(10));
    const alice = await h.connect("alice");
    // A send, then at once frames refused before they run: their errors come after the pushes.
    alice.client.send({ type: "send", rid: "s", messages: [msg("new", 9_000_000, "alice")] });
    alice.client.send({ type: "page", rid: 7 });
    alice.client.send("not json");
    const { results, pushes } = h.model.batch([msg("new", 9_000_000, "alice")], [alice.socket]);
    const error = { type: "error", code: "bad_request", message: expect.any(String) };
    expect(normalizePushes(await alice.client.drain())).toEqual([
      { type: "sent", rid: "s", results, total: 11, seq: 11 },
      ...normalizePushes(pushes.get(alice.socket) ?? []),
      error,
      error,
    ]);
  });
});
