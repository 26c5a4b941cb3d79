/**
 * The simulator on the channel object: alarm-driven ticks (no timers, so the
 * object can hibernate between them) that store each tick's arrivals —
 * messages, and since 1.2 edits, deletes and reactions — through the same
 * path as any other write. A tick is idempotent under the alarm's
 * at-least-once delivery: its arrivals are a pure function of (run, tick),
 * and the tick counter is advanced in the same transaction that stores them.
 */

import { type Arrival, generateTick } from "../core/arrivals.ts";
import type { Actor } from "../core/changes.ts";
import { generateChanges } from "../core/tick-changes.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  type Change,
  type ChangeOutcome,
  type SimulatorSettings,
  type SimulatorState,
  type SimulatorUpdate,
  settingsProblem,
} from "../protocol/schemas.ts";
import type { ChannelStore } from "./store.ts";
import { simulating, type TickArrivals, type TicksStored, type Write } from "./writer.ts";

export const DEFAULT_SETTINGS: SimulatorSettings = {
  rate: 5,
  lateRatio: 0.1,
  chunkEvery: 30,
  chunkSize: 200,
  seed: 1,
  tickMs: 1_000,
  editRatio: 0.05,
  deleteRatio: 0.01,
  reactRatio: 0.3,
};

/** Ticks made up at once after a stall; older ones are skipped, not replayed. */
export const MAX_CATCH_UP = 10;

const META_KEY = "simulator";

type Counters = SimulatorState["counters"];

interface Persisted {
  running: boolean;
  settings: SimulatorSettings;
  /** Increments on every start, so runs never reuse ids. */
  run: number;
  /** The run's epoch: tick n covers [start + n·tickMs, start + (n+1)·tickMs). */
  start: number;
  /** The first tick not yet stored. */
  nextTick: number;
  counters: Counters;
}

const INITIAL: Persisted = {
  running: false,
  settings: DEFAULT_SETTINGS,
  run: 0,
  start: 0,
  nextTick: 0,
  counters: {
    ticks: 0,
    generated: 0,
    inserted: 0,
    late: 0,
    chunks: 0,
    changes: 0,
    edits: 0,
    deletes: 0,
    reactions: 0,
    pending: 0,
    lastTickAt: null,
  },
};

/** Stores a write with the others pending now (the channel's writer). */
type Commit = (write: Write<TicksStored>) => Promise<TicksStored>;

/** The counter an applied change of each kind adds to. */
const APPLIED: Record<Change["kind"], "edits" | "deletes" | "reactions"> = {
  edit: "edits",
  delete: "deletes",
  react: "reactions",
};

export class Simulator {
  readonly #store: ChannelStore;
  readonly #alarms: Pick<DurableObjectStorage, "setAlarm" | "deleteAlarm">;
  readonly #commit: Commit;

  constructor(
    store: ChannelStore,
    alarms: Pick<DurableObjectStorage, "setAlarm" | "deleteAlarm">,
    commit: Commit,
  ) {
    this.#store = store;
    this.#alarms = alarms;
    this.#commit = commit;
  }

