/**
 * The typed client (src/client) against a real `wrangler dev`: requests
 * matched by rid, typed pushes, a reconnect after the server goes away
 * that restores the declared view — proven by a push that only that view
 * gets — and ChannelWindows that stay equal to a fresh page while another
 * user deletes, edits and reacts above, inside and below them (1.2); two
 * ChannelWindows of one user, one reading and the other following its
 * marker and counts, and a third opening at the first unread message (1.2,
 * the reader's place); on a worker with AUTH_SECRET, its token goes as a
 * subprotocol (answered `scrollback`, nothing in the URL), or as `?token=`
 * when asked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api } from "../../scripts/lib/api.ts";
import { removeStateDir, type Server, startServer } from "../../scripts/lib/server.ts";
import {
  ChannelWindow,
  type InsertFrame,
  type Message,
  ScrollbackClient,
  ScrollbackError,
  ScrollbackHttp,
} from "../../src/client/index.ts";
import { hs256 } from "../worker/jwt.ts";

const CHANNEL = "client-e2e";
/** m000…m199 at ts 1,000 … 200,000: a channel with a middle to look at. */
const history = Array.from({ length: 200 }, (_, i) => ({
  id: `m${String(i).padStart(3, "0")}`,
  ts: (i + 1) * 1_000,
  author: "seed",
  text: `message ${i}`,
}));

let server: Server;

beforeAll(async () => {
  server = await startServer();
  await api(server, `/v1/channels/${CHANNEL}/messages`, {
    method: "POST",
    body: { messages: history },
  });
});

afterAll(async () => {
  await server?.stop();
  if (server) await removeStateDir(server.persistTo);
});

/** Fails instead of hanging when what is awaited never comes. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms),
    ),
  ]);
}

/** Resolves with the next event of a kind. */
function nextEvent<E extends "insert" | "status" | "hello" | "disconnect">(
  client: ScrollbackClient,
  event: E,
): Promise<Parameters<Parameters<ScrollbackClient["on"]>[1]>[0]> {
  return new Promise((resolve) => {
    const off = client.on(event, (value) => {
      off();
      resolve(value);
    });
  });
}

describe("ScrollbackClient", () => {
  it("pages, sends and reads late messages, each reply matched to its request", async () => {
    const client = new ScrollbackClient({ url: server.url, channel: CHANNEL, user: "carol" });
    const hello = await client.connect();
    expect(hello).toMatchObject({ type: "hello", channel: CHANNEL, user: "carol", total: 200 });
    // Concurrent requests: each gets its own answer.
    const [middle, top] = await Promise.all([
      client.page({ anchor: { position: 100 }, before: 2, after: 2 }),
      client.page({ anchor: "oldest", before: 0, after: 1 }),
    ]);
    expect(middle.messages.map((m) => m.id)).toEqual(["m098", "m099", "m100", "m101", "m102"]);
    expect(top.messages.map((m) => m.id)).toEqual(["m000", "m001"]);
    const sent = await client.send([{ id: "late-1", ts: 50_500, text: "from a peer" }]);
    expect(sent).toMatchObject({
      results: [{ id: "late-1", duplicate: false }],
      total: 201,
    });
    expect(await client.lateList()).toMatchObject({
      unread: 1,
      items: [{ id: "late-1", position: 50 }],
    });
    const around = await client.lateNext({ before: 1, after: 1 });
    expect(around?.messages.map((m) => m.id)).toEqual(["m049", "late-1", "m050"]);
    expect(await client.lateAck()).toMatchObject({ lateUnread: 0 });
    expect(await client.lateNext()).toBeNull();
    await expect(client.page({ anchor: { id: "nope" } })).rejects.toMatchObject({
      code: "not_found",
    });
    await expect(client.page({ anchor: { id: "nope" } })).rejects.toBeInstanceOf(ScrollbackError);
    client.close();
  });

  it("reconnects after the server restarts and restores its declared view", async () => {
    const client = new ScrollbackClient({
      url: server.url,
      channel: CHANNEL,
      user: "dave",
      backoff: { initialMs: 100, maxMs: 1_000 },
    });
    await client.connect();
    const page = await client.page({ anchor: { position: 10 }, before: 0, after: 10 });
    const first = page.messages[0];
    const last = page.messages.at(-1);
    if (!first || !last) throw new Error("no page");
    await client.view({ first, last, live: false });

    const dropped = nextEvent(client, "disconnect");
    const { persistTo, port } = server;
    await server.stop();
    expect(await within(dropped, 30_000, "disconnect")).toEqual({ reconnecting: true });
    const greeted = nextEvent(client, "hello");
    server = await startServer({ persistTo, port });
    await within(greeted, 60_000, "hello after the restart");

    // A message inside the restored view (not at the bottom) is pushed to it.
    const pushed = nextEvent(client, "insert") as Promise<InsertFrame>;
    // The view is re-declared right after the hello; let it land before writing.
    await client.page({ anchor: "newest", before: 0, after: 0 });
    await api(server, `/v1/channels/${CHANNEL}/messages`, {
      method: "POST",
      body: { messages: [{ id: "in-view", ts: first.ts + 500, author: "peer", text: "hi" }] },
    });
    const insert = await within(pushed, 15_000, "insert in the restored view");
    expect(insert.messages).toMatchObject([{ id: "in-view", position: page.start + 1 }]);
    client.close();
  });
});

