/**
 * Convergence of changes (protocol 1.2, "Order does not matter"), a property
 * test by seed: a random set of messages and changes — edits by the author
 * and, held for a message not yet arrived, by others (dropped on arrival);
 * deletes by the author, by a moderator (a token with scope `moderate`) and,
 * held, by others (dropped); reactions by several users, on and off, with
 * ts ties — is delivered in a random order with repeats, split into random
 * frames over sockets and HTTP and into waves sent one write at a time or
 * all at once (the server groups them), changes often before their message
 * and messages again after their delete. Every reply and push is checked
 * against the kit's model as it goes; at the end every page (over each
 * user's socket, with `mine`, and over HTTP), the stats and the seq equal
 * the model's, a reader away since half-way resumes as the model says, and
 * the list equals the state computed from the set alone (change-rules.ts
 * `converge`), for two different orders of the same set.
 *
 * Runs are reproducible: a failure names its seed (set FIRST_SEED to it and
 * RUNS to 1 to replay it).
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { type Actor, converge, type Delivered } from "../support/change-rules.ts";
import { type Concurrent, Harness, type Peer } from "../support/harness.ts";
import { compareKeys } from "../support/keys.ts";
import { eachSeed, mulberry32, randInt } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import type { Change, Draft, WireMessage } from "../support/wire.ts";
import { withoutAudience } from "../support/wire.ts";
import { holdCommits } from "./gate.ts";
import { allMessages, api, channelStub, securedTransport, stats } from "./net.ts";

afterEach(closeAll);

const FIRST_SEED = 1;
const RUNS = 24;
/** Each set is delivered in this many orders, each on a channel of its own. */
const ORDERS = 2;
const USERS = ["ann", "bob", "cid", "mod"] as const;
const MODERATORS = ["mod"];
const EMOJI = ["👍", "🎉", "a"] as const;

/** One delivery: a message sent, or a change made by a user. */
type Unit = { readonly draft: Draft } | { readonly user: string; readonly change: Change };

/** A set of messages and changes, and which changes are only allowed while their message is absent. */
interface Universe {
  readonly drafts: Draft[];
  readonly changes: { user: string; change: Change; heldOnly: boolean }[];
}

function universe(rand: () => number): Universe {
  const pick = <T>(xs: readonly T[]): T => xs[randInt(rand, 0, xs.length - 1)] as T;
  const drafts: Draft[] = Array.from({ length: randInt(rand, 4, 8) }, (_, k) => ({
    id: `x${k}`,
    ts: 1_000 * randInt(rand, 1, 4), // ties, settled by id
    author: pick(["ann", "bob"]),
    text: `t${k}`,
  }));
  const changes: Universe["changes"] = [];
  for (const { id, author } of drafts) {
    const others = USERS.filter((u) => u !== author);
    for (let n = randInt(rand, 0, 3); n > 0; n--) {
      const change: Change = {
        kind: "edit",
        id,
        text: pick(["p", "q", "r"]),
        ts: randInt(rand, 1, 3),
      };
      changes.push({ user: author, change, heldOnly: false });
    }
    if (rand() < 0.4) {
      const change: Change = { kind: "edit", id, text: "not theirs", ts: 9 };
      changes.push({ user: pick(others), change, heldOnly: true });
    }
    const r = rand();
    if (r < 0.2) changes.push({ user: author, change: { kind: "delete", id }, heldOnly: false });
    else if (r < 0.35)
      changes.push({ user: "mod", change: { kind: "delete", id }, heldOnly: false });
    else if (r < 0.5) {
      const user = pick(others.filter((u) => u !== "mod"));
      changes.push({ user, change: { kind: "delete", id }, heldOnly: true });
    }
    for (let n = randInt(rand, 0, 5); n > 0; n--) {
      const emoji = pick(EMOJI);
      const change: Change = {
        kind: "react",
        id,
        emoji,
        on: rand() < 0.6,
        ts: randInt(rand, 1, 3),
      };
      changes.push({ user: pick(USERS), change, heldOnly: false });
    }
  }
  return { drafts, changes };
}

/** A write as the harness sends it; `wave` numbers the waves, `together` sends a wave at once. */
interface Planned {
  readonly units: Unit[];
  readonly http: boolean;
  readonly wave: number;
}

/**
 * One order of the universe: each unit delivered 1–2 times in a random order,
 * the changes only allowed before their message arrives placed before its
 * first copy; cut into writes (a run of messages, or of one user's changes)
 * and waves, a held-only change always in an earlier wave than its message.
 */
