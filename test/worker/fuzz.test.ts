/**
 * Fuzzing the edges (PROTOCOL.md: errors, WebSocket, HTTP): at least 10,000
 * generated WebSocket frames and 10,000 generated HTTP requests a run, valid
 * and invalid mixed — arbitrary JSON, near-valid inputs with a field broken,
 * valid requests of every kind. Each input is judged by the independent rules
 * in oracle.ts and its answer compared with the kit's channel model (test/support/model.ts):
 * valid ones answer like the model, invalid ones get their error (the code
 * with its status) and change nothing, and nothing ever crashes (a socket
 * answers a ping afterwards; no HTTP answer is a 500).
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
import { ChannelModel } from "../support/model.ts";
import { closeAll } from "../support/socket.ts";
import { initialView, type SocketModel } from "../support/views.ts";
import {
  type Anchor,
  type Code,
  type Draft,
  type Frame,
  type PageBody,
  STATUS_OF,
  unmarkedCounts,
} from "../support/wire.ts";
import { allMessages, expectError, openSocket, postMessages, stats, worker } from "./net.ts";
import {
  type Call,
  changeShareOk,
  DEFAULT_SIMULATOR,
  type FrameVerdict,
  type Json,
  judgeInsertBody,
  judgePageQuery,
  judgeSimulatorBody,
  judgeText,
  judgeTimelineQuery,
  routeOf,
  type SimulatorSettings,
  validName,
} from "./oracle.ts";

afterEach(closeAll);

const WS_RUNS = 110;
const WS_FRAMES_PER_RUN = { minLength: 92, maxLength: 100 };
const HTTP_RUNS = 125;
const HTTP_REQUESTS_PER_RUN = { minLength: 82, maxLength: 90 };
const MIN_INPUTS = 10_000;

/** The seeded messages: m00000… at ts 1,000,000 + i·1,000. */
const SEEDED = 40;
const BASE_TS = 1_000_000;
const seededId = (i: number) => `m${String(i).padStart(5, "0")}`;
const EMOJI = "\u{1F600}";
/** The exact text the runtime answers itself, out of order with the object's replies. */
const RUNTIME_PING = '{"type":"ping"}';

/**
 * Runs a property body, rethrowing a failure as an error whose text is
 * well-formed: values with lone surrogates in a vitest diff break the pool's
 * report of the failure (invalid UTF-8), so they are written as JSON instead.
 */
function reported<A extends unknown[]>(body: (...args: A) => Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await body(...args);
    } catch (err) {
      const e = err as { message?: unknown; actual?: unknown; expected?: unknown };
      const json = (v: unknown) => (JSON.stringify(v) ?? String(v)).slice(0, 6_000);
      const detail =
        "actual" in e || "expected" in e
          ? `\n  actual: ${json(e.actual)}\nexpected: ${json(e.expected)}`
          : "";
      throw new Error(`${String(e.message ?? err)}${detail}`.toWellFormed());
    }
  };
}

/**
 * Checks a property, failing with a short message: the seed and path that
 * replay it, the start of the counterexample and the failure (a hundred
 * frames in full would bury it).
 */
async function holds<Ts extends [unknown, ...unknown[]]>(
  property: fc.IAsyncProperty<Ts>,
  numRuns: number,
): Promise<void> {
  const out = await fc.check(property, { numRuns, endOnFailure: true });
  if (!out.failed) return;
  const cause = out.errorInstance instanceof Error ? out.errorInstance.message : out.errorInstance;
  const example = fc.stringify(out.counterexample).slice(0, 1_500);
  throw new Error(
    `property failed at run ${out.numRuns} (seed ${out.seed}, path "${out.counterexamplePath}")\n${cause}\ncounterexample (start): ${example}`.toWellFormed(),
  );
}

// ── Values ─────────────────────────────────────────────────────────────────

/** Ids: a small pool (duplicates across runs), the seeded ones, any Unicode, edges. */
const idArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 299 }).map((n) => `p${n}`) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: SEEDED - 1 }).map(seededId) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 32 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      EMOJI.repeat(32), // 64 code units: the longest id
      "x".repeat(64),
      "\uffff", // after U+1F600 by code unit, before it by code point
      "\u{10000}",
      "\u0000",
      "e\u0301",
      "é",
    ),
  },
);

/**
 * A generated ts in [FRESH_MARK, FRESH_MARK + 1,000) stands for "now": just
 * before it is sent it becomes FRESH_BASE + 1,000 · (inputs sent so far) +
 * the offset, so such messages keep arriving at the bottom (on time) while
 * the others land among older ones (late). A fixed range could not: its
 * maximum soon makes every later message late.
 */
