/** Every WebSocket frame, client → server and server → client, as zod schemas. */
import { z } from "zod";
import {
  ChangeResult,
  Changes,
  DEFAULT_LIST,
  Key,
  KeyOut,
  MAX_LIST,
  MAX_SEND_FRAME,
  Message,
  MessageId,
  NewMessage,
  PageBody,
  PageRequest,
  PROTOCOL_VERSION,
  Reaction,
  Rid,
  Side,
} from "./model.ts";

// ── Client → server frames ─────────────────────────────────────────────────

export const PageFrame = PageRequest.extend({ type: z.literal("page"), rid: Rid });
export const ViewFrame = z.object({
  type: z.literal("view"),
  rid: Rid,
  first: Key.nullable(),
  last: Key.nullable(),
  live: z.boolean(),
});
export const SendFrame = z.object({
  type: z.literal("send"),
  rid: Rid,
  messages: z.array(NewMessage).min(1).max(MAX_SEND_FRAME),
});
/** How many items a `late.list` or `reactions.list` asks for. */
const ListLimit = z.int().min(1).max(MAX_LIST).default(DEFAULT_LIST);

export const LateNextFrame = z.object({
  type: z.literal("late.next"),
  rid: Rid,
  before: Side,
  after: Side,
});
export const LateListFrame = z.object({ type: z.literal("late.list"), rid: Rid, limit: ListLimit });
export const LateAckFrame = z.object({ type: z.literal("late.ack"), rid: Rid });
/** Protocol 1.2: a page around the user's message whose unread reaction arrived first. */
export const ReactionsNextFrame = LateNextFrame.extend({ type: z.literal("reactions.next") });
export const ReactionsListFrame = LateListFrame.extend({ type: z.literal("reactions.list") });
export const ReactionsAckFrame = z.object({ type: z.literal("reactions.ack"), rid: Rid });
/** Protocol 1.2: moves the user's read marker forward to this message. */
export const ReadFrame = z.object({ type: z.literal("read"), rid: Rid, id: MessageId });
export const PingFrame = z.object({ type: z.literal("ping"), rid: Rid });
/** Protocol 1.1: come back after a dropped connection, from the last `seq` applied. */
export const ResumeFrame = ViewFrame.extend({
  type: z.literal("resume"),
  /** The last `seq` the client applied. */
  since: z.int().min(0),
});
/** Protocol 1.2: edits, deletes and reactions, all or nothing. */
export const ChangeFrame = z.object({
  type: z.literal("change"),
  rid: Rid,
  changes: Changes,
});

