/**
 * The simulator through the HTTP API and the object's alarm. Ticks are made
 * due deterministically by moving the persisted run's `start` into the past
 * (the alarm reads `Date.now()`), then firing the alarm with
 * `runDurableObjectAlarm`. Every stored tick is compared with an independent
 * recomputation from the pure generator, and the channel's contents with a
 * model of docs/protocol.md's order, seq and late flags.
 */

import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { type Arrival, generateTick } from "../../src/core/arrivals.ts";
import { generateChanges } from "../../src/core/tick-changes.ts";
import type { SimulatorSettings, SimulatorState } from "../../src/protocol/schemas.ts";
import {
  type ChangedMessage,
  ChangingChannel,
  type ModelChange,
} from "../support/changing-channel.ts";
import { ChannelModel } from "../support/model.ts";
import { DEFAULT_SIMULATOR, ZERO_COUNTERS } from "../support/simulator.ts";
import { closeAll } from "../support/socket.ts";
import type { Draft } from "../support/wire.ts";
import { unmarkedCounts } from "../support/wire.ts";
import { allMessages, api, harness, openSocket, channelStub as stubOf } from "./net.ts";

/** Long ticks: a window never ends by itself while a test runs, so only the test makes ticks due. */
const TICK_MS = 60_000;
/** How far past a window's end the test puts `now`: far from both window edges. */
const MARGIN_MS = 1_000;
/** PROTOCOL/brief: at most this many ticks are made up by one alarm. */
const CATCH_UP = 10;

// ── HTTP ───────────────────────────────────────────────────────────────────

function call(path: string, init?: RequestInit): Promise<Response> {
  return api(`/v1/channels/${path}`, init);
}

