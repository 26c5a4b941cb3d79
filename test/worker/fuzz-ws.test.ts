/**
 * Fuzzing the WebSocket (docs/protocol.md: errors, WebSocket, and 1.2's changes
 * and reader's place): at least 10,000 generated frames a run, valid and
 * invalid mixed — arbitrary JSON, near-valid frames with a field broken,
 * valid frames of every type, `change`, `read`, `reactions.next/list/ack`
 * and `first_unread` pages included. Each frame is judged by the
 * independent rules in oracle.ts and its answer compared with the kit's
 * channel model (test/support/model.ts): valid ones answer like the model
 * (a change the user may not make: `forbidden`), with the pushes the model
 * predicts to a socket holding the whole channel; invalid ones get their
 * error and change nothing; and the socket always answers a ping afterwards.
 *
 * Every property run opens its own socket (so the 400-frame burst never
 * applies) and the object keeps its state across runs, so shrinking would
 * replay against a different channel: a failure ends the check at once and
 * reports the seed and path that replay it.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { series } from "../support/data.ts";
import { compareKeys } from "../support/keys.ts";
import { mergeRuns, pushBounds, type StoredGroup } from "../support/merges.ts";
import { ChannelModel, type Write } from "../support/model.ts";
import { closeAll } from "../support/socket.ts";
import { initialView, type SocketModel } from "../support/views.ts";
import type { Anchor, ChangeResult, Code, Draft, Frame, PageBody } from "../support/wire.ts";
import { withoutAudience } from "../support/wire.ts";
import {
  anyTsArb,
  authorArb,
  broken,
  changesArb,
  EMOJI,
  freshen,
  holds,
  idArb,
  MIN_INPUTS,
  messageArb,
  reported,
  ridArb,
  SEEDED,
  sideArb,
  textArb,
  wrongValueArb,
} from "./fuzz-inputs.ts";
import { allMessages, openSocket, postMessages, stats } from "./net.ts";
import { type Call, type FrameVerdict, type Json, judgeText } from "./oracle.ts";

afterEach(closeAll);

const WS_RUNS = 110;
const WS_FRAMES_PER_RUN = { minLength: 92, maxLength: 100 };
/** The exact text the runtime answers itself, out of order with the object's replies. */
const RUNTIME_PING = '{"type":"ping"}';

// ── WebSocket frames ───────────────────────────────────────────────────────

const optionalRid = { rid: ridArb };
const keyArb = fc.oneof(
  fc.record({ ts: anyTsArb, id: idArb }),
  // A whole message as a key: the extra fields are dropped.
  fc.record({ ts: anyTsArb, id: idArb, author: authorArb, text: textArb, seq: fc.nat() }),
);
const anchorArb: fc.Arbitrary<Anchor> = fc.oneof(
  fc.constantFrom("newest" as const, "oldest" as const, "first_unread" as const),
  fc.record({ id: idArb }),
  fc.record({
    position: fc.oneof(
      fc.integer({ min: -5, max: 3_000 }),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
    ),
  }),
  fc.record({ ts: anyTsArb }),
);

const pageArb = fc.record(
  { type: fc.constant("page"), ...optionalRid, anchor: anchorArb, before: sideArb, after: sideArb },
  { requiredKeys: ["type"] },
);
/** Views: usually first ≤ last (a valid range), sometimes reversed (bad_request). */
const viewArb = fc
  .record({
    rid: fc.option(ridArb, { nil: undefined }),
    first: fc.option(keyArb, { freq: 4 }),
    last: fc.option(keyArb, { freq: 4 }),
    live: fc.boolean(),
    keepOrder: fc.boolean(),
  })
  .map(({ rid, first, last, live, keepOrder }) => {
    const swap = keepOrder && first && last && compareKeys(first, last) > 0;
    return {
      type: "view",
      ...(rid === undefined ? {} : { rid }),
      first: swap ? last : first,
      last: swap ? first : last,
      live,
    };
  });
