/**
 * Every write goes through here, whatever its source (a socket's `send`, an
 * HTTP insert, a simulator tick), and concurrent writes share one commit.
 *
 * Locally each Durable Object event's writes are committed on their own
 * before its replies leave (the output gate), so writers that each wait for
 * their reply queue behind one commit each. Here a write joins a queue that
 * is flushed on a timer (the next tick, or a few ms when the last group's
 * writers are expected back: core/group-wait.ts): every write that arrived
 * meanwhile (the runtime delivers other sockets' frames while a timer is
 * pending, not while a microtask is) is stored in that one turn, so in one
 * implicit transaction and one commit, and the group is delivered once. Each write runs in its own
 * `transactionSync`, a savepoint: a failing write rolls back only itself and
 * is answered with its error while the others commit. Replies leave through
 * the output gate, so each writer hears back only once the group is durable.
 */
import { GroupWait } from "../core/group-wait.ts";
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
  /** Who writes (a socket): a group waits a moment for the writers of the last one. */
  readonly source?: object;
}

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
  #queue: Pending[] = [];
  #queued = 0;
  #sources = new Set<object>();
  readonly #wait = new GroupWait<object>();
  /** The pending flush and its delay. */
  #timer: { id: ReturnType<typeof setTimeout>; delay: number } | undefined;

  constructor(store: ChannelStore, sockets: Sockets, log: (what: string, err: unknown) => void) {
    this.#store = store;
    this.#sockets = sockets;
    this.#log = log;
  }

  /** Stores a batch, all or nothing, with the writes pending now; resolves once it is stored. */
  write(drafts: readonly Draft[], options: WriteOptions = {}): Promise<InsertResult> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ drafts, options, resolve, reject });
      this.#queued += drafts.length;
      if (options.source) this.#sources.add(options.source);
      if (this.#queue.length >= MAX_GROUP_WRITES || this.#queued >= MAX_GROUP_MESSAGES) {
        this.#flush();
      } else {
        this.#schedule(this.#wait.delay(this.#sources));
      }
    });
  }

  /** Flushes after `delay` ms, or sooner when a flush is already due sooner. */
  #schedule(delay: number): void {
    if (this.#timer && this.#timer.delay <= delay) return;
    if (this.#timer) clearTimeout(this.#timer.id);
    this.#timer = { id: setTimeout(() => this.#flush(), delay), delay };
  }

  /** Stores the queued writes in this turn, answers each, and pushes the group once. */
  #flush(): void {
    const group = this.#queue;
    if (this.#timer) clearTimeout(this.#timer.id);
    this.#timer = undefined;
    this.#wait.flushed(this.#sources);
    this.#queue = [];
    this.#queued = 0;
    this.#sources = new Set();
    if (group.length === 0) return;
    const outcomes = group.map((p) => {
      try {
        return { ok: true as const, result: this.#store.insert(p.drafts, p.options.alsoWrite) };
      } catch (err) {
        return { ok: false as const, err };
      }
    });
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
