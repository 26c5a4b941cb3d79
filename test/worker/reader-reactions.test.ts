/**
 * Unread reactions against the kit's model (docs/protocol.md, "Unread
 * reactions"), a property test by seed: several users with two tabs each,
 * and random reactions (on and off, ts ties), clears, edits, views, `late.ack` and
 * `reactions.ack`, deletes, messages arriving late, reactions held for
 * messages not yet sent, groups of writes formed on purpose, reconnects
 * (some with `resume`), a user who first connects half-way and evictions.
 * After every step every frame on every socket is compared with the
 * model's (replies, pushes, the statuses of groups and the cross-tab ones);
 * at checkpoints every user's `reactions.list` (all its items, `unread`)
 * and `reactions.next` too.
 *
 * Runs are reproducible: a failure names its seed (set FIRST_SEED to it and
 * RUNS to 1 to replay it).
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { del, edit, msg, react } from "../support/data.ts";
import { type Concurrent, Harness, type Peer } from "../support/harness.ts";
import type { Stored } from "../support/model.ts";
import { eachSeed, pickWeighted, randInt } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import { TabbedRun } from "../support/tabs.ts";
import { type Change, type Draft, MAX_LIST } from "../support/wire.ts";
import { holdCommits } from "./gate.ts";
import { channelStub, transport } from "./net.ts";

afterEach(closeAll);

const FIRST_SEED = 1;
const RUNS = 6;
const STEPS_A_RUN = 140;
const USERS = ["ann", "bob", "cid"] as const;
/** First connects half-way: reactions before that are never unread for her. */
const LATECOMER = "dot";
const EMOJI = ["👍", "🎉", "a"] as const;
const CHECK_EVERY = 20;

/** What a run did, for the report. */
interface Tally {
  steps: Map<string, number>;
  lists: number;
  /** Most unread reactions seen on one user at a checkpoint. */
  peak: number;
}

class Run extends TabbedRun {
  /** Ids of messages never sent yet, some with reactions held for them. */
  readonly ahead: string[] = [];
  #fresh = 0;

  /** A message present now, or undefined on an empty channel. */
  present(): Stored | undefined {
    const { sorted } = this.h.model;
    return sorted.length === 0 ? undefined : this.pick(sorted);
  }

  /** An id to react to: mostly present, sometimes not sent yet (held) or deleted. */
  target(): string {
    const r = this.rand();
    if (r < 0.1 && this.ahead.length > 0) return this.pick(this.ahead);
    if (r < 0.15 && this.h.model.tombstones.size > 0)
      return this.pick([...this.h.model.tombstones.keys()]);
    if (r < 0.2) {
      const id = `h${this.#fresh++}`;
      this.ahead.push(id);
      return id;
    }
    return this.present()?.id ?? "none";
  }

  reaction(): Change {
    return react(this.target(), this.pick(EMOJI), this.rand() < 0.7, randInt(this.rand, 1, 4));
  }

