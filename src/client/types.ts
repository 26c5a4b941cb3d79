/** The client's public types: options, errors, events and the shape of each reply. */
import type {
  ChangedFrame,
  HelloFrame,
  InsertFrame,
  Key,
  LateListReplyFrame,
  PageBody,
  ReactionsListReplyFrame,
  ReadReplyFrame,
  RemoveFrame,
  ResumedFrame,
  SentFrame,
  StatusFrame,
  UpdateFrame,
  ViewReplyFrame,
} from "../protocol/schemas.ts";
import { ScrollbackError } from "./errors.ts";

/** A reply's body: the frame without its envelope (`type`, `rid`). */
export type Body<F> = Omit<F, "type" | "rid">;
/** What `view`, `lateAck` and `reactionsAck` resolve with: the user's counts and `seq`. */
export type ViewReply = Body<ViewReplyFrame>;
/** What `lateList` resolves with: `{ unread, items }`. */
export type LateListReply = Body<LateListReplyFrame>;
/** What `reactionsList` resolves with (protocol 1.2): `{ unread, items }`, `unread` being `reactionsUnread`. */
export type ReactionsListReply = Body<ReactionsListReplyFrame>;
/** What `read` resolves with (protocol 1.2): `{ read, unread, seq }`, the marker after it. */
export type ReadReply = Body<ReadReplyFrame>;
/**
 * A user's counts (protocol 1.2's three): unread late messages, the user's
 * messages with unread reactions, messages after the read marker.
 */
export interface Counts {
  readonly lateUnread: number;
  readonly reactionsUnread: number;
  readonly unread: number;
}
/** What `send` resolves with. */
export type SentReply = Body<SentFrame>;
/** What `resume` resolves with. */
export type ResumedReply = Body<ResumedFrame>;
/** What `change` resolves with (protocol 1.2): `{ results: [{ id, outcome, seq? }], total, seq }`. */
export type ChangedReply = Body<ChangedFrame>;
/** A declared view: `first` / `last` keys (null: open), `live`: following the bottom. */
export type ViewState = { first: Key | null; last: Key | null; live: boolean };

/**
 * After a reconnect, what the app missed, in one event.
 * - `complete: true`: apply it to what you held as one group: drop the
 *   `removed` ids, merge `messages` (each with its position), replace the
 *   `updated` ones by id, add `shifted`, take `total` (or hand it to
 *   `MessageWindow.applyResumed`). `since` is where it replays from.
 * - `complete: false`: too much was missed; replace what you held with `page`
 *   (read around the first message you held, or the newest when your view was
 *   live or that message is gone), whose view the client has declared.
 */
export type ResyncEvent =
  | ({ complete: true; since: number } & Omit<ResumedReply, "complete">)
  | ({
      complete: false;
      page: PageBody;
      live: boolean;
      total: number;
      seq: number;
    } & Counts);

export interface ClientOptions {
  /** The worker's base URL: http(s):// or ws(s)://. */
  readonly url: string;
  readonly channel: string;
  /** The user, on an open worker (with a token the server takes the token's subject). */
  readonly user?: string;
  /**
   * A JWT. The socket offers it as the subprotocol `bearer.<jwt>` (browsers
   * cannot set WebSocket headers, and a URL ends up in logs).
   */
  readonly token?: string;
  /** Where the socket carries `token`: `subprotocol` (default), or `query` (`?token=`) for a server that predates it. */
  readonly tokenIn?: "subprotocol" | "query";
  /** How long a request waits for its reply, in ms (default 15,000). */
  readonly timeoutMs?: number;
  /** Reconnect backoff: first delay and cap, in ms (defaults 250 and 10,000). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** A WebSocket constructor, where there is no global one. */
  readonly WebSocket?: new (
    url: string,
    protocols?: string | string[],
  ) => WebSocket;
}

export { ScrollbackError };

export interface ClientEvents {
  /** Every (re)connection's greeting. */
  hello: HelloFrame;
  /** A group's new messages inside the view; then, of the same group, `remove`, `update`, `status`. */
  insert: InsertFrame;
  /** Protocol 1.2: messages of the view a group deleted. */
  remove: RemoveFrame;
  /** Protocol 1.2: messages of the view a group edited or reacted to, in their final state. */
  update: UpdateFrame;
  status: StatusFrame;
  /** After a reconnect: what was missed, applied exactly (see {@link ResyncEvent}). */
  resync: ResyncEvent;
  /** The connection dropped; `reconnecting` tells whether a retry is scheduled. */
  disconnect: { reconnecting: boolean };
  /** An `error` frame that answered no request. */
  error: ScrollbackError;
}