  #load(): Persisted {
    const raw = this.#store.meta.get(META_KEY);
    if (!raw) return INITIAL;
    const saved = JSON.parse(raw) as Persisted;
    // A state saved before 1.2 lacks the change settings and counters: the defaults fill them in.
    return {
      ...saved,
      settings: { ...DEFAULT_SETTINGS, ...saved.settings },
      counters: { ...INITIAL.counters, ...saved.counters },
    };
  }

  #save(state: Persisted): void {
    this.#store.meta.set(META_KEY, JSON.stringify(state));
  }

  state(): SimulatorState {
    const { running, settings, counters } = this.#load();
    return { running, settings, counters };
  }

  /** Starts (or restarts with new settings) a run from `now`. */
  async start(update: SimulatorUpdate, now: number): Promise<SimulatorState> {
    const prev = this.#load();
    const settings: SimulatorSettings = { ...prev.settings };
    for (const [name, value] of Object.entries(update) as [
      keyof SimulatorSettings,
      number | undefined,
    ][]) {
      if (value !== undefined) settings[name] = value;
    }
    const problem = settingsProblem(settings);
    if (problem !== undefined) throw new ProtocolError("bad_request", problem);
    // The alarm first: a run recorded as running must be one that ticks.
    await this.#alarms.setAlarm(now + settings.tickMs);
    this.#save({ ...prev, running: true, settings, run: prev.run + 1, start: now, nextTick: 0 });
    return this.state();
  }

  async stop(): Promise<SimulatorState> {
    this.#save({ ...this.#load(), running: false });
    await this.#alarms.deleteAlarm();
    return this.state();
  }

  /** One alarm: stores the ticks due by `now` (at most {@link MAX_CATCH_UP}), then re-arms. */
  async tick(now: number): Promise<void> {
    const state = this.#load();
    if (!state.running) return;
    const { settings, start, run } = state;
    const due = Math.floor((now - start) / settings.tickMs) - 1; // the last tick whose window has ended
    const first = Math.max(state.nextTick, due - MAX_CATCH_UP + 1);
    if (due >= first) {
      const window = { idPrefix: `sim${run}`, start, tickMs: settings.tickMs };
      const ticks: TickArrivals[] = [];
      let generated = 0;
      let changes = 0;
      let chunks = 0;
      for (let tick = first; tick <= due; tick++) {
        const arrivals = generateTick(settings, { ...window, tick });
        const changed = generateChanges(settings, { ...window, tick });
        if (arrivals.some((a) => a.kind === "chunk")) chunks++; // at most one chunk a tick
        generated += arrivals.length;
        changes += changed.length;
        ticks.push({ drafts: arrivals.map(draftOf), changes: framesOf(changed) });
      }
      const kinds = ticks.flatMap((t) => t.changes.map((f) => f.changes.map((c) => c.kind)));
      await this.#commit(
        simulating(ticks, (result) => {
          // Same transaction as the arrivals: a retried alarm finds the tick done. The state is
          // read again here: the write may have waited in its group while a stop or a restart
          // was stored, and what they wrote must stand (the tick only adds its counts).
          const current = this.#load();
          const c = { ...current.counters };
          const inserted = result.inserts.flatMap((r) => r.inserted);
          c.ticks += due - first + 1;
          c.generated += generated;
          c.inserted += inserted.length;
          c.late += inserted.filter((m) => m.lateNo !== null).length;
          c.chunks += chunks;
          c.changes += changes;
          result.frames.forEach((frame, f) => {
            frame.results.forEach(({ outcome }, i) => {
              const kind = kinds[f]?.[i];
              if (kind !== undefined) count(c, kind, outcome);
            });
          });
          c.lastTickAt = now;
          const sameRun = current.running && current.run === run;
          this.#save(
            sameRun ? { ...current, nextTick: due + 1, counters: c } : { ...current, counters: c },
          );
        }),
      );
    }
    // Re-armed only for the run this tick belongs to: a stop deleted the alarm, a restart set its own.
    const after = this.#load();
    if (!after.running || after.run !== run) return;
    await this.#alarms.setAlarm(start + (Math.max(due, after.nextTick - 1) + 2) * settings.tickMs);
  }
}

const draftOf = ({ id, ts, author, text }: Arrival) => ({ id, ts, author, text });

/** A tick's changes as frames, one a simulated user (in order of first change), as peers send them. */
function framesOf(changes: ReturnType<typeof generateChanges>): TickArrivals["changes"] {
  const byUser = new Map<string, Change[]>();
  for (const { user, change } of changes) {
    const frame = byUser.get(user);
    if (frame) frame.push(change);
    else byUser.set(user, [change]);
  }
  return [...byUser].map(([user, frame]): { actor: Actor; changes: Change[] } => ({
    actor: { user, moderator: false },
    changes: frame,
  }));
}

/** Adds one stored change to the counters: applied by kind, or pending (stale and deleted count nowhere). */
function count(c: Counters, kind: Change["kind"], outcome: ChangeOutcome): void {
  if (outcome === "applied") c[APPLIED[kind]]++;
  else if (outcome === "pending") c.pending++;
}
