/**
 * The simulator on the channel object: alarm-driven ticks (no timers, so the
 * object can hibernate between them) that store each tick's arrivals through
 * the same path as any other write. A tick is idempotent under the alarm's
 * at-least-once delivery: its arrivals are a pure function of (run, tick), and
 * the tick counter is advanced in the same transaction that stores them.
 */
import { type Arrival, generateTick } from "../core/arrivals.ts";
import { ProtocolError } from "../protocol/errors.ts";
import {
  type SimulatorSettings,
  type SimulatorState,
  type SimulatorUpdate,
  settingsProblem,
} from "../protocol/schemas.ts";
import type { ChannelStore, Draft, InsertResult } from "./store.ts";

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

interface Persisted {
  running: boolean;
  settings: SimulatorSettings;
  /** Increments on every start, so runs never reuse ids. */
  run: number;
  /** The run's epoch: tick n covers [start + n·tickMs, start + (n+1)·tickMs). */
  start: number;
  /** The first tick not yet stored. */
  nextTick: number;
  counters: SimulatorState["counters"];
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

type Commit = (
  drafts: readonly Draft[],
  alsoWrite: (result: InsertResult) => void,
) => Promise<InsertResult>;

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
      const arrivals: Arrival[] = [];
      let chunks = 0;
      for (let tick = first; tick <= due; tick++) {
        const batch = generateTick(settings, {
          idPrefix: `sim${run}`,
          start,
          tickMs: settings.tickMs,
          tick,
        });
        if (batch.some((a) => a.kind === "chunk")) chunks++; // at most one chunk a tick
        arrivals.push(...batch);
      }
      const drafts = arrivals.map(({ id, ts, author, text }) => ({ id, ts, author, text }));
      await this.#commit(drafts, (result) => {
        // Same transaction as the messages: a retried alarm finds the tick done. The state is
        // read again here: the write may have waited in its group while a stop or a restart
        // was stored, and what they wrote must stand (the tick only adds its counts).
        const current = this.#load();
        const c = current.counters;
        const counters = {
          ...c,
          ticks: c.ticks + (due - first + 1),
          generated: c.generated + arrivals.length,
          inserted: c.inserted + result.inserted.length,
          late: c.late + result.inserted.filter((m) => m.lateNo !== null).length,
          chunks: c.chunks + chunks,
          lastTickAt: now,
        };
        const sameRun = current.running && current.run === run;
        this.#save(
          sameRun ? { ...current, nextTick: due + 1, counters } : { ...current, counters },
        );
      });
    }
    // Re-armed only for the run this tick belongs to: a stop deleted the alarm, a restart set its own.
    const after = this.#load();
    if (!after.running || after.run !== run) return;
    await this.#alarms.setAlarm(start + (Math.max(due, after.nextTick - 1) + 2) * settings.tickMs);
  }
}
