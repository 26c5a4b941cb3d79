/**
 * A channel's live audience for `npm run bench`: many sockets on one
 * channel, each counting the `insert` pushes it gets, grown in steps; and
 * rounds of one message each (an HTTP insert, then a wait until every socket
 * has its push), timed from the insert to each socket's push. Rounds run one
 * at a time, so each is one group. Each socket counts the pushes of each
 * round's message: one each, or the round reports the lost and the doubled.
 */
import { api } from "./api.ts";
import { openSocket } from "./bench-writes.ts";
import type { Server } from "./server.ts";

/** Sockets opening at once while the audience grows. */
const OPENING = 64;
/** Longest a round waits for its pushes before it counts the missing ones as lost. */
const ROUND_TIMEOUT_MS = 60_000;

export interface Rounds {
  /** Each socket's insert → push time of each round, ms. */
  readonly latencies: number[];
  /** Per round: the time until the last socket had its push, ms. */
  readonly lastPush: number[];
  /** Pushes that never came (a socket that missed a round's insert), and pushes of it beyond one. */
  readonly lost: number;
  readonly doubled: number;
}

export class Audience {
  readonly #server: Server;
  readonly #channel: string;
  readonly #sockets: WebSocket[] = [];
  /** Inserts of this round's message received, each socket's, and when it was sent. */
  #received = 0;
  #got: number[] = [];
  #id = "";
  #sentAt = 0;
  #latencies: number[] = [];
  #rounds = 0;

  constructor(server: Server, channel: string) {
    this.#server = server;
    this.#channel = channel;
  }

  get size(): number {
    return this.#sockets.length;
  }

  /** Opens sockets until there are `to` (each its own user); rejects with why one could not open. */
  async grow(to: number): Promise<void> {
    let next = this.#sockets.length;
    let failed: unknown;
    const opener = async () => {
      while (next < to && failed === undefined) {
        const i = next++;
        try {
          this.#sockets.push(
            await openSocket(this.#server, this.#channel, `watcher${i}`, (data) => {
              if (!data.startsWith('{"type":"insert"') || !data.includes(this.#id)) return;
              this.#got[i] = (this.#got[i] ?? 0) + 1;
              if (this.#got[i] > 1) return;
              this.#received++;
              this.#latencies.push(performance.now() - this.#sentAt);
            }),
          );
        } catch (err) {
          failed ??= err;
        }
      }
    };
    // Every opener stops at the first failure; the sockets open so far stay.
    await Promise.all(Array.from({ length: OPENING }, opener));
    if (failed !== undefined) throw failed;
  }

  /** `count` rounds of one message each. */
  async rounds(count: number): Promise<Rounds> {
    this.#latencies = [];
    const lastPush: number[] = [];
    let lost = 0;
    let doubled = 0;
    for (let r = 0; r < count; r++) {
      this.#received = 0;
      this.#got = [];
      // Quoted: the check for it in a frame must not match a longer id.
      const id = `${this.#channel}-r${this.#rounds++}`;
      this.#id = `"${id}"`;
      this.#sentAt = performance.now();
      await api(this.#server, `/v1/channels/${this.#channel}/messages`, {
        method: "POST",
        body: { messages: [{ id, ts: Date.now(), author: "writer", text: "ping" }] },
      });
      const deadline = performance.now() + ROUND_TIMEOUT_MS;
      while (this.#received < this.#sockets.length && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      lastPush.push(performance.now() - this.#sentAt);
      lost += this.#sockets.length - this.#received;
      // Doubles counted are those that came before the last socket's first push.
      doubled += this.#got.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    }
    return { latencies: this.#latencies, lastPush, lost, doubled };
  }

  close(): void {
    for (const socket of this.#sockets) socket.close();
    this.#sockets.length = 0;
  }
}
