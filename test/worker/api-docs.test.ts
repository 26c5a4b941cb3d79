/**
 * The served OpenAPI and AsyncAPI documents against the real worker: every
 * route the worker has is documented, and real answers (pages, stats,
 * timeline, inserts, the simulator, each error status) and real frames of a
 * session validate against the documents' schemas. Protocol 1.2's changes:
 * api-docs-1.2.test.ts.
 */

import { env } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import app from "../../src/worker.ts";
import { closeAll } from "../support/socket.ts";
import type { Frame } from "../support/wire.ts";
import { CH, type Json, ServedDocs } from "./api-docs-check.ts";
import { hs256 } from "./jwt.ts";
import { openSocket } from "./net.ts";

let docs: ServedDocs;

beforeAll(async () => {
  docs = await ServedDocs.load();
});
afterEach(closeAll);

const check = (...args: Parameters<ServedDocs["check"]>) => docs.check(...args);

describe("OpenAPI document", () => {
  it("documents every route of the worker", () => {
    const documented = Object.entries(docs.openApi.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => key !== "parameters")
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = app.routes
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
      // The bench's routes are off unless BENCH_NAIVE / BENCH_STATS; the documents describe themselves.
      .filter(
        (route) => !["/naive", "/bench-stats", "api.json"].some((end) => route.endsWith(end)),
      );
    expect([...new Set(served)].sort()).toEqual(documented.sort());
  });

  it("describes real answers: stats, pages, inserts, timeline, the simulator", async () => {
    const ch = "docs-answers";
    expect(await check("GET", CH, ch)).toBe(200);
    expect(await check("GET", `${CH}/messages`, ch)).toBe(200);
    const messages = Array.from({ length: 30 }, (_, i) => ({
      id: `m${i}`,
      ts: 1_000 + (i % 10) * 7,
      author: "a",
      text: `t${i}`,
    }));
    expect(await check("POST", `${CH}/messages`, ch, "", { json: { messages } })).toBe(200);
    expect(await check("GET", CH, ch)).toBe(200);
    for (const search of [
      "",
      "?anchor=oldest&before=0&after=5",
      "?anchor=pos:12",
      "?anchor=id:m3",
    ]) {
      expect(await check("GET", `${CH}/messages`, ch, search)).toBe(200);
    }
    expect(await check("GET", `${CH}/timeline`, ch)).toBe(200);
    expect(await check("GET", `${CH}/timeline`, ch, "?points=7")).toBe(200);
    expect(await check("GET", `${CH}/timeline`, ch, "?points=7&exact=false")).toBe(200);
    expect(await check("GET", `${CH}/simulator`, ch)).toBe(200);
    const put = { body: JSON.stringify({ rate: 1, tickMs: 60_000 }) };
    expect(await check("PUT", `${CH}/simulator`, ch, "", put)).toBe(200);
    expect(await check("DELETE", `${CH}/simulator`, ch)).toBe(200);
  });

  it("describes real errors with their statuses: 400, 404, 413", async () => {
    const ch = "docs-errors";
    expect(await check("GET", `${CH}/messages`, ch, "?anchor=nowhere")).toBe(400);
    expect(await check("GET", `${CH}/timeline`, ch, "?points=1")).toBe(400);
    expect(await check("GET", `${CH}/timeline`, ch, "?exact=maybe")).toBe(400);
    expect(await check("GET", CH, "bad name")).toBe(400);
    expect(await check("POST", `${CH}/messages`, ch, "", { json: { messages: [] } })).toBe(400);
    expect(await check("GET", `${CH}/messages`, ch, "?anchor=id:missing")).toBe(404);
    const big = { body: JSON.stringify({ rate: 1, pad: "x".repeat(70_000) }) };
    expect(await check("PUT", `${CH}/simulator`, ch, "", big)).toBe(413);
    expect(await check("GET", `${CH}/ws`, ch)).toBe(400);
  });

  it("describes real errors with their statuses: 401 and 403 on a secured worker", async () => {
    const secret = "docs-test-secret";
    const guarded = (path: string, headers: Record<string, string> = {}) =>
      Promise.resolve(
        app.fetch(new Request(`http://x${path}`, { headers }), { ...env, AUTH_SECRET: secret }),
      );
    const reader = await hs256({ sub: "r", ch: "docs-auth", scope: "read" }, secret);
    const cases: [string, string, Record<string, string>, number][] = [
      ["GET", CH, {}, 401],
      ["GET", `${CH}/simulator`, { Authorization: `Bearer ${reader}` }, 403],
    ];
    for (const [method, template, headers, status] of cases) {
      const res = await guarded(template.replace("{ch}", "docs-auth"), headers);
      expect(res.status).toBe(status);
      docs.expectAnswer(method, template, status, await res.json());
    }
  });
});

describe("AsyncAPI document", () => {
  it("describes the frames of a real session, both ways", async () => {
    const ch = "docs-frames";
    const sent: Json[] = [];
    const seen: Frame[] = [];
    const client = await openSocket(ch, "alice");
    seen.push(await client.next("hello"));
    const call = async (frame: Json) => {
      sent.push(frame);
      const { reply, others } = await client.call(frame);
      seen.push(reply, ...others);
    };
    await call({ type: "send", messages: [{ id: "b", ts: 2_000, text: "bottom" }] });
    await call({ type: "send", messages: [{ id: "a", ts: 1_000, text: "late" }] });
    await call({ type: "page", anchor: { position: 0 }, before: 0, after: 5 });
    await call({ type: "view", first: null, last: { ts: 2_000, id: "b" }, live: false });
    await call({ type: "late.list", limit: 5 });
    await call({ type: "late.next" });
    await call({ type: "late.ack" });
    await call({ type: "ping" });
    await call({ type: "page", anchor: { id: "nowhere" } });
    await call({ type: "resume", since: 0, first: null, last: null, live: true });

    const types = new Set(seen.map((f) => f.type));
    const replies = ["hello", "sent", "insert", "status", "page", "view", "late.list", "pong"];
    for (const type of [...replies, "resumed"]) {
      expect(types, `a ${type} frame was captured`).toContain(type);
    }
    expect(types).toContain("error");
    docs.expectFrames("server", seen);
    docs.expectFrames("client", sent);
  });

  it("rejects a frame or an answer the protocol does not allow (the checks above can fail)", () => {
    const frame = new Validator(docs.payload("client.page"), "7", false);
    expect(frame.validate({ type: "page", before: "25" }).valid).toBe(false);
    const page = new Validator(docs.responseSchema("GET", `${CH}/messages`, 200), "2020-12", false);
    const answer = {
      messages: [{ id: "x" }],
      start: 0,
      total: 1,
      hasOlder: false,
      hasNewer: false,
    };
    expect(page.validate(answer).valid).toBe(false);
  });
});
