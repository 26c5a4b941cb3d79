/**
 * The protocol's model as zod schemas: its limits, names, keys, messages,
 * anchors and pages (docs/protocol.md, "Model").
 */
import { z } from "zod";

/** docs/protocol.md version spoken here. */
export const PROTOCOL_VERSION = 1;
/**
 * The protocol's minor version: 1.1 adds `seq` watermarks, `resume` and
 * cross-tab badges; 1.2 adds changes (edits, deletes, reactions), unread
 * reactions and the read marker.
 */
export const PROTOCOL_MINOR = 2;
/** Most missed arrivals a `resume` replays; beyond it the reply is `complete: false`. */
export const MAX_RESUME = 1_000;
/** Largest `before` / `after` of a page. */
export const MAX_PAGE_SIDE = 200;
/** Default `before` / `after` of a page. */
export const DEFAULT_PAGE_SIDE = 25;
/** Most messages in one `send` frame. */
export const MAX_SEND_FRAME = 1_000;
/** Most messages in one HTTP insert. */
export const MAX_SEND_HTTP = 10_000;
/** Longest text, in UTF-16 code units. */
export const MAX_TEXT = 4_000;
/** Longest id, author, channel and user name. */
export const MAX_NAME = 64;
/** Most changes in one `change` frame or HTTP changes body. */
export const MAX_CHANGES = 1_000;
/** Longest reaction emoji, in UTF-16 code units. */
export const MAX_EMOJI = 32;
/** Longest request id (`rid`) of a client frame. */
export const MAX_RID = 64;
/** Largest HTTP body, in bytes: 10,000 messages of typical size fit many times over. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Largest WebSocket frame, in bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Largest `late.list` and `reactions.list` limit, and its default. */
export const MAX_LIST = 100;
export const DEFAULT_LIST = 20;
/** Timeline points. */
export const MIN_TIMELINE_POINTS = 2;
export const MAX_TIMELINE_POINTS = 1_000;
/** Timeline points when the query names none: enough for a scrollbar's date labels. */
export const DEFAULT_TIMELINE_POINTS = 100;

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** A channel name: 1–64 of `[A-Za-z0-9._-]`. */
export const ChannelName = z
  .string()
  .regex(NAME_PATTERN, "must be 1–64 characters of A-Z a-z 0-9 . _ -");
/** A user name: same alphabet as channels. */
export const UserName = ChannelName;

/**
 * 1–max UTF-16 code units (zod's own min/max count code points), well-formed
 * so that it survives UTF-8 transport and storage (no lone surrogates).
 */
const text = (max: number) =>
  z
    .string()
    .refine((s) => s.length >= 1 && s.length <= max, `must be 1–${max} UTF-16 code units long`)
    .refine((s) => s.isWellFormed(), "must not contain lone surrogates");

export const MessageId = text(MAX_NAME);
/** Integer milliseconds since the epoch (a safe integer). */
export const Timestamp = z.int();
export const Position = z.int().min(0);

/** A key; extra fields are dropped, so a client may pass whole messages as view bounds. */
export const Key = z.object({ ts: Timestamp, id: MessageId });
export type Key = z.infer<typeof Key>;

/** A message as a client submits it. */
export const NewMessage = z.object({
  id: MessageId.optional(),
  ts: Timestamp.optional(),
  author: text(MAX_NAME).optional(),
  text: text(MAX_TEXT),
});
export type NewMessage = z.infer<typeof NewMessage>;

/** One emoji's reactions on a message (protocol 1.2). */
export const Reaction = z.object({
  emoji: z.string(),
  count: z.number(),
  /** Over a socket: the socket's user has this reaction on. */
  mine: z.literal(true).optional(),
});
export type Reaction = z.infer<typeof Reaction>;