const sendArb = fc.record(
  {
    type: fc.constant("send"),
    ...optionalRid,
    messages: fc.array(messageArb(false), { minLength: 1, maxLength: 4 }),
  },
  { requiredKeys: ["type", "messages"] },
);
/** `late.next` and (1.2) `reactions.next`: a page around the first unread. */
const nextArb = (type: string) =>
  fc.record(
    { type: fc.constant(type), ...optionalRid, before: sideArb, after: sideArb },
    { requiredKeys: ["type"] },
  );
/** `late.list` and (1.2) `reactions.list`. */
const listArb = (type: string) =>
  fc.record(
    { type: fc.constant(type), ...optionalRid, limit: fc.integer({ min: 1, max: 100 }) },
    { requiredKeys: ["type"] },
  );
/** `late.ack` and (1.2) `reactions.ack`. */
const ackArb = (type: string) =>
  fc.record({ type: fc.constant(type), ...optionalRid }, { requiredKeys: ["type"] });
const changeFrameArb = fc.record(
  { type: fc.constant("change"), ...optionalRid, changes: changesArb },
  { requiredKeys: ["type", "changes"] },
);
/** Protocol 1.2: moves the read marker. */
const readArb = fc.record(
  { type: fc.constant("read"), ...optionalRid, id: idArb },
  { requiredKeys: ["type", "id"] },
);
const pingArb = fc.record(
  { type: fc.constant("ping"), ...optionalRid },
  { requiredKeys: ["type"] },
);

const validFrameArb = fc.oneof(
  { weight: 4, arbitrary: pageArb },
  { weight: 3, arbitrary: viewArb },
  { weight: 5, arbitrary: sendArb },
  { weight: 2, arbitrary: nextArb("late.next") },
  { weight: 2, arbitrary: listArb("late.list") },
  { weight: 1, arbitrary: ackArb("late.ack") },
  { weight: 4, arbitrary: changeFrameArb },
  { weight: 2, arbitrary: nextArb("reactions.next") },
  { weight: 2, arbitrary: listArb("reactions.list") },
  { weight: 1, arbitrary: ackArb("reactions.ack") },
  { weight: 3, arbitrary: readArb },
  { weight: 1, arbitrary: pingArb },
) as fc.Arbitrary<Json>;

const FRAME_TYPES = [
  "page",
  "view",
  "send",
  "late.next",
  "late.list",
  "late.ack",
  "change",
  "reactions.next",
  "reactions.list",
  "reactions.ack",
  "read",
  "ping",
];
/** An object with a known or unknown type and random fields. */
const typedNoiseArb = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...FRAME_TYPES),
      fc.constantFrom("Page", "send ", "late", "late-next", "", "hello", "pong", "error"),
    ),
    fc.dictionary(
      fc.constantFrom(
        "rid",
        "anchor",
        "before",
        "after",
        "first",
        "last",
        "live",
        "limit",
        "changes",
        "id",
        "x",
      ),
      wrongValueArb,
      { maxKeys: 4 },
    ),
  )
  .map(([type, fields]) => ({ ...fields, type }) as Json);

type WsInput =
  | { readonly kind: "json"; readonly value: Json }
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "binary"; readonly bytes: Uint8Array };

const rawTextArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 40 }),
  fc
    .tuple(validFrameArb, fc.nat())
    .map(([frame, n]) => JSON.stringify(frame).slice(0, n % JSON.stringify(frame).length)),
  fc.constantFrom(
    "",
    "{",
    "}",
    "[]",
    '{"type":"ping"',
    "{'type':'ping'}",
    '{"type":"ping",}',
    "NaN",
    '{"rid":"x"}',
    '{"type":"page","rid":"dup","rid":"dup2"}',
    ' {"type":"late.ack"} ',
  ),
);

