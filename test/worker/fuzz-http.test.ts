/**
 * Fuzzing HTTP (docs/protocol.md: errors, HTTP, and 1.2's `POST …/changes`): at
 * least 10,000 generated requests a run, valid and invalid mixed — bad
 * channels, odd paths, queries and bodies with a field broken, valid
 * requests of every route. Each is judged by the independent rules in
 * oracle.ts and its answer compared with the kit's channel model
 * (test/support/model.ts): valid ones answer like the model (changes the
 * user may not make: 403), invalid ones get their error (the code with its
 * status) and change nothing, and no answer is a 500.
 *
 * The objects keep their state across runs, so shrinking would replay
 * against different channels: a failure ends the check at once and reports
 * the seed and path that replay it.
 */
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { series } from "../support/data.ts";
import { ChannelModel } from "../support/model.ts";
import { closeAll } from "../support/socket.ts";
import { type Code, STATUS_OF } from "../support/wire.ts";
import {
  anyTsArb,
  broken,
  changesArb,
  EMOJI,
  freshen,
  holds,
  idArb,
  MIN_INPUTS,
  messageArb,
  reported,
  wrongValueArb,
} from "./fuzz-inputs.ts";
import { allMessages, expectError, postMessages, worker } from "./net.ts";
import {
  changeShareOk,
  DEFAULT_SIMULATOR,
  type Json,
  judgeChangesBody,
  judgeInsertBody,
  judgePageQuery,
  judgeSimulatorBody,
  judgeTimelineQuery,
  routeOf,
  type SimulatorSettings,
  validName,
} from "./oracle.ts";

afterEach(closeAll);

const HTTP_RUNS = 125;
const HTTP_REQUESTS_PER_RUN = { minLength: 82, maxLength: 90 };

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
  // Protocol 1.2: needs a user on an open worker.
  { weight: 1, arbitrary: fc.constantFrom("first_unread", "first_unread:x", "FIRST_UNREAD") },
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
    // Protocol 1.2: whose read marker first_unread means (nobody here has one: the oldest).
    {
      weight: 2,
      arbitrary: fc
        .oneof(fc.constantFrom("ann", "u.1-_", "x".repeat(64)), fc.string({ maxLength: 66 }))
        .map((v): Pair => ["user", v]),
    },
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
/** Bodies: valid ones, ones with a field broken, any JSON, and text that is hardly JSON. */
const bodyArb = (valid: fc.Arbitrary<Json>, validWeight = 5) =>
  fc.oneof(
    { weight: validWeight, arbitrary: jsonBody(valid) },
    { weight: 5, arbitrary: jsonBody(broken(valid)) },
    { weight: 1, arbitrary: jsonBody(fc.jsonValue() as fc.Arbitrary<Json>) },
    { weight: 1, arbitrary: rawBodyArb },
  );
const insertBodyArb = bodyArb(insertBodyValidArb);
/** Protocol 1.2: changes by "seed" (the seeded messages' author) or by others. */
const changesBodyValidArb = fc
  .record(
    { user: fc.constantFrom("seed", "h1", "h2"), changes: changesArb, extra: wrongValueArb },
    { requiredKeys: ["user", "changes"] },
  )
  .map((v) => v as Json);
const changesBodyArb = bodyArb(changesBodyValidArb);
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
const simulatorBodyArb = bodyArb(simulatorValidArb, 4);