async function putSimulator(channel: string, body: unknown): Promise<Response> {
  return call(`${channel}/simulator`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function json<T>(res: Response, status = 200): Promise<T> {
  const body = await res.json();
  expect({ status: res.status, body }).toMatchObject({ status });
  return body as T;
}

async function start(channel: string, settings: SimulatorSettings): Promise<SimulatorState> {
  return json<SimulatorState>(await putSimulator(channel, settings));
}

async function simulator(channel: string): Promise<SimulatorState> {
  return json<SimulatorState>(await call(`${channel}/simulator`));
}

async function total(channel: string): Promise<number> {
  return (await json<{ total: number }>(await call(channel))).total;
}

// ── The persisted run ──────────────────────────────────────────────────────

/** What simulator.ts keeps under meta 'simulator' (the fields the test reads or moves). */
interface Persisted {
  running: boolean;
  run: number;
  start: number;
  nextTick: number;
  [other: string]: unknown;
}

async function readPersisted(channel: string): Promise<Persisted> {
  return runInDurableObject(stubOf(channel), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'simulator'")
      .one();
    return JSON.parse(row.value) as Persisted;
  });
}

/** Rewrites the persisted run with `change` applied; answers the new state. */
async function rewrite(channel: string, change: (p: Persisted) => Persisted): Promise<Persisted> {
  return runInDurableObject(stubOf(channel), (_instance, state) => {
    const row = state.storage.sql
      .exec<{ value: string }>("SELECT value FROM meta WHERE key = 'simulator'")
      .one();
    const next = change(JSON.parse(row.value) as Persisted);
    state.storage.sql.exec(
      "UPDATE meta SET value = ? WHERE key = 'simulator'",
      JSON.stringify(next),
    );
    return next;
  });
}

/**
 * Moves the run's start so that `tick` is the last tick whose window has ended
 * (by {@link MARGIN_MS}); the next window ends almost a whole tick later.
 */
async function makeDue(channel: string, tick: number): Promise<Persisted> {
  return rewrite(channel, (p) => ({ ...p, start: Date.now() - (tick + 1) * TICK_MS - MARGIN_MS }));
}

async function alarmAt(channel: string): Promise<number | null> {
  return runInDurableObject(stubOf(channel), (_instance, state) => state.storage.getAlarm());
}

// ── The model ──────────────────────────────────────────────────────────────

/** The arrivals of ticks [from, to] of a run, recomputed from the pure generator. */
function ticksOf(
  settings: SimulatorSettings,
  run: Persisted,
  from: number,
  to: number,
): { arrivals: Arrival[]; chunks: number } {
  const arrivals: Arrival[] = [];
  let chunks = 0;
  for (let tick = from; tick <= to; tick++) {
    const batch = generateTick(settings, {
      idPrefix: `sim${run.run}`,
      start: run.start,
      tickMs: settings.tickMs,
      tick,
    });
    if (batch.some((a) => a.kind === "chunk")) chunks++;
    arrivals.push(...batch);
  }
  return { arrivals, chunks };
}

/** Arrivals as the drafts the model stores. */
const draftsOf = (arrivals: readonly Arrival[]): Draft[] =>
  arrivals.map(({ id, ts, author, text }) => ({ id, ts, author, text }));

/** Stores arrivals in the model; answers how many were new and late. */
function add(
  model: ChannelModel,
  arrivals: readonly Arrival[],
): { inserted: number; late: number } {
  const { stored } = model.store(draftsOf(arrivals));
  return { inserted: stored.length, late: stored.filter((m) => m.late).length };
}

/** The channel's messages as the model holds them, on the wire. */
const listOf = (model: ChannelModel) => model.sorted.map((m) => model.wire(m));

afterEach(closeAll);

// ── Settings used by the tests ─────────────────────────────────────────────

/** No changes: messages only, for the tests of arrivals. */
const NO_CHANGES = { editRatio: 0, deleteRatio: 0, reactRatio: 0 };

/** Late singles, and a chunk in about 60 % of ticks (tickMs / chunkEvery). */
const LIVELY: SimulatorSettings = {
  rate: 2,
  lateRatio: 0.3,
  chunkEvery: 100,
  chunkSize: 30,
  seed: 11,
  tickMs: TICK_MS,
  ...NO_CHANGES,
};

const QUIET: SimulatorSettings = { ...LIVELY, rate: 0.5, chunkEvery: 0, seed: 3 };

describe("simulator API", () => {
  it("answers stopped defaults and zero counters before any start", async () => {
    const state = await simulator("sim-fresh");
    expect(state.running).toBe(false);
    expect(state.counters).toEqual(ZERO_COUNTERS);
    expect(state.settings).toEqual(DEFAULT_SIMULATOR);
  });

  it("starts with the given settings and schedules tick 0's window end", async () => {
    const state = await start("sim-start", LIVELY);
    expect(state).toEqual({
      running: true,
      settings: LIVELY,
      counters: ZERO_COUNTERS,
    });
    expect(await simulator("sim-start")).toEqual(state);
    const run = await readPersisted("sim-start");
    expect(run).toMatchObject({ running: true, run: 1, nextTick: 0 });
    expect(await alarmAt("sim-start")).toBe(run.start + TICK_MS);
    expect(await total("sim-start")).toBe(0);
  });

  it("merges a partial PUT into the current settings", async () => {
    await start("sim-merge", LIVELY);
    const state = await json<SimulatorState>(
      await putSimulator("sim-merge", { rate: 7, seed: 99 }),
    );
    expect(state.settings).toEqual({ ...LIVELY, rate: 7, seed: 99 });
    expect(state.running).toBe(true);
    // A PUT is a new run: the epoch and tick counter start over.
    expect(await readPersisted("sim-merge")).toMatchObject({ run: 2, nextTick: 0 });
  });

  const invalid: [string, unknown][] = [
    ["a negative rate", { rate: -1 }],
    ["a rate over 5,000", { rate: 5_001 }],
    ["a rate given as a string", { rate: "5" }],
    ["an infinite rate", '{"rate": 1e400}'],
    ["a lateRatio over 1", { lateRatio: 1.5 }],
    ["a negative lateRatio", { lateRatio: -0.1 }],
    ["a negative chunkEvery", { chunkEvery: -1 }],
    ["a chunkSize of 0", { chunkSize: 0 }],
    ["a fractional chunkSize", { chunkSize: 1.5 }],
    ["a negative seed", { seed: -1 }],
    ["a seed of 2^32", { seed: 2 ** 32 }],
    ["a tickMs under 100", { tickMs: 99 }],
    ["a tickMs over 60,000", { tickMs: 60_001 }],
    ["an editRatio over 1", { editRatio: 1.01 }],
    ["a negative deleteRatio", { deleteRatio: -0.01 }],
    ["a reactRatio given as a string", { reactRatio: "0.3" }],
    ["changes over 90 % of the arrivals", { editRatio: 0.2, deleteRatio: 0.1, reactRatio: 0.7 }],
    ["a reactRatio of 1 beside the default ratios", { reactRatio: 1 }],
    ["a null field", { rate: null }],
    ["an unknown field", { speed: 3 }],
    ["an unknown field beside valid ones", { ...LIVELY, extra: true }],
    ["an array body", [LIVELY]],
    ["a null body", "null"],
    ["invalid JSON", "{rate: 5"],
  ];
  for (const [i, [what, body]] of invalid.entries()) {
    it(`rejects ${what} with 400 bad_request and leaves it stopped`, async () => {
      const channel = `sim-bad-${i}`;
      const res = await putSimulator(channel, body);
      expect({ status: res.status, body: await res.json() }).toEqual({
        status: 400,
        body: { error: { code: "bad_request", message: expect.any(String) } },
      });
      expect((await simulator(channel)).running).toBe(false);
      expect(await alarmAt(channel)).toBeNull();
    });
  }

  it("checks the ratios' sum against the merged settings", async () => {
    const channel = "sim-ratio-sum";
    await start(channel, { ...LIVELY, reactRatio: 0.8 });
    // Alone it is fine; beside the running reactRatio it asks for 95 % changes.
    const res = await putSimulator(channel, { editRatio: 0.15 });
    expect({ status: res.status, body: await res.json() }).toEqual({
      status: 400,
      body: { error: { code: "bad_request", message: expect.stringContaining("at most 0.9") } },
    });
    expect(await simulator(channel)).toMatchObject({ settings: { ...LIVELY, reactRatio: 0.8 } });
    expect(await readPersisted(channel)).toMatchObject({ run: 1 });
    // Exactly 90 % is allowed (0.3 + 0.3 + 0.3 is not 0.9 in binary, and passes too).
    const ok = await start(channel, {
      ...LIVELY,
      editRatio: 0.3,
      deleteRatio: 0.3,
      reactRatio: 0.3,
    });
    expect(ok.settings).toMatchObject({ editRatio: 0.3, deleteRatio: 0.3, reactRatio: 0.3 });
  });

  it("fills in the change ratios and counters of a state saved before 1.2", async () => {
    const channel = "sim-pre-1.2";
    await start(channel, LIVELY);
    await rewrite(channel, (p) => {
      const {
        editRatio: _e,
        deleteRatio: _d,
        reactRatio: _r,
        ...settings
      } = p.settings as SimulatorSettings;
      const { ticks, generated, inserted, late, chunks, lastTickAt } =
        p.counters as SimulatorState["counters"];
      return { ...p, settings, counters: { ticks, generated, inserted, late, chunks, lastTickAt } };
    });
    const state = await simulator(channel);
    const { editRatio, deleteRatio, reactRatio } = DEFAULT_SIMULATOR;
    expect(state.settings).toEqual({ ...LIVELY, editRatio, deleteRatio, reactRatio });
    expect(state.counters).toEqual(ZERO_COUNTERS);
    // A PUT merges into them, as into any settings.
    expect((await start(channel, { ...LIVELY, seed: 12 })).settings).toEqual({
      ...LIVELY,
      seed: 12,
    });
  });

  it("keeps the running settings when a change is rejected", async () => {
    await start("sim-bad-running", LIVELY);
    const res = await putSimulator("sim-bad-running", { rate: 1, tickMs: 5 });
    expect(res.status).toBe(400);
    await res.body?.cancel();
    expect(await simulator("sim-bad-running")).toMatchObject({ running: true, settings: LIVELY });
    expect(await readPersisted("sim-bad-running")).toMatchObject({ run: 1 });
  });
});

describe("simulator ticks", () => {
  it("stores exactly the arrivals of the ticks whose window ended", async () => {
    const channel = "sim-ticks";
    await start(channel, LIVELY);
    const run = await makeDue(channel, 2);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const { arrivals, chunks } = ticksOf(LIVELY, run, 0, 2);
    // The scenario must exercise all three kinds, or the comparison proves little.
    expect(new Set(arrivals.map((a) => a.kind))).toEqual(new Set(["bottom", "late", "chunk"]));
    const model = new ChannelModel();
    const { inserted, late } = add(model, arrivals);
    expect(inserted).toBe(arrivals.length);
    expect(late).toBeGreaterThan(0);

    expect(await allMessages(channel)).toEqual(listOf(model));
    expect(await total(channel)).toBe(arrivals.length);
    const state = await simulator(channel);
    expect(state.counters).toEqual({
      ...ZERO_COUNTERS,
      ticks: 3,
      generated: arrivals.length,
      inserted,
      late,
      chunks,
      lastTickAt: expect.any(Number),
    });
    expect(state.counters.lastTickAt).toBeGreaterThanOrEqual(run.start + 3 * TICK_MS);
    expect(await readPersisted(channel)).toMatchObject({ nextTick: 3, run: run.run });
    // Re-armed for the end of the next window: tick 3's.
    expect(await alarmAt(channel)).toBe(run.start + 4 * TICK_MS);
  });

  it("makes up at most 10 ticks after a stall and skips the older ones", async () => {
    const channel = "sim-catch-up";
    await start(channel, QUIET);
    const run = await makeDue(channel, 14);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const first = 14 - CATCH_UP + 1;
    const { arrivals } = ticksOf(QUIET, run, first, 14);
    const model = new ChannelModel();
    const { inserted, late } = add(model, arrivals);
    expect(await allMessages(channel)).toEqual(listOf(model));
    expect((await simulator(channel)).counters).toMatchObject({
      ticks: CATCH_UP,
      generated: arrivals.length,
      inserted,
      late,
      chunks: 0,
    });
    expect(await readPersisted(channel)).toMatchObject({ nextTick: 15 });
  });

  it("goes on from the next tick on the next due window", async () => {
    const channel = "sim-next";
    await start(channel, LIVELY);
    const run1 = await makeDue(channel, 0);
    await runDurableObjectAlarm(stubOf(channel));
    const run2 = await makeDue(channel, 2);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const model = new ChannelModel();
    const a = add(model, ticksOf(LIVELY, run1, 0, 0).arrivals);
    const b = add(model, ticksOf(LIVELY, run2, 1, 2).arrivals);
    expect(await allMessages(channel)).toEqual(listOf(model));
    expect((await simulator(channel)).counters).toMatchObject({
      ticks: 3,
      inserted: a.inserted + b.inserted,
      late: a.late + b.late,
    });
  });

  it("uses new ids on a restarted run, never colliding with the previous run's", async () => {
    const channel = "sim-rerun";
    await start(channel, QUIET);
    const run1 = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    await start(channel, QUIET); // same settings, same seed: only the run number differs
    const run2 = await makeDue(channel, 1);
    expect(run2.run).toBe(run1.run + 1);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const model = new ChannelModel();
    const a = add(model, ticksOf(QUIET, run1, 0, 1).arrivals);
    const b = add(model, ticksOf(QUIET, run2, 0, 1).arrivals);
    expect(b.inserted).toBeGreaterThan(0);
    expect(await allMessages(channel)).toEqual(listOf(model));
    expect((await simulator(channel)).counters.inserted).toBe(a.inserted + b.inserted);
  });

  it("treats a retried alarm for the same window as a no-op", async () => {
    const channel = "sim-retry";
    await start(channel, LIVELY);
    const run = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    const stored = await allMessages(channel);
    const counters = (await simulator(channel)).counters;

    // The same window again: nothing new is due.
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);
    expect(await allMessages(channel)).toEqual(stored);
    expect((await simulator(channel)).counters).toEqual(counters);
    expect(await alarmAt(channel)).toBe(run.start + 3 * TICK_MS);
  });

  it("stores no duplicates when the same ticks run again", async () => {
    const channel = "sim-replay";
    await start(channel, LIVELY);
    const run = await makeDue(channel, 2);
    await runDurableObjectAlarm(stubOf(channel));
    const stored = await allMessages(channel);
    const counters = (await simulator(channel)).counters;
    expect(stored.length).toBe(ticksOf(LIVELY, run, 0, 2).arrivals.length);

    // As if the tick counter had not been advanced: ticks 0–2 are generated again.
    await rewrite(channel, (p) => ({ ...p, nextTick: 0 }));
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);
    const again = await allMessages(channel);
    expect(again).toEqual(stored);
    expect(new Set(again.map((m) => m.id)).size).toBe(again.length);
    expect(await total(channel)).toBe(stored.length);
    expect((await simulator(channel)).counters).toMatchObject({
      inserted: counters.inserted,
      late: counters.late,
    });
  });

  it("pushes each tick batch to live sockets as one insert and one status", async () => {
    const channel = "sim-push";
    await start(channel, LIVELY);
    const h = harness(channel);
    const alice = await h.connect("alice");
    const bob = await h.connect("bob");

    const run = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    const { arrivals } = ticksOf(LIVELY, run, 0, 1);
    // An empty channel's live view takes every arrival, positioned after the batch.
    const { pushes } = await h.arrived(draftsOf(arrivals));
    const total = arrivals.length;
    for (const peer of [alice, bob]) {
      expect(pushes.get(peer.socket)).toEqual([
        { type: "insert", messages: expect.any(Array), total, seq: total },
        { type: "status", total, ...unmarkedCounts(total), shifted: 0, latest: [], seq: total },
      ]);
    }
  });

  it("pushes a status with the shift and the latest late arrivals to a view they land before", async () => {
    const channel = "sim-push-late";
    const h = harness(channel);
    // A message from the future: every simulated arrival lands before it, and is late.
    await h.post([{ id: "future", ts: Date.now() + 10 * 86_400_000, author: "zed", text: "hi" }]);
    await start(channel, QUIET);
    const carol = await h.connect("carol");

    const run = await makeDue(channel, 0);
    await runDurableObjectAlarm(stubOf(channel));
    const { arrivals } = ticksOf(QUIET, run, 0, 0);
    const { stored, pushes } = await h.arrived(draftsOf(arrivals));
    expect(stored.filter((m) => m.late)).toHaveLength(arrivals.length);
    expect(pushes.get(carol.socket)).toEqual([
      {
        type: "status",
        total: arrivals.length + 1,
        ...unmarkedCounts(arrivals.length + 1, arrivals.length),
        shifted: arrivals.length,
        latest: expect.any(Array),
        seq: arrivals.length + 1,
      },
    ]);
    expect((await simulator(channel)).counters).toMatchObject({ late: arrivals.length });
  });
});

