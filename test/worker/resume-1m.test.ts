/**
 * A resume's cost is proportional to the missed arrivals, never to the
 * channel (docs/protocol.md 1.1): at 1,000,000 messages, 500 missed arrivals
 * (on-time and late, from a generated history) are replayed to a middle view
 * and to a live bottom view, and the SQLite rows the object reads for each
 * `resume` frame are counted by wrapping the runtime's `SqlStorage.exec`
 * (every cursor's `rowsRead`, summed). The same resume at 10,000 messages
 * reads about as many; a replay that read the channel would read a million.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Arrivals, HistoryModel } from "../support/history.ts";
import { keyOf } from "../support/keys.ts";
import type { Declared } from "../support/model.ts";
import type { Client } from "../support/socket.ts";
import { closeAll } from "../support/socket.ts";
import { route } from "../support/views.ts";
import type { Frame, Key } from "../support/wire.ts";
import { batchOf, generate, rowsDuring, seed } from "./helpers.ts";
import { channelStub, okValue, openSocket } from "./net.ts";

afterAll(closeAll);

const MISSED = 500;
/** Rows a resume of MISSED arrivals may read at most: 20 a missed arrival, at any size. */
const RESUME_ROW_BUDGET = 20 * MISSED;

interface Scene {
  channel: string;
  count: number;
  model: HistoryModel;
  client: Client;
  /** Views the reader declared and arrivals replayed to it: what it has seen. */
  views: Declared[];
  replayed: Set<number>;
}

/** `count` arrivals seeded, a reader connected, then MISSED more arrivals while it looks away. */
async function scene(channel: string, count: number): Promise<Scene> {
  const data = generate({
    count: count + MISSED,
    seed: 17,
    chunkSize: Math.min(10_000, count / 10),
  });
  const head: Arrivals = {
    ...data,
    count,
    find: (id) => {
      const n = data.find(id);
      return n !== undefined && n < count ? n : undefined;
    },
  };
  const stub = channelStub(channel);
  await seed(stub, head);
  // The reader's first connection starts its late count; it leaves before the missed arrivals.
  const first = await openSocket(channel, "reader");
  expect(await first.next("hello")).toMatchObject({ total: count, seq: count, lateUnread: 0 });
  await first.closeAndWait();
  const inserted = okValue(await stub.insert(batchOf(data, count, count + MISSED), "nobody"));
  expect(inserted).toMatchObject({ inserted: MISSED });
  const model = new HistoryModel(data);
  let late = 0;
  for (let n = count; n < count + MISSED; n++) late += model.late[n] as number;
  const client = await openSocket(channel, "reader");
  expect(await client.next("hello")).toMatchObject({
    total: count + MISSED,
    seq: count + MISSED,
    lateUnread: late,
  });
  return { channel, count, model, client, views: [], replayed: new Set() };
}

/** The `resumed` reply docs/protocol.md prescribes, from the history model (the reader saw nothing). */
function expected(s: Scene, view: Declared): Frame {
  const m = s.model;
  const missed = Array.from({ length: MISSED }, (_, k) => s.count + k);
  const keyAt = (n: number): Key & { n: number } => ({
    ts: m.arrivals.ts(n),
    id: m.arrivals.id(n),
    n,
  });
  const sorted = missed
    .map(keyAt)
    .sort((a, b) => (m.position[a.n] as number) - (m.position[b.n] as number));
  const { pushed, shifted } = route(view, sorted);
  // Seen: inside a declared view, or replayed (docs/protocol.md: as by `view`, and as pushed).
  s.views.push(view);
  for (const p of pushed) s.replayed.add(p.n);
  const inside = (k: Key) => s.views.some((v) => route({ ...v, live: false }, [k]).pushed.length);
  const unread = missed.filter((n) => m.late[n] === 1 && !inside(keyAt(n)) && !s.replayed.has(n));
  return {
    type: "resumed",
    rid: "resume",
    removed: [],
    updated: [],
    complete: true,
    seq: m.total,
    total: m.total,
    lateUnread: unread.length,
    // Nobody reacts here, and the reader has no read marker: everything is unread.
    reactionsUnread: 0,
    unread: m.total,
    shifted,
    messages: pushed.map((p) => ({ ...m.message(p.n), position: m.position[p.n] as number })),
  };
}

/** Resumes from the count with `view`; checks the reply and answers the rows read. */
async function resumeRows(s: Scene, view: Declared): Promise<number> {
  // Warm: the first call after seeding may load the index; a resume alone is measured.
  await s.client.call({ type: "page", anchor: "newest", before: 0, after: 0 }, "warm");
  const { value, rows, queries } = await rowsDuring(channelStub(s.channel), () =>
    s.client.call({ type: "resume", since: s.count, ...view }, "resume"),
  );
  expect(value.reply).toEqual(expected(s, view));
  const replayed = value.reply.type === "resumed" ? value.reply.messages.length : -1;
  console.log(
    `resume at ${s.count} messages, ${MISSED} missed, ${replayed} replayed: ${rows} rows read in ${queries} queries`,
  );
  return rows;
}

const middleView = (s: Scene): Declared => {
  const at = (p: number) => keyOf(s.model.message(s.model.at(p)));
  return {
    first: at(Math.floor(s.count / 2)),
    last: at(Math.floor(s.count / 2) + 50),
    live: false,
  };
};
const bottomView = (s: Scene): Declared => {
  const at = (p: number) => keyOf(s.model.message(s.model.at(p)));
  return { first: at(s.count - 60), last: at(s.count - 1), live: true };
};

describe("resume cost", () => {
  let small: Scene;
  let large: Scene;
  beforeAll(async () => {
    small = await scene("resume-cost-10k", 10_000);
    large = await scene("resume-cost-1m", 1_000_000);
  }, 600_000);

  for (const [name, viewOf] of [
    ["a middle view", middleView],
    ["a live bottom view", bottomView],
  ] as const) {
    it(`reads rows in proportion to the missed arrivals, not to the channel, for ${name}`, async () => {
      const at10k = await resumeRows(small, viewOf(small));
      const at1m = await resumeRows(large, viewOf(large));
      expect(at1m).toBeLessThanOrEqual(RESUME_ROW_BUDGET);
      expect(at1m).toBeLessThanOrEqual(at10k * 2 + 1_000);
    }, 300_000);
  }
});