function plan(u: Universe, rand: () => number): { writes: Planned[]; together: Set<number> } {
  const copies = <T>(x: T): T[] => (rand() < 0.35 ? [x, x] : [x]);
  const order: Unit[] = [
    ...u.drafts.flatMap((draft) => copies({ draft })),
    ...u.changes.filter((c) => !c.heldOnly).flatMap(copies),
  ];
  for (let i = order.length - 1; i > 0; i--) {
    const j = randInt(rand, 0, i);
    [order[i], order[j]] = [order[j] as Unit, order[i] as Unit];
  }
  for (const held of u.changes.filter((c) => c.heldOnly)) {
    for (const copy of copies(held)) {
      const first = order.findIndex((x) => "draft" in x && x.draft.id === copy.change.id);
      order.splice(randInt(rand, 0, first), 0, copy);
    }
  }
  const writes: Planned[] = [];
  let wave = 0;
  for (let i = 0; i < order.length; ) {
    const head = order[i] as Unit;
    const units = [head];
    const size = randInt(rand, 1, 4);
    for (i++; i < order.length && units.length < size; i++) {
      const next = order[i] as Unit;
      const same = "draft" in head ? "draft" in next : "user" in next && next.user === head.user;
      if (!same) break;
      units.push(next);
    }
    if (rand() < 0.4) wave++;
    writes.push({ units, http: rand() < 0.3, wave });
  }
  // A wave is sent at once only when no held-only change in it has its message in it too.
  const together = new Set<number>();
  for (let w = 0; w <= wave; w++) {
    const inWave = writes.filter((p) => p.wave === w).flatMap((p) => p.units);
    const heldIds = u.changes.filter((c) => c.heldOnly).map((c) => c.change.id);
    const clash = inWave.some((x) => "draft" in x && heldIds.includes(x.draft.id));
    if (!clash && rand() < 0.5) together.add(w);
  }
  return { writes, together };
}

const changesOf = (units: readonly Unit[]) =>
  units.flatMap((x) => ("change" in x ? [x.change] : []));
const draftsOf = (units: readonly Unit[]) => units.flatMap((x) => ("draft" in x ? [x.draft] : []));

/** The list a user sees, cut to what changes decide (seq and late are arrival order's). */
const shown = (m: WireMessage) => {
  const { id, ts, author, text, edited, reactions } = m;
  return { id, ts, author, text, edited, reactions };
};

/** What the set alone decides: the messages left, in key order, as `user` sees them. */
function converged(u: Universe, delivered: readonly Delivered[], user?: string) {
  return u.drafts
    .map((d) => ({
      d,
      state: converge(
        d.author,
        d.text,
        delivered.filter((x) => x.change.id === d.id),
      ),
    }))
    .filter(({ state }) => !state.deleted)
    .sort((a, b) => compareKeys(a.d, b.d))
    .map(({ d, state }) => ({
      id: d.id,
      ts: d.ts,
      author: d.author,
      text: state.text,
      edited: state.edited,
      reactions: state.reactions(user),
    }));
}

interface Tally {
  writes: number;
  together: number;
  groups: number;
  outcomes: Map<string, number>;
  compared: number;
  /** Push frames compared with the model's. */
  pushes: number;
  evictions: number;
}

/**
 * A wave as writes sent at once, each with a marker arrival so that its
 * replies place it (harness.concurrently); a socket's write waits for its
 * previous one, so each socket takes one write at most (changes then go over
 * HTTP). Undefined when a send finds no socket free: sent one by one then.
 */
function atOnce(
  inWave: readonly Planned[],
  peers: ReadonlyMap<string, Peer>,
  tag: () => string,
): Concurrent[] | undefined {
  const free = new Map(peers);
  const batch: Concurrent[] = [];
  for (const w of inWave) {
    const head = w.units[0] as Unit;
    if ("draft" in head) {
      const [user, peer] = [...free][0] ?? [];
      if (user === undefined || peer === undefined) return undefined;
      free.delete(user);
      const marker = { id: `k-${tag()}`, ts: 1, author: "ann", text: "marker" };
      batch.push({ peer, send: [...draftsOf(w.units), marker] });
      continue;
    }
    const marker: Change = { kind: "react", id: `never-${tag()}`, emoji: "👍", on: true, ts: 1 };
    const change = [marker, ...changesOf(w.units)];
    const peer = free.get(head.user);
    if (w.http || peer === undefined) batch.push({ user: head.user, change });
    else {
      free.delete(head.user);
      batch.push({ peer, change });
    }
  }
  return batch;
}

/** How many frames the last write pushed, all sockets together: each was compared. */
const pushed = (h: Harness) => [...h.pushed.values()].reduce((n, frames) => n + frames.length, 0);

