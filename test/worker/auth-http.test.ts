/**
 * Access over HTTP and on sockets with AUTH_SECRET set (docs/protocol.md,
 * "Access"): every /v1/ route refuses a missing or bad token with 401 and a
 * good token for another channel or a smaller scope with 403, wherever the
 * token is (header, `?token=`, a `bearer.` subprotocol), and a refused
 * request stores nothing. The worker runs with an env that adds the secret
 * (as ws-auth.test.ts does); tokens are minted with hono/jwt's `sign`, odd
 * ones (alg none, non-object payloads, tampered) are made by hand.
 */
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { afterEach, describe, expect, it } from "vitest";
import app from "../../src/worker.ts";
import { type Client, closeAll } from "../support/socket.ts";
import type { Code, Frame } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import { handmadeJwt as handmade, text64 } from "./jwt.ts";
import { clientOf, expectError } from "./net.ts";

afterEach(closeAll);

const SECRET = "auth-http-test-secret";
type Scope = "read" | "write" | "admin";

const now = () => Math.floor(Date.now() / 1_000);

/** A token from hono/jwt (HS256), with any claims. */
function token(claims: Record<string, unknown>, secret = SECRET): Promise<string> {
  return sign(claims, secret);
}

const good = (ch: string, scope: Scope, sub = "alice") => token({ sub, ch, scope });

/** The worker as a deployment with AUTH_SECRET runs it. */
function guarded(path: string, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(
    app.fetch(new Request(`http://x${path}`, init), { ...env, AUTH_SECRET: SECRET }),
  );
}

const bearer = (jwt: string) => ({ Authorization: `Bearer ${jwt}` });
/** The token as a browser socket sends it (docs/protocol.md, "A token without the URL"). */
const subprotocol = (jwt: string) => ({ "Sec-WebSocket-Protocol": `scrollback, bearer.${jwt}` });

interface Route {
  readonly name: string;
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly upgrade?: true;
  /** The smallest scope docs/protocol.md allows it for; undefined where it names none. */
  readonly scope?: Scope;
}

/** Every /v1/ route, each with valid input so that only access decides. */
function routes(ch: string): Route[] {
  const at = `/v1/channels/${ch}`;
  return [
    { name: "GET stats", method: "GET", path: at, scope: "read" },
    {
      name: "GET page",
      method: "GET",
      path: `${at}/messages?anchor=oldest&after=5`,
      scope: "read",
    },
    {
      name: "POST messages",
      method: "POST",
      path: `${at}/messages`,
      body: { messages: [{ id: "m1", ts: 1_000, author: "alice", text: "hi" }] },
      scope: "write",
    },
    { name: "GET timeline", method: "GET", path: `${at}/timeline?points=2`, scope: "read" },
    // docs/protocol.md puts "the simulator" under admin, reading its state included.
    { name: "GET simulator", method: "GET", path: `${at}/simulator`, scope: "admin" },
    {
      name: "PUT simulator",
      method: "PUT",
      path: `${at}/simulator`,
      body: { rate: 1, tickMs: 60_000 },
      scope: "admin",
    },
    { name: "DELETE simulator", method: "DELETE", path: `${at}/simulator`, scope: "admin" },
    {
      name: "WebSocket upgrade",
      method: "GET",
      path: `${at}/ws?user=alice`,
      upgrade: true,
      scope: "read",
    },
  ];
}

/** Calls a route with extra headers (a bearer token, say) and an optional query suffix. */
function call(route: Route, headers: Record<string, string> = {}, query = ""): Promise<Response> {
  const sep = route.path.includes("?") ? "&" : "?";
  return guarded(`${route.path}${query ? `${sep}${query}` : ""}`, {
    method: route.method,
    headers: {
      ...(route.body === undefined ? {} : { "content-type": "application/json" }),
      ...(route.upgrade ? { Upgrade: "websocket" } : {}),
      ...headers,
    },
    ...(route.body === undefined ? {} : { body: JSON.stringify(route.body) }),
  });
}

/** Asserts an answer let through: 200, or 101 for an upgrade (whose socket is closed again). */
async function expectAllowed(res: Response, route: Route): Promise<void> {
  if (route.upgrade) {
    expect(res.status, route.name).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("no WebSocket");
    ws.accept();
    ws.close(1000, "done");
    return;
  }
  expect(res.status, `${route.name}: ${await res.clone().text()}`).toBe(200);
}

