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
  /** Keeps the seq the sockets were pushed up to (a relay that wakes reports it). */
  applied(seq: number): void;
  log(what: string, err: unknown): void;
}

/** How long a relay waits before asking again when its channel could not be reached. */
export const RETRY_MS = 1_000;

export class ChannelLink {
  readonly #channel: ChannelSide;
  readonly #host: LinkHost;
  #tail: Promise<void> = Promise.resolve();
  /** The seq the sockets were pushed up to; null until the first answer after a wake. */
  #applied: number | null = null;
  #seen: SeenReport[] = [];
  readonly #users = new Map<string, number>();
  #pullQueued = false;
  /** Writes under way, in the order they were sent. */
  readonly #writes = new Set<Promise<unknown>>();

  /** `applied`: the seq its sockets were pushed up to before a wake, if kept. */
  constructor(channel: ChannelSide, host: LinkHost, applied: number | null) {
    this.#channel = channel;
    this.#host = host;
    this.#applied = applied;
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

  /**
   * Resolves once the sockets were pushed every group up to `seq` (what a
   * socket's earlier replies told of): at once when they were, else after a
   * pull (the channel's poke for them may not have come yet). It waits for
   * nothing else: a write held behind other sockets' writes would miss their
   * group commit, and could wait on a commit that waits for it.
   */
  caughtUp(seq: number): Promise<void> {
    if (seq === 0 || (this.#applied !== null && seq <= this.#applied)) return Promise.resolve();
    return this.pull();
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
        // The report is sent again with the next operation; the channel, which nudged
        // this relay once, waits for it to ask: ask again in a while.
        this.#restore(report);
        setTimeout(() => void this.pull(), RETRY_MS);
        throw err;
      }
      await Promise.all(before);
      const seen = this.#host.apply(answer, asked);
      this.#applied = answer.seq;
      this.#host.applied(answer.seq);
      this.#seen.push(...seen);
      got?.(answer);
      // What the sockets were shown, and the seq they were pushed up to (the channel keeps it as
      // this relay's cursor), are reported at once: a relay evicted now loses nothing.
      if (answer.segment || seen.length > 0 || this.#users.size > 0) void this.pull();
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