const FRESH_MARK = 777_777_000;
const FRESH_BASE = 5_000_000_000_000;

/** `text` with its marked timestamps made fresh, when it is JSON with some. */
function freshen(text: string, clock: number): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  let changed = false;
  const walk = (v: unknown): void => {
    if (typeof v !== "object" || v === null) return;
    const o = v as Record<string, unknown>;
    for (const key of Object.keys(o)) {
      const ts = o[key];
      if (key === "ts" && typeof ts === "number" && ts >= FRESH_MARK && ts < FRESH_MARK + 1_000) {
        o[key] = FRESH_BASE + clock * 1_000 + (ts - FRESH_MARK);
        changed = true;
      } else {
        walk(ts);
      }
    }
  };
  walk(json);
  // Unchanged texts go as generated (spacing, repeated keys and all).
  return changed ? JSON.stringify(json) : text;
}

/** Message timestamps: fresh ones (on time), around the seeded ones (late), far before. */
const sendTsArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: FRESH_MARK, max: FRESH_MARK + 999 }) },
  { weight: 8, arbitrary: fc.integer({ min: BASE_TS - 20_000, max: BASE_TS + 3_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(BASE_TS, BASE_TS + 1_000, 0, -1) },
  { weight: 1, arbitrary: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }) },
);
/** Timestamps of anchors and view keys: anything safe. */
const anyTsArb = fc.oneof(
  { weight: 4, arbitrary: sendTsArb },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER) },
);
const textArb = fc.oneof(
  { weight: 10, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 12 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("x".repeat(4_000), EMOJI.repeat(2_000), "a\u0000b", " "),
  },
);
const authorArb = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 32 }),
  fc.constantFrom("a".repeat(64), EMOJI.repeat(32)),
);
const ridArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 9_999 }).map((n) => `r${n}`) },
  { weight: 1, arbitrary: fc.constantFrom("", "x".repeat(64), EMOJI.repeat(32), "\ud800-lone") },
);
const sideArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 200) },
);

/** Values a broken field gets: wrong types, out of range, too long, lone surrogates, huge. */
const TRICKY: readonly Json[] = [
  null,
  true,
  false,
  "",
  "NaN",
  "Infinity",
  "-1",
  "25",
  "1e3",
  " 1",
  1.5,
  -1,
  -0.5,
  0,
  1,
  200,
  201,
  1_000,
  1_001,
  4_001,
  65,
  1e21,
  2 ** 53,
  -(2 ** 53),
  2 ** 53 - 1,
  1e308,
  -1e308,
  5e-324,
  [],
  {},
  [1],
  { a: 1 },
  "x".repeat(64),
  "x".repeat(65),
  "x".repeat(4_000),
  "x".repeat(4_001),
  EMOJI.repeat(32),
  `${EMOJI.repeat(32)}x`,
  EMOJI.repeat(2_000),
  `${EMOJI.repeat(2_000)}x`,
  "\ud800",
  "a\udc00",
  `${EMOJI}\ud83d`,
  "newest",
  "Newest",
  "oldest",
  { id: "p1" },
  { position: 3 },
  { position: -3 },
  { ts: 1 },
  { id: "p1", ts: 1 },
  { ts: BASE_TS, id: "m00001" },
  "send",
  "page",
  "view",
  "late.next",
  "late.list",
  "late.ack",
  "ping",
  "PING",
  "late_ack",
  "\u0000",
];
const wrongValueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...TRICKY) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 70 }) },
);

// ── Mutations: one field broken ────────────────────────────────────────────

interface Mutation {
  readonly at: number;
  readonly action: "replace" | "delete" | "extra";
  readonly key: string;
  readonly value: Json;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  action: fc.constantFrom("replace", "replace", "delete", "extra"),
  key: fc.oneof(
    fc.constantFrom("extra", "rid", "type", "id", "ts", "text", "author", "anchor", "seq"),
    fc.string({ maxLength: 8 }),
  ),
  value: wrongValueArb,
});

type Container = Json[] | { [key: string]: Json };

function containers(value: Json, out: Container[] = []): Container[] {
  if (typeof value !== "object" || value === null) return out;
  out.push(value);
  for (const child of Object.values(value)) containers(child, out);
  return out;
}

