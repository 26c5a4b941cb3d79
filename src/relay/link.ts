/**
 * A relay's line to its channel (see channel/relay-contract.ts): one queue
 * of operations, run one at a time so that each carries the report of
 * everything before it, and writes on the side, concurrently (they share
 * group commits with everyone else's).
 *
 * Order on a socket stays the channel's own: an answer's segment is pushed
 * before the answer's replies; and a segment waits for the writes sent
 * before it was asked for, so that a writer hears `sent` before its group's
 * pushes (that group may be in the segment).
 */
import type {
  RelayAnswer,
  RelayReport,
  RelayRequest,
  SeenReport,
} from "../channel/relay-contract.ts";

/** The channel's side of the line (its object's RPC methods, bound to this relay). */
export interface ChannelSide {
  op(report: RelayReport, request: RelayRequest): Promise<RelayAnswer>;
}

/** What the relay knows that an operation needs. */
export interface LinkHost {
  /** Sockets held now. */
  sockets(): number;
  /** Users it holds no counts for (after a wake: all of them). */
  unknownUsers(): string[];
  /** Applies an answer (its segment first); answers what the sockets were shown. */
  apply(answer: RelayAnswer, request: RelayRequest): SeenReport[];
  log(what: string, err: unknown): void;
}

export class ChannelLink {
  readonly #channel: ChannelSide;
  readonly #host: LinkHost;
  #tail: Promise<void> = Promise.resolve();
  /** The seq the sockets were pushed up to; null until the first answer after a wake. */
  #applied: number | null = null;
  /** The highest seq the channel has told of (a write's reply): groups up to it are owed. */
  #heard = 0;
  #seen: SeenReport[] = [];
  readonly #users = new Map<string, number>();
  #pullQueued = false;
  /** Writes under way, in the order they were sent. */
  readonly #writes = new Set<Promise<unknown>>();

  constructor(channel: ChannelSide, host: LinkHost) {
    this.#channel = channel;
    this.#host = host;
  }

  /** A user's count of sockets changed: told with the next operation. */
  sockets(user: string, count: number): void {
    this.#users.set(user, count);
  }

  /** Asks the channel for what the sockets are owed (at most one such ask waiting). */
  pull(): Promise<void> {
    if (this.#pullQueued) return this.#tail;
    this.#pullQueued = true;
    return this.#enqueue(() => {
      this.#pullQueued = false;
      return { kind: "pull", snapshots: [] };
    });
  }

  /** Resolves once the operations asked so far are done (asking nothing more). */
  settled(): Promise<void> {
    return this.#tail;
  }

  /** A write's reply told of the channel up to `seq`. */
  heard(seq: number): void {
    this.#heard = Math.max(this.#heard, seq);
  }

  /**
   * Resolves once the sockets were pushed every group the relay has heard
   * of: the operations under way, and a pull if a write's reply told of a
   * group still owed (a poke for it may not have come yet).
   */
  async caughtUp(): Promise<void> {
    await this.#tail;
    if (this.#applied === null || this.#heard > this.#applied) await this.pull();
  }

  /** Runs an operation in turn; resolves once its answer is applied. */
  run(request: () => RelayRequest): Promise<RelayAnswer> {
    let answer: RelayAnswer | undefined;
    return this.#enqueue(request, (a) => {
      answer = a;
    }).then(() => answer as RelayAnswer);
  }

  /** A write (`send`, `change`), alongside the queue; segments asked for after it wait for it. */
  write<T>(send: () => Promise<T>): Promise<T> {
    const pending = send();
    const settled = pending.then(
      () => undefined,
      () => undefined,
    );
    this.#writes.add(settled);
    void settled.then(() => this.#writes.delete(settled));
    return pending;
  }

  #enqueue(request: () => RelayRequest, got?: (answer: RelayAnswer) => void): Promise<void> {
    const next = this.#tail.then(async () => {
      const asked = this.#askingUnknown(request());
      const report = this.#report();
      // Writes sent before this ask may be in the segment: their replies go first.
      const before = [...this.#writes];
      let answer: RelayAnswer;
      try {
        answer = await this.#channel.op(report, asked);
      } catch (err) {
        // The report is sent again with the next operation.
        this.#restore(report);
        throw err;
      }
      await Promise.all(before);
      const seen = this.#host.apply(answer, asked);
      this.#applied = answer.seq;
      this.#seen.push(...seen);
      got?.(answer);
      // What the sockets were shown is reported at once: a relay evicted now loses nothing.
      if (seen.length > 0 || this.#users.size > 0) void this.pull();
    });
    this.#tail = next.catch((err: unknown) => this.#host.log("operation failed", err));
    return next;
  }

  /**
   * Every operation, a frame's or a greeting's too, asks for the counts of
   * the users the relay holds none for (after a wake: all of them): its
   * answer's segment is pushed to their sockets, each with a `status`.
   */
  #askingUnknown(request: RelayRequest): RelayRequest {
    const unknown = this.#host.unknownUsers();
    if (unknown.length === 0) return request;
    return { ...request, snapshots: [...new Set([...request.snapshots, ...unknown])] };
  }

  #report(): RelayReport {
    const report: RelayReport = {
      applied: this.#applied,
      seen: this.#seen,
      sockets: this.#host.sockets(),
      users: [...this.#users].map(([user, sockets]) => ({ user, sockets })),
    };
    this.#seen = [];
    this.#users.clear();
    return report;
  }

  #restore(report: RelayReport): void {
    this.#seen.unshift(...report.seen);
    for (const { user, sockets } of report.users) {
      if (!this.#users.has(user)) this.#users.set(user, sockets);
    }
  }
}