/** A stored message as the server sends it. */
export const Message = z.object({
  id: z.string(),
  ts: z.number(),
  author: z.string(),
  text: z.string(),
  seq: z.number(),
  late: z.boolean(),
  /** In a `page` over a socket: a late message this user has not seen. */
  unread: z.literal(true).optional(),
  /** In an `insert` push: the position after the batch. */
  position: z.number().optional(),
  /** Protocol 1.2: the winning edit's ts; absent when never edited. */
  edited: z.number().optional(),
  /** Protocol 1.2: reactions by emoji (code-unit order); absent when none. */
  reactions: z.array(Reaction).optional(),
});
export type Message = z.infer<typeof Message>;

// ── Changes (protocol 1.2) ─────────────────────────────────────────────────

/** An edit: the text becomes `text`; last writer wins by ts, ties by text (greater wins). */
export const EditChange = z.object({
  kind: z.literal("edit"),
  id: MessageId,
  text: text(MAX_TEXT),
  ts: Timestamp,
});
/** A delete: the message leaves the list for good. */
export const DeleteChange = z.object({ kind: z.literal("delete"), id: MessageId });
/** A reaction set (`on: true`) or cleared; per (message, user, emoji) last writer wins, ties to on. */
export const ReactChange = z.object({
  kind: z.literal("react"),
  id: MessageId,
  emoji: text(MAX_EMOJI),
  on: z.boolean(),
  ts: Timestamp,
});
export const Change = z.discriminatedUnion("kind", [EditChange, DeleteChange, ReactChange], {
  error: 'kind: must be "edit", "delete" or "react"',
});
export type Change = z.infer<typeof Change>;
export type EditChange = z.infer<typeof EditChange>;
export type DeleteChange = z.infer<typeof DeleteChange>;
export type ReactChange = z.infer<typeof ReactChange>;
export const Changes = z.array(Change).min(1).max(MAX_CHANGES);

/** What a change did (`changed.results[].outcome`). */
export const ChangeOutcome = z.enum(["applied", "pending", "stale", "deleted"]);
export type ChangeOutcome = z.infer<typeof ChangeOutcome>;
/** One change's result; `seq` only for an arrival (applied or pending). */
export const ChangeResult = z.object({
  id: z.string(),
  outcome: ChangeOutcome,
  seq: z.number().optional(),
});
export type ChangeResult = z.infer<typeof ChangeResult>;

export const Anchor = z.union(
  [
    z.literal("newest"),
    z.literal("oldest"),
    /** Protocol 1.2: the first message after the user's read marker (the newest when none is). */
    z.literal("first_unread"),
    z.strictObject({ id: MessageId }),
    z.strictObject({ position: z.int() }),
    z.strictObject({ ts: Timestamp }),
  ],
  { error: 'must be "newest", "oldest", "first_unread", { id }, { position } or { ts }' },
);
export type Anchor = z.infer<typeof Anchor>;

export const Side = z.int().min(0).max(MAX_PAGE_SIDE).default(DEFAULT_PAGE_SIDE);
export const Rid = z
  .string()
  .refine((s) => s.length <= MAX_RID, `must be at most ${MAX_RID} UTF-16 code units long`)
  .optional();

/** What a page request asks for, over HTTP or WebSocket. */
export const PageRequest = z.object({
  anchor: Anchor.default("newest"),
  before: Side,
  after: Side,
});
export type PageRequest = z.infer<typeof PageRequest>;

/** A page of messages (the HTTP body; the `page` frame adds `type` and `rid`). */
export const PageBody = z.object({
  messages: z.array(Message),
  start: z.number(),
  total: z.number(),
  anchorIndex: z.number().optional(),
  hasOlder: z.boolean(),
  hasNewer: z.boolean(),
  /** The channel's seq watermark when the page was read (protocol 1.1). */
  seq: z.number(),
  /**
   * Protocol 1.2, on a `first_unread` page: the position of the first
   * message after the user's read marker; absent when nothing is unread.
   */
  firstUnread: z.number().optional(),
});
export type PageBody = z.infer<typeof PageBody>;

/** A key as the server sends it. */
export const KeyOut = z.object({ ts: z.number(), id: z.string() });