describe("simulator stop", () => {
  it("stops on DELETE: no alarm is left and a forced alarm stores nothing", async () => {
    const channel = "sim-stop";
    await start(channel, LIVELY);
    await makeDue(channel, 0);
    await runDurableObjectAlarm(stubOf(channel));
    const stored = await allMessages(channel);
    const before = await simulator(channel);
    expect(stored.length).toBeGreaterThan(0);

    const stopped = await json<SimulatorState>(
      await call(`${channel}/simulator`, { method: "DELETE" }),
    );
    expect(stopped).toEqual({ ...before, running: false });
    expect(await alarmAt(channel)).toBeNull();
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(false);

    // Even an alarm delivered late, with many windows ended, does nothing.
    await makeDue(channel, 5);
    await runInDurableObject(stubOf(channel), (instance) => instance.alarm());
    expect(await allMessages(channel)).toEqual(stored);
    expect(await simulator(channel)).toEqual({ ...before, running: false });
    expect(await alarmAt(channel)).toBeNull();
  });

  it("stops a simulator that never started without error", async () => {
    const state = await json<SimulatorState>(
      await call("sim-stop-idle/simulator", { method: "DELETE" }),
    );
    expect(state.running).toBe(false);
    expect(await alarmAt("sim-stop-idle")).toBeNull();
    expect(await total("sim-stop-idle")).toBe(0);
  });
});

