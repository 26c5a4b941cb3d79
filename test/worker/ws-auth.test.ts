/**
 * Access on a socket (docs/protocol.md, "Access" and "A token without the URL"):
 * with AUTH_SECRET set, the upgrade needs a token (a bearer header, a
 * `bearer.<jwt>` subprotocol answered `scrollback`, or `?token=`), the token's
 * subject is the user, and a frame beyond the token's scope gets an `error`
 * frame `forbidden` while the socket stays open. The worker is called with an
 * env that adds the secret; everything else is the real binding.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import app from "../../src/worker.ts";
import { msg } from "../support/data.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { hs256 } from "./jwt.ts";
import { api, clientOf, postMessages, stats } from "./net.ts";

afterEach(closeAll);

const SECRET = "ws-auth-test-secret";

/** An HS256 JWT, made by hand rather than by the code under test. */
const token = (claims: Record<string, unknown>, secret = SECRET) => hs256(claims, secret);

/** The worker with a secret, as a deployment with AUTH_SECRET runs it. */
function guarded(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(
    app.fetch(new Request(`http://x${path}`, { headers: { Upgrade: "websocket", ...headers } }), {
      ...env,
      AUTH_SECRET: SECRET,
    }),
  );
}

async function openWith(channel: string, jwt: string, user = "ignored"): Promise<Client> {
  const res = await guarded(`/v1/channels/${channel}/ws?user=${user}&token=${jwt}`);
  return clientOf(res, channel, user);
}