async function expectRefused(res: Response, code: Code, label: string): Promise<void> {
  expect(res.status, label).toBe(code === "unauthorized" ? 401 : 403);
  await expectError(res, code);
}

/** What the channel holds, asked with an admin token: nothing a refused request could store. */
async function expectUntouched(ch: string): Promise<void> {
  const admin = bearer(await good(ch, "admin"));
  const stats = await guarded(`/v1/channels/${ch}`, { headers: admin });
  expect(await stats.json()).toMatchObject({ channel: ch, total: 0, lateTotal: 0 });
  const sim = await guarded(`/v1/channels/${ch}/simulator`, { headers: admin });
  expect(await sim.json()).toMatchObject({ running: false, counters: { ticks: 0 } });
}

/** Tokens that must never pass, each with why. */
async function badTokens(ch: string): Promise<[string, string][]> {
  const claims = { sub: "alice", ch, scope: "admin" };
  const valid = await token(claims);
  const [head, , signature] = valid.split(".");
  const forged = `${head}.${text64(JSON.stringify({ ...claims, sub: "mallory" }))}.${signature}`;
  return [
    ["not a JWT", "garbage"],
    ["two parts", "a.b"],
    ["three empty-ish parts", "a.b.c"],
    ["a signature from another secret", await token(claims, "another-secret")],
    ["a changed payload under the old signature", forged],
    ["no signature", valid.slice(0, valid.lastIndexOf(".") + 1)],
    ["alg none", await handmade({ alg: "none", typ: "JWT" }, JSON.stringify(claims))],
    ["alg HS512 with the same secret", await sign(claims, SECRET, "HS512")],
    ["expired", await token({ ...claims, exp: now() - 60 })],
    ["expiring right now", await token({ ...claims, exp: now() })],
    ["exp that is not a number", await token({ ...claims, exp: String(now() + 3_600) })],
    ["no sub", await token({ ch, scope: "admin" })],
    ["no ch", await token({ sub: "alice", scope: "admin" })],
    ["no scope", await token({ sub: "alice", ch })],
    ["an unknown scope", await token({ ...claims, scope: "root" })],
    ["a sub that is not a user name", await token({ ...claims, sub: "alice smith" })],
    ["a ch that is not a channel name", await token({ ...claims, ch: "no such/channel" })],
    ["a payload that is an array", await handmade({ alg: "HS256", typ: "JWT" }, "[1]", SECRET)],
    ["a payload that is a string", await handmade({ alg: "HS256", typ: "JWT" }, '"x"', SECRET)],
    ["a payload that is null", await handmade({ alg: "HS256", typ: "JWT" }, "null", SECRET)],
  ];
}

