/**
 * A seeded run of users with two tabs each on a channel whose sockets live
 * on relays (or some on the channel object): posts, sends, changes, views,
 * acks, reads, resumes and reconnects, with the object that holds a user's
 * tabs (their home: a relay, or the channel object) evicted with its sockets
 * hibernated between groups and while an insert, a send or a change is on
 * its way, and the channel evicted under its relays' sockets. Every frame is
 * checked against the kit's model by the harness, every user's late and
 * reaction lists now and then, and every user's counts in a fresh tab's
 * hello at the end. The relay tests run it with every socket relayed and
 * with a mixed audience.
 */
import { evictDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { del, edit, msg, react } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { keyOf } from "../support/keys.ts";
import type { Stored } from "../support/model.ts";
import { pickWeighted, randInt } from "../support/random.ts";
import { TabbedRun } from "../support/tabs.ts";
import { type Change, type Draft, MAX_LIST } from "../support/wire.ts";
import { allMessages, channelStub, postMessages } from "./net.ts";

const EMOJI = ["👍", "🎉"] as const;

export class EvictionRun extends TabbedRun {
  /** The object that holds a user's tabs. */
  readonly home: (user: string) => DurableObjectStub;
  #fresh = 0;

  constructor(h: Harness, seed: number, home: (user: string) => DurableObjectStub) {
    super(h, seed);
    this.home = home;
  }

  present(): Stored | undefined {
    const { sorted } = this.h.model;
    return sorted.length === 0 ? undefined : this.pick(sorted);
  }

  /** New messages: at the bottom, or late (just after a message present). */
  drafts(): Draft[] {
    return Array.from({ length: randInt(this.rand, 1, 3) }, () => {
      const id = `n${this.#fresh++}`;
      const late = this.rand() < 0.5 && this.h.model.total > 0;
      const ts = late
        ? (this.present()?.ts ?? 0) + randInt(this.rand, 1, 9)
        : 9_000_000 + this.#fresh;
      return msg(id, ts, this.pick(this.users));
    });
  }

  /** Changes by `user`: reactions to anything, edits and deletes of the user's own messages. */
  changes(user: string): Change[] {
    // A change of an id never sent is held: it gives the write an arrival to place it by.
    const out: Change[] = [react(`never-${this.#fresh++}`, "👍", true, 1)];
    const m = this.present();
    if (m) out.push(react(m.id, this.pick(EMOJI), this.rand() < 0.7, randInt(this.rand, 1, 4)));
    const mine = this.h.model.sorted.filter((s) => s.author === user);
    if (mine.length > 0 && this.rand() < 0.4) {
      const own = this.pick(mine);
      out.push(this.rand() < 0.5 ? del(own.id) : edit(own.id, `edit ${this.#fresh}`, this.#fresh));
    }
    return out;
  }

  /** A random range of the list as a view, sometimes open at an end, sometimes live. */
  async declare(peer: Peer): Promise<void> {
    const { sorted } = this.h.model;
    if (sorted.length === 0) return this.h.declare(peer, null, null, true);
    const a = randInt(this.rand, 0, sorted.length - 1);
    const b = randInt(this.rand, a, Math.min(sorted.length - 1, a + 15));
    const first = this.rand() < 0.1 ? null : keyOf(sorted[a] as Stored);
    const last = this.rand() < 0.1 ? null : keyOf(sorted[b] as Stored);
    await this.h.declare(peer, first, last, this.rand() < 0.3);
  }

  /** Evicts the user's home, its sockets hibernated (a frame through it first: it must be running). */
  async evictHome(user: string): Promise<void> {
    await this.h.page(this.tab(user), "newest", 0, 0);
    await evictDurableObject(this.home(user), { webSockets: "hibernate" });
  }

  /**
   * The users open two tabs each (`opened` runs after each user's) and
   * declare views, `steps` random steps follow (their names counted in
   * `tally`), then every list and fresh tab's hello, and the stored list,
   * are checked.
   */
  async run(
    users: readonly string[],
    steps: number,
    tally: Map<string, number>,
    opened: (user: string) => Promise<void> = async () => {},
  ): Promise<void> {
    const { h } = this;
    await h.post(
      Array.from({ length: 30 }, (_, i) => msg(`m${i}`, 1_000 * (i + 1), users[i % users.length])),
    );
    for (const user of users) {
      await this.open(user);
      await opened(user);
    }
    for (const user of users) await this.declare(this.tab(user));
    for (let s = 0; s < steps; s++) {
      const [, name, act] = pickWeighted(this.rand, STEPS);
      await act(this, this.pick(this.users));
      tally.set(name, (tally.get(name) ?? 0) + 1);
      if (s % 15 === 14) await this.checkLists();
    }
    await this.checkLists();
    // A fresh tab of each user: its hello's counts and marker are the model's.
    for (const user of this.users) await h.connect(user);
    expect(await allMessages(h.channel)).toEqual(h.model.sorted.map((m) => h.model.wire(m)));
  }

  /** Every user's late and reaction lists, against the model. */
  async checkLists(): Promise<void> {
    for (const user of this.users) {
      const tab = this.tab(user);
      const { reply } = await tab.client.call({ type: "late.list", limit: MAX_LIST }, "late");
      const late = this.h.model.lateList(user, MAX_LIST);
      expect(reply, `late.list of ${user}`).toEqual({ type: "late.list", rid: "late", ...late });
      await this.h.reactionsList(tab, MAX_LIST);
    }
  }
}

/** The steps of a run, each with its weight. */
const STEPS: readonly (readonly [
  number,
  string,
  (run: EvictionRun, user: string) => Promise<void>,
])[] = [
  [8, "post", async (run) => void (await run.h.post(run.drafts()))],
  [6, "send", async (run, user) => void (await run.h.send(run.tab(user), run.drafts()))],
  [6, "change", async (run, user) => void (await run.h.change(run.tab(user), run.changes(user)))],
  [4, "view", (run, user) => run.declare(run.tab(user))],
  [2, "late.ack", (run, user) => run.h.ack(run.tab(user))],
  [2, "reactions.ack", (run, user) => run.h.reactionsAck(run.tab(user))],
  [
    2,
    "read",
    async (run, user) => {
      const m = run.present();
      if (m) await run.h.read(run.tab(user), m.id);
    },
  ],
  [
    3,
    "resume", // on an open tab, from what it was told, over a new view
    async (run, user) => {
      const tab = run.tab(user);
      const m = run.present();
      const view = m
        ? { first: keyOf(m), last: null, live: true }
        : { first: null, last: null, live: true };
      await run.h.resume(tab, tab.client.seq, view);
    },
  ],
  [
    3,
    "reconnect",
    async (run, user) => {
      const { peer, since } = await run.reopen(user);
      await run.h.resume(peer, since, { first: null, last: null, live: true });
    },
  ],
  [4, "evict home", (run, user) => run.evictHome(user)],
  [
    4,
    "evict home mid-post", // while an HTTP insert is stored and pushed
    async (run, user) => {
      const drafts = run.drafts();
      await run.h.page(run.tab(user), "newest", 0, 0);
      const answer = postMessages(run.h.channel, drafts);
      await evictDurableObject(run.home(user), { webSockets: "hibernate" });
      expect((await answer).status).toBe(200);
      await run.h.arrived(drafts);
    },
  ],
  [
    4,
    "evict home mid-send", // while a socket's write is on its way
    async (run, user) => {
      await run.h.page(run.tab(user), "newest", 0, 0);
      await run.h.concurrently([{ peer: run.tab(user), send: run.drafts() }], () =>
        evictDurableObject(run.home(user), { webSockets: "hibernate" }),
      );
    },
  ],
  [
    4,
    "evict home mid-change",
    async (run, user) => {
      await run.h.page(run.tab(user), "newest", 0, 0);
      const change = run.changes(user);
      await run.h.concurrently([{ peer: run.tab(user), change }], () =>
        evictDurableObject(run.home(user), { webSockets: "hibernate" }),
      );
    },
  ],
  [
    3,
    "evict channel", // under the relays' sockets, sometimes while an insert is stored
    async (run, user) => {
      await run.h.page(run.tab(user), "newest", 0, 0);
      if (run.rand() < 0.5) {
        await evictDurableObject(channelStub(run.h.channel));
        return;
      }
      const drafts = run.drafts();
      const answer = postMessages(run.h.channel, drafts);
      await evictDurableObject(channelStub(run.h.channel));
      expect((await answer).status).toBe(200);
      await run.h.arrived(drafts);
    },
  ],
];
