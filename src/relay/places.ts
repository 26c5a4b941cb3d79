/**
 * A relay's users' places (core/count-mirror.ts), by user, and the reaction
 * count each user's sockets were last told, which outlives the relay's
 * memory.
 *
 * After a wake the relay asks the channel for its users' places again, and
 * the channel answers them as they are now, after the writes the relay is
 * about to push. But a segment of edits and reactions alone owes a user a
 * `status` only when it changed their `reactionsUnread` (from what they
 * were last told: the writes may raise it and the pushes lower it again), and
 * neither side remembers that count any more. So each user's is kept in the
 * relay's storage too: written only when it changes (a reaction to one of the
 * user's messages, an ack), and without holding the pushes for the write to
 * be confirmed (one lost in a crash costs at most one extra `status`); read
 * once, as the relay wakes. A user whose last socket here closes is
 * forgotten.
 */
import type { MirroredPlace } from "../core/count-mirror.ts";

const PREFIX = "told:";

export class Places extends Map<string, MirroredPlace> {
  readonly #storage: DurableObjectStorage;
  /** Each user's reaction count as last told, as kept in storage. */
  readonly #told: Map<string, number>;

  /** The places of a relay that just woke: none, but the counts its users were told. */
  static async load(storage: DurableObjectStorage): Promise<Places> {
    const kept = await storage.list<number>({ prefix: PREFIX });
    const told = new Map([...kept].map(([key, n]) => [key.slice(PREFIX.length), n]));
    return new Places(storage, told);
  }

  private constructor(storage: DurableObjectStorage, told: Map<string, number>) {
    super();
    this.#storage = storage;
    this.#told = told;
  }

  override set(user: string, place: MirroredPlace): this {
    super.set(user, place);
    if (this.#told.get(user) !== place.reactionsUnread) {
      this.#told.set(user, place.reactionsUnread);
      void this.#storage.put(PREFIX + user, place.reactionsUnread, { allowUnconfirmed: true });
    }
    return this;
  }

  /** A user with no socket here any more: nothing of theirs is kept. */
  override delete(user: string): boolean {
    if (this.#told.delete(user)) void this.#storage.delete(PREFIX + user);
    return super.delete(user);
  }

  /** The reaction count the user's sockets were last told, if the relay knows it. */
  told(user: string): number | undefined {
    return super.get(user)?.reactionsUnread ?? this.#told.get(user);
  }
}
