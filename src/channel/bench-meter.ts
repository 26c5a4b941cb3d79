/**
 * Bench-only (BENCH_STATS=1; `npm run bench` turns it on, nothing else
 * does): what the channel object itself spends on pushing its groups, so
 * the bench can tell how that work grows with the live audience with and
 * without relays, from inside the object rather than from a client's clock.
 *
 * It counts the `ws.send` calls the object makes while it pushes (to its
 * own sockets) and while it serves its relays' operations, and times those
 * turns. Both are synchronous stretches of one object (a relay operation's
 * own frame may await a write: its time then includes the wait), so the
 * difference of the isolate's send counter across one is this object's.
 */
import { framesSent } from "./sockets.ts";

/** Counters since the object woke (the bench reads them before and after a run). */
export interface BenchStats {
  /** Groups stored with something to push. */
  readonly groups: number;
  /** Pushes to the object's own sockets (merged groups count once), their time and sends. */
  readonly pushes: number;
  readonly pushMs: number;
  readonly pushSends: number;
  /** Relay operations served (relay-ops.ts), their time and the sends made meanwhile. */
  readonly relayOps: number;
  readonly relayOpMs: number;
  readonly relayOpSends: number;
  /** Nudges sent to relays behind (one RPC each). */
  readonly pokes: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class BenchMeter {
  readonly #stats: Mutable<BenchStats> = {
    groups: 0,
    pushes: 0,
    pushMs: 0,
    pushSends: 0,
    relayOps: 0,
    relayOpMs: 0,
    relayOpSends: 0,
    pokes: 0,
  };

  stats(): BenchStats {
    return { ...this.#stats };
  }

  group(): void {
    this.#stats.groups++;
  }

  poked(count: number): void {
    this.#stats.pokes += count;
  }

  /** A push to the object's own sockets (synchronous). */
  push<T>(fn: () => T): T {
    const started = performance.now();
    const sent = framesSent();
    try {
      return fn();
    } finally {
      this.#stats.pushes++;
      this.#stats.pushSends += framesSent() - sent;
      this.#stats.pushMs += performance.now() - started;
    }
  }

  /** A relay's operation. */
  async relayOp<T>(fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const sent = framesSent();
    try {
      return await fn();
    } finally {
      this.#stats.relayOps++;
      this.#stats.relayOpSends += framesSent() - sent;
      this.#stats.relayOpMs += performance.now() - started;
    }
  }
}
