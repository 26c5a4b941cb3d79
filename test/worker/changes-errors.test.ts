/**
 * Bad changes (protocol 1.2, "Changes"; docs/protocol.md "Errors"): unknown
 * kinds, missing fields, text over 4,000 code units, emoji over 32, lone
 * surrogates, more than 1,000 changes, changes the user may not make, and
 * frames mixing good changes with a bad one — over a socket and over HTTP.
 * Each gets a clear error naming the change and field, nothing of it is
 * applied (seq, total and every page as the kit's model has them, nothing
 * pushed), the socket stays open and answers its next frame.
 */
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { fromBlob } from "../../src/channel/sql.ts";
import { authoredBy, react, series, seriesKey } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { closeAll } from "../support/socket.ts";
import {
  type Change,
  type Code,
  MAX_CHANGES,
  STATUS_OF,
  withoutAudience,
} from "../support/wire.ts";
import { hs256 } from "./jwt.ts";
import { channelStub, clientOf, harness, post, securedFetch, stats, TEST_SECRET } from "./net.ts";

afterEach(closeAll);

/** Message i of the series: even ones by ann, odd ones by bob. */
const id = (i: number) => seriesKey(i).id;
/** ann's 👍 on message i at `ts`: always allowed. */
const like = (i: number, ts: number): Change => react(i, "👍", true, ts);
/** Good changes ann may make: a reaction, an edit of her own message, one held for an absent id. */
const GOOD: Change[] = [
  like(1, 1),
  { kind: "edit", id: id(0), text: "ann's own", ts: 1 },
  { kind: "react", id: "absent", emoji: "🎉", on: true, ts: 1 },
];
const HUGE = 2 ** 53;

interface Bad {
  readonly name: string;
  /** The frame's or body's `changes`; undefined: the field is left out. */
  readonly changes: unknown;
  readonly code: Code;
  /** How the error's message starts: the change and field it names. */
  readonly names: string;
}

const bad = (name: string, changes: unknown, names: string, code: Code = "bad_request"): Bad => ({
  name,
  changes,
  code,
  names,
});
const one = (fields: Record<string, unknown>) => [fields];

const BAD: readonly Bad[] = [
  bad("an unknown kind", one({ kind: "pin", id: id(1) }), "changes[0].kind"),
  bad("a change without kind", one({ id: id(1), text: "x", ts: 1 }), "changes[0].kind"),
  bad("an edit without text", one({ kind: "edit", id: id(0), ts: 1 }), "changes[0].text"),
  bad("an edit without ts", one({ kind: "edit", id: id(0), text: "x" }), "changes[0].ts"),
  bad(
    "a reaction without on",
    one({ kind: "react", id: id(1), emoji: "a", ts: 1 }),
    "changes[0].on",
  ),
  bad(
    "a reaction without emoji",
    one({ kind: "react", id: id(1), on: true, ts: 1 }),
    "changes[0].emoji",
  ),
  bad("a delete without id", one({ kind: "delete" }), "changes[0].id"),
  bad(
    "an edit of 4,001 code units",
    one({ kind: "edit", id: id(0), text: "x".repeat(4_001), ts: 1 }),
    "changes[0].text",
  ),
  bad(
    "an emoji of 33 code units",
    one({ kind: "react", id: id(1), emoji: "x".repeat(33), on: true, ts: 1 }),
    "changes[0].emoji",
  ),
  bad(
    "an emoji of 17 surrogate pairs",
    one({ kind: "react", id: id(1), emoji: "😀".repeat(17), on: true, ts: 1 }),
    "changes[0].emoji",
  ),
  bad(
    "an empty emoji",
    one({ kind: "react", id: id(1), emoji: "", on: true, ts: 1 }),
    "changes[0].emoji",
  ),
  bad("an empty text", one({ kind: "edit", id: id(0), text: "", ts: 1 }), "changes[0].text"),
  bad("an id of 65 code units", one({ kind: "delete", id: "i".repeat(65) }), "changes[0].id"),
  bad(
    "a lone surrogate in a text",
    one({ kind: "edit", id: id(0), text: "a\ud800b", ts: 1 }),
    "changes[0].text",
  ),
  bad(
    "a lone surrogate in an emoji",
    one({ kind: "react", id: id(1), emoji: "\udc00", on: true, ts: 1 }),
    "changes[0].emoji",
  ),
  bad("a lone surrogate in an id", one({ kind: "delete", id: "\ud83d" }), "changes[0].id"),
  bad(
    "a ts that is not an integer",
    one({ kind: "edit", id: id(0), text: "x", ts: 1.5 }),
    "changes[0].ts",
  ),
  bad(
    "a ts past 2^53",
    one({ kind: "react", id: id(1), emoji: "a", on: true, ts: HUGE }),
    "changes[0].ts",
  ),
  bad(
    "an on that is a string",
    one({ kind: "react", id: id(1), emoji: "a", on: "true", ts: 1 }),
    "changes[0].on",
  ),
  bad("a change that is not an object", [5], "changes[0]"),
  bad("no changes", [], "changes"),
  bad("changes left out", undefined, "changes"),
  bad("changes that are not a list", "delete all", "changes"),
  bad(
    "1,001 changes",
    Array.from({ length: MAX_CHANGES + 1 }, (_, i) => like(1, i)),
    "changes",
  ),
  bad(
    "good changes and a bad one",
    [
      ...GOOD,
      one({ kind: "react", id: id(1), emoji: "y".repeat(33), on: true, ts: 2 })[0],
      like(3, 9),
    ],
    "changes[3].emoji",
  ),
  bad(
    "a forbidden change and a bad one",
    [{ kind: "delete", id: id(1) }, { kind: "delete" }],
    "changes[1].id",
  ),
  bad(
    "an edit of another's message",
    [{ kind: "edit", id: id(1), text: "bob's", ts: 1 }],
    "changes[0]",
    "forbidden",
  ),
  bad("a delete of another's message", [{ kind: "delete", id: id(3) }], "changes[0]", "forbidden"),
  bad(
    "good changes and a forbidden one",
    [...GOOD, { kind: "delete", id: id(5) }, like(7, 3)],
    "changes[3]",
    "forbidden",
  ),
];

