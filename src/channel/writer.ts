/**
 * Every write goes through here, whatever its source (a socket's `send`, an
 * HTTP insert, a simulator tick), and concurrent writes share one commit.
 *
 * Locally each Durable Object event's writes are committed on their own
 * before its replies leave (the output gate), so writers that each wait for
 * their reply used to queue behind one commit each. Here a write made while
 * the object is idle is stored at once, in its own event: a lone writer pays
 * nothing. Writes that arrive while that commit is under way (the runtime
 * keeps delivering other sockets' frames and RPCs meanwhile: `storage.sync()`
 * does not close the input gate) queue, and are stored together once it is
 * durable: in one turn, so one implicit transaction and one commit, and the
 * group is pushed once. Each write runs in its own `transactionSync`, a
 * savepoint: a failing write rolls back only itself and is answered with its
 * error while the others commit. Replies leave through the output gate, so
 * each writer hears back only once its group is durable.
 */

import type { Actor } from "../core/changes.ts";
import type { Change } from "../protocol/schemas.ts";
import { GroupEffect } from "./group-effect.ts";
import type { ChangeResultSet, ChannelStore, Draft, Effect, InsertResult } from "./store.ts";

/** Most writes in one group: bounds the turn, and so every reply's wait. */
export const MAX_GROUP_WRITES = 256;
/** Most messages and changes in one group (an HTTP batch alone may be 10,000): a write that would pass it starts the next. */
export const MAX_GROUP_MESSAGES = 10_000;

/** What a stored write tells: its effect on the list and the channel's total after it. */
export type Stored = Effect & { readonly total: number };

/**
 * One write: `run` stores it in its own transaction (an insert, a frame of
 * changes, a simulator tick) and says what it did; `size` is how many
 * messages or changes it carries, for the group's bound.
 */
export interface Write<R extends Stored> {
  readonly size: number;
  readonly run: (store: ChannelStore) => R;
  /** Called once the write is stored, before the group is pushed (a reply precedes the pushes). */
  readonly stored?: (result: R) => void;
}

/** A batch of messages to store. */
export function inserting(
  drafts: readonly Draft[],
  { stored }: { stored?: (result: InsertResult) => void } = {},
): Write<InsertResult> {
  return {
    size: drafts.length,
    run: (store) => store.insert(drafts),
    ...(stored ? { stored } : {}),
  };
}

/** A frame of changes by `actor`. */
export function changing(
  actor: Actor,
  changes: readonly Change[],
  stored?: (result: ChangeResultSet) => void,
): Write<ChangeResultSet> {
  return {
    size: changes.length,
    run: (store) => store.change(actor, changes),
    ...(stored ? { stored } : {}),
  };
}

/** One simulated tick's arrivals: its messages, then each simulated user's frame of changes. */
export interface TickArrivals {
  readonly drafts: readonly Draft[];
  readonly changes: readonly { readonly actor: Actor; readonly changes: readonly Change[] }[];
}

/** What a run of ticks stored: every insert's and every frame's result, in order, and their folded effect. */
export interface TicksStored extends Stored {
  readonly inserts: readonly InsertResult[];
  readonly frames: readonly ChangeResultSet[];
}

/**
 * Simulator ticks, in order, as one write: each tick's messages, then its
 * changes (a frame a user, as peers send them), then `record` (the tick
 * counter and counters), all in one transaction: a retried alarm finds the
 * ticks done, or none of them stored.
 */
export function simulating(
  ticks: readonly TickArrivals[],
  record: (result: Omit<TicksStored, "total">) => void,
): Write<TicksStored> {
  const size = ticks.reduce(
    (n, t) => n + t.drafts.length + t.changes.reduce((m, f) => m + f.changes.length, 0),
    0,
  );
  return {
    size,
    run: (store) =>
      store.atomically(() => {
        const fold = new GroupEffect();
        const inserts: InsertResult[] = [];
        const frames: ChangeResultSet[] = [];
        for (const tick of ticks) {
          const inserted = store.insert(tick.drafts);
          fold.add(inserted);
          inserts.push(inserted);
          for (const frame of tick.changes) {
            const changed = store.change(frame.actor, frame.changes);
            fold.add(changed);
            frames.push(changed);
          }
        }
        const result = { ...fold.effect, inserts, frames };
        record(result);
        return { ...result, total: store.total };
      }),
  };
}

