/**
 * Access on a socket (PROTOCOL.md, "Access"): with AUTH_SECRET set, the
 * upgrade needs a token (`?token=` or a bearer header), the token's subject
 * is the user, and a frame beyond the token's scope gets an `error` frame
 * `forbidden` while the socket stays open. The worker is called with an env
 * that adds the secret; everything else is the real binding.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import app from "../../src/worker.ts";
import { msg } from "../support/data.ts";
import { type Client, closeAll } from "../support/socket.ts";
import { hs256 } from "./jwt.ts";
import { clientOf, postMessages, stats } from "./net.ts";

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
