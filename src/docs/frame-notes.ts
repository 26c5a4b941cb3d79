/**
 * One line per frame type for the AsyncAPI document: what the frame is for,
 * which the schemas cannot say. Typed by the frame unions, so a new frame type
 * without a line here does not compile. The whole protocol is docs/protocol.md.
 */
import type { ClientFrame, ServerFrame } from "../protocol/schemas.ts";

type Notes = { readonly [T in ClientFrame["type"] as `client.${T}`]: string } & {
  readonly [T in ServerFrame["type"] as `server.${T}`]: string;
};

export const FRAME_NOTES: Notes = {
  "client.page": "A page around an anchor; answered by a `page`.",
  "client.view":
    "Declares the range the client holds and wants kept current; answered by a `view`.",
  "client.send":
    "Stores 1–1,000 messages, all or nothing (needs `write`); answered by `sent` once durable.",
  "client.late.next": "A page around the first-arrived unread late message, or `not_found`.",
  "client.late.list": "The unread late messages, oldest arrival first; answered by a `late.list`.",
  "client.late.ack": "Marks every late message read; answered by a `view`.",
  "client.ping": 'Answered by a `pong`; the exact text {"type":"ping"} costs no budget.',
  "client.resume":
    "1.1: after a reconnect, replays what arrived since `since` inside the declared view; answered by `resumed`.",
  "client.reactions.next":
    "1.2: a page around the user's message whose unread reaction arrived first, or `not_found`.",
  "client.reactions.list":
    "1.2: the user's messages with unread reactions, oldest unread first; answered by a `reactions.list`.",
  "client.reactions.ack":
    "1.2: marks every reaction on the user's messages read; answered by a `view`.",
  "client.read": "1.2: moves the user's read marker forward to a message; answered by a `read`.",
  "client.change":
    "1.2: 1–1,000 edits, deletes and reactions, all or nothing (needs `write`; deleting another's message needs `moderate`); answered by `changed` once durable.",
  "server.hello":
    "First frame on every socket: the channel, the user, `minor` (2 in 1.2), `seq`, the user's counts and read marker.",
  "server.page": "The reply to `page` and `late.next`.",
  "server.view":
    "The reply to `view`, `late.ack` and `reactions.ack`: the user's `lateUnread`, `reactionsUnread` and `unread`.",
  "server.sent": "The reply to `send`; a result with `deleted: true` names a deleted id (1.2).",
  "server.late.list": "The reply to `late.list`.",
  "server.insert":
    "Push, first of a group's: the group's new messages inside the socket's view, with positions.",
  "server.remove":
    "1.2 push, after `insert`: ids of messages inside the view the group deleted; later positions drop by one each.",
  "server.update":
    "1.2 push, after `remove`: messages inside the view whose text or reactions the group changed, final state, with positions.",
  "server.status":
    "Push, last of a group that inserted or deleted, or changed the user's `reactionsUnread`: total, counts, `shifted` (net, may be negative); also cross-tab count changes.",
  "server.error": "A refused frame (the socket stays open); `rid` echoed when it could be read.",
  "server.pong": "The reply to `ping`.",
  "server.resumed":
    "The reply to `resume`: missed `messages`, and in 1.2 `removed` ids and `updated` messages, or `complete: false`.",
  "server.read":
    "1.2: the reply to `read`: the marker after it (it never moves back) and `unread`.",
  "server.reactions.list": "1.2: the reply to `reactions.list`.",
  "server.changed": "1.2: the reply to `change`, once durable: one result per change, in order.",
};