/** The text the server receives (a WebSocket carries UTF-8: lone surrogates arrive as U+FFFD). */
function wireText(input: WsInput, clock: number): string | undefined {
  if (input.kind === "binary") return undefined;
  const raw = input.kind === "json" ? JSON.stringify(input.value) : input.text;
  const text = freshen(raw.toWellFormed(), clock);
  // The runtime answers this exact text itself, ahead of the object's queue: keep it in order.
  return text === RUNTIME_PING ? '{ "type": "ping" }' : text;
}

/** A valid send the model could not predict: the server would choose its id or ts. */
function serverChosen(input: WsInput): boolean {
  const text = wireText(input, 0);
  const v = text === undefined ? undefined : judgeText(text);
  return (
    v?.ok === true &&
    v.call.type === "send" &&
    v.call.messages.some((m) => m.id === undefined || m.ts === undefined)
  );
}

const wsInputArb: fc.Arbitrary<WsInput> = fc
  .oneof(
    { weight: 7, arbitrary: validFrameArb.map((value) => ({ kind: "json" as const, value })) },
    {
      weight: 7,
      arbitrary: broken(validFrameArb).map((value) => ({ kind: "json" as const, value })),
    },
    {
      weight: 2,
      arbitrary: (fc.jsonValue() as fc.Arbitrary<Json>).map((value) => ({
        kind: "json" as const,
        value,
      })),
    },
    { weight: 2, arbitrary: typedNoiseArb.map((value) => ({ kind: "json" as const, value })) },
    { weight: 1, arbitrary: rawTextArb.map((text) => ({ kind: "text" as const, text })) },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 24 })
        .map((bytes) => ({ kind: "binary" as const, bytes })),
    },
  )
  .filter((input) => !serverChosen(input));

// ── The expected answers ───────────────────────────────────────────────────

const ridPart = (rid: string | undefined) => (rid === undefined ? {} : { rid });

function errorFrame(code: Code, rid: string | undefined): Frame {
  return { type: "error", ...ridPart(rid), code, message: expect.any(String) as unknown as string };
}

/** Frames as compared: an absent `status.latest` is an empty list. */
function comparable(frames: readonly Frame[]): Frame[] {
  return frames.map((f) => (f.type === "status" ? { ...f, latest: f.latest ?? [] } : f));
}

/**
 * What the sender gets for one valid frame, the model updated as the server
 * must update itself; a write that stored something is added to `stored`,
 * a group of its own. Each user has one socket here: no cross-tab status is
 * due (reader-*.test.ts check those), and the watcher's pushes are replayed
 * apart (see {@link watcherPushes}).
 */
