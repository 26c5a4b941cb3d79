/**
 * Protocol 1.2 against the served documents: real answers of
 * `POST /v1/channels/{ch}/changes` (every outcome, every error status, the
 * moderate scope on a secured worker) and real frames of a session with
 * changes (`change`, `changed`, `remove`, `update`, `resumed.removed` and
 * `.updated`, `sent.results[].deleted`, messages' `edited` and `reactions`)
 * validate against the documents' schemas; and the schemas refuse what 1.2
 * does not allow. What each outcome should be is written out by hand here.
 */
import { env } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import app from "../../src/worker.ts";
import { closeAll } from "../support/socket.ts";
import { CH, type Json, ServedDocs } from "./api-docs-check.ts";
import { hs256 } from "./jwt.ts";
import { openSocket } from "./net.ts";

let docs: ServedDocs;

beforeAll(async () => {
  docs = await ServedDocs.load();
});
afterEach(closeAll);

const CHANGES = `${CH}/changes`;
type Result = { id: string; outcome: string; seq?: number };
type Page = { messages: Json[] };
/** The kit's frame types predate 1.2's frames: here every frame is read as plain JSON. */
const json = (...frames: object[]) => frames as Json[];

describe("OpenAPI document, protocol 1.2", () => {
  it("describes real answers of POST /changes, every outcome, and pages with edits and reactions", async () => {
    const ch = "docs-changes";
    const messages = [1, 2, 3].map((i) => ({
      id: `m${i}`,
      ts: 1_000 * i,
      author: "ann",
      text: `t${i}`,
    }));
    expect(await docs.check("POST", `${CH}/messages`, ch, "", { json: { messages } })).toBe(200);
    const changes = [
      { kind: "edit", id: "m1", text: "t1, edited", ts: 5_000 },
      { kind: "react", id: "m2", emoji: "👍", on: true, ts: 5_000 },
      { kind: "react", id: "m2", emoji: "👍", on: true, ts: 5_000 },
      { kind: "delete", id: "m3" },
      { kind: "edit", id: "m3", text: "too late", ts: 6_000 },
      { kind: "react", id: "m4", emoji: "🎉", on: true, ts: 5_000 },
    ];
    const { status, body } = await docs.call("POST", CHANGES, ch, "", {
      json: { user: "ann", changes },
    });
    expect(status).toBe(200);
    const { results, total } = body as { results: Result[]; total: number };
    expect(results.map((r) => [r.id, r.outcome, r.seq !== undefined])).toEqual([
      ["m1", "applied", true],
      ["m2", "applied", true],
      ["m2", "stale", false],
      ["m3", "applied", true],
      ["m3", "deleted", false],
      ["m4", "pending", true],
    ]);
    expect(total).toBe(2);

    // Re-sending the deleted id is a duplicate; m4 arrives and takes its held reaction.
    const again = [messages[2], { id: "m4", ts: 4_000, author: "bob", text: "t4" }];
    const insert = await docs.call("POST", `${CH}/messages`, ch, "", { json: { messages: again } });
    expect(insert.body).toEqual({ inserted: 1, duplicates: 1, total: 3 });
    const page = await docs.call("GET", `${CH}/messages`, ch, "?anchor=oldest&after=10");
    const shown = (page.body as Page).messages.map(({ id, text, edited, reactions }) => ({
      id,
      text,
      edited,
      reactions,
    }));
    // Over HTTP there is no user: reactions carry no `mine`.
    expect(shown).toEqual([
      { id: "m1", text: "t1, edited", edited: 5_000, reactions: undefined },
      { id: "m2", text: "t2", edited: undefined, reactions: [{ emoji: "👍", count: 1 }] },
      { id: "m4", text: "t4", edited: undefined, reactions: [{ emoji: "🎉", count: 1 }] },
    ]);
  });

  it("describes real errors of POST /changes with their statuses: 400, 403, 413", async () => {
    const ch = "docs-changes-errors";
    const messages = [{ id: "m1", ts: 1_000, author: "ann", text: "t1" }];
    expect(await docs.check("POST", `${CH}/messages`, ch, "", { json: { messages } })).toBe(200);
    const edit = { kind: "edit", id: "m1", text: "mine now", ts: 2_000 };
    const cases: [Json, number][] = [
      // An open worker has no signed-in user: the body must name one.
      [{ changes: [edit] }, 400],
      [{ user: "ann", changes: [] }, 400],
      [
        {
          user: "ann",
          changes: [{ kind: "react", id: "m1", emoji: "x".repeat(33), on: true, ts: 1 }],
        },
        400,
      ],
      [{ user: "ann", changes: [{ kind: "pin", id: "m1" }] }, 400],
      // Only the author edits; a delete by someone else needs moderate (nobody holds it on an open worker).
      [{ user: "bob", changes: [edit] }, 403],
    ];
    for (const [json, expected] of cases) {
      expect({ json, status: await docs.check("POST", CHANGES, ch, "", { json }) }).toEqual({
        json,
        status: expected,
      });
    }
    const huge = { body: JSON.stringify({ user: "ann", pad: "x".repeat(32 * 1024 * 1024) }) };
    expect(await docs.check("POST", CHANGES, ch, "", { ...huge })).toBe(413);
    // Nothing of the refused bodies was applied.
    const page = await docs.call("GET", `${CH}/messages`, ch);
    expect((page.body as Page).messages.map((m) => m.text)).toEqual(["t1"]);
  });

  it("describes real answers on a secured worker: 401, 403 below write, moderate deletes anyone's", async () => {
    const secret = "docs-changes-secret";
    const ch = "docs-changes-auth";
    const token = (sub: string, scope: string) => hs256({ sub, ch, scope }, secret);
    const call = async (path: string, body: unknown, jwt?: string) => {
      const headers: Record<string, string> = jwt ? { Authorization: `Bearer ${jwt}` } : {};
      const request = new Request(`http://x${path.replace("{ch}", ch)}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      });
      const res = await app.fetch(request, { ...env, AUTH_SECRET: secret });
      const answer = await res.json();
      docs.expectAnswer("POST", path, res.status, answer);
      return { status: res.status, answer };
    };
    const messages = [
      { id: "a1", ts: 1_000, text: "by ann" },
      { id: "a2", ts: 2_000, text: "by ann too" },
    ];
    const posted = await call(`${CH}/messages`, { messages }, await token("ann", "write"));
    expect(posted.status).toBe(200);
    const del = (id: string) => ({ changes: [{ kind: "delete", id }] });
    // The body's `user` is ignored with a token: bob stays bob.
    const asAnn = { user: "ann", ...del("a1") };
    const outcomes: [string, Json, string | undefined, number][] = [
      ["no token", del("a1"), undefined, 401],
      ["read", del("a1"), await token("bob", "read"), 403],
      ["write, not the author", asAnn, await token("bob", "write"), 403],
      ["moderate", del("a1"), await token("mod", "moderate"), 200],
      ["admin", del("a2"), await token("root", "admin"), 200],
    ];
    for (const [who, body, jwt, expected] of outcomes) {
      const { status } = await call(CHANGES, body, jwt);
      expect({ who, status }).toEqual({ who, status: expected });
    }
  });
});

describe("AsyncAPI document, protocol 1.2", () => {
  it("describes the frames of a real session with changes, both ways", async () => {
    const ch = "docs-frames-1.2";
    const sent: Json[] = [];
    const seen: Json[] = [];
    const ann = await openSocket(ch, "ann");
    const bob = await openSocket(ch, "bob");
    seen.push(...json(await ann.next("hello"), await bob.next("hello")));
    const call = async (client: typeof ann, frame: Json) => {
      sent.push(frame);
      const { reply, others } = await client.call(frame);
      const peer = await (client === ann ? bob : ann).drain();
      seen.push(...json(reply, ...others, ...peer));
      return json(reply)[0] as Json;
    };
    const whole = { first: null, last: null, live: true };
    await call(ann, { type: "view", ...whole });
    await call(bob, { type: "view", ...whole });
    const texts = ["one", "two", "three", "four"];
    await call(ann, {
      type: "send",
      messages: texts.map((text, i) => ({ id: `f${i}`, ts: 1_000 + i, text })),
    });
    const since = ann.seq;
    await call(ann, {
      type: "change",
      changes: [
        { kind: "edit", id: "f0", text: "one, edited", ts: 9_000 },
        { kind: "delete", id: "f1" },
        { kind: "react", id: "f9", emoji: "🎉", on: true, ts: 9_000 },
      ],
    });
    await call(bob, {
      type: "change",
      changes: [{ kind: "react", id: "f2", emoji: "👍", on: true, ts: 9_000 }],
    });
    await call(ann, {
      type: "change",
      changes: [{ kind: "react", id: "f2", emoji: "👍", on: true, ts: 9_001 }],
    });
    // Refused: bob may not edit ann's message (an error frame; nothing applied).
    const refused = await call(bob, {
      type: "change",
      changes: [{ kind: "edit", id: "f0", text: "bob's", ts: 9_500 }],
    });
    expect(refused).toMatchObject({ type: "error", code: "forbidden" });
    // A redelivered deleted message, and one whose delete was held before it arrived.
    await call(ann, { type: "change", changes: [{ kind: "delete", id: "f8" }] });
    const redelivered = await call(ann, {
      type: "send",
      messages: [
        { id: "f1", ts: 1_001, text: "two" },
        { id: "f8", ts: 1_008, text: "eight" },
      ],
    });
    expect(
      (redelivered as { results: Json[] }).results.map((r) => [r.duplicate, r.deleted]),
    ).toEqual([
      [true, true],
      [false, true],
    ]);
    const resumed = await call(bob, { type: "resume", since, ...whole });
    expect(resumed).toMatchObject({ type: "resumed", complete: true, removed: ["f1"] });
    const updated = (resumed as { updated: Json[] }).updated;
    expect(updated.map((m) => [m.id, m.text, m.edited, m.reactions])).toEqual([
      ["f0", "one, edited", 9_000, undefined],
      ["f2", "three", undefined, [{ emoji: "👍", count: 2, mine: true }]],
    ]);

    const types = new Set(seen.map((f) => String(f.type)));
    for (const type of ["changed", "remove", "update", "resumed", "sent", "status", "error"]) {
      expect(types, `a ${type} frame was captured`).toContain(type);
    }
    // `mine` is per socket: bob's reaction is his in his update and not in ann's.
    const reactionsIn = (frames: Json[]) =>
      frames
        .filter((f) => f.type === "update")
        .flatMap((f) =>
          (f.messages as Json[]).flatMap((m) => (m.reactions as Json[] | undefined) ?? []),
        );
    expect(reactionsIn(seen)).toContainEqual({ emoji: "👍", count: 1, mine: true });
    expect(reactionsIn(seen)).toContainEqual({ emoji: "👍", count: 1 });
    docs.expectFrames("server", seen);
    docs.expectFrames("client", sent);
    console.log(`1.2 session: ${seen.length} server frames and ${sent.length} client frames valid`);
  });

  it("rejects 1.2 frames the protocol does not allow (the checks above can fail)", () => {
    const refuses = (id: string, frame: Json) =>
      expect(
        new Validator(docs.payload(id), "7", false).validate(frame).valid,
        JSON.stringify(frame),
      ).toBe(false);
    refuses("client.change", { type: "change", changes: [] });
    refuses("client.change", { type: "change", changes: [{ kind: "pin", id: "m" }] });
    refuses("client.change", {
      type: "change",
      changes: [{ kind: "react", id: "m", emoji: "x", ts: 1 }],
    });
    refuses("server.changed", {
      type: "changed",
      results: [{ id: "m", outcome: "done" }],
      total: 1,
      seq: 1,
    });
    refuses("server.remove", { type: "remove", ids: ["m"], seq: 1 });
    refuses("server.update", { type: "update", messages: [{ id: "m" }], seq: 1 });
    refuses("server.sent", {
      type: "sent",
      results: [{ id: "m", seq: 1, duplicate: true, deleted: false }],
      total: 1,
      seq: 1,
    });
    const message = { id: "m", ts: 1, author: "a", text: "t", seq: 1, late: false };
    refuses("server.insert", {
      type: "insert",
      messages: [{ ...message, reactions: [{ emoji: "x", count: 1, mine: false }] }],
      total: 1,
      seq: 1,
    });
    const resumed = {
      type: "resumed",
      complete: true,
      seq: 1,
      total: 1,
      lateUnread: 0,
      reactionsUnread: 0,
      unread: 1,
      shifted: 0,
      messages: [],
    };
    refuses("server.resumed", resumed);
    expect(
      new Validator(docs.payload("server.resumed"), "7", false).validate({
        ...resumed,
        removed: [],
        updated: [],
      }).valid,
    ).toBe(true);
  });
});