/** A deep copy of `value` with one field replaced, deleted or added. */
function mutate(value: Json, m: Mutation): Json {
  const root = structuredClone(value);
  const all = containers(root);
  const slots: { c: Container; key: string | number }[] = all.flatMap(
    (c): { c: Container; key: string | number }[] =>
      Array.isArray(c)
        ? c.map((_, i) => ({ c, key: i }))
        : Object.keys(c).map((key) => ({ c, key })),
  );
  const slot = slots[m.at % Math.max(1, slots.length)];
  if (m.action === "extra" || !slot) {
    const target = all[m.at % Math.max(1, all.length)];
    if (Array.isArray(target)) target.push(m.value);
    else if (target) {
      // Defined, not assigned: a key like "__proto__" becomes a field, as JSON.parse makes it.
      Object.defineProperty(target, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return root;
  }
  const { c, key } = slot;
  if (Array.isArray(c)) {
    if (m.action === "delete") c.splice(key as number, 1);
    else c[key as number] = m.value;
  } else if (m.action === "delete") {
    delete c[key as string];
  } else {
    c[key as string] = m.value;
  }
  return root;
}

const broken = (valid: fc.Arbitrary<Json>) =>
  fc
    .tuple(valid, fc.array(mutationArb, { minLength: 1, maxLength: 2 }))
    .map(([v, ms]) => ms.reduce(mutate, v));

// ── WebSocket frames ───────────────────────────────────────────────────────

const optionalRid = { rid: ridArb };
const messageArb = (authorRequired: boolean) =>
  fc.record(
    { id: idArb, ts: sendTsArb, author: authorArb, text: textArb },
    { requiredKeys: authorRequired ? ["id", "ts", "author", "text"] : ["id", "ts", "text"] },
  );
const keyArb = fc.oneof(
  fc.record({ ts: anyTsArb, id: idArb }),
  // A whole message as a key: the extra fields are dropped.
  fc.record({ ts: anyTsArb, id: idArb, author: authorArb, text: textArb, seq: fc.nat() }),
);
const anchorArb: fc.Arbitrary<Anchor> = fc.oneof(
  fc.constantFrom("newest" as const, "oldest" as const),
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
const lateNextArb = fc.record(
  { type: fc.constant("late.next"), ...optionalRid, before: sideArb, after: sideArb },
  { requiredKeys: ["type"] },
);
const lateListArb = fc.record(
  { type: fc.constant("late.list"), ...optionalRid, limit: fc.integer({ min: 1, max: 100 }) },
  { requiredKeys: ["type"] },
);
const lateAckArb = fc.record(
  { type: fc.constant("late.ack"), ...optionalRid },
  { requiredKeys: ["type"] },
);
const pingArb = fc.record(
  { type: fc.constant("ping"), ...optionalRid },
  { requiredKeys: ["type"] },
);

const validFrameArb = fc.oneof(
  { weight: 4, arbitrary: pageArb },
  { weight: 3, arbitrary: viewArb },
  { weight: 5, arbitrary: sendArb },
  { weight: 2, arbitrary: lateNextArb },
  { weight: 2, arbitrary: lateListArb },
  { weight: 1, arbitrary: lateAckArb },
  { weight: 1, arbitrary: pingArb },
) as fc.Arbitrary<Json>;

const FRAME_TYPES = ["page", "view", "send", "late.next", "late.list", "late.ack", "ping"];
/** An object with a known or unknown type and random fields. */
const typedNoiseArb = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...FRAME_TYPES),
      fc.constantFrom("Page", "send ", "late", "late-next", "", "hello", "pong", "error"),
    ),
    fc.dictionary(
      fc.constantFrom("rid", "anchor", "before", "after", "first", "last", "live", "limit", "x"),
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

/** Queues the cross-tab `status` frames a badge change sends to the user's other sockets. */
function badgeChanged(
  model: ChannelModel,
  socket: SocketModel,
  sockets: readonly SocketModel[],
  elsewhere: Map<SocketModel, Frame[]>,
  before: number,
): void {
  for (const [s, frame] of model.badgeChanged(socket, sockets, before))
    elsewhere.get(s)?.push(frame);
}

function errorFrame(code: Code, rid: string | undefined): Frame {
  return { type: "error", ...ridPart(rid), code, message: expect.any(String) as unknown as string };
}

/** Frames as compared: an absent `status.latest` is an empty list. */
function comparable(frames: readonly Frame[]): Frame[] {
  return frames.map((f) => (f.type === "status" ? { ...f, latest: f.latest ?? [] } : f));
}

/**
 * What the sender gets for one valid frame, the model updated as the server
 * must update itself; pushes to the other sockets are added to `elsewhere`.
 */
function answerTo(
  call: Call,
  model: ChannelModel,
  socket: SocketModel,
  sockets: readonly SocketModel[],
  elsewhere: Map<SocketModel, Frame[]>,
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
      const before = model.unread(user);
      socket.view = { first, last, live };
      model.seeRange(user, first, last);
      badgeChanged(model, socket, sockets, elsewhere, before);
      return [{ type: "view", ...rid, ...model.counts(user), seq: model.seq }];
    }
    case "send": {
      const drafts: Draft[] = call.messages.map((m) => {
        if (m.id === undefined || m.ts === undefined) throw new Error("unpredictable send");
        return { id: m.id, ts: m.ts, author: m.author ?? user, text: m.text };
      });
      const { results, pushes } = model.batch(drafts, sockets);
      for (const s of sockets) if (s !== socket) elsewhere.get(s)?.push(...(pushes.get(s) ?? []));
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
      const before = model.unread(user);
      model.ack(user);
      badgeChanged(model, socket, sockets, elsewhere, before);
      return [{ type: "view", ...rid, ...model.counts(user), seq: model.seq }];
    }
    case "ping":
      return [{ type: "pong", ...rid }];
    default: {
      const unreachable: never = call;
      throw new Error(`unhandled ${JSON.stringify(unreachable)}`);
    }
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
      ...unmarkedCounts(model.total),
      seq: model.seq,
    });
    const watching: SocketModel = {
      user: "watcher",
      view: { first: null, last: null, live: true },
    };

    let runs = 0;
    let frames = 0;
    let clock = 0;
    const tally = { valid: 0, invalid: 0, stored: 0 };
    await holds(
      fc.asyncProperty(
        fc.array(wsInputArb, WS_FRAMES_PER_RUN),
        reported(async (inputs) => {
          // A new user and socket each run: a fresh frame budget, and a user with no history.
          const user = `fz${runs++}`;
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
            read: null,
            newest: model.newest,
            seq: model.seq,
          });
          const socket: SocketModel = { user, view: initialView(model.newest) };
          const elsewhere = new Map<SocketModel, Frame[]>([[watching, []]]);
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
              ? answerTo(verdict.call, model, socket, [socket, watching], elsewhere)
              : [errorFrame("bad_request", verdict.rid)];
            if (verdict.ok) tally.valid++;
            else tally.invalid++;
            tally.stored += model.total - before;
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
          expect(comparable(await watcher.drain()), "pushes to the watcher").toEqual(
            comparable(elsewhere.get(watching) ?? []),
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
    const { total, lateTotal } = await stats(channel);
    expect({ total, lateTotal }).toEqual({
      total: model.total,
      lateTotal: model.lateArrivals.length,
    });
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

// ── HTTP ───────────────────────────────────────────────────────────────────

/** Channels the HTTP fuzz writes to, each with its model. */
const CHANNELS = ["fuzz-http", "fuzz-http.b", "Fuzz_http-C"] as const;
/** The one channel whose simulator is started (and stopped at once). */
const SIM = "fuzz-sim";

const invalidChannelArb = fc
  .oneof(
    fc.constantFrom("a".repeat(65), "a b", "a/b", "ä", "%", "%41", "%2541", "ch~1", "ch*", "é.x"),
    fc.string({ unit: "binary", minLength: 1, maxLength: 70 }),
  )
  .filter((ch) => !validName(ch) && ch !== "." && ch !== "..");
const channelArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...CHANNELS) },
  { weight: 2, arbitrary: invalidChannelArb },
);
const simChannelArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant(SIM) },
  { weight: 2, arbitrary: invalidChannelArb },
);

