/**
 * Every write goes through here, whatever its source (a socket's `send`, an
 * HTTP insert, a simulator tick): stored, then delivered to every socket.
 */
import { deliver } from "./delivery.ts";
import type { Sockets } from "./sockets.ts";
import type { ChannelStore, Draft, InsertResult } from "./store.ts";

export class Writer {
  readonly #store: ChannelStore;
  readonly #sockets: Sockets;
  readonly #log: (what: string, err: unknown) => void;

  constructor(store: ChannelStore, sockets: Sockets, log: (what: string, err: unknown) => void) {
    this.#store = store;
    this.#sockets = sockets;
    this.#log = log;
  }

  /**
   * Stores a batch all or nothing, then pushes it. `alsoWrite` runs in the
   * same transaction (the simulator records its tick there).
   */
  async write(
    drafts: readonly Draft[],
    alsoWrite?: (result: InsertResult) => void,
  ): Promise<InsertResult> {
    const result = this.#store.insert(drafts, alsoWrite);
    try {
      deliver(result.inserted, this.#sockets, this.#store, this.#log);
    } catch (err) {
      // The batch is stored and acknowledged whatever happens to its pushes.
      this.#log("fan-out failed", err);
    }
    return result;
  }
}
