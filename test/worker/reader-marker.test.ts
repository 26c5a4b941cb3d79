/**
 * The read marker against the kit's model (docs/protocol.md, "The read
 * marker and first_unread"), a property test by seed: two users with two
 * tabs each `read` forward, backward, at unknown and deleted ids; messages
 * arrive before and after the markers (late ones too) and are deleted (the
 * markers' own among them); tabs reconnect and the object is evicted. After
 * every step every frame on every socket is compared with the model's:
 * `unread` wherever it is carried (`read`, `view`, `status`, `hello`,
 * `resumed`), the cross-tab statuses with `read`, and `first_unread` pages
 * over the socket and over HTTP (`?user=`, a user who never connected too).
 *
 * Runs are reproducible: a failure names its seed (set FIRST_SEED to it and
 * RUNS to 1 to replay it).
 */
import { evictDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { del, msg } from "../support/data.ts";
import { Harness } from "../support/harness.ts";
import type { Stored } from "../support/model.ts";
import { eachSeed, pickWeighted, randInt } from "../support/random.ts";
import { closeAll } from "../support/socket.ts";
import { TabbedRun } from "../support/tabs.ts";
import type { Key } from "../support/wire.ts";
import { hs256 } from "./jwt.ts";
import { api, channelStub, securedFetch, securedTransport, TEST_SECRET, transport } from "./net.ts";

afterEach(closeAll);

const FIRST_SEED = 1;
const RUNS = 6;
const STEPS_A_RUN = 120;
const USERS = ["ann", "bob"] as const;
/** Never connects: over HTTP her `first_unread` is the oldest message. */
const STRANGER = "eve";

interface Tally {
  steps: Map<string, number>;
  /** first_unread pages compared: over a socket, over HTTP. */
  socketPages: number;
  httpPages: number;
  /** Reads that moved a marker, and those that did not. */
  moved: number;
  stayed: number;
  /** Reads of unknown or deleted ids (not_found), and markers whose message was deleted. */
  missing: number;
  markersGone: number;
}

class Run extends TabbedRun {
  readonly tally: Tally;
  #fresh = 0;

  constructor(channel: string, seed: number, tally: Tally) {
    super(new Harness(channel, transport), seed);
    this.tally = tally;
  }

  marker(user: string): Key | null {
    return this.h.model.places.marker(user);
  }

  /** The messages present before (or at) and after the user's marker. */
  sides(user: string): { upTo: Stored[]; after: Stored[] } {
    const marker = this.marker(user);
    const { sorted } = this.h.model;
    const cut = this.h.model.places.readThrough(user);
    return marker === null
      ? { upTo: [], after: [...sorted] }
      : { upTo: sorted.slice(0, cut), after: sorted.slice(cut) };
  }

  /** An id to read: after the marker, at or before it, the marker's own, unknown, or deleted. */
  readTarget(user: string): string {
    const { upTo, after } = this.sides(user);
    const r = this.rand();
    const marker = this.marker(user);
    if (r < 0.5 && after.length > 0) {
      // Forward, mostly a little way.
      return (after[Math.min(after.length - 1, randInt(this.rand, 0, 4))] as Stored).id;
    }
    if (r < 0.65 && upTo.length > 0) return this.pick(upTo).id;
    if (r < 0.75 && marker) return marker.id;
    if (r < 0.85 && this.h.model.tombstones.size > 0)
      return this.pick([...this.h.model.tombstones.keys()]);
    return `unknown-${this.#fresh++}`;
  }

  /** A new message: at the bottom, or late just before or after someone's marker, or anywhere. */
  draft(): ReturnType<typeof msg> {
    const id = `n${this.#fresh++}`;
    const author = this.pick(USERS);
    const marker = this.marker(this.pick(USERS));
    const r = this.rand();
    if (r < 0.3 || this.h.model.total === 0) return msg(id, 10_000_000 + this.#fresh, author);
    // Equal ts: the id decides its side ("n…" against the marker's id).
    if (r < 0.7 && marker) return msg(id, marker.ts + randInt(this.rand, -1, 1), author);
    return msg(id, this.pick(this.h.model.sorted).ts + randInt(this.rand, 0, 1), author);
  }
}

/** A first_unread page over one of the user's tabs, and over HTTP for the user. */
async function firstUnread(run: Run, user: string): Promise<void> {
  const [before, after] = [randInt(run.rand, 0, 4), randInt(run.rand, 0, 4)];
  await run.h.page(run.tab(user), "first_unread", before, after);
  run.tally.socketPages++;
  await httpFirstUnread(run, user, before, after);
}

/** `GET …/messages?anchor=first_unread&user=` against the model's page (no flags, no mine). */
async function httpFirstUnread(run: Run, user: string, before: number, after: number) {
  const { h } = run;
  const res = await api(
    `/v1/channels/${h.channel}/messages?anchor=first_unread&before=${before}&after=${after}&user=${user}`,
  );
  expect(res.status).toBe(200);
  expect(await res.json(), `first_unread over HTTP for ${user}`).toEqual(
    h.model.page("first_unread", before, after, user, "http"),
  );
  run.tally.httpPages++;
}

const mineOf = (run: Run, user: string) => run.h.model.sorted.filter((m) => m.author === user);

const STEPS: readonly (readonly [number, string, (run: Run, user: string) => Promise<void>])[] = [
  [
    30,
    "read",
    async (run, user) => {
      const before = run.marker(user);
      const reply = await run.h.read(run.tab(user), run.readTarget(user));
      if (reply.type !== "read") {
        run.tally.missing++;
        return;
      }
      if (run.marker(user) === before) run.tally.stayed++;
      else run.tally.moved++;
    },
  ],
  [
    16,
    "insert",
    async (run, user) => {
      const drafts = Array.from({ length: randInt(run.rand, 1, 3) }, () => run.draft());
      if (run.rand() < 0.5) await run.h.post(drafts);
      else await run.h.send(run.tab(user), drafts);
    },
  ],
  [
    10,
    "delete", // the marker's own message now and then
    async (run, user) => {
      const mine = mineOf(run, user);
      const marker = run.marker(run.pick(USERS));
      const own = marker && mine.find((m) => m.id === marker.id);
      const target = own && run.rand() < 0.4 ? own : mine.length > 0 ? run.pick(mine) : undefined;
      if (!target) return;
      await run.h.change(run.tab(user), [del(target.id)]);
      if (USERS.some((u) => run.marker(u)?.id === target.id)) run.tally.markersGone++;
    },
  ],
  [14, "first_unread", firstUnread],
  [
    3,
    "stranger",
    (run) => httpFirstUnread(run, STRANGER, randInt(run.rand, 0, 3), randInt(run.rand, 0, 3)),
  ],
  [
    6,
    "view",
    async (run, user) => {
      const { sorted } = run.h.model;
      const a = sorted.length > 0 ? run.pick(sorted) : null;
      await run.h.declare(run.tab(user), a, null, run.rand() < 0.5);
    },
  ],
  [
    6,
    "reconnect", // hello carries read and unread
    async (run, user) => {
      const { peer, since } = await run.reopen(user);
      if (run.rand() < 0.5)
        await run.h.resume(peer, since, { first: null, last: null, live: true });
    },
  ],
  [
    2,
    "evict",
    async (run, user) => {
      await run.h.page(run.tab(user), "newest", 0, 0);
      await evictDurableObject(channelStub(run.h.channel));
    },
  ],
];

async function step(run: Run): Promise<string> {
  const [, name, act] = pickWeighted(run.rand, STEPS);
  await act(run, run.pick(USERS));
  return name;
}

describe("the read marker against the model", () => {
  it("moves, counts unread and opens at the first unread as the model does", async () => {
    const tally: Tally = {
      steps: new Map(),
      socketPages: 0,
      httpPages: 0,
      moved: 0,
      stayed: 0,
      missing: 0,
      markersGone: 0,
    };
    let compared = 0;
    await eachSeed(FIRST_SEED, RUNS, async (seed) => {
      const run = new Run(`marker-model-${seed}`, seed, tally);
      await run.h.post(
        Array.from({ length: 20 }, (_, i) => msg(`m${i}`, 1_000 * (i + 1), USERS[i % 2])),
      );
      for (const user of USERS) await run.open(user);
      for (let s = 0; s < STEPS_A_RUN; s++) {
        const name = await step(run);
        tally.steps.set(name, (tally.steps.get(name) ?? 0) + 1);
      }
      for (const user of USERS) await firstUnread(run, user);
      compared += run.h.compared;
    });
    console.log(
      `read marker: ${RUNS} runs × ${STEPS_A_RUN} steps ${JSON.stringify(Object.fromEntries(tally.steps))}; ${compared} frames compared with the model, ${tally.socketPages} first_unread pages over sockets and ${tally.httpPages} over HTTP, ${tally.moved} reads moved a marker, ${tally.stayed} did not and ${tally.missing} found no message, ${tally.markersGone} markers' messages deleted`,
    );
    expect(tally.moved).toBeGreaterThan(0);
    expect(tally.stayed).toBeGreaterThan(0);
    expect(tally.missing).toBeGreaterThan(0);
    expect(tally.markersGone).toBeGreaterThan(0);
  });
});

describe("first_unread with a token", () => {
  it("opens the token's user's marker, whatever ?user= says", async () => {
    const h = new Harness("marker-token", securedTransport([]));
    await h.post(Array.from({ length: 12 }, (_, i) => msg(`m${i}`, 1_000 * (i + 1), "ann")));
    const ann = await h.connect("ann");
    await h.connect("bob");
    await h.read(ann, "m7");
    const page = async (sub: string, query: string) => {
      const jwt = await hs256({ sub, ch: "*", scope: "read" }, TEST_SECRET);
      const res = await securedFetch(
        `/v1/channels/${h.channel}/messages?anchor=first_unread&before=1&after=1${query}`,
        { headers: { Authorization: `Bearer ${jwt}` } },
      );
      expect(res.status).toBe(200);
      return res.json();
    };
    for (const [sub, query] of [
      ["ann", ""],
      ["ann", "&user=bob"],
      ["bob", "&user=ann"],
    ] as const) {
      expect(await page(sub, query), `${sub}${query}`).toEqual(
        h.model.page("first_unread", 1, 1, sub, "http"),
      );
    }
    expect(await page("ann", "&user=bob")).toMatchObject({ firstUnread: 8 });
    expect(await page("bob", "")).toMatchObject({ firstUnread: 0 });
  });
});
