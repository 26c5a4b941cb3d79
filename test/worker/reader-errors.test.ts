/**
 * Bad input to the reader's place (protocol 1.2; docs/protocol.md "Errors"):
 * `read` of an unknown or deleted id and with broken fields,
 * `reactions.list` and `reactions.next` out of their ranges, a bad
 * `first_unread` anchor, and `anchor=first_unread` over HTTP without a user
 * on the open worker. Each gets a clear error (a `bad_request` names its
 * field), nothing changes (the marker, `unread`, the unread reactions, as
 * the kit's model has them; nothing is pushed to the user's other tab or
 * anyone else) and the socket stays open and answers its next frame.
 */
import { afterEach, describe, expect, it } from "vitest";
import { authoredBy, del, react, series, seriesKey } from "../support/data.ts";
import type { Harness, Peer } from "../support/harness.ts";
import { closeAll } from "../support/socket.ts";
import type { Code } from "../support/wire.ts";
import { api, expectError, harness } from "./net.ts";

afterEach(closeAll);

const id = (i: number) => seriesKey(i).id;

interface Bad {
  readonly name: string;
  readonly frame: Record<string, unknown>;
  readonly code: Code;
  /** A bad_request's message starts with the field it names. */
  readonly field?: string;
  /** False when the frame's rid cannot be echoed (it is the bad field). */
  readonly echoes?: false;
}

const badRequest = (name: string, frame: Record<string, unknown>, field: string): Bad => ({
  name,
  frame,
  code: "bad_request",
  field,
});

const BAD: readonly Bad[] = [
  { name: "a read of an unknown id", frame: { type: "read", id: "nope" }, code: "not_found" },
  { name: "a read of a deleted id", frame: { type: "read", id: id(7) }, code: "not_found" },
  badRequest("a read without id", { type: "read" }, "id"),
  badRequest("a read of a number", { type: "read", id: 5 }, "id"),
  badRequest("a read of a key", { type: "read", id: seriesKey(9) }, "id"),
  badRequest("a read of an empty id", { type: "read", id: "" }, "id"),
  badRequest("a read of 65 code units", { type: "read", id: "i".repeat(65) }, "id"),
  badRequest("a read of a lone surrogate", { type: "read", id: "\ud800" }, "id"),
  {
    ...badRequest("a read with a rid of 65 code units", { type: "read", id: id(9) }, "rid"),
    frame: { type: "read", id: id(9), rid: "r".repeat(65) },
    echoes: false,
  },
  {
    ...badRequest("a read with a rid that is a number", { type: "read", id: id(9) }, "rid"),
    frame: { type: "read", id: id(9), rid: 7 },
    echoes: false,
  },
  badRequest("reactions.list of 0", { type: "reactions.list", limit: 0 }, "limit"),
  badRequest("reactions.list of 101", { type: "reactions.list", limit: 101 }, "limit"),
  badRequest("reactions.list of 1.5", { type: "reactions.list", limit: 1.5 }, "limit"),
  badRequest("reactions.list of a string", { type: "reactions.list", limit: "5" }, "limit"),
  badRequest("reactions.next before 201", { type: "reactions.next", before: 201 }, "before"),
  badRequest("reactions.next after -1", { type: "reactions.next", after: -1 }, "after"),
  badRequest("reactions.next before null", { type: "reactions.next", before: null }, "before"),
  {
    ...badRequest("reactions.ack with a rid that is a number", { type: "reactions.ack" }, "rid"),
    frame: { type: "reactions.ack", rid: 7 },
    echoes: false,
  },
  badRequest("a page at First_unread", { type: "page", anchor: "First_unread" }, "anchor"),
  badRequest(
    "a page at first_unread with a field",
    { type: "page", anchor: { first_unread: true } },
    "anchor",
  ),
];

/**
 * 20 messages by ann and bob; ann has two tabs, a marker at m5 and an unread
 * reaction on m2; bob deleted his m7 and holds the whole channel.
 */
async function scene(channel: string) {
  const h = harness(channel);
  await h.post(authoredBy(series(20), ["ann", "bob"]));
  const ann = await h.connect("ann");
  const ann2 = await h.connect("ann");
  const bob = await h.connect("bob");
  await h.declare(ann, seriesKey(10), seriesKey(12), false);
  await h.declare(bob, null, null, false);
  await h.change(bob, [react(2, "👍", true, 1), del(7)]);
  await h.read(ann, id(5));
  expect(h.model.counts("ann")).toEqual({ lateUnread: 0, reactionsUnread: 1, unread: 13 });
  return { h, ann, ann2, bob };
}

/** Nothing changed for ann, and nobody was told anything. */
async function expectUnchanged(h: Harness, ann: Peer, others: readonly Peer[], label: string) {
  for (const p of others) expect(await p.client.drain(), `${label}: nothing pushed`).toEqual([]);
  // The next frames: the marker where it was (first_unread, a read backwards), the reactions.
  const page = await h.page(ann, "first_unread", 0, 0);
  expect(page.firstUnread, label).toBe(6); // m6, just after m5
  await h.read(ann, id(1));
  await h.reactionsList(ann);
  await h.reactionsNext(ann, 0, 0);
}

describe("bad input to the reader's place", () => {
  it("refuses each frame with a clear error, changes nothing and answers the next frame", async () => {
    const { h, ann, ann2, bob } = await scene("place-bad-ws");
    for (const [n, b] of BAD.entries()) {
      const rid = `bad-${n}`;
      // A frame whose rid is the bad field goes as it is: its error carries no rid.
      const got =
        b.echoes === false
          ? await (async () => {
              ann.client.send(b.frame);
              return ann.client.drain();
            })()
          : await ann.client.call(b.frame, rid).then(({ reply, others }) => [reply, ...others]);
      const message = b.field
        ? expect.stringMatching(new RegExp(`^${b.field}[.:]`))
        : expect.any(String);
      const echoed = b.echoes === false ? {} : { rid };
      expect(got, b.name).toEqual([{ type: "error", ...echoed, code: b.code, message }]);
      await expectUnchanged(h, ann, [ann2, bob], b.name);
    }
    expect(h.model.counts("ann")).toEqual({ lateUnread: 0, reactionsUnread: 1, unread: 13 });
    console.log(`bad reader's-place frames: ${BAD.length} refused, nothing changed`);
  });

  it("refuses first_unread over HTTP without a valid user on the open worker", async () => {
    const { h, ann, ann2, bob } = await scene("place-bad-http");
    const page = (query: string) => api(`/v1/channels/${h.channel}/messages?${query}`);
    for (const query of [
      "anchor=first_unread",
      "anchor=first_unread&user=",
      "anchor=first_unread&user=a%20b",
      `anchor=first_unread&user=${"u".repeat(65)}`,
      "anchor=first_unread:ann",
      "anchor=First_unread&user=ann",
    ]) {
      const res = await page(query);
      await expectError(res, "bad_request");
      await expectUnchanged(h, ann, [ann2, bob], query);
    }
    // With a user it answers, the marker where it was.
    const ok = await page("anchor=first_unread&before=0&after=0&user=ann");
    expect(await ok.json()).toEqual(h.model.page("first_unread", 0, 0, "ann", "http"));
  });
});