describe("socket access", () => {
  it("refuses an upgrade without a token or with a bad one with unauthorized", async () => {
    for (const query of [
      "",
      `&token=${await token({ sub: "a", ch: "*", scope: "read" }, "wrong")}`,
    ]) {
      const res = await guarded(`/v1/channels/auth-401/ws?user=alice${query}`);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("refuses a token for another channel with forbidden", async () => {
    const jwt = await token({ sub: "alice", ch: "elsewhere", scope: "write" });
    const res = await guarded(`/v1/channels/auth-403/ws?token=${jwt}`);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
  });

  it("takes the user from the token's subject, by query or bearer header", async () => {
    const jwt = await token({ sub: "alice", ch: "auth-sub", scope: "read" });
    const byQuery = await openWith("auth-sub", jwt, "mallory");
    expect(await byQuery.next("hello")).toMatchObject({ user: "alice", channel: "auth-sub" });
    const res = await guarded("/v1/channels/auth-sub/ws?user=mallory", {
      Authorization: `Bearer ${jwt}`,
    });
    const byHeader = await clientOf(res, "auth-sub", "alice");
    expect(await byHeader.next("hello")).toMatchObject({ user: "alice" });
  });

  it("answers a send on a read-only socket with forbidden, stores nothing, stays open", async () => {
    await postMessages("auth-read", [msg("seeded", 1_000)]);
    const reader = await openWith(
      "auth-read",
      await token({ sub: "rita", ch: "*", scope: "read" }),
    );
    await reader.next("hello");
    const { reply, others } = await reader.call(
      { type: "send", messages: [msg("sneaky", 2_000)] },
      "w1",
    );
    expect(reply).toEqual({
      type: "error",
      rid: "w1",
      code: "forbidden",
      message: expect.any(String),
    });
    expect(others).toEqual([]);
    expect((await stats("auth-read")).total).toBe(1);
    // Reading frames are within the scope.
    const page = await reader.call({ type: "page", anchor: "newest", before: 0, after: 0 }, "p");
    expect(page.reply).toMatchObject({ type: "page", rid: "p", total: 1 });
    const list = await reader.call({ type: "late.list" }, "l");
    expect(list.reply).toMatchObject({ type: "late.list", rid: "l", unread: 0 });
  });

  it("refuses every frame after the token expires with unauthorized, storing nothing", async () => {
    // Valid at the upgrade, expiring a second later: the wait is the feature under test.
    const exp = Math.floor(Date.now() / 1000) + 1;
    const writer = await openWith(
      "auth-exp",
      await token({ sub: "eve", ch: "auth-exp", scope: "write", exp }),
    );
    await writer.next("hello");
    const before = await writer.call({ type: "send", messages: [{ text: "in time" }] }, "s1");
    expect(before.reply).toMatchObject({ type: "sent", rid: "s1", total: 1 });
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    // Each frame, pings with a rid included, now gets just its error.
    for (const frame of [
      { type: "send", rid: "s2", messages: [{ text: "too late" }] },
      { type: "page", rid: "p2", anchor: "newest" },
      { type: "ping", rid: "g2" },
    ]) {
      writer.send(frame);
      expect(await writer.next()).toEqual({
        type: "error",
        rid: frame.rid,
        code: "unauthorized",
        message: expect.any(String),
      });
    }
    expect((await stats("auth-exp")).total).toBe(1);
  });

  it("lets a write token send, with the subject as the default author", async () => {
    const writer = await openWith(
      "auth-write",
      await token({ sub: "wendy", ch: "auth-write", scope: "write" }),
    );
    await writer.next("hello");
    const { reply, others } = await writer.call({ type: "send", messages: [{ text: "hi" }] }, "w");
    expect(reply).toMatchObject({ type: "sent", rid: "w", total: 1 });
    const insert = others.find((f) => f.type === "insert");
    expect(insert).toMatchObject({ messages: [{ author: "wendy", text: "hi" }] });
  });
});

// docs/protocol.md, "A token without the URL": `new WebSocket(url, ["scrollback", "bearer." + jwt])`.
const offer = (jwt: string) => ({ "Sec-WebSocket-Protocol": `scrollback, bearer.${jwt}` });

/** A refusal's status and body, to compare one place of the token with another. */
async function refusal(res: Response): Promise<[number, unknown]> {
  return [res.status, await res.json()];
}

describe("a token as a subprotocol", () => {
  it("opens the socket as the token's subject and answers scrollback, never the token", async () => {
    const jwt = await token({ sub: "alice", ch: "auth-proto", scope: "read" });
    for (const offered of [`scrollback, bearer.${jwt}`, `bearer.${jwt},scrollback`]) {
      const res = await guarded("/v1/channels/auth-proto/ws?user=mallory", {
        "Sec-WebSocket-Protocol": offered,
      });
      expect(res.headers.get("Sec-WebSocket-Protocol"), offered).toBe("scrollback");
      const socket = await clientOf(res, "auth-proto", "alice");
      expect(await socket.next("hello")).toMatchObject({ user: "alice", channel: "auth-proto" });
    }
  });

  it("refuses bad, expired and other-channel tokens exactly as it does them in ?token=", async () => {
    const past = Math.floor(Date.now() / 1000) - 60;
    const cases: [string, string, number][] = [
      ["another secret", await token({ sub: "a", ch: "*", scope: "read" }, "wrong"), 401],
      ["expired", await token({ sub: "a", ch: "*", scope: "read", exp: past }), 401],
      ["no scope", await token({ sub: "a", ch: "auth-proto-bad" }), 401],
      ["not a JWT", "garbage", 401],
      ["another channel", await token({ sub: "a", ch: "elsewhere", scope: "admin" }), 403],
    ];
    const at = "/v1/channels/auth-proto-bad/ws";
    for (const [why, jwt, status] of cases) {
      const bySubprotocol = await refusal(await guarded(at, offer(jwt)));
      const byQuery = await refusal(await guarded(`${at}?token=${jwt}`));
      expect(bySubprotocol, why).toEqual(byQuery);
      expect(bySubprotocol[0], why).toBe(status);
      expect(JSON.stringify(bySubprotocol[1]), why).not.toContain(jwt);
    }
    // Offered without a token, or with an empty one: no token at all.
    for (const offered of ["scrollback", "scrollback, bearer."]) {
      const res = await guarded(at, { "Sec-WebSocket-Protocol": offered });
      expect(await refusal(res), offered).toEqual(await refusal(await guarded(at)));
    }
  });

  it("refuses two different tokens with unauthorized, and takes the same one twice", async () => {
    const ch = "auth-proto-two";
    const alice = await token({ sub: "alice", ch, scope: "read" });
    const bob = await token({ sub: "bob", ch, scope: "read" });
    const at = `/v1/channels/${ch}/ws`;
    const conflicts: [string, string, Record<string, string>][] = [
      ["subprotocol and query", `?token=${bob}`, offer(alice)],
      ["header and subprotocol", "", { ...offer(alice), Authorization: `Bearer ${bob}` }],
      ["header and query", `?token=${bob}`, { Authorization: `Bearer ${alice}` }],
      [
        "two subprotocols",
        "",
        { "Sec-WebSocket-Protocol": `scrollback, bearer.${alice}, bearer.${bob}` },
      ],
    ];
    for (const [why, query, headers] of conflicts) {
      const [status, body] = await refusal(await guarded(`${at}${query}`, headers));
      expect(status, why).toBe(401);
      expect(body, why).toMatchObject({ error: { code: "unauthorized" } });
      expect(JSON.stringify(body), why).not.toContain(alice.slice(-20));
      expect(JSON.stringify(body), why).not.toContain(bob.slice(-20));
    }
    const same = await guarded(`${at}?token=${alice}`, {
      ...offer(alice),
      Authorization: `Bearer ${alice}`,
    });
    expect(same.headers.get("Sec-WebSocket-Protocol")).toBe("scrollback");
    expect(await (await clientOf(same, ch, "alice")).next("hello")).toMatchObject({
      user: "alice",
    });
  });

  it("answers no subprotocol to a client that offered none", async () => {
    const jwt = await token({ sub: "alice", ch: "auth-proto-none", scope: "read" });
    const res = await guarded(`/v1/channels/auth-proto-none/ws?token=${jwt}`);
    expect(res.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    await (await clientOf(res, "auth-proto-none", "alice")).next("hello");
  });

  it("answers scrollback on an open worker too, whatever token is offered", async () => {
    const ch = "auth-proto-open";
    for (const offered of ["scrollback", "scrollback, bearer.not-even-a-jwt"]) {
      const res = await api(`/v1/channels/${ch}/ws?user=olga`, {
        headers: { Upgrade: "websocket", "Sec-WebSocket-Protocol": offered },
      });
      expect(res.headers.get("Sec-WebSocket-Protocol"), offered).toBe("scrollback");
      expect(await (await clientOf(res, ch, "olga")).next("hello")).toMatchObject({ user: "olga" });
    }
    const plain = await api(`/v1/channels/${ch}/ws?user=olga`, {
      headers: { Upgrade: "websocket" },
    });
    expect(plain.headers.get("Sec-WebSocket-Protocol")).toBeNull();
    await (await clientOf(plain, ch, "olga")).next("hello");
  });
});