describe("simulator persistence", () => {
  it("keeps settings, counters, the alarm and the run across an eviction", async () => {
    const channel = "sim-evict";
    await start(channel, LIVELY);
    const run = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    const state = await simulator(channel);
    const stored = await allMessages(channel);
    const persisted = await readPersisted(channel);
    const alarm = await alarmAt(channel);
    const h = harness(channel);
    const a = add(h.model, ticksOf(LIVELY, run, 0, 1).arrivals);
    expect(listOf(h.model)).toEqual(stored);
    await h.connect("dave");

    await evictDurableObject(stubOf(channel));
    expect(await simulator(channel)).toEqual(state);
    expect(await readPersisted(channel)).toEqual(persisted);
    expect(await alarmAt(channel)).toBe(alarm);
    expect(await allMessages(channel)).toEqual(stored);

    // The woken object goes on with the same run, and pushes to the hibernated socket.
    const moved = await makeDue(channel, 3);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);
    const fresh = ticksOf(LIVELY, moved, 2, 3);
    const { stored: storedNow } = await h.arrived(draftsOf(fresh.arrivals));
    expect(await allMessages(channel)).toEqual(listOf(h.model));
    expect((await simulator(channel)).counters).toMatchObject({
      ticks: 4,
      inserted: a.inserted + storedNow.length,
      late: a.late + storedNow.filter((m) => m.late).length,
    });
  });
});