type Pair = [string, string];

const anchorQueryArb = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom("newest", "oldest") },
  { weight: 3, arbitrary: idArb.map((id) => `id:${id}`) },
  { weight: 3, arbitrary: fc.integer({ min: -5, max: 400 }).map((n) => `pos:${n}`) },
  { weight: 2, arbitrary: anyTsArb.map((t) => `ts:${t}`) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "",
      ":",
      "pos:",
      "pos:1.5",
      "pos:007",
      "pos:+1",
      "pos:-0",
      "pos: 1",
      "ts:1e3",
      "ts:NaN",
      "ts:Infinity",
      "id:",
      `id:${"x".repeat(64)}`,
      `id:${"x".repeat(65)}`,
      `id:${EMOJI.repeat(32)}`,
      `id:${EMOJI.repeat(32)}x`,
      "id:a:b",
      "NEWEST",
      "position:3",
      "pos:99999999999999999",
      "pos:9007199254740991",
      "pos:-9007199254740992",
      "ts:-9007199254740991",
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
);
const numberQueryArb = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max }).map(String) },
    { weight: 2, arbitrary: fc.integer({ min: -10, max: max * 2 }).map(String) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "",
        "-1",
        "007",
        "1.5",
        "1e2",
        " 3",
        "+3",
        "NaN",
        "abc",
        "0x10",
        "99999999999999999999",
      ),
    },
  );
