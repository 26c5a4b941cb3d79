/**
 * The read marker at 1,000,000 messages (docs/protocol.md, "The read marker
 * and first_unread": exact, O(log n)): readers whose markers are spread over
 * a generated history (late messages, ties and a late chunk included) open
 * it at their first unread message over HTTP (`?user=`), and the page must
 * equal the history model's exactly (positions, `firstUnread`). Its rows,
 * from Server-Timing, stay within a page's budget and near those of a
 * `pos:` page at the same place: a first_unread that counted what follows
 * the marker would read up to a million. A `read` is counted by wrapping the
 * object's SQLite cursors, at 10,000 and at 1,000,000 messages: about as
 * many rows at both sizes.
 */
import { evictDurableObject } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BUCKET } from "../../src/core/position-index.ts";
import { HistoryModel } from "../support/history.ts";
import { keyOf } from "../support/keys.ts";
import { type Client, closeAll } from "../support/socket.ts";
import type { PageBody } from "../support/wire.ts";
import { generate, PAGE_ROW_BUDGET, rowsDuring, seed, WAKE_ROW_BUDGET } from "./helpers.ts";
import { api, channelStub, openSocket, rowsOf } from "./net.ts";

afterAll(closeAll);

/** Readers whose markers are spread evenly over the channel, from its first message to its last. */
const READERS = 12;
/**
 * Rows a `read` may read at any size: the message, the marker's row, and a
 * rank in the position index (one bucket's rows at most). A read that
 * counted the messages after the marker would read up to a million.
 */
const READ_ROW_BUDGET = MAX_BUCKET + 100;
/** Rows a first_unread page may read beyond a `pos:` page at the same place: the marker's row. */
const FIRST_UNREAD_EXTRA_ROWS = 20;

interface Scene {
  readonly channel: string;
  readonly model: HistoryModel;
  /** Each reader's marker position, and the rows each `read` read. */
  readonly markers: Map<string, number>;
  readonly readRows: number[];
}

/** `count` messages seeded; READERS users each read the message at their spread position. */
async function scene(channel: string, count: number): Promise<Scene> {
  const data = generate({ count, seed: 41, chunkSize: Math.min(10_000, count / 10) });
  const stub = channelStub(channel);
  await seed(stub, data);
  const model = new HistoryModel(data);
  const markers = new Map<string, number>();
  const readRows: number[] = [];
  // Warm: the first call after seeding may load the index; each read alone is measured.
  await api(`/v1/channels/${channel}/messages?anchor=newest&before=0&after=0`);
  for (let k = 0; k < READERS; k++) {
    const user = `r${k}`;
    const position = Math.round((k * (count - 1)) / (READERS - 1));
    const client = await openSocket(channel, user);
    expect(await client.next("hello")).toMatchObject({ total: count, unread: count, read: null });
    const read = await readAt(client, model, position, channel);
    readRows.push(read);
    markers.set(user, position);
    await client.closeAndWait();
  }
  console.log(`read at ${count} messages: ${readRows.join(", ")} rows`);
  return { channel, model, markers, readRows };
}

/** `read` of the message at `position` over `client`: the reply checked, the rows read answered. */
async function readAt(
  client: Client,
  model: HistoryModel,
  position: number,
  channel: string,
): Promise<number> {
  const key = keyOf(model.messageAt(position));
  const { value, rows } = await rowsDuring(channelStub(channel), () =>
    client.call({ type: "read", id: key.id }, "read"),
  );
  expect(value.reply).toEqual({
    type: "read",
    rid: "read",
    read: key,
    unread: model.total - position - 1,
    seq: model.seq,
  });
  return rows;
}

/** GET a page; answers its body and its rows read. */
async function httpPage(channel: string, query: string) {
  const res = await api(`/v1/channels/${channel}/messages?${query}`);
  expect(res.status, query).toBe(200);
  return { body: (await res.json()) as PageBody, rows: rowsOf(res) ?? Number.NaN };
}

/** Every reader's first_unread page against the model, and its rows against a `pos:` page's. */
async function firstUnreadPages(s: Scene, before: number, after: number): Promise<number[]> {
  const rows: number[] = [];
  for (const [user, position] of s.markers) {
    const sides = `before=${before}&after=${after}`;
    const page = await httpPage(s.channel, `anchor=first_unread&${sides}&user=${user}`);
    expect(page.body, `${user}, marker at ${position}`).toEqual(
      s.model.page("first_unread", before, after, position + 1),
    );
    const last = position === s.model.total - 1;
    expect(page.body.firstUnread).toBe(last ? undefined : position + 1);
    const at = last ? position : position + 1;
    const pos = await httpPage(s.channel, `anchor=pos:${at}&${sides}`);
    expect(page.rows, `${user}: rows against a pos: page`).toBeLessThanOrEqual(
      pos.rows + FIRST_UNREAD_EXTRA_ROWS,
    );
    expect(page.rows).toBeLessThanOrEqual(PAGE_ROW_BUDGET + before + after);
    rows.push(page.rows);
  }
  return rows;
}

describe("the read marker at 1,000,000 messages", () => {
  let small: Scene;
  let large: Scene;
  beforeAll(async () => {
    small = await scene("marker-cost-10k", 10_000);
    large = await scene("marker-cost-1m", 1_000_000);
  }, 600_000);

  it("answers first_unread pages exactly, reading about what a pos: page reads", async () => {
    for (const s of [small, large]) {
      const rows = [...(await firstUnreadPages(s, 25, 25)), ...(await firstUnreadPages(s, 0, 3))];
      console.log(`first_unread at ${s.model.total} messages: at most ${Math.max(...rows)} rows`);
    }
    // No marker: everything is unread, from the first message.
    const stranger = await httpPage(large.channel, "anchor=first_unread&after=5&user=nobody");
    expect(stranger.body).toEqual(large.model.page("first_unread", 25, 5, 0));
    expect(stranger.body.firstUnread).toBe(0);
    expect(stranger.rows).toBeLessThanOrEqual(PAGE_ROW_BUDGET);
  });

  it("loads a marker cold after a wake within the wake's budget", async () => {
    await evictDurableObject(channelStub(large.channel));
    const [user, position] = [...large.markers][READERS / 2] as [string, number];
    const page = await httpPage(large.channel, `anchor=first_unread&user=${user}`);
    expect(page.body).toEqual(large.model.page("first_unread", 25, 25, position + 1));
    expect(page.rows).toBeLessThanOrEqual(WAKE_ROW_BUDGET + FIRST_UNREAD_EXTRA_ROWS);
  });

  it("moves a marker at O(log n) rows: about as many at 1M messages as at 10K", async () => {
    const sum = (rows: readonly number[]) => rows.reduce((a, b) => a + b, 0);
    for (const rows of large.readRows) expect(rows).toBeLessThanOrEqual(READ_ROW_BUDGET);
    // All READERS reads together: 100 times the channel, not even twice the rows.
    expect(sum(large.readRows)).toBeLessThanOrEqual(2 * sum(small.readRows) + READ_ROW_BUDGET);
    // A reader moving forward once more, warm: the same again.
    const client = await openSocket(large.channel, "r0");
    await client.next("hello");
    const rows = await readAt(client, large.model, 500_000, large.channel);
    large.markers.set("r0", 500_000);
    expect(rows).toBeLessThanOrEqual(READ_ROW_BUDGET);
    console.log(`read at 1M, warm: ${rows} rows`);
  });
});