// ── Changes (protocol 1.2) ─────────────────────────────────────────────────

/** Changes on, with more deletes than the default so that every tick holds several. */
const CHANGING: SimulatorSettings = {
  rate: 2,
  lateRatio: 0.2,
  chunkEvery: 120,
  chunkSize: 20,
  seed: 5,
  tickMs: TICK_MS,
  editRatio: 0.1,
  deleteRatio: 0.05,
  reactRatio: 0.3,
};

/** The counters a run of ticks adds, as the model tells them. */
type Tally = Omit<SimulatorState["counters"], "lastTickAt">;

/** The counter an applied change of each kind adds to. */
const APPLIED = { edit: "edits", delete: "deletes", react: "reactions" } as const;

/**
 * Replays ticks [from, to] of a run into the model as the simulator stores
 * them: each tick's messages, then its changes as one frame a user (users in
 * the order of their first change). Answers the counters they add.
 */
function replay(
  model: ChangingChannel,
  settings: SimulatorSettings,
  run: Persisted,
  from: number,
  to: number,
): Tally {
  const t: Tally = { ...ZERO_COUNTERS, ticks: to - from + 1 };
  for (let tick = from; tick <= to; tick++) {
    const window = { idPrefix: `sim${run.run}`, start: run.start, tickMs: settings.tickMs, tick };
    const arrivals = generateTick(settings, window);
    const changes = generateChanges(settings, window);
    const { inserted, late } = model.insert(draftsOf(arrivals));
    t.generated += arrivals.length;
    t.inserted += inserted;
    t.late += late;
    if (arrivals.some((a) => a.kind === "chunk")) t.chunks++;
    t.changes += changes.length;
    const frames = new Map<string, ModelChange[]>();
    for (const { user, change } of changes) frames.set(user, [...(frames.get(user) ?? []), change]);
    for (const [user, frame] of frames) {
      model.change(user, frame).forEach((outcome, i) => {
        const kind = (frame[i] as ModelChange).kind;
        if (outcome === "applied") t[APPLIED[kind]]++;
        if (outcome === "pending") t.pending++;
      });
    }
  }
  return t;
}

