/**
 * The wire shapes of docs/protocol.md (1.0 and the 1.1 and 1.2 additions), written out for
 * tests that must not take them from the code under test. Every project's
 * tests (unit, worker, e2e) read frames and bodies through these types.
 */

export interface Key {
  readonly ts: number;
  readonly id: string;
}

/**
 * `anchor` of a page: over a socket as written here, over HTTP as `id:`, `pos:`, `ts:`.
 * Protocol 1.2's `first_unread` is the first message after the user's read marker.
 */
export type Anchor =
  | "newest"
  | "oldest"
  | "first_unread"
  | { id: string }
  | { position: number }
  | { ts: number };

export interface WireMessage {
  id: string;
  ts: number;
  author: string;
  text: string;
  seq: number;
  late: boolean;
  /** In a `page` over a socket. */
  unread?: true;
  /** In an `insert` or `update` push and a `resumed` reply. */
  position?: number;
  /** Protocol 1.2: the winning edit's ts; absent when never edited. */
  edited?: number;
  /** Protocol 1.2: reactions by emoji in code-unit order; absent when none. */
  reactions?: Reaction[];
}

/** Protocol 1.2: one emoji's reactions on a message. */
export interface Reaction {
  emoji: string;
  count: number;
  /** Over a socket: the socket's user has this reaction on. */
  mine?: true;
}

/** Protocol 1.2: an edit, a delete or a reaction of a message. */
export type Change =
  | { kind: "edit"; id: string; text: string; ts: number }
  | { kind: "delete"; id: string }
  | { kind: "react"; id: string; emoji: string; on: boolean; ts: number };

/** Protocol 1.2: what a change did. */
export type Outcome = "applied" | "pending" | "stale" | "deleted";

/** Protocol 1.2: one change's result; `seq` for an arrival (applied or pending) only. */
export interface ChangeResult {
  id: string;
  outcome: Outcome;
  seq?: number;
}

/** Protocol 1.2: `POST /v1/channels/{ch}/changes`, and the `changed` frame without type and rid. */
export interface ChangesReply {
  results: ChangeResult[];
  total: number;
  seq: number;
}

/** A message as a client submits it (fields may be left to the server). */
export interface NewMessage {
  id?: string;
  ts?: number;
  author?: string;
  text: string;
}

/** A message with every field chosen by the test. */
export interface Draft {
  id: string;
  ts: number;
  author: string;
  text: string;
}

export interface PageBody {
  messages: WireMessage[];
  start: number;
  total: number;
  anchorIndex?: number;
  hasOlder: boolean;
  hasNewer: boolean;
  /** Protocol 1.1: the channel's latest arrival seq when the page was read. */
  seq: number;
  /** Protocol 1.2, a `first_unread` page: the first unread message's position; absent when none. */
  firstUnread?: number;
}

/** `GET /v1/channels/{ch}`. */
export interface Stats {
  channel: string;
  total: number;
  lateTotal: number;
  oldest: Key | null;
  newest: Key | null;
  /** Protocol 1.1. */
  seq: number;
  /** Issue 18: the channel's live sockets (its object's and its relays'), and relays holding any. */
  sockets: number;
  relays: number;
}

/** Who is connected, as stats count it. */
export type Audience = Pick<Stats, "sockets" | "relays">;

/** Nobody connected. */
export const NO_AUDIENCE: Audience = { sockets: 0, relays: 0 };

/**
 * Stats without their audience (checked to be counts, no more relays than
 * sockets), for tests whose model does not follow who is connected.
 */
export function withoutAudience(stats: Stats): Omit<Stats, keyof Audience> {
  const { sockets, relays, ...rest } = stats;
  if (
    !Number.isSafeInteger(sockets) ||
    !Number.isSafeInteger(relays) ||
    relays < 0 ||
    relays > sockets
  ) {
    throw new Error(`stats count ${sockets} sockets on ${relays} relays`);
  }
  return rest;
}

/** `POST /v1/channels/{ch}/messages`. */
export interface InsertReply {
  inserted: number;
  duplicates: number;
  total: number;
}