/** 30 messages by ann and bob; ann makes the changes; a watcher holds the whole channel. */
async function scene(channel: string): Promise<{ h: Harness; ann: Peer; watcher: Peer }> {
  const h = harness(channel);
  await h.post(authoredBy(series(30), ["ann", "bob"]));
  const ann = await h.connect("ann");
  const watcher = await h.connect("wat");
  await h.declare(watcher, null, null, false);
  return { h, ann, watcher };
}

/** Nothing was applied or pushed: seq, total, stats and the whole list are the model's. */
async function expectUnchanged(h: Harness, ann: Peer, watcher: Peer, label: string): Promise<void> {
  expect(await watcher.client.drain(), `${label}: nothing pushed`).toEqual([]);
  expect(withoutAudience(await stats(h.channel)), label).toEqual(
    withoutAudience(h.model.stats(h.channel)),
  );
  await h.page(ann, "oldest", 0, 200);
}

/** The error a case gets, with its message naming the change and field. */
const errorOf = (b: Bad) => ({
  code: b.code,
  message: expect.stringMatching(new RegExp(`^${b.names.replace(/[[\].]/g, "\\$&")}[.:]`)),
});

describe("bad changes over a socket", () => {
  it("refuses each with its error naming the field, applies nothing and answers the next frame", async () => {
    const { h, ann, watcher } = await scene("chg-bad-ws");
    let ts = 10;
    for (const [n, b] of BAD.entries()) {
      const frame = { type: "change", ...(b.changes === undefined ? {} : { changes: b.changes }) };
      const { reply, others } = await ann.client.call(frame, `bad-${n}`);
      expect(others, b.name).toEqual([]);
      expect(reply, b.name).toEqual({ type: "error", rid: `bad-${n}`, ...errorOf(b) });
      await expectUnchanged(h, ann, watcher, b.name);
      // Still open, and the next frame is a write like any other.
      await h.change(ann, [like(1, ts++)]);
    }
    console.log(`bad changes over a socket: ${BAD.length} refused, nothing applied`);
  });

  it("accepts exactly 4,000 code units of text, 32 of emoji and 1,000 changes", async () => {
    const { h, ann } = await scene("chg-bad-ws-edges");
    const outcome = await h.change(ann, [
      { kind: "edit", id: id(0), text: "😀".repeat(2_000), ts: 1 },
      { kind: "react", id: id(1), emoji: "😀".repeat(16), on: true, ts: 1 },
      { kind: "react", id: id(1), emoji: "x".repeat(32), on: true, ts: 1 },
    ]);
    expect(outcome).toMatchObject({
      results: [{ outcome: "applied" }, { outcome: "applied" }, { outcome: "applied" }],
    });
    await h.change(
      ann,
      Array.from({ length: MAX_CHANGES }, (_, i) => like(i % 30, i + 2)),
    );
  });

  it("refuses changes on a read-only socket with forbidden and keeps it open", async () => {
    const { h, watcher } = await scene("chg-bad-ws-read");
    const jwt = await hs256({ sub: "rita", ch: h.channel, scope: "read" }, TEST_SECRET);
    const res = await securedFetch(`/v1/channels/${h.channel}/ws`, {
      headers: { Upgrade: "websocket", Authorization: `Bearer ${jwt}` },
    });
    const reader = await clientOf(res, h.channel, "rita");
    await reader.next("hello");
    const { reply } = await reader.call({ type: "change", changes: [like(1, 1)] }, "ro");
    expect(reply).toEqual({
      type: "error",
      rid: "ro",
      code: "forbidden",
      message: expect.any(String),
    });
    expect(await watcher.client.drain()).toEqual([]);
    expect(withoutAudience(await stats(h.channel))).toEqual(
      withoutAudience(h.model.stats(h.channel)),
    );
    expect(
      (await reader.call({ type: "page", anchor: "newest", before: 0, after: 0 }, "p")).reply,
    ).toMatchObject({
      type: "page",
      rid: "p",
    });
  });
});