const sum = (a: Tally, b: Tally): Tally =>
  Object.fromEntries(
    Object.keys(a).map((k) => [k, a[k as keyof Tally] + b[k as keyof Tally]]),
  ) as Tally;

/** The channel against the model: every message (text, edits, reactions, seq, late) and the stats. */
async function expectChannel(channel: string, model: ChangingChannel): Promise<void> {
  const messages = await allMessages(channel);
  expect(messages.length).toBe(model.total);
  expect(messages).toEqual(model.list());
  const stats = await json<{ total: number; seq: number }>(await call(channel));
  expect({ total: stats.total, seq: stats.seq }).toEqual({ total: model.total, seq: model.seq });
}

describe("simulator changes", () => {
  it("stores each tick's changes with its messages: pages show edits and reactions, deletes lower the total", async () => {
    const channel = "sim-changes";
    await start(channel, CHANGING);
    const run = await makeDue(channel, 3);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const model = new ChangingChannel();
    const tally = replay(model, CHANGING, run, 0, 3);
    // The scenario must exercise every kind of change and outcome, or the comparison proves little.
    expect(tally.edits).toBeGreaterThan(0);
    expect(tally.deletes).toBeGreaterThan(5);
    expect(tally.reactions).toBeGreaterThan(50);
    expect(tally.pending).toBeGreaterThan(0);
    const shown = model.list();
    expect(shown.some((m) => m.edited !== undefined)).toBe(true);
    expect(shown.some((m) => (m.reactions?.length ?? 0) > 1)).toBe(true);

    await expectChannel(channel, model);
    // Every message inserted and not deleted since (a message deleted before it came is neither).
    expect(model.total).toBe(tally.inserted - tally.deletes);
    const state = await simulator(channel);
    expect(state.counters).toEqual({ ...tally, lastTickAt: expect.any(Number) });
    console.log(
      `sim-changes: ${tally.inserted} messages, ${tally.changes} changes (${tally.edits} edits, ${tally.deletes} deletes, ${tally.reactions} reactions applied, ${tally.pending} pending) checked`,
    );
  });

  it("changes nothing on a retried alarm, nor when the same ticks run again", async () => {
    const channel = "sim-changes-retry";
    await start(channel, CHANGING);
    const run = await makeDue(channel, 2);
    await runDurableObjectAlarm(stubOf(channel));
    const model = new ChangingChannel();
    const tally = replay(model, CHANGING, run, 0, 2);
    await expectChannel(channel, model);
    const counters = (await simulator(channel)).counters;

    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);
    await expectChannel(channel, model);
    expect((await simulator(channel)).counters).toEqual(counters);

    // As if the tick counter had not been advanced: every message is a duplicate, every change
    // stale (or `deleted`): no seq is taken, no counter of what was stored moves.
    await rewrite(channel, (p) => ({ ...p, nextTick: 0 }));
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);
    await expectChannel(channel, model);
    const again = (await simulator(channel)).counters;
    const stored = ["inserted", "late", "edits", "deletes", "reactions", "pending"] as const;
    for (const name of stored) expect(again[name], name).toBe(tally[name]);
    expect(again.changes).toBe(2 * tally.changes);
  });

  it("settles changes that came ahead of their message when a later alarm stores it", async () => {
    const channel = "sim-changes-ahead";
    await start(channel, CHANGING);
    const run1 = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    const run2 = await makeDue(channel, 4);
    expect(await runDurableObjectAlarm(stubOf(channel))).toBe(true);

    const model = new ChangingChannel();
    const tally = sum(replay(model, CHANGING, run1, 0, 1), replay(model, CHANGING, run2, 2, 4));
    // Some changes of the first alarm waited for a message of the second.
    const window = { idPrefix: `sim${run1.run}`, start: run1.start, tickMs: TICK_MS };
    const later = new Set(ticksOf(CHANGING, run2, 2, 4).arrivals.map((a) => a.id));
    const waited = [0, 1].flatMap((tick) =>
      generateChanges(CHANGING, { ...window, tick }).filter((c) => later.has(c.change.id)),
    );
    expect(waited.length).toBeGreaterThan(0);
    await expectChannel(channel, model);
    expect((await simulator(channel)).counters).toEqual({
      ...tally,
      lastTickAt: expect.any(Number),
    });
  });

  it("keeps a restarted run's changes to its own messages, and a stopped one changes nothing", async () => {
    const channel = "sim-changes-restart";
    await start(channel, CHANGING);
    const run1 = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    await start(channel, CHANGING); // the same seed: the same draws, on run 2's ids
    const run2 = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));

    const model = new ChangingChannel();
    const tally = sum(replay(model, CHANGING, run1, 0, 1), replay(model, CHANGING, run2, 0, 1));
    await expectChannel(channel, model);
    expect((await simulator(channel)).counters).toEqual({
      ...tally,
      lastTickAt: expect.any(Number),
    });

    await call(`${channel}/simulator`, { method: "DELETE" });
    const stopped = await simulator(channel);
    await makeDue(channel, 5);
    await runInDurableObject(stubOf(channel), (instance) => instance.alarm());
    await expectChannel(channel, model);
    expect(await simulator(channel)).toEqual(stopped);
  });

  it("pushes a tick's changes to a live socket: insert, remove, update, status, each once", async () => {
    const channel = "sim-changes-push";
    await start(channel, CHANGING);
    const run1 = await makeDue(channel, 0);
    await runDurableObjectAlarm(stubOf(channel));
    const model = new ChangingChannel();
    replay(model, CHANGING, run1, 0, 0);
    // Live, holding everything. A user who is no simulated author: no reaction is `mine`.
    const watcher = await openSocket(channel, "watcher");
    await watcher.next("hello");
    watcher.send({ type: "view", rid: "v", first: null, last: null, live: true });
    await watcher.drain();

    const run2 = await makeDue(channel, 1);
    await runDurableObjectAlarm(stubOf(channel));
    replay(model, CHANGING, run2, 1, 1);
    const frames = await watcher.drain();
    expect(frames.map((f) => f.type)).toEqual(["insert", "remove", "update", "status"]);
    const [insert, remove, update] = frames as unknown as [
      { messages: ChangedMessage[] },
      { ids: string[] },
      { messages: ChangedMessage[] },
    ];
    // Every message pushed in its final state at its final position; what was removed is gone.
    const final = new Map(model.list().map((m, position) => [m.id, { ...m, position }]));
    for (const m of [...insert.messages, ...update.messages]) expect(m).toEqual(final.get(m.id));
    expect(update.messages.length).toBeGreaterThan(0);
    expect(remove.ids.filter((id) => final.has(id))).toEqual([]);
    await expectChannel(channel, model);
  });
});
