/**
 * Push coalescing: the stored groups waiting to be pushed to the object's
 * own sockets, merged when pushes fall behind.
 *
 * One push to a thousand sockets costs the object a long turn; when writers
 * store groups faster than that, pushing each group on its own queues them
 * all behind each other. So a stored group is only queued here, and pushed
 * in a later turn, after whatever writes arrived meanwhile were stored: the
 * groups waiting for a socket then go out as one `insert`/`remove`/`update`/
 * `status` set, with the meaning of the groups sent one by one (positions
 * after the last, `shifted` summed, `seq` the last one, a message inserted
 * and deleted meanwhile in none of them).
 *
 * What a socket is told stays in order: before any frame of a socket is
 * answered (a reply carries the channel's `seq`), the groups waiting for it
 * are pushed to it first, so no reply ever overtakes a push; a socket that
 * connects is owed only the groups after its `hello`. Each socket's cursor
 * is the `seq` up to which it has been pushed; the queue is empty whenever
 * every socket is caught up (always before the object may hibernate: a
 * pending push keeps a timer).
 */
import { GroupEffect } from "./group-effect.ts";
import type { Peer, Sockets } from "./sockets.ts";
import type { ChannelStore, Effect } from "./store.ts";

/** A stored group: its writes' effects and the channel's seq after it. */
interface Group {
  readonly seq: number;
  readonly effects: readonly Effect[];
}

/** Longest a stored group waits for the groups after it before it is pushed anyway. */
export const MAX_DELAY_MS = 50;

export interface PushQueueOptions {
  /** False: every group is pushed at once, in the turn that stored it (the bench compares both). */
  readonly coalesce: boolean;
  /** Runs `fn` in a later turn (setTimeout 0 in the object). */
  readonly later: (fn: () => void) => void;
  /** Pushes merged effects to sockets, all statuses after all pushes (delivery.ts). */
  readonly deliver: (
    deliveries: readonly { effect: GroupEffect; peers: readonly Peer[] }[],
  ) => void;
  readonly log: (what: string, err: unknown) => void;
}

export class PushQueue {
  readonly #store: ChannelStore;
  readonly #sockets: Sockets;
  readonly #options: PushQueueOptions;
  #groups: Group[] = [];
  /** Per socket: the seq up to which it has been pushed (sockets not here: up to #base). */
  readonly #cursors = new WeakMap<WebSocket, number>();
  /** Every socket without a cursor has been pushed everything up to here. */
  #base: number;
  #scheduled = false;
  /** When the oldest queued group was stored (ms). */
  #since = 0;

  constructor(store: ChannelStore, sockets: Sockets, options: PushQueueOptions) {
    this.#store = store;
    this.#sockets = sockets;
    this.#options = options;
    this.#base = store.seq;
  }

  /** Groups stored and not yet pushed to every socket. */
  get pending(): number {
    return this.#groups.length;
  }

  /**
   * A group was stored: pushed now, or queued for a later turn. Queued
   * groups go out at the latest once MAX_DELAY_MS have passed since the
   * first of them, with the next group stored (a busy object's later turn
   * may wait behind a stream of incoming frames).
   */
  stored(effects: readonly Effect[], now = Date.now()): void {
    if (effects.length === 0) return;
    if (this.#groups.length === 0 && !this.#sockets.any()) {
      // Nobody to push to: nothing to queue.
      this.#base = this.#store.seq;
      return;
    }
    this.#groups.push({ seq: this.#store.seq, effects });
    if (this.#groups.length === 1) this.#since = now;
    if (!this.#options.coalesce || now - this.#since >= MAX_DELAY_MS) {
      this.#flush();
      return;
    }
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#options.later(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  /** A socket that just got its `hello`: it is owed only what is stored from now on. */
  greeted(ws: WebSocket): void {
    this.#cursors.set(ws, this.#store.seq);
  }

  /**
   * Before a frame of `ws` is answered: the groups waiting for it go out
   * first, to every socket of its user (a status counts what all of them
   * were pushed).
   */
  catchUp(ws: WebSocket): void {
    const session = this.#sockets.session(ws);
    if (!session || this.#groups.length === 0) return;
    // Not only this socket: a reply may tell the user's other sockets too (a cross-tab status).
    this.#deliver(this.#sockets.peers().filter((p) => p.session.user === session.user));
  }

  /** Pushes every waiting group to every socket behind, one merged set per socket. */
  #flush(): void {
    if (this.#groups.length === 0) return;
    this.#deliver(this.#sockets.peers());
    this.#groups = [];
    this.#base = this.#store.seq;
  }

  /** Pushes to `peers` what each is owed; sockets caught up one by one may be owed less. */
  #deliver(peers: readonly Peer[]): void {
    const seq = this.#store.seq;
    const behind = new Map<number, Peer[]>();
    for (const peer of peers) {
      const cursor = this.#cursor(peer.ws);
      if (cursor >= seq) continue;
      const list = behind.get(cursor) ?? [];
      list.push(peer);
      behind.set(cursor, list);
      // The cursor moves first: a push that fails is that socket's (logged), not a reason to resend.
      this.#cursors.set(peer.ws, seq);
    }
    const deliveries = [...behind].map(([cursor, owed]) => {
      const effect = new GroupEffect();
      for (const group of this.#groups) {
        if (group.seq > cursor) for (const e of group.effects) effect.add(e);
      }
      return { effect, peers: owed };
    });
    try {
      this.#options.deliver(deliveries.filter((d) => !d.effect.empty));
    } catch (err) {
      // The groups are stored and acknowledged whatever happens to their pushes.
      this.#options.log("fan-out failed", err);
    }
  }

  #cursor(ws: WebSocket): number {
    return this.#cursors.get(ws) ?? this.#base;
  }
}