function answerTo(
  call: Call,
  model: ChannelModel,
  socket: SocketModel,
  stored: StoredGroup<Write>[],
): Frame[] {
  const rid = ridPart(call.rid);
  const { user } = socket;
  switch (call.type) {
    case "page": {
      const page = model.page(call.anchor, call.before, call.after, user);
      return page === "not_found"
        ? [errorFrame("not_found", call.rid)]
        : [{ type: "page", ...rid, ...page }];
    }
    case "view": {
      const { first, last, live } = call;
      if (first && last && compareKeys(first, last) > 0)
        return [errorFrame("bad_request", call.rid)];
      socket.view = { first, last, live };
      model.seeRange(user, first, last);
      return [{ type: "view", ...rid, ...model.counts(user), seq: model.seq }];
    }
    case "send": {
      const drafts: Draft[] = call.messages.map((m) => {
        if (m.id === undefined || m.ts === undefined) throw new Error("unpredictable send");
        return { id: m.id, ts: m.ts, author: m.author ?? user, text: m.text };
      });
      const { results, pushes } = model.batch(drafts, [socket]);
      stored.push({ end: model.seq, items: [{ insert: drafts }] });
      return [
        { type: "sent", ...rid, results, total: model.total, seq: model.seq },
        ...(pushes.get(socket) ?? []),
      ];
    }
    case "late.next": {
      const next = model.unreadLate(user)[0];
      if (!next) return [errorFrame("not_found", call.rid)];
      const page = model.page({ id: next.id }, call.before, call.after, user) as PageBody;
      return [{ type: "page", ...rid, ...page }];
    }
    case "late.list": {
      const unread = model.unreadLate(user);
      const items = unread
        .slice(0, call.limit)
        .map((m) => ({ id: m.id, ts: m.ts, position: model.position(m.id), seq: m.seq }));
      return [{ type: "late.list", ...rid, unread: unread.length, items }];
    }
    case "late.ack": {
      model.places.lateAck(user);
      return [{ type: "view", ...rid, ...model.counts(user), seq: model.seq }];
    }
    case "change": {
      const actor = { user, moderator: false }; // an open worker's sockets: scope write
      const write = { actor, changes: call.changes };
      const { outcomes, pushes } = model.group([write], [socket]);
      const outcome = outcomes[0];
      if (outcome === undefined || "forbidden" in outcome)
        return [errorFrame("forbidden", call.rid)];
      stored.push({ end: model.seq, items: [write] });
      const results = outcome.results as ChangeResult[];
      return [
        { type: "changed", ...rid, results, total: model.total, seq: model.seq },
        ...(pushes.get(socket) ?? []),
      ];
    }
    case "reactions.next": {
      const page = model.reactionsNext(user, call.before, call.after);
      return page === "not_found"
        ? [errorFrame("not_found", call.rid)]
        : [{ type: "page", ...rid, ...page }];
    }
    case "reactions.list":
      return [{ type: "reactions.list", ...rid, ...model.reactionsList(user, call.limit) }];
    case "reactions.ack": {
      model.places.reactionsAck(user);
      return [{ type: "view", ...rid, ...model.counts(user), seq: model.seq }];
    }
    case "read": {
      const outcome = model.read(user, call.id);
      if (outcome === "not_found") return [errorFrame("not_found", call.rid)];
      const { read, unread } = outcome;
      return [{ type: "read", ...rid, read, unread, seq: model.seq }];
    }
    case "ping":
      return [{ type: "pong", ...rid }];
    default: {
      const unreachable: never = call;
      throw new Error(`unhandled ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * What the watcher must have been sent for the groups `stored` (in turn)
 * under push coalescing (docs/protocol.md, "Groups of writes"): it sends no
 * frame while they are stored, so the groups waiting for it go out merged,
 * as one group each run; its frames' seqs tell where the runs end. The runs
 * are replayed on `shadow`, a model the writes reach only through here.
 */
function watcherPushes(
  shadow: ChannelModel,
  watcher: SocketModel,
  stored: readonly StoredGroup<Write>[],
  received: readonly Frame[],
): Frame[] {
  return mergeRuns(stored, pushBounds([received])).flatMap(
    (run) => shadow.group(run.items, [watcher]).pushes.get(watcher) ?? [],
  );
}

/** How a reader's-place frame (protocol 1.2) was answered, for the tally; undefined for others. */
function placeAnswer(call: Call, reply: Frame): string | undefined {
  const found = reply.type !== "error";
  switch (call.type) {
    case "read":
      return found ? "read" : "read not_found";
    case "reactions.list":
      return reply.type === "reactions.list" && reply.items.length > 0
        ? "reactions listed"
        : "reactions.list empty";
    case "reactions.next":
      return found ? "reactions.next page" : "reactions.next not_found";
    case "reactions.ack":
      return "reactions.ack";
    case "page":
      return call.anchor === "first_unread" ? "first_unread" : undefined;
    default:
      return undefined;
  }
}

describe("WebSocket fuzz", () => {
  it("answers generated frames like the model, stays open and stores only valid sends", async () => {
    const channel = "fuzz-ws";
    const model = new ChannelModel();
    const seed = series(SEEDED);
    expect((await postMessages(channel, seed)).status).toBe(200);
    model.store(seed);

    // A second socket that holds the whole channel: it is pushed anything stored.
    const watcher = await openSocket(channel, "watcher");
    await watcher.next("hello");
    model.connect("watcher");
    const declared = await watcher.call({ type: "view", first: null, last: null, live: true }, "w");
    expect(declared.reply).toEqual({
      type: "view",
      rid: "w",
      ...model.counts("watcher"),
      seq: model.seq,
    });
    // The watcher's own model: the channel as the watcher is pushed it, run by run.
    const shadow = new ChannelModel();
    shadow.store(seed);
    shadow.connect("watcher");
    shadow.seeRange("watcher", null, null);
    const watching: SocketModel = {
      user: "watcher",
      view: { first: null, last: null, live: true },
    };

    let runs = 0;
    let frames = 0;
    let clock = 0;
    /** Groups stored, and the runs of them the watcher was pushed (merged when it fell behind). */
    const tally = { valid: 0, invalid: 0, stored: 0, groups: 0, runs: 0 };
    /** Protocol 1.2: valid `change` frames, refused ones, and each change's outcome. */
    const changes = new Map<string, number>();
    const counted = (what: string) => changes.set(what, (changes.get(what) ?? 0) + 1);
    /** Protocol 1.2: what the reader's-place frames answered. */
    const place = new Map<string, number>();
    await holds(
      fc.asyncProperty(
        fc.array(wsInputArb, WS_FRAMES_PER_RUN),
        reported(async (inputs) => {
          // A new socket each run (a fresh frame budget): mostly a new user, now and then
          // "seed", the author of the seeded messages, who may edit and delete them.
          const user = runs % 4 === 3 ? "seed" : `fz${runs}`;
          runs++;
          const client = await openSocket(channel, user);
          model.connect(user);
          expect(await client.next("hello")).toEqual({
            type: "hello",
            protocol: 1,
            minor: 2,
            channel,
            user,
            total: model.total,
            ...model.counts(user),
            read: model.places.marker(user),
            newest: model.newest,
            seq: model.seq,
          });
          const socket: SocketModel = { user, view: initialView(model.newest) };
          const stored: StoredGroup<Write>[] = [];
          const want: { frame: Frame; sent: string }[] = [];
          for (const input of inputs) {
            const text = wireText(input, ++clock);
            if (input.kind === "binary") client.send(input.bytes);
            else client.send(text ?? "");
            const verdict: FrameVerdict = text === undefined ? { ok: false } : judgeText(text);
            const sent =
              input.kind === "binary" ? `${input.bytes.length} bytes` : (text ?? "").slice(0, 300);
            const before = model.total;
            const answer = verdict.ok
              ? answerTo(verdict.call, model, socket, stored)
              : [errorFrame("bad_request", verdict.rid)];
            if (verdict.ok) tally.valid++;
            else tally.invalid++;
            tally.stored += Math.max(0, model.total - before);
            const reply = answer[0];
            if (verdict.ok && verdict.call.type === "change") {
              if (reply?.type === "changed") for (const r of reply.results) counted(r.outcome);
              else counted("forbidden");
            }
            const what = verdict.ok && reply ? placeAnswer(verdict.call, reply) : undefined;
            if (what) place.set(what, (place.get(what) ?? 0) + 1);
            for (const frame of answer) want.push({ frame, sent });
          }
          frames += inputs.length;

          // The pong to a ping sent last: the socket is open and every frame was answered.
          const got = comparable(await client.drain());
          const expected = comparable(want.map((w) => w.frame));
          for (let i = 0; i < Math.max(got.length, expected.length); i++) {
            const label = `run ${runs - 1}, frame ${i} (answer to ${want[i]?.sent ?? "nothing"})`;
            expect(got[i], label).toEqual(expected[i]);
          }
          const pushed = await watcher.drain();
          tally.groups += stored.length;
          tally.runs += pushBounds([pushed]).length;
          expect(comparable(pushed), "pushes to the watcher").toEqual(
            comparable(watcherPushes(shadow, watching, stored, pushed)),
          );
          await client.closeAndWait();
        }),
      ),
      WS_RUNS,
    );

    expect(frames).toBeGreaterThanOrEqual(MIN_INPUTS);
    // Both kinds are well represented, and valid sends stored a good share of messages.
    expect(tally.valid).toBeGreaterThan(frames / 4);
    expect(tally.invalid).toBeGreaterThan(frames / 4);
    expect(tally.stored).toBeGreaterThan(500);
    // Changes of every outcome happened, and frames were refused whole.
    for (const what of ["applied", "pending", "stale", "deleted", "forbidden"]) {
      expect(changes.get(what) ?? 0, what).toBeGreaterThan(0);
    }
    // And the reader's place answered each way: reads found and not, unread reactions listed.
    for (const what of ["read", "read not_found", "reactions listed", "reactions.next page"]) {
      expect(place.get(what) ?? 0, what).toBeGreaterThan(0);
    }
    console.log(
      `WebSocket fuzz: ${frames} frames (${tally.valid} valid, ${tally.invalid} invalid), changes ${JSON.stringify(Object.fromEntries(changes))}, reader's place ${JSON.stringify(Object.fromEntries(place))}, ${model.tombstones.size} messages deleted; the watcher was pushed ${tally.groups} groups in ${tally.runs} runs`,
    );
    expect(withoutAudience(await stats(channel))).toEqual(withoutAudience(model.stats(channel)));
    expect(await allMessages(channel)).toEqual(model.sorted.map((m) => model.wire(m)));
  });

  it("orders and pages messages at the extreme safe timestamps like the model", async () => {
    const channel = "fuzz-ws-extremes";
    const model = new ChannelModel();
    const client = await openSocket(channel, "edge");
    await client.next("hello");
    model.connect("edge");
    const drafts: Draft[] = [
      { id: "mid", ts: 0, author: "edge", text: "zero" },
      { id: "top", ts: Number.MAX_SAFE_INTEGER, author: "edge", text: "max" },
      { id: "top-", ts: Number.MAX_SAFE_INTEGER, author: "edge", text: "max, after top" },
      { id: "bottom", ts: Number.MIN_SAFE_INTEGER, author: "edge", text: "min" },
      { id: "\uffff", ts: Number.MAX_SAFE_INTEGER, author: "edge", text: "max, last by unit" },
      { id: EMOJI, ts: Number.MAX_SAFE_INTEGER, author: "edge", text: "max, before U+FFFF" },
      { id: "", ts: 0, author: "edge", text: "" }, // invalid: nothing of this frame is stored
    ];
    const bad = await client.call({ type: "send", messages: drafts }, "bad");
    expect(bad.reply).toMatchObject({ type: "error", rid: "bad", code: "bad_request" });
    const good = drafts.slice(0, -1);
    const socket: SocketModel = { user: "edge", view: initialView(null) };
    const { reply, others } = await client.call({ type: "send", messages: good }, "good");
    const { results, pushes } = model.batch(good, [socket]);
    expect(reply).toEqual({
      type: "sent",
      rid: "good",
      results,
      total: model.total,
      seq: model.seq,
    });
    expect(comparable(others)).toEqual(comparable(pushes.get(socket) ?? []));
    expect(await allMessages(channel)).toEqual(model.sorted.map((m) => model.wire(m)));
    const anchors: Anchor[] = [
      { ts: Number.MAX_SAFE_INTEGER },
      { ts: Number.MIN_SAFE_INTEGER },
      { position: Number.MAX_SAFE_INTEGER },
      { position: Number.MIN_SAFE_INTEGER },
      { id: "\uffff" },
      { id: EMOJI },
    ];
    for (const anchor of anchors) {
      const page = await client.call({ type: "page", anchor, before: 2, after: 2 }, "p");
      expect(page.reply, JSON.stringify(anchor)).toEqual({
        type: "page",
        rid: "p",
        ...(model.page(anchor, 2, 2, "edge") as PageBody),
      });
    }
  });
});
