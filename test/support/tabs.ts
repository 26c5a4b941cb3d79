/**
 * A random test's users, each with several tabs (sockets) on one harness:
 * the seeded PRNG, a tab drawn at random, a tab closed and opened again in
 * its place. The reader's-place property tests build on it.
 */
import type { Harness, Peer } from "./harness.ts";
import { mulberry32, pick, randInt } from "./random.ts";

export class TabbedRun {
  readonly h: Harness;
  readonly rand: () => number;
  readonly #tabs = new Map<string, Peer[]>();

  constructor(h: Harness, seed: number) {
    this.h = h;
    this.rand = mulberry32(seed);
  }

  pick<T>(xs: readonly T[]): T {
    return pick(this.rand, xs);
  }

  /** The users who opened tabs, in the order they did. */
  get users(): string[] {
    return [...this.#tabs.keys()];
  }

  /** Connects `user` with `count` tabs (each hello checked by the harness). */
  async open(user: string, count = 2): Promise<void> {
    const tabs: Peer[] = [];
    for (let k = 0; k < count; k++) tabs.push(await this.h.connect(user));
    this.#tabs.set(user, tabs);
  }

  /** One of the user's tabs, at random. */
  tab(user: string): Peer {
    return this.pick(this.#tabs.get(user) ?? []);
  }

  /**
   * Closes one of the user's tabs, at random, and opens a new one in its
   * place; answers it and the seq the old tab had been told of.
   */
  async reopen(user: string): Promise<{ peer: Peer; since: number }> {
    const tabs = this.#tabs.get(user) ?? [];
    const k = randInt(this.rand, 0, tabs.length - 1);
    const old = tabs[k] as Peer;
    this.h.disconnect(old);
    const peer = await this.h.connect(user);
    tabs[k] = peer;
    return { peer, since: old.client.seq };
  }
}