/** Resolves once `ready` holds, checked after every change of the window. */
function until(list: ChannelWindow, ready: () => boolean, what: string): Promise<void> {
  const reached = new Promise<void>((resolve) => {
    if (ready()) return resolve();
    const off = list.onChange(() => {
      if (!ready()) return;
      off();
      resolve();
    });
  });
  return within(reached, 15_000, what);
}

/** What a reader is shown of a message (a socket page may add `unread`, a push `mine`: not here). */
const shown = (m: Message) => ({
  id: m.id,
  ts: m.ts,
  author: m.author,
  text: m.text,
  edited: m.edited,
  reactions: m.reactions,
});

describe("ChannelWindow under another user's changes (protocol 1.2)", () => {
  const channel = "client-e2e-changes";

  it("stays equal to a fresh page through deletes, edits and reactions above, inside and below", async () => {
    await api(server, `/v1/channels/${channel}/messages`, {
      method: "POST",
      body: { messages: history },
    });
    // The history's author deletes and edits; another user reacts (an open worker: the body names the user).
    const seed = new ScrollbackHttp({ url: server.url, channel, user: "seed" });
    const frank = new ScrollbackHttp({ url: server.url, channel, user: "frank" });
    const fresh = new ScrollbackHttp({ url: server.url, channel });
    const clients = ["erin", "gina"].map(
      (user) => new ScrollbackClient({ url: server.url, channel, user }),
    );
    const [erin, gina] = clients as [ScrollbackClient, ScrollbackClient];
    await Promise.all(clients.map((c) => c.connect()));
    const parked = new ChannelWindow(erin, { maxSize: 400, margin: 20 });
    const live = new ChannelWindow(gina, { maxSize: 400, margin: 20 });
    await parked.show(100, 130);
    await live.open(30);
    expect([parked.window.live, live.window.live, parked.reader]).toEqual([false, true, 100]);
    const reading = parked.window.at(parked.reader)?.id;
    const id = (i: number) => `m${String(i).padStart(3, "0")}`;
    const edit = (i: number, text: string) => ({
      kind: "edit" as const,
      id: id(i),
      text,
      ts: 9_000 + i,
    });
    const del = (i: number) => ({ kind: "delete" as const, id: id(i) });
    const react = (i: number) => ({
      kind: "react" as const,
      id: id(i),
      emoji: "👍",
      on: true,
      ts: 1,
    });

    /** Both windows have applied up to `seq`, and each equals a page read now at its positions. */
    async function sameAsFreshPages(seq: number): Promise<void> {
      for (const list of [parked, live]) {
        // Whole groups: a group's frames come one by one, its `status` last (and replies
        // come before pushes, so the write's answer may be here before any of them).
        await until(
          list,
          () => list.window.resumeFrom >= seq && !list.window.frozen,
          `the window at seq ${seq}`,
        );
        const w = list.window;
        const page = await fresh.page({
          anchor: { position: w.start },
          before: 0,
          after: w.messages.length - 1,
        });
        expect([w.start, w.total]).toEqual([page.start, page.total]);
        expect(w.messages.map(shown)).toEqual(page.messages.map(shown));
      }
    }

    // Above the parked window (and far above the live one), inside it, below it, at the bottom.
    await frank.change([react(20), react(105), react(197)]);
    const first = await seed.change([
      del(10),
      del(11),
      del(12),
      edit(20, "edited above"),
      del(105),
      del(106),
      edit(110, "edited inside"),
      del(150),
      edit(180, "edited below"),
      del(198),
      edit(199, "edited at the bottom"),
    ]);
    await sameAsFreshPages(first.seq);
    // The reader's row moved up by the three deleted above it, and is still the reader's.
    expect([parked.reader, parked.window.at(parked.reader)?.id]).toEqual([97, reading]);

    // A window's own first and last rows, a late message above it, a new one at the bottom.
    const { messages } = parked.window;
    const firstHeld = messages[0]?.id as string;
    const lastHeld = messages.at(-1)?.id as string;
    await erin.send([{ id: "late-above", ts: 5_500, text: "late" }]);
    await gina.send([{ id: "newest", ts: 10_000_000, text: "new" }]);
    const second = await seed.change([
      { kind: "delete", id: firstHeld },
      { kind: "edit", id: lastHeld, text: "last row edited", ts: 9_999 },
      del(199),
    ]);
    await sameAsFreshPages(second.seq);
    expect(live.window.messages.at(-1)?.id).toBe("newest");
    for (const list of [parked, live]) list.dispose();
    for (const c of clients) c.close();
  });
});