const unknownParamArb: fc.Arbitrary<Pair> = fc.tuple(
  fc.constantFrom("limit", "Anchor", "foo", "before[]", "x"),
  fc.string({ maxLength: 5 }),
);
const pageQueryArb = fc.uniqueArray(
  fc.oneof(
    { weight: 4, arbitrary: anchorQueryArb.map((v): Pair => ["anchor", v]) },
    { weight: 3, arbitrary: numberQueryArb(200).map((v): Pair => ["before", v]) },
    { weight: 3, arbitrary: numberQueryArb(200).map((v): Pair => ["after", v]) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((v): Pair => ["token", v]) },
    { weight: 1, arbitrary: unknownParamArb },
  ),
  { selector: ([key]) => key, maxLength: 4 },
);
const timelineQueryArb = fc.uniqueArray(
  fc.oneof(
    { weight: 6, arbitrary: numberQueryArb(1_000).map((v): Pair => ["points", v]) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((v): Pair => ["token", v]) },
    { weight: 1, arbitrary: unknownParamArb },
  ),
  { selector: ([key]) => key, maxLength: 3 },
);

const rawBodyArb = fc.oneof(
  fc.constantFrom("", "{", "[", "null", "[]", "{}", '{"messages":', '"hello"', "NaN", "{'a':1}"),
  fc.string({ unit: "binary", maxLength: 30 }),
);
const jsonBody = (arb: fc.Arbitrary<Json>) => arb.map((v) => JSON.stringify(v));
const insertBodyValidArb = fc
  .record(
    {
      messages: fc.array(messageArb(true), { minLength: 1, maxLength: 5 }),
      extra: wrongValueArb,
    },
    { requiredKeys: ["messages"] },
  )
  .map((v) => v as Json);
const insertBodyArb = fc.oneof(
  { weight: 5, arbitrary: jsonBody(insertBodyValidArb) },
  { weight: 5, arbitrary: jsonBody(broken(insertBodyValidArb)) },
  { weight: 1, arbitrary: jsonBody(fc.jsonValue() as fc.Arbitrary<Json>) },
  { weight: 1, arbitrary: rawBodyArb },
);
const simulatorValidArb = fc
  .record(
    {
      rate: fc.oneof(fc.double({ min: 0, max: 5_000, noNaN: true }), fc.constantFrom(0, 5_000)),
      lateRatio: fc.double({ min: 0, max: 1, noNaN: true }),
      chunkEvery: fc.oneof(fc.integer({ min: 0, max: 86_400 }), fc.constant(0)),
      chunkSize: fc.integer({ min: 1, max: 10_000 }),
      seed: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constant(2 ** 32 - 1)),
      tickMs: fc.integer({ min: 100, max: 60_000 }),
      // Sums over 0.9 with the others are refused: some of each.
      editRatio: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.05)),
      deleteRatio: fc.oneof(fc.double({ min: 0, max: 0.2, noNaN: true }), fc.constant(0)),
      reactRatio: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.3)),
    },
    { requiredKeys: [] },
  )
  .map((v) => v as Json);
const simulatorBodyArb = fc.oneof(
  { weight: 4, arbitrary: jsonBody(simulatorValidArb) },
  { weight: 5, arbitrary: jsonBody(broken(simulatorValidArb)) },
  { weight: 1, arbitrary: jsonBody(fc.jsonValue() as fc.Arbitrary<Json>) },
  { weight: 1, arbitrary: rawBodyArb },
);

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const;
const SUFFIXES = [
  "",
  "/messages",
  "/timeline",
  "/simulator",
  "/ws",
  "/naive",
  "/messages/x",
  "/",
  "/MESSAGES",
  "/nope",
] as const;

interface HttpInput {
  readonly method: string;
  readonly ch: string;
  readonly suffix: string;
  readonly query: readonly Pair[];
  readonly body?: string;
}

const request = (method: string, ch: string, suffix: string, query: Pair[], body?: string) =>
  ({ method, ch, suffix, query, ...(body === undefined ? {} : { body }) }) as HttpInput;