describe("HTTP access", () => {
  it("refuses every route without a token with 401 unauthorized and stores nothing", async () => {
    const ch = "auth-none";
    const bare = await good(ch, "admin");
    for (const route of routes(ch)) {
      await expectRefused(await call(route), "unauthorized", route.name);
      // Not bearer tokens: another scheme, an empty bearer, a token without its scheme.
      for (const authorization of [`Basic ${btoa("alice:pw")}`, "Bearer", "Bearer ", bare]) {
        const res = await call(route, { Authorization: authorization });
        await expectRefused(res, "unauthorized", `${route.name} with "${authorization}"`);
      }
    }
    await expectUntouched(ch);
  });

  it("refuses malformed, forged, expired and claimless tokens with 401 and stores nothing", async () => {
    const ch = "auth-bad";
    const tokens = await badTokens(ch);
    for (const route of routes(ch)) {
      for (const [why, jwt] of tokens) {
        await expectRefused(
          await call(route, bearer(jwt)),
          "unauthorized",
          `${route.name}: ${why}`,
        );
        const byQuery = await call(route, {}, `token=${encodeURIComponent(jwt)}`);
        await expectRefused(byQuery, "unauthorized", `${route.name}: ${why}, by ?token=`);
        const byProtocol = await call(route, subprotocol(jwt));
        await expectRefused(byProtocol, "unauthorized", `${route.name}: ${why}, by subprotocol`);
      }
    }
    await expectUntouched(ch);
  });

  it("refuses a good token for another channel with 403 forbidden and stores nothing", async () => {
    const ch = "auth-elsewhere";
    for (const scope of ["read", "write", "admin"] as const) {
      const jwt = await good("auth-other", scope);
      for (const route of routes(ch)) {
        await expectRefused(await call(route, bearer(jwt)), "forbidden", `${route.name} ${scope}`);
        const byProtocol = await call(route, subprotocol(jwt));
        await expectRefused(byProtocol, "forbidden", `${route.name} ${scope}, by subprotocol`);
      }
    }
    await expectUntouched(ch);
  });

  it("refuses a scope smaller than the route needs with 403 and lets the rest through", async () => {
    const ch = "auth-scope";
    const order: Scope[] = ["read", "write", "admin"];
    const admin = bearer(await good(ch, "admin"));
    for (const scope of order) {
      const minted = await good(ch, scope);
      const jwt = bearer(minted);
      for (const route of routes(ch).filter((r) => r.scope !== undefined)) {
        const needed = route.scope as Scope;
        for (const [how, headers] of [
          ["header", jwt],
          ["subprotocol", subprotocol(minted)],
        ] as const) {
          const label = `${route.name} with ${scope} by ${how}`;
          const res = await call(route, headers);
          if (order.indexOf(scope) >= order.indexOf(needed)) {
            await expectAllowed(res, route);
          } else {
            await expectRefused(res, "forbidden", label);
          }
        }
      }
      // What a refused write or start would have changed is still as it was.
      const sim = await guarded(`/v1/channels/${ch}/simulator`, { headers: admin });
      expect(await sim.json(), scope).toMatchObject({ running: false });
      const stats = await guarded(`/v1/channels/${ch}`, { headers: jwt });
      expect((await stats.json()) as object, scope).toMatchObject({
        total: scope === "read" ? 0 : 1,
      });
    }
  });

  it("lets a token with an exp in the future through", async () => {
    const ch = "auth-exp";
    const jwt = await token({ sub: "alice", ch, scope: "admin", exp: now() + 3_600 });
    for (const route of routes(ch)) await expectAllowed(await call(route, bearer(jwt)), route);
  });

  it("lets a token for every channel (ch *) act on any channel", async () => {
    const jwt = bearer(await good("*", "admin"));
    for (const ch of ["auth-star-a", "auth-star.b"]) {
      for (const route of routes(ch)) await expectAllowed(await call(route, jwt), route);
      const stats = await guarded(`/v1/channels/${ch}`, { headers: jwt });
      expect(await stats.json()).toMatchObject({ channel: ch, total: 1 });
    }
  });

  it("fills a message's missing author with the token's subject", async () => {
    const ch = "auth-author";
    const jwt = bearer(await good(ch, "write", "wendy"));
    const res = await guarded(`/v1/channels/${ch}/messages`, {
      method: "POST",
      headers: { ...jwt, "content-type": "application/json" },
      body: JSON.stringify({
        messages: [
          { id: "a", ts: 1, text: "mine" },
          { id: "b", ts: 2, author: "someone", text: "theirs" },
        ],
      }),
    });
    expect(await res.json()).toEqual({ inserted: 2, duplicates: 0, total: 2 });
    const page = await guarded(`/v1/channels/${ch}/messages?anchor=oldest`, { headers: jwt });
    const { messages } = (await page.json()) as { messages: { id: string; author: string }[] };
    expect(messages.map((m) => [m.id, m.author])).toEqual([
      ["a", "wendy"],
      ["b", "someone"],
    ]);
  });

  it("answers 401 to a request without a token before it judges the query or body", async () => {
    // docs/protocol.md: every /v1/ request needs a JWT. POST and PUT check access
    // first; a request without a token must learn nothing else either way.
    const ch = "auth-first";
    const at = `/v1/channels/${ch}`;
    const cases: [string, string, RequestInit][] = [
      ["a page with a bad anchor", `${at}/messages?anchor=nowhere`, {}],
      ["a timeline with too few points", `${at}/timeline?points=1`, {}],
      ["an upgrade with a bad user", `${at}/ws?user=a%20b`, { headers: { Upgrade: "websocket" } }],
      ["a batch that is not JSON", `${at}/messages`, { method: "POST", body: "{" }],
      [
        "simulator settings out of range",
        `${at}/simulator`,
        { method: "PUT", body: '{"rate":-1}' },
      ],
    ];
    const got = [];
    for (const [what, path, init] of cases) {
      const res = await guarded(path, init);
      got.push([what, res.status, ((await res.json()) as { error: { code: string } }).error.code]);
    }
    expect(got).toEqual(cases.map(([what]) => [what, 401, "unauthorized"]));
  });
});