/** Delivers one order of the universe on its own channel and checks it all. */
async function deliver(channel: string, u: Universe, rand: () => number, tally: Tally) {
  const h = new Harness(channel, securedTransport(MODERATORS));
  const peers = new Map<string, Peer>();
  for (const user of USERS) peers.set(user, await h.connect(user));
  const actor = (user: string): Actor => h.actor(user);
  const delivered: Delivered[] = [];
  const count = (outcome: string) =>
    tally.outcomes.set(outcome, (tally.outcomes.get(outcome) ?? 0) + 1);
  const { writes, together } = plan(u, rand);
  const waves = [...new Set(writes.map((w) => w.wave))];
  let marker = 0;
  // A reader who leaves half-way and comes back with `resume` at the end.
  let away = await h.connect("eve");
  let since = 0;
  for (const wave of waves) {
    if (wave === waves[Math.floor(waves.length / 2)]) {
      since = h.model.seq;
      h.disconnect(away);
    }
    const inWave = writes.filter((w) => w.wave === wave);
    for (const w of inWave) {
      const head = w.units[0] as Unit;
      if ("user" in head)
        delivered.push(
          ...changesOf(w.units).map((change) => ({ actor: actor(head.user), change })),
        );
    }
    tally.writes += inWave.length;
    const batch = together.has(wave)
      ? atOnce(inWave, peers, () => `${channel}-${marker++}`)
      : undefined;
    if (batch) {
      tally.together += inWave.length;
      // The first write to arrive is stored alone; the rest wait for its commit and form one group.
      const gate = await holdCommits(channel);
      tally.groups += await h.concurrently(batch, async () => {
        await gate.arrived(batch.length);
        gate.release();
      });
      tally.pushes += pushed(h);
      continue;
    }
    for (const w of inWave) {
      const head = w.units[0] as Unit;
      if ("draft" in head) {
        const drafts = draftsOf(w.units);
        if (w.http) await h.post(drafts);
        else
          await h.send(
            peers.get(USERS[randInt(rand, 0, USERS.length - 1)] as string) as Peer,
            drafts,
          );
        tally.groups++;
        tally.pushes += pushed(h);
        continue;
      }
      const changes = changesOf(w.units);
      const outcome = w.http
        ? await h.postChanges(head.user, changes)
        : await h.change(peers.get(head.user) as Peer, changes);
      expect(
        outcome,
        "no frame is refused: held-only changes precede their message",
      ).not.toHaveProperty("forbidden");
      if ("results" in outcome) for (const r of outcome.results) count(r.outcome);
      tally.groups++;
      tally.pushes += pushed(h);
    }
    // Now and then a reader moves to a random range of what is there.
    if (h.model.total > 0 && rand() < 0.3) {
      const keys = h.model.sorted;
      const a = randInt(rand, 0, keys.length - 1);
      const b = randInt(rand, a, keys.length - 1);
      const peer = peers.get(USERS[randInt(rand, 0, USERS.length - 1)] as string) as Peer;
      await h.declare(peer, keys[a] ?? null, rand() < 0.5 ? (keys[b] ?? null) : null, rand() < 0.5);
    }
    // Now and then the object is evicted: what it keeps in memory comes back from storage
    // (held changes, tombstones, the newest key, late counts), and the sockets stay.
    if (rand() < 0.1) {
      await evictDurableObject(channelStub(channel));
      tally.evictions++;
    }
  }
  away = await h.connect("eve");
  await h.resume(away, since, { first: null, last: null, live: true });
  // Every page over every user's socket (mine, unread) and over HTTP, the stats: the model's.
  for (const [user, peer] of peers) {
    const list: WireMessage[] = [];
    for (let p = 0; p === 0 || p < h.model.total; p += 201) {
      list.push(...(await h.page(peer, { position: p }, 0, 200)).messages);
    }
    const ours = list.filter((m) => !m.id.startsWith("k-")).map(shown);
    expect(ours, `${channel}: what ${user} sees, against the set alone`).toEqual(
      converged(u, delivered, user),
    );
    tally.compared += ours.length;
  }
  const http = await allMessages(channel);
  expect(http).toEqual(h.model.sorted.map((m) => h.model.wire(m)));
  expect(http.filter((m) => !m.id.startsWith("k-")).map(shown)).toEqual(converged(u, delivered));
  expect(withoutAudience(await stats(channel))).toEqual(withoutAudience(h.model.stats(channel)));
  const timeline = await api(`/v1/channels/${channel}/timeline?points=7`);
  expect(await timeline.json()).toEqual(h.model.timeline(7));
  tally.compared += http.length;
  return http.filter((m) => !m.id.startsWith("k-")).map(shown);
}

describe("changes converge", () => {
  it("reach the same state as the set alone decides, whatever the order, repeats and grouping", async () => {
    const tally: Tally = {
      writes: 0,
      together: 0,
      groups: 0,
      outcomes: new Map(),
      compared: 0,
      pushes: 0,
      evictions: 0,
    };
    await eachSeed(FIRST_SEED, RUNS, async (seed) => {
      const u = universe(mulberry32(seed));
      const finals = [];
      for (let o = 0; o < ORDERS; o++) {
        finals.push(await deliver(`conv-${seed}-${o}`, u, mulberry32(seed * 1_000 + o), tally));
      }
      for (const f of finals) expect(f).toEqual(finals[0]);
    });
    const outcomes = Object.fromEntries(tally.outcomes);
    console.log(
      `changes converge: ${RUNS} sets × ${ORDERS} orders, ${tally.writes} writes (${tally.together} sent at once) in ${tally.groups} groups, ${tally.evictions} evictions, ${tally.pushes} push frames, outcomes ${JSON.stringify(outcomes)}, ${tally.compared} messages compared with the set`,
    );
    for (const o of ["applied", "pending", "stale", "deleted"])
      expect(tally.outcomes.get(o) ?? 0).toBeGreaterThan(0);
    expect(tally.together).toBeGreaterThan(0);
  });
});