/** A random method and path: the route is chosen so a simulator is only ever started on SIM. */
const anyRouteArb = fc
  .tuple(
    fc.constantFrom(...METHODS),
    fc.constantFrom(...SUFFIXES),
    channelArb,
    simChannelArb,
    insertBodyArb,
    simulatorBodyArb,
  )
  .map(([method, suffix, ch, simCh, insertBody, simBody]) => {
    const sim = suffix === "/simulator";
    const body = method === "GET" ? undefined : sim || method === "PUT" ? simBody : insertBody;
    return request(method, sim ? simCh : ch, suffix, [], body);
  });

const httpInputArb: fc.Arbitrary<HttpInput> = fc
  .oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(channelArb, pageQueryArb)
        .map(([ch, q]) => request("GET", ch, "/messages", q)),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(channelArb, timelineQueryArb)
        .map(([ch, q]) => request("GET", ch, "/timeline", q)),
    },
    { weight: 2, arbitrary: channelArb.map((ch) => request("GET", ch, "", [])) },
    {
      weight: 8,
      arbitrary: fc
        .tuple(channelArb, insertBodyArb)
        .map(([ch, body]) => request("POST", ch, "/messages", [], body)),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(simChannelArb, simulatorBodyArb)
        .map(([ch, body]) => request("PUT", ch, "/simulator", [], body)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(simChannelArb, fc.constantFrom("GET", "DELETE"))
        .map(([ch, method]) => request(method, ch, "/simulator", [])),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(channelArb, fc.string({ maxLength: 10 }))
        .map(([ch, user]) => request("GET", ch, "/ws", [["user", user]])),
    },
    { weight: 3, arbitrary: anyRouteArb },
  )
  .filter((input) => {
    // A valid insert the model could not predict: the server would choose its id or ts.
    const messages =
      input.method === "POST" && input.suffix === "/messages"
        ? judgeInsertBody(input.body ?? "")
        : undefined;
    return !messages?.some((m) => m.id === undefined || m.ts === undefined);
  });

function urlOf(input: HttpInput): string {
  const query = input.query
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join("&");
  return `http://x/v1/channels/${encodeURIComponent(input.ch)}${input.suffix}${query ? `?${query}` : ""}`;
}

/** Paths the URL parser and router see in odd ways: only the shape of the answer is checked. */
const oddPathArb = fc.oneof(
  fc.constantFrom(
    "/v1/channels/%/messages",
    "/v1/channels/%ZZ/messages",
    "/v1/channels/%E0%A4%A/messages",
    "/v1/channels/%00",
    "/v1/channels/%2e%2e/messages",
    "/v1/channels/a%2Fb/timeline?points=3",
    "/v1/channels//messages",
    "/v1//channels/fuzz-http",
    "/v1/channels/fuzz-http/messages?anchor=%ZZ",
    "/v1/channels/fuzz-http/messages?anchor=pos%3A1&anchor=pos%3A2",
    "/v1/channels/fuzz-http/messages?anchor",
    "/v1/channels/fuzz-http/messages?=&&=",
    "/v1/channels/fuzz-http/messages?before=1+2",
    "/v1/channels/fuzz-http/timeline?points=%32",
    "/v1/channels/fuzz-http/messages#anchor=x",
    "/v1/channels/fuzz-http/",
    "/v1/channels/fuzz-http/messages/",
  ),
  fc
    .string({ unit: "binary", maxLength: 30 })
    .map((s) => `/v1/channels/${encodeURI(s).replace(/#/g, "%23")}/messages?${encodeURI(s)}`),
);

interface Simulated {
  running: boolean;
  settings: SimulatorSettings;
}

/** What a request should get: an error, an exact body, one of several, or a write to apply. */
type Plan =
  | { readonly kind: "error"; readonly code: Code }
  | { readonly kind: "read"; readonly body: unknown }
  | { readonly kind: "either"; readonly plans: readonly Plan[] }
  | { readonly kind: "write"; readonly apply: () => unknown };

const simulatorBody = (sim: Simulated) => ({
  running: sim.running,
  settings: { ...sim.settings },
  counters: expect.any(Object),
});

/**
 * The plan for a request. Unknown query parameters: the README says they are
 * ignored, and the server refuses them (see "query parameters" below); the
 * fuzz accepts either so that it keeps checking everything else.
 */