describe("ChannelWindows of one user (protocol 1.2, the reader's place)", () => {
  const channel = "client-e2e-reader";
  const id = (i: number) => `m${String(i).padStart(3, "0")}`;

  it("follow one tab's reads on the other, and open at the first unread message", async () => {
    await api(server, `/v1/channels/${channel}/messages`, {
      method: "POST",
      body: { messages: history },
    });
    const frank = new ScrollbackHttp({ url: server.url, channel, user: "frank" });
    const clients = [0, 1].map(
      () => new ScrollbackClient({ url: server.url, channel, user: "hana" }),
    );
    const [a, b] = clients as [ScrollbackClient, ScrollbackClient];
    // Made before connecting: each hears its socket's hello (the marker, the counts).
    const [tabA, tabB] = [a, b].map((c) => new ChannelWindow(c, { margin: 20 })) as [
      ChannelWindow,
      ChannelWindow,
    ];
    await Promise.all(clients.map((c) => c.connect()));
    await Promise.all([tabA.open(30), tabB.open(30)]);
    /** Both tabs show this marker, unread count and first unread position. */
    const bothAt = async (read: string | null, unread: number, firstUnread: number | null) => {
      for (const tab of [tabA, tabB]) {
        // The writer's answer comes before the group's pushes: wait for all three to show.
        await until(
          tab,
          () =>
            (tab.window.read?.id ?? null) === read &&
            tab.window.unread === unread &&
            tab.firstUnread === firstUnread,
          `the marker on ${read} with ${unread} unread, the first at ${firstUnread}`,
        );
      }
    };
    // No marker yet: every message is unread, from the first.
    await bothAt(null, 200, 0);

    // Tab A reads down to m109; tab B hears it from the server.
    await tabA.show(90, 110);
    tabA.markRead(109);
    await bothAt(id(109), 90, 110);
    expect(tabA.window.at(110)?.id).toBe(id(110));

    // New messages below the marker raise unread; a late one above it moves the line, not the count.
    await frank.insert([
      { id: "new-1", ts: 300_000, text: "new", author: "frank" },
      { id: "new-2", ts: 300_001, text: "newer", author: "frank" },
    ]);
    await bothAt(id(109), 92, 110);
    await frank.insert([{ id: "late-1", ts: 50_500, text: "late", author: "frank" }]);
    await bothAt(id(109), 92, 111);
    // Deleting an unread message lowers it.
    await frank.change([{ kind: "delete", id: "new-1" }]);
    await bothAt(id(109), 91, 111);

    // A third tab opens at the first unread message: m110, the reader on m109 just above it.
    const c = new ScrollbackClient({ url: server.url, channel, user: "hana" });
    const tabC = new ChannelWindow(c, { margin: 20 });
    await c.connect();
    await tabC.open({ at: "first_unread", rows: 30 });
    const fresh = await new ScrollbackHttp({ url: server.url, channel, user: "hana" }).page({
      anchor: "first_unread",
      before: 0,
      after: 0,
    });
    expect([tabC.firstUnread, fresh.firstUnread, tabC.window.unread]).toEqual([111, 111, 91]);
    expect([tabC.window.at(111)?.id, tabC.window.at(tabC.reader)?.id]).toEqual([id(110), id(109)]);

    // A reaction to hana's message out of every view: both tabs' badge; tab A jumps there, and both clear.
    const sent = await a.send([{ id: "hana-1", ts: 20_500, text: "mine" }]);
    expect(sent.results[0]?.duplicate).toBe(false);
    await frank.change([{ kind: "react", id: "hana-1", emoji: "👍", on: true, ts: 1 }]);
    for (const tab of [tabA, tabB]) {
      await until(tab, () => tab.window.reactionsUnread === 1, "the reactions badge");
    }
    const page = await tabA.reactions({ before: 2, after: 2 });
    expect(page?.messages[page.anchorIndex ?? 0]?.id).toBe("hana-1");
    for (const tab of [tabA, tabB]) {
      await until(tab, () => tab.window.reactionsUnread === 0, "the reactions badge cleared");
    }

    // Tab B reaches the bottom: everything is read, on every tab.
    await tabB.show(tabB.window.total - 30, tabB.window.total, true);
    tabB.markRead();
    for (const tab of [tabA, tabB, tabC]) {
      await until(tab, () => tab.window.read?.id === "new-2", "the marker at the bottom");
      expect([tab.window.unread, tab.firstUnread]).toEqual([0, null]);
    }
    for (const tab of [tabA, tabB, tabC]) tab.dispose();
    for (const client of [...clients, c]) client.close();
  });
});