const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"] as const;
const SUFFIXES = [
  "",
  "/messages",
  "/changes",
  "/timeline",
  "/simulator",
  "/ws",
  "/naive",
  "/bench-stats",
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
    changesBodyArb,
  )
  .map(([method, suffix, ch, simCh, insertBody, simBody, changesBody]) => {
    const sim = suffix === "/simulator";
    const posted = suffix === "/changes" ? changesBody : insertBody;
    const body = method === "GET" ? undefined : sim || method === "PUT" ? simBody : posted;
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
      weight: 6,
      arbitrary: fc
        .tuple(channelArb, changesBodyArb)
        .map(([ch, body]) => request("POST", ch, "/changes", [], body)),
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

/**
 * What a request should get: an error, an exact body, one of several, or a
 * write, whose answer the model knows once it applied it in its turn.
 */
type Plan =
  | { readonly kind: "error"; readonly code: Code }
  | { readonly kind: "read"; readonly body: unknown }
  | { readonly kind: "either"; readonly plans: readonly Plan[] }
  | { readonly kind: "write"; readonly apply: () => Plan };

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
  // Under /v1/, an unknown path or method is an invalid path (the bench's routes are off here).
  if (route === undefined || route === "naive" || route === "benchStats") {
    return { kind: "error", code: "bad_request" };
  }
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
      const { anchor, before, after, user } = q.value;
      const page = model.page(anchor, before, after, user, "http");
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
          // A message that arrived deleted (a delete held for it) counts as inserted.
          const inserted = model.store(drafts).results.filter((r) => !r.duplicate).length;
          const body = { inserted, duplicates: drafts.length - inserted, total: model.total };
          return { kind: "read", body };
        },
      };
    }
    case "changes": {
      const body = judgeChangesBody(input.body ?? "");
      if (!body) return { kind: "error", code: "bad_request" };
      if (!model) throw new Error(`no model of ${input.ch}`);
      return {
        kind: "write",
        apply: () => {
          // An open worker has no moderators: only authors delete.
          const outcome = model.change({ user: body.user, moderator: false }, body.changes);
          if ("forbidden" in outcome) return { kind: "error", code: "forbidden" };
          const { total, seq } = model;
          return { kind: "read", body: { results: outcome.results, total, seq } };
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
          return { kind: "read", body: simulatorBody(sim) };
        },
      };
    }
    case "simulator.delete":
      return {
        kind: "write",
        apply: () => {
          sim.running = false;
          return { kind: "read", body: simulatorBody(sim) };
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

function matches(got: { status: number; body: unknown }, plan: Plan): boolean {
  if (plan.kind === "either") return plan.plans.some((p) => matches(got, p));
  if (plan.kind === "write") throw new Error("a write is checked by the plan its apply() gives");
  const want =
    plan.kind === "error"
      ? {
          status: STATUS_OF[plan.code],
          body: { error: { code: plan.code, message: expect.any(String) } },
        }
      : { status: 200, body: plan.body };
  try {
    expect(got).toStrictEqual(want);
    return true;
  } catch {
    return false;
  }
}

async function check(input: HttpInput, plan: Plan): Promise<void> {
  const label = `${input.method} ${urlOf(input)} ${(input.body ?? "").slice(0, 200)}`;
  const got = await answerOf(await send(input), label);
  if (!matches(got, plan)) {
    const want =
      plan.kind === "error"
        ? { status: STATUS_OF[plan.code], code: plan.code }
        : plan.kind === "read"
          ? { status: 200, body: plan.body }
          : plan;
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
    const tally = { error: 0, ok: 0, writes: 0, refused: 0 };
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
            const outcome = plan.apply();
            if (outcome.kind === "error") tally.refused++;
            await check(input, outcome);
            if (sim.running) {
              // Stopped at once: a tick (≥ 100 ms away) must not write while the fuzz runs.
              const stop = request("DELETE", SIM, "/simulator", []);
              const stopPlan = planOf(stop, models, sim);
              if (stopPlan.kind !== "write") throw new Error("DELETE is a write");
              await check(stop, stopPlan.apply());
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
    // Changes were made and changes were refused (forbidden) at their turn.
    expect(tally.refused).toBeGreaterThan(0);
    const deleted = [...models.values()].reduce((n, m) => n + m.tombstones.size, 0);
    expect(deleted).toBeGreaterThan(0);
    console.log(
      `HTTP fuzz: ${requests} requests (${tally.ok} valid, ${tally.error} invalid), ${tally.writes} writes, ${tally.refused} refused at their turn, ${deleted} messages deleted`,
    );
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