function planOf(input: HttpInput, models: Map<string, ChannelModel>, sim: Simulated): Plan {
  const route = routeOf(input.method, input.suffix);
  // Under /v1/, an unknown path or method is an invalid path (the bench's `naive` is off here).
  if (route === undefined || route === "naive") return { kind: "error", code: "bad_request" };
  if (!validName(input.ch)) return { kind: "error", code: "bad_request" };
  const model = models.get(input.ch);
  const lenient = (keys: readonly string[], plan: Plan): Plan =>
    keys.length === 0
      ? plan
      : { kind: "either", plans: [plan, { kind: "error", code: "bad_request" }] };
  switch (route) {
    case "stats":
      if (!model) throw new Error(`no model of ${input.ch}`);
      return { kind: "read", body: model.stats(input.ch) };
    case "page": {
      if (!model) throw new Error(`no model of ${input.ch}`);
      const q = judgePageQuery(input.query);
      if (!q.ok) return { kind: "error", code: "bad_request" };
      const page = model.page(q.value.anchor, q.value.before, q.value.after);
      return lenient(
        q.unknownKeys,
        page === "not_found" ? { kind: "error", code: "not_found" } : { kind: "read", body: page },
      );
    }
    case "timeline": {
      if (!model) throw new Error(`no model of ${input.ch}`);
      const q = judgeTimelineQuery(input.query);
      if (!q.ok) return { kind: "error", code: "bad_request" };
      return lenient(q.unknownKeys, { kind: "read", body: model.timeline(q.value) });
    }
    case "insert": {
      const messages = judgeInsertBody(input.body ?? "");
      if (!messages) return { kind: "error", code: "bad_request" };
      if (!model) throw new Error(`no model of ${input.ch}`);
      return {
        kind: "write",
        apply: () => {
          const drafts = messages.map((m) => ({
            id: m.id as string,
            ts: m.ts as number,
            author: m.author as string,
            text: m.text,
          }));
          const inserted = model.store(drafts).stored.length;
          return { inserted, duplicates: drafts.length - inserted, total: model.total };
        },
      };
    }
    case "simulator.get":
      return { kind: "read", body: simulatorBody(sim) };
    case "simulator.put": {
      const update = judgeSimulatorBody(input.body ?? "");
      if (!update) return { kind: "error", code: "bad_request" };
      if (!changeShareOk({ ...sim.settings, ...update })) {
        return { kind: "error", code: "bad_request" };
      }
      return {
        kind: "write",
        apply: () => {
          sim.running = true;
          sim.settings = { ...sim.settings, ...update };
          return simulatorBody(sim);
        },
      };
    }
    case "simulator.delete":
      return {
        kind: "write",
        apply: () => {
          sim.running = false;
          return simulatorBody(sim);
        },
      };
    case "ws":
      // A plain GET is not an upgrade.
      return { kind: "error", code: "bad_request" };
    default: {
      const unreachable: never = route;
      throw new Error(`unhandled ${unreachable}`);
    }
  }
}

const ALLOWED_STATUS = new Set<number>(Object.values(STATUS_OF).filter((s) => s !== 500));

/** An answer's status and body, checked for shape: JSON, and an error's code matches its status. */
async function answerOf(res: Response, label: string): Promise<{ status: number; body: unknown }> {
  expect(res.headers.get("content-type"), label).toMatch(/^application\/json/);
  const body = (await res.json()) as unknown;
  if (res.status === 200) return { status: 200, body };
  expect(ALLOWED_STATUS.has(res.status), `${label}: status ${res.status}`).toBe(true);
  expect(body, label).toStrictEqual({
    error: { code: expect.any(String), message: expect.any(String) },
  });
  const { code, message } = (body as { error: { code: Code; message: string } }).error;
  expect(STATUS_OF[code], `${label}: ${code} has status ${res.status}`).toBe(res.status);
  expect(message, label).not.toBe("");
  return { status: res.status, body };
}

function matches(got: { status: number; body: unknown }, plan: Plan, expected: unknown): boolean {
  if (plan.kind === "either") return plan.plans.some((p) => matches(got, p, expected));
  const want =
    plan.kind === "error"
      ? {
          status: STATUS_OF[plan.code],
          body: { error: { code: plan.code, message: expect.any(String) } },
        }
      : { status: 200, body: plan.kind === "read" ? plan.body : expected };
  try {
    expect(got).toStrictEqual(want);
    return true;
  } catch {
    return false;
  }
}

async function check(input: HttpInput, plan: Plan, expected?: unknown): Promise<void> {
  const label = `${input.method} ${urlOf(input)} ${(input.body ?? "").slice(0, 200)}`;
  const got = await answerOf(await send(input), label);
  if (!matches(got, plan, expected)) {
    const want =
      plan.kind === "error"
        ? { status: STATUS_OF[plan.code], code: plan.code }
        : plan.kind === "read"
          ? { status: 200, body: plan.body }
          : plan.kind === "write"
            ? { status: 200, body: expected }
            : plan.plans;
    expect.unreachable(`${label}\n got ${JSON.stringify(got)}\nwant ${JSON.stringify(want)}`);
  }
}

