/**
 * Each user's place in the channel, as the protocol's counts tell it: unread
 * late messages (late-state.ts), messages with unread reactions
 * (reaction-badges.ts) and messages after the read marker (read-markers.ts).
 * This is what `hello`, `status`, the `view` reply and `resumed` carry, and
 * what a declared view, a push or an ack marks seen. Each count is O(1) from
 * memory once the user is loaded.
 */
import type { Key } from "../core/key.ts";
import { movesForward } from "../core/read-marker.ts";
import type { LateState } from "./late-state.ts";
import type { ReactionBadges } from "./reaction-badges.ts";
import type { Marker, ReadMarkers } from "./read-markers.ts";

/** A user's counts, as frames carry them. */
export interface Counts {
  readonly lateUnread: number;
  readonly reactionsUnread: number;
  readonly unread: number;
}

/** What the readers' state needs of the channel. */
export interface Channel {
  total(): number;
  seq(): number;
  /** Runs a write in one transaction; a failure leaves memory as storage has it. */
  write(fn: () => void): void;
}

export class Readers {
  readonly late: LateState;
  readonly badges: ReactionBadges;
  readonly markers: ReadMarkers;
  readonly #channel: Channel;

  constructor(late: LateState, badges: ReactionBadges, markers: ReadMarkers, channel: Channel) {
    this.late = late;
    this.badges = badges;
    this.markers = markers;
    this.#channel = channel;
  }

  /** A socket's connection: the user's first one starts their late and reaction counts. */
  greet(user: string): Counts & { read: Key | null } {
    this.#channel.write(() => {
      this.late.get(user);
      this.badges.greet(user, this.#channel.seq());
    });
    return { ...this.counts(user), read: this.markers.get(user).key };
  }

  counts(user: string): Counts {
    return {
      lateUnread: this.late.unread(user),
      reactionsUnread: this.badges.unread(user),
      unread: this.unread(user),
    };
  }

  /** Messages after the user's read marker (all of them when there is none). */
  unread(user: string): number {
    return this.#channel.total() - this.markers.get(user).readCount;
  }

  /** A declared view: the late messages and the user's reacted messages inside it are seen. */
  seeRange(user: string, first: Key | null, last: Key | null): void {
    this.late.markSeenInRange(user, first, last);
    const reacted = this.badges.inRange(user, first, last);
    if (reacted.length > 0) this.seeReactions(user, reacted);
  }

  /** The user was shown these messages of theirs with their reactions (a push; by a relay: as at `upTo`). */
  seeReactions(user: string, ids: readonly string[], upTo?: number): void {
    this.#channel.write(() => this.badges.seen(user, ids, upTo));
  }

  /** `reactions.ack`: every reaction on the user's messages read. */
  ackReactions(user: string): void {
    // At most MAX_ACK at a time keeps one turn short; the loop ends when none is left.
    for (let ids = this.badges.list(user, MAX_ACK); ids.length > 0; ) {
      this.seeReactions(user, ids);
      ids = ids.length < MAX_ACK ? [] : this.badges.list(user, MAX_ACK);
    }
  }

  /** `read`: moves the marker to `key` when that is forward; answers the marker after it. */
  read(user: string, key: Key): { marker: Marker; moved: boolean } {
    const before = this.markers.get(user);
    if (!movesForward(before.key, key)) return { marker: before, moved: false };
    let marker = before;
    this.#channel.write(() => {
      marker = this.markers.write(user, key);
    });
    this.markers.set(user, marker);
    return { marker, moved: true };
  }
}

/** Badges cleared per statement batch by `reactions.ack`. */
const MAX_ACK = 500;