/** `GET /v1/channels/{ch}/timeline`. */
export interface Timeline {
  total: number;
  points: { position: number; ts: number }[];
}

export interface SendResult {
  id: string;
  seq: number;
  duplicate: boolean;
  /** Protocol 1.2: a deleted message's id, or a message deleted as it arrived. */
  deleted?: true;
}

export interface LatestItem {
  id: string;
  ts: number;
  position: number;
}

export interface LateItem extends LatestItem {
  seq: number;
}

/** Protocol 1.2: a `reactions.list` item: one of the user's messages with unread reactions. */
export interface ReactionsItem extends LateItem {
  reactions: Reaction[];
}

/**
 * A user's counts, as `hello`, `status`, the `view` reply and `resumed`
 * carry them: unread late messages; and in protocol 1.2 the user's messages
 * with unread reactions, and the messages after the user's read marker.
 */
export interface Counts {
  lateUnread: number;
  reactionsUnread: number;
  unread: number;
}

/**
 * The counts of a user who has no read marker (every message is unread) and
 * whose messages nobody reacted to: what most tests' users have.
 */
export function unmarkedCounts(total: number, lateUnread = 0): Counts {
  return { lateUnread, reactionsUnread: 0, unread: total };
}

/** Every frame a server sends. */
export type Frame =
  | ({
      type: "hello";
      protocol: number;
      /** Protocol 1.1 (2 since 1.2). */
      minor?: number;
      channel: string;
      user: string;
      total: number;
      newest: Key | null;
      seq: number;
      /** Protocol 1.2: the user's read marker. */
      read?: Key | null;
    } & Partial<Counts>)
  | ({ type: "page"; rid?: string } & PageBody)
  | ({ type: "view"; rid?: string; seq: number } & Counts)
  | { type: "sent"; rid?: string; results: SendResult[]; total: number; seq: number }
  | { type: "late.list"; rid?: string; unread: number; items: LateItem[] }
  | { type: "insert"; messages: WireMessage[]; total: number; seq: number }
  | ({ type: "changed"; rid?: string } & ChangesReply)
  | { type: "remove"; ids: string[]; total: number; seq: number }
  | { type: "update"; messages: WireMessage[]; seq: number }
  | ({
      type: "status";
      total: number;
      shifted: number;
      latest?: LatestItem[];
      seq: number;
      /** Protocol 1.2: the read marker, when `read` on another socket moved it. */
      read?: Key | null;
    } & Counts)
  | ResumedFrame
  | { type: "read"; rid?: string; read: Key | null; unread: number; seq: number }
  | { type: "reactions.list"; rid?: string; unread: number; items: ReactionsItem[] }
  | { type: "error"; rid?: string; code: string; message: string }
  | { type: "pong"; rid?: string };

/** Protocol 1.1: the reply to `resume`. */
export interface ResumedFrame {
  type: "resumed";
  rid?: string;
  complete: boolean;
  seq: number;
  total: number;
  lateUnread: number;
  reactionsUnread: number;
  unread: number;
  shifted: number;
  messages: WireMessage[];
  /** Protocol 1.2: ids deleted since, inside the view. */
  removed: string[];
  /** Protocol 1.2: messages inside the view changed since, final state. */
  updated: WireMessage[];
}

export type FrameType = Frame["type"];
export type FrameOf<T extends FrameType> = Extract<Frame, { type: T }>;

/** Protocol 1.1: most missed arrivals a `resume` replays. */
export const MAX_RESUME = 1_000;
/** Protocol 1.2: most changes in one `change` frame or HTTP body. */
export const MAX_CHANGES = 1_000;
/** Protocol 1.2: the longest reaction emoji, in UTF-16 code units. */
export const MAX_EMOJI = 32;
/** `late.list` and (1.2) `reactions.list`: the largest `limit`, and the default. */
export const MAX_LIST = 100;
export const DEFAULT_LIST = 20;

/** The error codes of docs/protocol.md and their statuses, written out independently of src/. */
export const STATUS_OF = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
} as const;

export type Code = keyof typeof STATUS_OF;