describe("a frame of changes that fails in storage", () => {
  it("applies nothing of it, pushes nothing, and serves the next frame", async () => {
    const { h, ann, watcher } = await scene("chg-bad-fault");
    await h.change(ann, [like(1, 1), { kind: "react", id: "absent", emoji: "a", on: true, ts: 1 }]);
    // The frame's fifth change fails as its tombstone is written, after four were applied.
    const poisoned = id(8);
    await runInDurableObject(channelStub(h.channel), (_instance, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      Object.defineProperty(sql, "exec", {
        configurable: true,
        value: (query: string, ...args: SqlStorageValue[]) => {
          const named = args.some((a) => a instanceof ArrayBuffer && fromBlob(a) === poisoned);
          if (query.startsWith("INSERT INTO tombstones") && named)
            throw new Error("injected failure");
          return exec(query, ...args);
        },
      });
    });
    const frame: Change[] = [
      like(1, 2),
      { kind: "edit", id: id(0), text: "half-way", ts: 3 },
      { kind: "delete", id: id(2) },
      { kind: "react", id: "absent", emoji: "b", on: true, ts: 1 },
      { kind: "delete", id: poisoned },
      like(3, 5),
    ];
    const { reply, others } = await ann.client.call({ type: "change", changes: frame }, "f");
    expect(others).toEqual([]);
    expect(reply).toEqual({
      type: "error",
      rid: "f",
      code: "internal",
      message: expect.any(String),
    });
    await expectUnchanged(h, ann, watcher, "a frame that failed half-way");
    // The rest of the channel still works, the same changes without the poisoned one included.
    await h.change(
      ann,
      frame.filter((c) => c.id !== poisoned),
    );
    await h.postChanges("ann", [{ kind: "react", id: "absent", emoji: "c", on: true, ts: 1 }]);
    await h.post([{ id: "absent", ts: 5, author: "ann", text: "arrives" }]);
    await h.page(ann, "oldest", 0, 200);
  });
});

describe("bad changes over HTTP", () => {
  /** POSTs `body` as is to the open worker's changes route. */
  const send = async (channel: string, body: unknown) => {
    const res = await post(`/v1/channels/${channel}/changes`, body);
    return { status: res.status, body: await res.json() };
  };

  it("refuses each with its status and error naming the field, and applies nothing", async () => {
    const { h, ann, watcher } = await scene("chg-bad-http");
    let ts = 10;
    for (const b of BAD) {
      const body = { user: "ann", ...(b.changes === undefined ? {} : { changes: b.changes }) };
      expect(await send(h.channel, body), b.name).toEqual({
        status: STATUS_OF[b.code],
        body: { error: errorOf(b) },
      });
      await expectUnchanged(h, ann, watcher, b.name);
      await h.postChanges("ann", [like(1, ts++)]);
    }
    console.log(`bad changes over HTTP: ${BAD.length} refused, nothing applied`);
  });

  it("refuses a body without a user, or with an invalid one, on an open worker", async () => {
    const { h, ann, watcher } = await scene("chg-bad-http-user");
    const cases: [unknown, string][] = [
      [{ changes: GOOD }, "user"],
      [{ user: "a b", changes: GOOD }, "user"],
      [{ user: "u".repeat(65), changes: GOOD }, "user"],
      [{ user: 7, changes: GOOD }, "user"],
      [[{ user: "ann", changes: GOOD }], ""],
      ["not json", ""],
    ];
    for (const [body, field] of cases) {
      const got = await send(h.channel, body);
      expect(got, JSON.stringify(body).slice(0, 80)).toEqual({
        status: 400,
        body: {
          error: { code: "bad_request", message: expect.stringMatching(field ? /^user[:.]/ : /./) },
        },
      });
      await expectUnchanged(h, ann, watcher, JSON.stringify(body).slice(0, 80));
    }
  });
});
