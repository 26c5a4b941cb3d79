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
import { deliver } from "./delivery.ts";
import type { Sockets } from "./sockets.ts";
import type { ChannelStore, Draft, InsertResult, StoredMessage } from "./store.ts";

/** Most writes in one group: bounds the turn, and so every reply's wait. */
export const MAX_GROUP_WRITES = 256;
/** Most messages in one group (an HTTP batch alone may be 10,000). */
export const MAX_GROUP_MESSAGES = 10_000;

export interface WriteOptions {
  /** Runs in the write's own transaction (the simulator records its tick there). */
  readonly alsoWrite?: (result: InsertResult) => void;
  /** Called once the write is stored, before the group is pushed (a `sent` reply precedes the pushes). */
  readonly stored?: (result: InsertResult) => void;
}

type Outcome = { ok: true; result: InsertResult } | { ok: false; err: unknown };

interface Pending {
  readonly drafts: readonly Draft[];
  readonly options: WriteOptions;
  readonly resolve: (result: InsertResult) => void;
  readonly reject: (err: unknown) => void;
}

export class Writer {
  readonly #store: ChannelStore;
  readonly #sockets: Sockets;
  readonly #log: (what: string, err: unknown) => void;
  /** Resolves once every write made so far is durable (`ctx.storage.sync`). */
  readonly #durable: () => Promise<void>;
  #queue: Pending[] = [];
  #queued = 0;
  /** A group's commit is under way: writes arriving now wait to form the next group. */
  #committing = false;

  constructor(
    store: ChannelStore,
    sockets: Sockets,
    durable: () => Promise<void>,
    log: (what: string, err: unknown) => void,
  ) {
    this.#store = store;
    this.#sockets = sockets;
    this.#durable = durable;
    this.#log = log;
  }

  /** Stores a batch, all or nothing, with the writes pending now; resolves once it is stored. */
  write(drafts: readonly Draft[], options: WriteOptions = {}): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ drafts, options, resolve, reject });
      this.#queued += drafts.length;
      const full = this.#queue.length >= MAX_GROUP_WRITES || this.#queued >= MAX_GROUP_MESSAGES;
      // Idle: store at once, in this event. Committing: wait for the commit, unless full.
      if (!this.#committing || full) this.#flush();
    });
  }

  /** After a group's commit: the writes that queued meanwhile form the next group. */
  #committed = (): void => {
    this.#committing = false;
    if (this.#queue.length > 0) this.#flush();
  };

  /** Stores each write of a group in its own savepoint: a failing write rolls back only itself. */
  #storeGroup(group: readonly Pending[]): Outcome[] {
    return group.map((p): Outcome => {
      try {
        return { ok: true, result: this.#store.insert(p.drafts, p.options.alsoWrite) };
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
    this.#committing = true;
    this.#durable().then(this.#committed, this.#committed);
    // Every reply of the group tells the same total: the channel after the group.
    const total = this.#store.total;
    const inserted: StoredMessage[] = [];
    group.forEach((p, i) => {
      const outcome = outcomes[i];
      if (!outcome?.ok) {
        p.reject(outcome?.err);
        return;
      }
      const result = { ...outcome.result, total };
      inserted.push(...result.inserted);
      try {
        p.options.stored?.(result);
      } finally {
        p.resolve(result);
      }
    });
    try {
      deliver(inserted, this.#sockets, this.#store, this.#log);
    } catch (err) {
      // The group is stored and acknowledged whatever happens to its pushes.
      this.#log("fan-out failed", err);
    }
  }
}
