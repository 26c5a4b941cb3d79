import { describe, expect, it } from "vitest";
import { ProtocolError } from "../../src/protocol/errors.ts";
import { parseClientFrame, parseOrThrow } from "../../src/protocol/parse.ts";
import { CLIENT_FRAME_TYPES, InsertBody, Key } from "../../src/protocol/schemas.ts";

/** The error a frame is rejected with: always a bad_request ProtocolError. */
function rejection(frame: unknown): string {
  try {
    parseClientFrame(frame);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).code).toBe("bad_request");
    return (err as ProtocolError).message;
  }
  throw new Error(`accepted ${JSON.stringify(frame).slice(0, 100)}…`);
}

const text = (n: number) => "x".repeat(n);
const KEY = { ts: 1_795_480_000_000, id: "m-1f3a" };

describe("parseClientFrame", () => {
  it("knows exactly the client frame types of docs/protocol.md", () => {
    expect([...CLIENT_FRAME_TYPES].sort()).toEqual(
      [
        "change",
        "late.ack",
        "late.list",
        "late.next",
        "page",
        "ping",
        "reactions.ack",
        "reactions.list",
        "reactions.next",
        "read",
        "resume",
        "send",
        "view",
      ].sort(),
    );
  });

  it("fills a page frame's defaults: anchor newest, before and after 25", () => {
    expect(parseClientFrame({ type: "page" })).toStrictEqual({
      type: "page",
      anchor: "newest",
      before: 25,
      after: 25,
    });
    expect(parseClientFrame({ type: "page", rid: "r7", before: 0, after: 200 })).toStrictEqual({
      type: "page",
      rid: "r7",
      anchor: "newest",
      before: 0,
      after: 200,
    });
  });

  it("accepts every kind of page anchor", () => {
    const anchors = [
      "newest",
      "oldest",
      { id: "m-1f3a" },
      { position: 0 },
      { position: 999_999 },
      { position: -5 }, // past the top: resolves to the nearest end
      { ts: 1_795_480_000_000 },
      { ts: 0 },
    ];
    for (const anchor of anchors) {
      const frame = parseClientFrame({ type: "page", rid: "r", anchor, before: 1, after: 2 });
      expect(frame).toStrictEqual({ type: "page", rid: "r", anchor, before: 1, after: 2 });
    }
  });

  it("parses a view frame with keys or open ends", () => {
    for (const [first, last] of [
      [KEY, KEY],
      [null, KEY],
      [KEY, null],
      [null, null],
    ]) {
      expect(parseClientFrame({ type: "view", first, last, live: false })).toStrictEqual({
        type: "view",
        first,
        last,
        live: false,
      });
    }
  });

  it("takes whole messages as view bounds, keeping only ts and id", () => {
    const message = { ...KEY, author: "alice", text: "hi", seq: 1042, late: false };
    expect(
      parseClientFrame({ type: "view", first: message, last: message, live: true }),
    ).toStrictEqual({ type: "view", first: KEY, last: KEY, live: true });
  });

  it("parses a send frame, with every message field optional but text", () => {
    const messages = [
      { text: "hi" },
      { id: "peer-1", ts: 5, author: "alice", text: text(4000) },
      { text: "\u{1F600}".repeat(2000) }, // 4,000 UTF-16 code units
    ];
    expect(parseClientFrame({ type: "send", rid: "s1", messages })).toStrictEqual({
      type: "send",
      rid: "s1",
      messages,
    });
    const many = Array.from({ length: 1000 }, (_, i) => ({ text: `m${i}` }));
    expect(parseClientFrame({ type: "send", messages: many })).toStrictEqual({
      type: "send",
      messages: many,
    });
  });

  it("fills late.next's before and after 25 and late.list's limit 20", () => {
    expect(parseClientFrame({ type: "late.next", rid: "n" })).toStrictEqual({
      type: "late.next",
      rid: "n",
      before: 25,
      after: 25,
    });
    expect(parseClientFrame({ type: "late.list" })).toStrictEqual({ type: "late.list", limit: 20 });
    expect(parseClientFrame({ type: "late.list", limit: 100 })).toStrictEqual({
      type: "late.list",
      limit: 100,
    });
    expect(parseClientFrame({ type: "late.ack", rid: "a" })).toStrictEqual({
      type: "late.ack",
      rid: "a",
    });
    expect(parseClientFrame({ type: "ping" })).toStrictEqual({ type: "ping" });
  });

  it("takes a rid of up to 64 characters", () => {
    expect(parseClientFrame({ type: "ping", rid: text(64) })).toStrictEqual({
      type: "ping",
      rid: text(64),
    });
    expect(rejection({ type: "ping", rid: text(65) })).toMatchInlineSnapshot(
      `"rid: must be at most 64 UTF-16 code units long"`,
    );
    expect(rejection({ type: "ping", rid: 7 })).toMatchInlineSnapshot(
      `"rid: Invalid input: expected string, received number"`,
    );
  });

  it("names an unknown or missing type", () => {
    expect(rejection({ type: "pgae" })).toMatchInlineSnapshot(
      `"unknown frame type "pgae"; expected one of page, view, send, late.next, late.list, late.ack, ping, resume, change, reactions.next, reactions.list, reactions.ack, read"`,
    );
    expect(rejection({ rid: "r" })).toMatchInlineSnapshot(
      `"unknown frame type null; expected one of page, view, send, late.next, late.list, late.ack, ping, resume, change, reactions.next, reactions.list, reactions.ack, read"`,
    );
    expect(rejection({ type: 3 })).toMatchInlineSnapshot(
      `"unknown frame type 3; expected one of page, view, send, late.next, late.list, late.ack, ping, resume, change, reactions.next, reactions.list, reactions.ack, read"`,
    );
    expect(rejection({ type: "hello" })).toContain('"hello"'); // a server frame
  });

  it("rejects a frame that is not a JSON object", () => {
    for (const frame of [null, [], ["page"], "page", 5, true]) {
      expect(rejection(frame)).toBe("a frame must be a JSON object");
    }
  });

  it("rejects page sides outside 0..200 or not integers", () => {
    expect(rejection({ type: "page", before: 201 })).toMatchInlineSnapshot(
      `"before: Too big: expected number to be <=200"`,
    );
    expect(rejection({ type: "page", after: -1 })).toMatchInlineSnapshot(
      `"after: Too small: expected number to be >=0"`,
    );
    expect(rejection({ type: "page", before: 1.5 })).toMatchInlineSnapshot(
      `"before: Invalid input: expected int, received number"`,
    );
    expect(rejection({ type: "page", before: "25" })).toMatchInlineSnapshot(
      `"before: Invalid input: expected number, received string"`,
    );
    expect(rejection({ type: "late.next", after: 201 })).toMatchInlineSnapshot(
      `"after: Too big: expected number to be <=200"`,
    );
  });

  it("rejects a bad anchor", () => {
    for (const anchor of [
      "latest",
      "",
      null,
      {},
      { id: "" },
      { id: text(65) },
      { position: 1.5 },
      { position: "3" },
      { ts: 1.5 },
      { id: "a", ts: 1 },
      { position: 1, extra: true },
    ]) {
      expect(rejection({ type: "page", anchor }), JSON.stringify(anchor)).toMatch(/^anchor/);
    }
    expect(rejection({ type: "page", anchor: "latest" })).toMatchInlineSnapshot(
      `"anchor: must be "newest", "oldest", "first_unread", { id }, { position } or { ts }"`,
    );
  });

  it("rejects bad messages in a send, naming the first bad field", () => {
    expect(
      rejection({ type: "send", messages: [{ text: "ok" }, { text: text(4001) }] }),
    ).toMatchInlineSnapshot(`"messages[1].text: must be 1–4000 UTF-16 code units long"`);
    expect(rejection({ type: "send", messages: [{ text: "" }] })).toMatchInlineSnapshot(
      `"messages[0].text: must be 1–4000 UTF-16 code units long"`,
    );
    expect(rejection({ type: "send", messages: [{ text: "a\uD800b" }] })).toMatchInlineSnapshot(
      `"messages[0].text: must not contain lone surrogates"`,
    );
    expect(rejection({ type: "send", messages: [{ id: text(65), text: "x" }] })).toMatch(
      /^messages\[0\]\.id: /,
    );
    expect(rejection({ type: "send", messages: [{ author: "", text: "x" }] })).toMatch(
      /^messages\[0\]\.author: /,
    );
    expect(rejection({ type: "send", messages: [{ ts: 1.5, text: "x" }] })).toMatch(
      /^messages\[0\]\.ts: /,
    );
    expect(rejection({ type: "send", messages: [{ ts: 2 ** 53, text: "x" }] })).toMatch(
      /^messages\[0\]\.ts: /,
    );
    expect(rejection({ type: "send", messages: [{ id: "x" }] })).toMatch(/^messages\[0\]\.text: /);
  });

  it("measures text in UTF-16 code units, as docs/protocol.md says", () => {
    // 2,000 astral characters are 4,000 code units: the most a text may hold.
    const full = "\u{1F600}".repeat(2000);
    expect(parseClientFrame({ type: "send", messages: [{ text: full }] })).toStrictEqual({
      type: "send",
      messages: [{ text: full }],
    });
    // One more code unit is over the limit, though it is only 2,001 code points.
    expect(rejection({ type: "send", messages: [{ text: `${full}x` }] })).toMatch(
      /^messages\[0\]\.text: /,
    );
    expect(rejection({ type: "send", messages: [{ text: "\u{1F600}".repeat(4000) }] })).toMatch(
      /^messages\[0\]\.text: /,
    );
  });

  it("rejects a send of no messages or of more than 1,000", () => {
    expect(rejection({ type: "send", messages: [] })).toMatchInlineSnapshot(
      `"messages: Too small: expected array to have >=1 items"`,
    );
    const many = Array.from({ length: 1001 }, () => ({ text: "x" }));
    expect(rejection({ type: "send", messages: many })).toMatchInlineSnapshot(
      `"messages: Too big: expected array to have <=1000 items"`,
    );
    expect(rejection({ type: "send" })).toMatch(/^messages: /);
  });

  it("rejects a view without live, with a bad key or with a missing end", () => {
    expect(rejection({ type: "view", first: null, last: null })).toMatchInlineSnapshot(
      `"live: Invalid input: expected boolean, received undefined"`,
    );
    expect(
      rejection({ type: "view", first: null, last: { ts: "1", id: "a" }, live: true }),
    ).toMatch(/^last\.ts: /);
    expect(rejection({ type: "view", first: null, last: { ts: 1, id: "" }, live: true })).toMatch(
      /^last\.id: /,
    );
    expect(rejection({ type: "view", last: null, live: true })).toMatch(/^first: /);
  });

  it("rejects a late.list limit outside 1..100", () => {
    expect(rejection({ type: "late.list", limit: 0 })).toMatchInlineSnapshot(
      `"limit: Too small: expected number to be >=1"`,
    );
    expect(rejection({ type: "late.list", limit: 101 })).toMatchInlineSnapshot(
      `"limit: Too big: expected number to be <=100"`,
    );
  });
});

describe("parseOrThrow", () => {
  it("returns the parsed value or throws bad_request naming the first bad field", () => {
    expect(parseOrThrow(Key, { ts: 1, id: "a" })).toStrictEqual({ ts: 1, id: "a" });
    const body = { messages: [{ text: "a" }, { text: "b" }, { text: "c" }, { text: "" }] };
    expect(() => parseOrThrow(InsertBody, body)).toThrow(ProtocolError);
    expect(() => parseOrThrow(InsertBody, body)).toThrowErrorMatchingInlineSnapshot(
      `[Error: messages[3].text: must be 1–4000 UTF-16 code units long]`,
    );
  });

  it("bounds an HTTP insert at 10,000 messages", () => {
    const ok = { messages: Array.from({ length: 10_000 }, () => ({ text: "x" })) };
    expect(parseOrThrow(InsertBody, ok).messages).toHaveLength(10_000);
    const over = { messages: Array.from({ length: 10_001 }, () => ({ text: "x" })) };
    expect(() => parseOrThrow(InsertBody, over)).toThrowErrorMatchingInlineSnapshot(
      `[Error: messages: Too big: expected array to have <=10000 items]`,
    );
  });
});
