/**
 * Faults contained (issue: "one room per responsibility"). Each test makes
 * one SQL statement or storage call fail inside a live object, then checks
 * every other socket and every later answer: state in memory changes only
 * after the write that backs it succeeds, and one socket's failure stays
 * that socket's.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { msg } from "../support/data.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { api, channelStub, openSocket, postMessages, rowsOf } from "./net.ts";

afterEach(() => closeAll());

/** Makes every SQL statement matching `pattern` throw inside the channel's object, until undone. */
async function failSql(channel: string, pattern: RegExp): Promise<() => Promise<void>> {
  const stub = channelStub(channel);
  await runInDurableObject(stub, (_instance, state) => {
    const sql = state.storage.sql;
    const exec = sql.exec.bind(sql);
    Object.defineProperty(sql, "exec", {
      configurable: true,
      writable: true,
      value: (query: string, ...args: SqlStorageValue[]) => {
        if (pattern.test(query)) throw new Error(`injected failure: ${query.slice(0, 40)}`);
        return exec(query, ...args);
      },
    });
  });
  return () =>
    runInDurableObject(stub, (_instance, state) => {
      Reflect.deleteProperty(state.storage.sql, "exec");
    });
}

/** A channel whose newest message is at ts 10,000, and one late message for `user` to read. */
async function withOneLate(channel: string, users: string[]): Promise<Client[]> {
  expect((await postMessages(channel, [msg("top", 10_000)])).status).toBe(200);
  const clients: Client[] = [];
  for (const user of users) {
    const client = await openSocket(channel, user);
    await client.next("hello");
    clients.push(client);
  }
  // Every client parks at the top, so the late message lands outside their views.
  for (const c of clients) {
    await c.call({ type: "view", first: { ts: 10_000, id: "top" }, last: null, live: false });
  }
  expect((await postMessages(channel, [msg("late-1", 5_000)])).status).toBe(200);
  for (const c of clients) await c.drain();
  return clients;
}

describe("faults contained", () => {
  it("keeps the unread count storage holds when the readers row cannot be written", async () => {
    const channel = "fault-readers";
    const [alice] = await withOneLate(channel, ["alice"]);
    if (!alice) throw new Error("no client");
    const undo = await failSql(channel, /^UPDATE readers/);
    const { reply } = await alice.call({ type: "late.ack" });
    expect(reply).toMatchObject({ type: "error", code: "internal" });
    // The object still answers what SQLite holds: one unread late message.
    const list = await alice.call({ type: "late.list" });
    expect(list.reply).toMatchObject({ type: "late.list", unread: 1, items: [{ id: "late-1" }] });
    const next = await alice.call({ type: "late.next", before: 0, after: 0 });
    expect(next.reply).toMatchObject({ type: "page", messages: [{ id: "late-1", unread: true }] });
    await undo();
    const ack = await alice.call({ type: "late.ack" });
    expect(ack.reply).toMatchObject({ type: "view", lateUnread: 0 });
  });

  it("pushes to every other socket when one user's seen mark cannot be stored", async () => {
    const channel = "fault-fanout";
    const clients = await withOneLate(channel, ["alice", "bob", "carol"]);
    // Everyone holds the whole channel, so the next late message is pushed to all.
    for (const c of clients) await c.call({ type: "view", first: null, last: null, live: true });
    const undo = await failSql(channel, /^INSERT INTO seen/);
    const res = await postMessages(channel, [msg("late-2", 6_000)]);
    expect(res.status).toBe(200);
    for (const c of clients) {
      const frames = await c.drain();
      const types = frames.map((f) => f.type);
      expect(types, c.user).toEqual(["insert", "status"]);
      expect(frames[0]).toMatchObject({ type: "insert", messages: [{ id: "late-2" }] });
    }
    await undo();
  });

  it("does not bill an alarm's rows to the next request", async () => {
    const channel = "fault-rows";
    const put = await api(`/v1/channels/${channel}/simulator`, {
      method: "PUT",
      body: JSON.stringify({ rate: 50, tickMs: 100, chunkEvery: 0 }),
    });
    expect(put.status).toBe(200);
    // Let ticks fall due, then run the alarm: it reads rows (the tick's lookups and inserts).
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await runDurableObjectAlarm(channelStub(channel))).toBe(true);
    const stats = await api(`/v1/channels/${channel}`);
    expect(((await stats.json()) as { total: number }).total).toBeGreaterThan(0);
    // The first request after the alarm costs what the same request costs again.
    const after = rowsOf(stats);
    const again = rowsOf(await api(`/v1/channels/${channel}`));
    expect(again).toBeDefined();
    expect(after).toBe(again);
    await api(`/v1/channels/${channel}/simulator`, { method: "DELETE" });
  });

  it("does not record a run as running when its alarm cannot be set", async () => {
    const channel = "fault-alarm";
    const stub = channelStub(channel);
    await runInDurableObject(stub, (_instance, state) => {
      Object.defineProperty(state.storage, "setAlarm", {
        configurable: true,
        writable: true,
        value: () => Promise.reject(new Error("injected: setAlarm failed")),
      });
    });
    const put = await api(`/v1/channels/${channel}/simulator`, {
      method: "PUT",
      body: JSON.stringify({ rate: 5 }),
    });
    expect(put.status).toBe(500);
    await runInDurableObject(stub, (_instance, state) => {
      Reflect.deleteProperty(state.storage, "setAlarm");
    });
    const state = await (await api(`/v1/channels/${channel}/simulator`)).json();
    expect(state).toMatchObject({ running: false });
  });
});