// ── Sockets ────────────────────────────────────────────────────────────────

async function openWith(
  ch: string,
  headers: Record<string, string>,
  query: string,
  user: string,
): Promise<Client> {
  const res = await guarded(`/v1/channels/${ch}/ws?${query}`, {
    headers: { Upgrade: "websocket", ...headers },
  });
  return clientOf(res, ch, user);
}

describe("socket access", () => {
  it("takes the user from the token's subject, by header or ?token=, whatever ?user= says", async () => {
    const ch = "auth-ws-sub";
    const jwt = await good(ch, "read", "alice");
    const byHeader = await openWith(ch, bearer(jwt), "user=mallory", "alice");
    expect(await byHeader.next("hello")).toMatchObject({
      type: "hello",
      user: "alice",
      channel: ch,
    });
    const byQuery = await openWith(ch, {}, `user=mallory&token=${jwt}`, "alice");
    expect(await byQuery.next("hello")).toMatchObject({ type: "hello", user: "alice" });
    const noUser = await openWith(ch, {}, `token=${jwt}`, "alice");
    expect(await noUser.next("hello")).toMatchObject({ type: "hello", user: "alice" });
  });

  it("answers a read-scoped socket's send with forbidden, stores and pushes nothing, stays open", async () => {
    const ch = "auth-ws-read";
    const admin = bearer(await good(ch, "admin", "ada"));
    const seeded = await guarded(`/v1/channels/${ch}/messages`, {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ messages: [{ id: "seed", ts: 1_000, text: "seeded" }] }),
    });
    expect(seeded.status).toBe(200);
    // A socket that holds the whole channel is pushed anything stored.
    const watcher = await openWith(ch, admin, "", "ada");
    await watcher.next("hello");
    const declared = await watcher.call({ type: "view", first: null, last: null, live: true }, "v");
    expect(declared.reply).toEqual({ type: "view", rid: "v", ...unmarkedCounts(1), seq: 1 });

    const reader = await openWith(ch, bearer(await good(ch, "read", "rita")), "", "rita");
    expect(await reader.next("hello")).toMatchObject({ user: "rita", total: 1 });
    const sends: Record<string, unknown>[] = [
      { type: "send", messages: [{ id: "sneaky", ts: 2_000, text: "no" }] },
      { type: "send", messages: [{ id: "seed", ts: 1_000, text: "a duplicate is a write too" }] },
      { type: "send", messages: [{ text: "server id and ts" }] },
    ];
    for (const [n, frame] of sends.entries()) {
      const { reply, others } = await reader.call(frame, `w${n}`);
      expect(reply).toEqual({
        type: "error",
        rid: `w${n}`,
        code: "forbidden",
        message: expect.any(String),
      } satisfies Frame);
      expect(others).toEqual([]);
    }
    // Still open, answered in order (the barrier pong), and nothing reached the watcher.
    expect(await reader.drain()).toEqual([]);
    expect(await watcher.drain()).toEqual([]);
    const stats = await guarded(`/v1/channels/${ch}`, { headers: admin });
    expect(await stats.json()).toMatchObject({ total: 1 });
    // Reading frames are within the scope.
    const page = await reader.call({ type: "page", anchor: "oldest", before: 0, after: 5 }, "p");
    expect(page.reply).toMatchObject({
      type: "page",
      rid: "p",
      total: 1,
      messages: [{ id: "seed" }],
    });
    const list = await reader.call({ type: "late.list" }, "l");
    expect(list.reply).toEqual({ type: "late.list", rid: "l", unread: 0, items: [] });
  });

  it("lets a write-scoped socket send, authored by its subject", async () => {
    const ch = "auth-ws-write";
    const writer = await openWith(ch, bearer(await good(ch, "write", "wendy")), "user=x", "wendy");
    await writer.next("hello");
    const { reply, others } = await writer.call(
      { type: "send", messages: [{ id: "w1", ts: 5, text: "hi" }] },
      "s",
    );
    expect(reply).toEqual({
      type: "sent",
      rid: "s",
      results: [{ id: "w1", seq: 1, duplicate: false }],
      total: 1,
      seq: 1,
    });
    expect(others.find((f) => f.type === "insert")).toMatchObject({
      messages: [{ id: "w1", author: "wendy", text: "hi", position: 0 }],
    });
  });
});