describe("ScrollbackClient on a worker with AUTH_SECRET", () => {
  const SECRET = "client-e2e-secret";
  const SECURED = "client-e2e-secured";
  let secured: Server;

  beforeAll(async () => {
    secured = await startServer({ vars: { AUTH_SECRET: SECRET } });
  });

  afterAll(async () => {
    await secured?.stop();
    if (secured) await removeStateDir(secured.persistTo);
  });

  /** A client whose sockets the test can look at (Node's WebSocket fails a handshake whose offered subprotocols get no answer, as browsers do). */
  function securedClient(token: string, options: { tokenIn?: "query"; timeoutMs?: number } = {}) {
    const sockets: WebSocket[] = [];
    class Seen extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const client = new ScrollbackClient({
      url: secured.url,
      channel: SECURED,
      token,
      WebSocket: Seen,
      ...options,
    });
    return { client, sockets };
  }

  it("sends its token as a subprotocol, out of the URL, and the server answers scrollback", async () => {
    const jwt = await hs256({ sub: "tess", ch: SECURED, scope: "write" }, SECRET);
    const { client, sockets } = securedClient(jwt);
    expect(await within(client.connect(), 30_000, "hello")).toMatchObject({ user: "tess" });
    expect(sockets.map((s) => [s.protocol, (s.url ?? "").includes(jwt)])).toEqual([
      ["scrollback", false],
    ]);
    const sent = await client.send([{ id: "t1", ts: 1_000, text: "by subprotocol" }]);
    expect(sent).toMatchObject({ results: [{ id: "t1", duplicate: false }], total: 1 });
    client.close();
  });

  it("still connects with ?token= when asked to, for servers that predate the subprotocol", async () => {
    const jwt = await hs256({ sub: "quinn", ch: SECURED, scope: "read" }, SECRET);
    const { client, sockets } = securedClient(jwt, { tokenIn: "query" });
    expect(await within(client.connect(), 30_000, "hello")).toMatchObject({ user: "quinn" });
    expect(sockets.map((s) => [s.protocol, (s.url ?? "").includes(`token=${jwt}`)])).toEqual([
      ["", true],
    ]);
    client.close();
  });

  it("is refused with a token signed with another secret", async () => {
    const forged = await hs256({ sub: "mallory", ch: SECURED, scope: "write" }, "not-the-secret");
    const { client } = securedClient(forged, { timeoutMs: 30_000 });
    await expect(client.connect()).rejects.toMatchObject({ code: "disconnected" });
    client.close();
  });
});