function send(input: HttpInput): Promise<Response> {
  return worker.fetch(
    new Request(urlOf(input), {
      method: input.method,
      ...(input.body === undefined ? {} : { body: input.body }),
    }),
  );
}

describe("HTTP fuzz", () => {
  it("answers generated requests like the model with well-formed errors and stores only valid batches", async () => {
    const models = new Map<string, ChannelModel>(CHANNELS.map((ch) => [ch, new ChannelModel()]));
    const main = models.get(CHANNELS[0]) as ChannelModel;
    const seed = series(30);
    expect((await postMessages(CHANNELS[0], seed)).status).toBe(200);
    main.store(seed);
    const sim: Simulated = { running: false, settings: { ...DEFAULT_SIMULATOR } };

    let requests = 0;
    let clock = 0;
    const tally = { error: 0, ok: 0, writes: 0 };
    await holds(
      fc.asyncProperty(
        fc.array(httpInputArb, HTTP_REQUESTS_PER_RUN),
        fc.array(oddPathArb, { maxLength: 3 }),
        reported(async (inputs: HttpInput[], oddPaths: string[]) => {
          requests += inputs.length + oddPaths.length;
          // Reads between two writes go at once; writes one at a time, in order.
          let reads: Promise<void>[] = [];
          for (const generated of inputs) {
            const body =
              generated.body === undefined ? {} : { body: freshen(generated.body, ++clock) };
            const input: HttpInput = { ...generated, ...body };
            const plan = planOf(input, models, sim);
            if (plan.kind === "error") tally.error++;
            else tally.ok++;
            if (plan.kind !== "write") {
              reads.push(check(input, plan));
              continue;
            }
            await Promise.all(reads);
            reads = [];
            tally.writes++;
            await check(input, plan, plan.apply());
            if (sim.running) {
              // Stopped at once: a tick (≥ 100 ms away) must not write while the fuzz runs.
              const stop = request("DELETE", SIM, "/simulator", []);
              const stopPlan = planOf(stop, models, sim);
              if (stopPlan.kind !== "write") throw new Error("DELETE is a write");
              await check(stop, stopPlan, stopPlan.apply());
            }
          }
          await Promise.all(reads);
          for (const path of oddPaths) {
            const res = await worker.fetch(new Request(`http://x${path}`));
            await answerOf(res, `GET ${path}`);
          }
          // Nothing but the valid batches changed any channel.
          for (const [ch, model] of models) {
            const res = await worker.fetch(new Request(`http://x/v1/channels/${ch}`));
            expect(await res.json(), ch).toStrictEqual(model.stats(ch));
          }
          const res = await worker.fetch(new Request(`http://x/v1/channels/${SIM}/simulator`));
          expect(await res.json()).toStrictEqual(simulatorBody(sim));
        }),
      ),
      HTTP_RUNS,
    );

    expect(requests).toBeGreaterThanOrEqual(MIN_INPUTS);
    expect(tally.ok).toBeGreaterThan(requests / 4);
    expect(tally.error).toBeGreaterThan(requests / 4);
    expect(tally.writes).toBeGreaterThan(500);
    for (const [ch, model] of models) {
      expect(await allMessages(ch), ch).toEqual(model.sorted.map((m) => model.wire(m)));
    }
  });
});

describe("query parameters", () => {
  it("ignores unknown query parameters of a page, as the README says", async () => {
    const channel = "fuzz-unknown-param";
    expect((await postMessages(channel, series(5))).status).toBe(200);
    const plain = await worker.fetch(
      new Request(`http://x/v1/channels/${channel}/messages?anchor=oldest&before=0&after=1`),
    );
    expect(plain.status).toBe(200);
    const res = await worker.fetch(
      new Request(`http://x/v1/channels/${channel}/messages?anchor=oldest&before=0&after=1&v=2`),
    );
    expect({ status: res.status, body: await res.json() }).toStrictEqual({
      status: 200,
      body: await plain.json(),
    });
  });
});

describe("simulator body limit", () => {
  it("answers a simulator body over its limit with 413 too_large and leaves the simulator off", async () => {
    const channel = "fuzz-sim-large";
    const body = JSON.stringify({ rate: 1, padding: "x".repeat(70 * 1024) });
    const res = await worker.fetch(
      new Request(`http://x/v1/channels/${channel}/simulator`, { method: "PUT", body }),
    );
    await expectError(res, "too_large");
    const state = await worker.fetch(new Request(`http://x/v1/channels/${channel}/simulator`));
    expect(await state.json()).toMatchObject({ running: false });
  });
});