export const ClientFrame = z.discriminatedUnion("type", [
  PageFrame,
  ViewFrame,
  SendFrame,
  LateNextFrame,
  LateListFrame,
  LateAckFrame,
  PingFrame,
  ResumeFrame,
  ChangeFrame,
  ReactionsNextFrame,
  ReactionsListFrame,
  ReactionsAckFrame,
  ReadFrame,
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
/** A frame as a client writes it (defaults not yet applied). */
export type ClientFrameInput = z.input<typeof ClientFrame>;
export const CLIENT_FRAME_TYPES = ClientFrame.options.map((o) => o.shape.type.value);

// ── Server → client frames ─────────────────────────────────────────────────

/**
 * Protocol 1.2's counts beside `lateUnread`: the user's messages with unread
 * reactions, and the messages after the user's read marker. A 1.1 server
 * sends neither; a client reading one sees 0.
 */
const ReaderCounts = {
  reactionsUnread: z.number().default(0),
  unread: z.number().default(0),
};

export const HelloFrame = z.object({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_VERSION),
  minor: z.number(),
  channel: z.string(),
  user: z.string(),
  total: z.number(),
  lateUnread: z.number(),
  ...ReaderCounts,
  /** Protocol 1.2: the user's read marker (null: none). */
  read: KeyOut.nullable().default(null),
  newest: KeyOut.nullable(),
  seq: z.number(),
});
export const PageReplyFrame = PageBody.extend({ type: z.literal("page"), rid: Rid });
/** The reply to `view`, `late.ack` and `reactions.ack`. */
export const ViewReplyFrame = z.object({
  type: z.literal("view"),
  rid: Rid,
  lateUnread: z.number(),
  ...ReaderCounts,
  seq: z.number(),
});
/** Protocol 1.2: the reply to `read`: the marker after it (it never moves back). */
export const ReadReplyFrame = z.object({
  type: z.literal("read"),
  rid: Rid,
  read: KeyOut.nullable(),
  unread: z.number(),
  seq: z.number(),
});
export const SentFrame = z.object({
  type: z.literal("sent"),
  rid: Rid,
  results: z.array(
    z.object({
      id: z.string(),
      seq: z.number(),
      duplicate: z.boolean(),
      /** Protocol 1.2: the id is a deleted message's (or was deleted as it arrived): nothing shows. */
      deleted: z.literal(true).optional(),
    }),
  ),
  total: z.number(),
  seq: z.number(),
});
export const LateItem = z.object({
  id: z.string(),
  ts: z.number(),
  position: z.number(),
  seq: z.number(),
});
export const LateListReplyFrame = z.object({
  type: z.literal("late.list"),
  rid: Rid,
  unread: z.number(),
  items: z.array(LateItem),
});
/** Protocol 1.2: one of the user's messages with unread reactions. */
export const ReactionsItem = LateItem.extend({ reactions: z.array(Reaction) });
export const ReactionsListReplyFrame = z.object({
  type: z.literal("reactions.list"),
  rid: Rid,
  /** The user's `reactionsUnread`. */
  unread: z.number(),
  items: z.array(ReactionsItem),
});
export const InsertFrame = z.object({
  type: z.literal("insert"),
  messages: z.array(Message),
  total: z.number(),
  seq: z.number(),
});
export const LatestItem = z.object({ id: z.string(), ts: z.number(), position: z.number() });
export const StatusFrame = z.object({
  type: z.literal("status"),
  total: z.number(),
  lateUnread: z.number(),
  ...ReaderCounts,
  /** Protocol 1.2: the user's read marker, when a `read` on another socket moved it. */
  read: KeyOut.nullable().optional(),
  shifted: z.number(),
  latest: z.array(LatestItem).optional(),
  seq: z.number(),
});
/** Protocol 1.1: the reply to `resume`. */
export const ResumedFrame = z.object({
  type: z.literal("resumed"),
  rid: Rid,
  /** False when more than MAX_RESUME arrivals were missed (or `since` is from the future): page again. */
  complete: z.boolean(),
  seq: z.number(),
  total: z.number(),
  lateUnread: z.number(),
  ...ReaderCounts,
  shifted: z.number(),
  messages: z.array(Message),
  /** Protocol 1.2: ids deleted since `since` that lay inside the declared view (a 1.1 server sends none). */
  removed: z.array(z.string()).default([]),
  /** Protocol 1.2: messages inside the view changed since `since`, in their final state. */
  updated: z.array(Message).default([]),
});
/** Protocol 1.2: the reply to `change`, once stored. */
export const ChangedFrame = z.object({
  type: z.literal("changed"),
  rid: Rid,
  results: z.array(ChangeResult),
  total: z.number(),
  seq: z.number(),
});
/** Protocol 1.2: messages of the socket's view deleted by a stored group. */
export const RemoveFrame = z.object({
  type: z.literal("remove"),
  ids: z.array(z.string()),
  total: z.number(),
  seq: z.number(),
});
/** Protocol 1.2: messages of the socket's view whose text or reactions a group changed. */
export const UpdateFrame = z.object({
  type: z.literal("update"),
  messages: z.array(Message),
  seq: z.number(),
});
export const ErrorCodeSchema = z.enum([
  "bad_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "too_large",
  "rate_limited",
  "internal",
]);
export const ErrorFrame = z.object({
  type: z.literal("error"),
  rid: Rid,
  code: ErrorCodeSchema,
  message: z.string(),
});
export const PongFrame = z.object({ type: z.literal("pong"), rid: Rid });

export const ServerFrame = z.discriminatedUnion("type", [
  HelloFrame,
  PageReplyFrame,
  ViewReplyFrame,
  SentFrame,
  LateListReplyFrame,
  InsertFrame,
  StatusFrame,
  ErrorFrame,
  PongFrame,
  ResumedFrame,
  ChangedFrame,
  RemoveFrame,
  UpdateFrame,
  ReadReplyFrame,
  ReactionsListReplyFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;
export type HelloFrame = z.infer<typeof HelloFrame>;
export type PageReplyFrame = z.infer<typeof PageReplyFrame>;
export type SentFrame = z.infer<typeof SentFrame>;
export type InsertFrame = z.infer<typeof InsertFrame>;
export type StatusFrame = z.infer<typeof StatusFrame>;
export type ErrorFrame = z.infer<typeof ErrorFrame>;
export type LateListReplyFrame = z.infer<typeof LateListReplyFrame>;
export type LateItem = z.infer<typeof LateItem>;
export type ViewReplyFrame = z.infer<typeof ViewReplyFrame>;
export type ResumedFrame = z.infer<typeof ResumedFrame>;
export type ResumeFrame = z.infer<typeof ResumeFrame>;
export type ChangeFrame = z.infer<typeof ChangeFrame>;
export type ChangedFrame = z.infer<typeof ChangedFrame>;
export type RemoveFrame = z.infer<typeof RemoveFrame>;
export type UpdateFrame = z.infer<typeof UpdateFrame>;
export type ReadReplyFrame = z.infer<typeof ReadReplyFrame>;
export type ReactionsListReplyFrame = z.infer<typeof ReactionsListReplyFrame>;
export type ReactionsItem = z.infer<typeof ReactionsItem>;