interface Pending {
  readonly size: number;
  /** Stores the write; throws when it rolled back. */
  readonly run: () => Effect;
  /** Answers the stored write with the group's total: its `stored` callback, then its promise. */
  readonly answer: (total: number) => void;
  readonly reject: (err: unknown) => void;
}

type Outcome = { ok: true; effect: Effect } | { ok: false; err: unknown };

export class Writer {
  readonly #store: ChannelStore;
  /** Takes a stored group's effects to push (push-queue.ts). */
  readonly #stored: (effects: readonly Effect[]) => void;
  readonly #log: (what: string, err: unknown) => void;
  /** Resolves once every write made so far is durable (`ctx.storage.sync`). */
  readonly #durable: () => Promise<void>;
  #queue: Pending[] = [];
  #queued = 0;
  /**
   * Commits under way (a full group may be stored while another commits):
   * writes arriving while any is wait to form the next group.
   */
  #commits = 0;

  constructor(
    store: ChannelStore,
    stored: (effects: readonly Effect[]) => void,
    durable: () => Promise<void>,
    log: (what: string, err: unknown) => void,
  ) {
    this.#store = store;
    this.#stored = stored;
    this.#durable = durable;
    this.#log = log;
  }

  /** Stores a write, all or nothing, with the writes pending now; resolves once it is stored. */
  write<R extends Stored>(write: Write<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      // A write that would take the queue past a bound starts the next group: the queue goes first.
      const over =
        this.#queue.length + 1 > MAX_GROUP_WRITES || this.#queued + write.size > MAX_GROUP_MESSAGES;
      if (this.#queue.length > 0 && over) this.#flush();
      let stored: R | undefined;
      this.#queue.push({
        size: write.size,
        run: () => {
          stored = write.run(this.#store);
          return stored;
        },
        answer: (total) => {
          const result = { ...(stored as R), total };
          try {
            write.stored?.(result);
          } finally {
            resolve(result);
          }
        },
        reject,
      });
      this.#queued += write.size;
      const full = this.#queue.length >= MAX_GROUP_WRITES || this.#queued >= MAX_GROUP_MESSAGES;
      // Idle: store at once, in this event. Committing: wait for the commit, unless full.
      if (this.#commits === 0 || full) this.#flush();
    });
  }

  /** After a group's commit: once every commit under way is durable, the writes that queued meanwhile form the next group. */
  #committed = (): void => {
    this.#commits--;
    if (this.#commits === 0 && this.#queue.length > 0) this.#flush();
  };

  /** Stores each write of a group in its own savepoint: a failing write rolls back only itself. */
  #storeGroup(group: readonly Pending[]): Outcome[] {
    return group.map((p): Outcome => {
      try {
        return { ok: true, effect: p.run() };
      } catch (err) {
        return { ok: false, err };
      }
    });
  }

  /** Stores the queued writes in this turn, answers each, and pushes the group once. */
  #flush(): void {
    const group = this.#queue;
    this.#queue = [];
    this.#queued = 0;
    if (group.length === 0) return;
    const outcomes = this.#storeGroup(group);
    // The group's writes commit when this turn ends; until they are durable, new writes queue.
    // Asked after the writes, so that it waits for them.
    this.#commits++;
    this.#durable().then(this.#committed, this.#committed);
    // Every reply of the group tells the same total: the channel after the group.
    const total = this.#store.total;
    const effects: Effect[] = [];
    group.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome?.ok) {
        p.reject(outcome?.err);
        return;
      }
      effects.push(outcome.effect);
      p.answer(total);
    });
    // Replies first (each writer's `stored`), then the group's pushes.
    try {
      this.#stored(effects);
    } catch (err) {
      // The group is stored and acknowledged whatever happens to its pushes.
      this.#log("fan-out failed", err);
    }
  }
}
