/**
 * The channel object ↔ relay object contract (issue 18: a hot channel's
 * audience beyond one object). A relay holds sockets, their views and
 * budgets; the channel keeps messages, the index and every user's place.
 *
 * A relay talks to its channel through one queue of operations, each a
 * report of what it did since the last (the seq it has pushed its sockets up
 * to, what they were shown, its sockets) and a request (catch up, greet a
 * socket, run a frame). The channel applies the report first, so whenever it
 * answers, it knows everything the relay's users have been shown; every
 * answer carries the segment the relay's sockets are owed since its cursor,
 * which the relay pushes before anything else in the answer. Writes (`send`,
 * `change`) go on their own, concurrently, so that they share group commits.
 */
import type { Key } from "../core/key.ts";
import type { Segment } from "../core/push-frames.ts";
import type { View } from "../core/view.ts";
import type { Scope } from "../protocol/access.ts";
import type { ClientFrame, HelloFrame, Message, ServerFrame } from "../protocol/schemas.ts";
import type { Counts } from "./readers.ts";

/** A relay's name among a channel's objects: channel names have no `/`. */
export const relayName = (channel: string, relay: number): string => `${channel}/${relay}`;

/** The channel and index of a relay named by {@link relayName}. */
export function relayOf(name: string): { channel: string; relay: number } | undefined {
  const at = name.lastIndexOf("/");
  const relay = Number(name.slice(at + 1));
  if (at <= 0 || !Number.isSafeInteger(relay) || relay < 0) return undefined;
  return { channel: name.slice(0, at), relay };
}

/** What a relay did since its last operation. */
export interface RelayReport {
  /** The seq up to which its sockets were pushed; null after a wake (it does not know). */
  readonly applied: number | null;
  /** Per user: the late ordinals and own reacted messages its sockets were pushed. */
  readonly seen: readonly SeenReport[];
  /** Sockets it holds now, and the users whose count of sockets changed. */
  readonly sockets: number;
  readonly users: readonly { readonly user: string; readonly sockets: number }[];
}

export interface SeenReport {
  readonly user: string;
  readonly late: readonly number[];
  readonly reactions: readonly string[];
}

/**
 * What a relay asks, besides its report; `snapshots`: users it holds no
 * counts for. A greeting or a frame names its user's sockets' views: the
 * channel marks seen what the answer's segment will show them before it
 * answers, so that the answer's counts and lists are the user's after it.
 */
export type RelayRequest =
  | { readonly kind: "pull"; readonly snapshots: readonly string[] }
  | {
      readonly kind: "greet";
      readonly user: string;
      readonly views: readonly View[];
      readonly snapshots: readonly string[];
    }
  | {
      readonly kind: "frame";
      readonly user: string;
      readonly views: readonly View[];
      readonly scope: Scope;
      readonly frame: ClientFrame;
      readonly snapshots: readonly string[];
    };

/**
 * A user's place as the relay keeps it, as of the answer's segment, after
 * its writes and before the relay pushes it (the segment's statuses count
 * from it; a frame or greeting the answer carries runs after the segment).
 */
export interface Snapshot {
  readonly counts: Counts;
  readonly marker: Key | null;
  /** Messages at or before the marker. */
  readonly readCount: number;
  /** Of the segment's late messages and reacted ones of the user's: those still unread. */
  readonly stillUnread: { readonly late: readonly number[]; readonly reactions: readonly string[] };
}

/** The pushes a relay's sockets are owed since its cursor, with what planning them needs. */
export interface RelaySegment extends Segment<Message> {
  /** The cursor it follows: the seq the relay had pushed up to. */
  readonly from: number;
  /** Positions after the segment of its inserted and updated messages, by id. */
  readonly positions: Readonly<Record<string, number>>;
  /** For each of its messages with reactions: who has each emoji on (each user's `mine`). */
  readonly reactors: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>>;
  /** Its messages whose author has unread reactions on them now. */
  readonly unreadFor: readonly string[];
}

export interface RelayAnswer {
  /** The seq of the channel when it answered: the segment ends there. */
  readonly seq: number;
  /** Absent: nothing new since the cursor. */
  readonly segment?: RelaySegment;
  /** The relay fell too far behind to be caught up: it closes its sockets (they resume). */
  readonly reset?: true;
  readonly snapshots: Readonly<Record<string, Snapshot>>;
  /**
   * The place of the request's user after the frame or greeting, when it
   * moved one (a `read`, an ack, a view, a first connection): the relay keeps
   * it once the segment is pushed.
   */
  readonly after?: Snapshot;
  /** A frame's answers: to its socket, the view it declared, a status for its user's other sockets. */
  readonly replies?: readonly ServerFrame[];
  readonly view?: View;
  readonly others?: ServerFrame;
  /** A greeting's `hello`. */
  readonly hello?: HelloFrame;
}

/** Where the worker sends a socket: this object, or relay `relay`. */
export interface Placement {
  readonly relay: number | null;
}