  /** A new message: at the bottom, or late (just after a message present), or one reacted to ahead. */
  draft(): Draft {
    const author = this.pick(this.users);
    if (this.ahead.length > 0 && this.rand() < 0.3) {
      const id = this.ahead.splice(randInt(this.rand, 0, this.ahead.length - 1), 1)[0] as string;
      return msg(id, this.lateTs(), author);
    }
    const id = `n${this.#fresh++}`;
    return msg(id, this.rand() < 0.5 ? this.lateTs() : 10_000_000 + this.#fresh, author);
  }

  lateTs(): number {
    return (this.present()?.ts ?? 5_000) + randInt(this.rand, 0, 3);
  }
}

/** A random range of the list as a view, sometimes open at an end, sometimes live. */
async function declareSome(run: Run, peer: Peer): Promise<void> {
  const { sorted } = run.h.model;
  if (sorted.length === 0) return run.h.declare(peer, null, null, true);
  const a = randInt(run.rand, 0, sorted.length - 1);
  const b = randInt(run.rand, a, Math.min(sorted.length - 1, a + 12));
  const first = run.rand() < 0.1 ? null : (sorted[a] as Stored);
  const last = run.rand() < 0.1 ? null : (sorted[b] as Stored);
  await run.h.declare(peer, first, last, run.rand() < 0.3);
}

/** Writes of several users stored as one group (a held commit gathers them). */
async function together(run: Run): Promise<void> {
  const busy = new Set<string>();
  const writes: Concurrent[] = [];
  for (let n = randInt(run.rand, 2, 4); n > 0; n--) {
    const user = run.pick(run.users);
    // A change of an id never sent is held: the write's marker, to place it by its seq.
    const changes = [react(`never-${run.h.model.seq}-${n}`, "👍", true, 1), run.reaction()];
    if (busy.has(user)) writes.push({ user, change: changes });
    else {
      busy.add(user);
      writes.push({ peer: run.tab(user), change: changes });
    }
  }
  const gate = await holdCommits(run.h.channel);
  await run.h.concurrently(writes, async () => {
    await gate.arrived(writes.length);
    gate.release();
  });
}

/** A tab closes and comes back: sometimes with resume from what it had, over a new view. */
async function reconnect(run: Run, user: string): Promise<void> {
  const { peer, since } = await run.reopen(user);
  if (run.rand() < 0.6 && run.h.model.total > 0) {
    const m = run.present() as Stored;
    await run.h.resume(peer, Math.max(0, since - randInt(run.rand, 0, 5)), {
      first: m,
      last: run.rand() < 0.5 ? null : m,
      live: run.rand() < 0.5,
    });
  }
}

/** The user's own messages present now. */
const mineOf = (run: Run, user: string) => run.h.model.sorted.filter((m) => m.author === user);

/** The steps, each with its weight: what a user does. */
const STEPS: readonly (readonly [number, string, (run: Run, user: string) => Promise<void>])[] = [
  [
    36,
    "react",
    async (run, user) => {
      const changes = Array.from({ length: randInt(run.rand, 1, 3) }, () => run.reaction());
      if (run.rand() < 0.3) await run.h.postChanges(user, changes);
      else await run.h.change(run.tab(user), changes);
    },
  ],
  [
    5,
    "clear", // of a reaction the user may have on, now or soon: off at a later ts
    async (run, user) => {
      const m = run.present();
      if (m) await run.h.change(run.tab(user), [react(m.id, run.pick(EMOJI), false, 5)]);
    },
  ],
  [
    4,
    "edit", // pushed in an update: the author's tabs holding it see its reactions
    async (run, user) => {
      const mine = mineOf(run, user);
      const text = `edit ${run.h.model.seq}`;
      if (mine.length > 0) await run.h.change(run.tab(user), [edit(run.pick(mine).id, text, 1)]);
    },
  ],
  [10, "view", (run, user) => declareSome(run, run.tab(user))],
  [3, "reactions.ack", (run, user) => run.h.reactionsAck(run.tab(user))],
  [2, "late.ack", (run, user) => run.h.ack(run.tab(user))],
  [
    6,
    "delete",
    async (run, user) => {
      const mine = mineOf(run, user);
      if (mine.length > 0) await run.h.change(run.tab(user), [del(run.pick(mine).id)]);
    },
  ],
  [
    10,
    "insert",
    async (run, user) => {
      const drafts = [run.draft(), ...(run.rand() < 0.3 ? [run.draft()] : [])];
      if (run.rand() < 0.5) await run.h.post(drafts);
      else await run.h.send(run.tab(user), drafts);
    },
  ],
  [6, "group", (run) => together(run)],
  [8, "reconnect", reconnect],
  [
    3,
    "evict", // memory comes back from storage; the sockets stay
    async (run, user) => {
      // A page first: only a running object can be evicted.
      await run.h.page(run.tab(user), "newest", 0, 0);
      await evictDurableObject(channelStub(run.h.channel));
    },
  ],
  [
    7,
    "reactions.next",
    async (run, user) => {
      const [before, after] = [randInt(run.rand, 0, 3), randInt(run.rand, 0, 3)];
      await run.h.reactionsNext(run.tab(user), before, after);
    },
  ],
];

/** One random step; answers its name. */
async function step(run: Run): Promise<string> {
  const [, name, act] = pickWeighted(run.rand, STEPS);
  await act(run, run.pick(run.users));
  return name;
}

/** Every user's reactions.list (every item) and reactions.next, against the model. */
async function checkpoint(run: Run, tally: Tally): Promise<void> {
  for (const user of run.users) {
    const tab = run.tab(user);
    const list = await run.h.reactionsList(tab, MAX_LIST);
    if (list.type !== "reactions.list") throw new Error("expected reactions.list");
    expect(list.unread, "every unread message listed").toBeLessThan(MAX_LIST);
    expect(list.items).toHaveLength(list.unread);
    tally.lists += list.items.length;
    tally.peak = Math.max(tally.peak, list.unread);
    await run.h.reactionsNext(tab, 2, 2);
  }
}

describe("unread reactions against the model", () => {
  it("counts, lists and clears them as the model does, whatever the users do", async () => {
    const tally: Tally = { steps: new Map(), lists: 0, peak: 0 };
    let compared = 0;
    await eachSeed(FIRST_SEED, RUNS, async (seed) => {
      const run = new Run(new Harness(`reactions-model-${seed}`, transport), seed);
      // The channel starts with messages by everyone, the latecomer included.
      const authors = [...USERS, LATECOMER];
      await run.h.post(
        Array.from({ length: 24 }, (_, i) => msg(`m${i}`, 1_000 * (i + 1), authors[i % 4])),
      );
      for (const user of USERS) await run.open(user);
      for (let s = 0; s < STEPS_A_RUN; s++) {
        if (s === STEPS_A_RUN / 2) await run.open(LATECOMER);
        const name = await step(run);
        tally.steps.set(name, (tally.steps.get(name) ?? 0) + 1);
        if (s % CHECK_EVERY === CHECK_EVERY - 1) await checkpoint(run, tally);
      }
      await checkpoint(run, tally);
      compared += run.h.compared;
    });
    console.log(
      `unread reactions: ${RUNS} runs × ${STEPS_A_RUN} steps ${JSON.stringify(Object.fromEntries(tally.steps))}; ${compared} frames compared with the model, ${tally.lists} list items, at most ${tally.peak} unread for one user`,
    );
    expect(tally.peak).toBeGreaterThan(4);
  });
});
