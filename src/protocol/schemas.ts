/**
 * Every frame and body of PROTOCOL.md as zod schemas. The server parses all
 * input with these; clients import the inferred types (and may parse server
 * frames with the server-side schemas below).
 */
import { z } from "zod";

/** PROTOCOL.md version spoken here. */
export const PROTOCOL_VERSION = 1;
/** The protocol's minor version: 1.1 adds `seq` watermarks, `resume` and cross-tab badges. */
export const PROTOCOL_MINOR = 1;
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
/** Longest request id (`rid`) of a client frame. */
export const MAX_RID = 64;
/** Largest HTTP body, in bytes: 10,000 messages of typical size fit many times over. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
/** Largest WebSocket frame, in bytes. */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** Largest `late.list` limit, and its default. */
export const MAX_LATE_LIST = 100;
export const DEFAULT_LATE_LIST = 20;
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
});
export type Message = z.infer<typeof Message>;

export const Anchor = z.union(
  [
    z.literal("newest"),
    z.literal("oldest"),
    z.strictObject({ id: MessageId }),
    z.strictObject({ position: z.int() }),
    z.strictObject({ ts: Timestamp }),
  ],
  { error: 'must be "newest", "oldest", { id }, { position } or { ts }' },
);
export type Anchor = z.infer<typeof Anchor>;

const Side = z.int().min(0).max(MAX_PAGE_SIDE).default(DEFAULT_PAGE_SIDE);
const Rid = z
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
});
export type PageBody = z.infer<typeof PageBody>;

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
export const LateNextFrame = z.object({
  type: z.literal("late.next"),
  rid: Rid,
  before: Side,
  after: Side,
});
export const LateListFrame = z.object({
  type: z.literal("late.list"),
  rid: Rid,
  limit: z.int().min(1).max(MAX_LATE_LIST).default(DEFAULT_LATE_LIST),
});
export const LateAckFrame = z.object({ type: z.literal("late.ack"), rid: Rid });
export const PingFrame = z.object({ type: z.literal("ping"), rid: Rid });
/** Protocol 1.1: come back after a dropped connection, from the last `seq` applied. */
export const ResumeFrame = ViewFrame.extend({
  type: z.literal("resume"),
  /** The last `seq` the client applied. */
  since: z.int().min(0),
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
]);
export type ClientFrame = z.infer<typeof ClientFrame>;
/** A frame as a client writes it (defaults not yet applied). */
export type ClientFrameInput = z.input<typeof ClientFrame>;
export const CLIENT_FRAME_TYPES = ClientFrame.options.map((o) => o.shape.type.value);

// ── Server → client frames ─────────────────────────────────────────────────

const KeyOut = z.object({ ts: z.number(), id: z.string() });

export const HelloFrame = z.object({
  type: z.literal("hello"),
  protocol: z.literal(PROTOCOL_VERSION),
  minor: z.number(),
  channel: z.string(),
  user: z.string(),
  total: z.number(),
  lateUnread: z.number(),
  newest: KeyOut.nullable(),
  seq: z.number(),
});
export const PageReplyFrame = PageBody.extend({ type: z.literal("page"), rid: Rid });
export const ViewReplyFrame = z.object({
  type: z.literal("view"),
  rid: Rid,
  lateUnread: z.number(),
  seq: z.number(),
});
export const SentFrame = z.object({
  type: z.literal("sent"),
  rid: Rid,
  results: z.array(z.object({ id: z.string(), seq: z.number(), duplicate: z.boolean() })),
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
  shifted: z.number(),
  messages: z.array(Message),
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

// ── HTTP ───────────────────────────────────────────────────────────────────

export const InsertBody = z.object({
  messages: z.array(NewMessage).min(1).max(MAX_SEND_HTTP),
});
export type InsertBody = z.infer<typeof InsertBody>;

/** The body of every HTTP error: `{ error: { code, message } }`. */
export const ErrorBody = z.object({ error: ErrorFrame.pick({ code: true, message: true }) });

export const InsertReply = z.object({
  inserted: z.number(),
  duplicates: z.number(),
  total: z.number(),
});
export type InsertReply = z.infer<typeof InsertReply>;

export const Stats = z.object({
  channel: z.string(),
  total: z.number(),
  lateTotal: z.number(),
  oldest: KeyOut.nullable(),
  newest: KeyOut.nullable(),
  seq: z.number(),
});
export type Stats = z.infer<typeof Stats>;

export const Timeline = z.object({
  total: z.number(),
  points: z.array(z.object({ position: z.number(), ts: z.number() })),
});
export type Timeline = z.infer<typeof Timeline>;

const DIGITS = /^(0|[1-9][0-9]{0,15})$/;
const SIGNED = /^-?(0|[1-9][0-9]{0,15})$/;
const queryInt = (pattern: RegExp) =>
  z.string().regex(pattern, "must be an integer").transform(Number).pipe(z.int());

/** `anchor=newest|oldest|id:<id>|pos:<n>|ts:<ms>` of the HTTP page query. */
export const AnchorQuery = z.string().transform((raw, ctx): Anchor | typeof z.NEVER => {
  if (raw === "newest" || raw === "oldest") return raw;
  const colon = raw.indexOf(":");
  const kind = raw.slice(0, colon);
  const value = raw.slice(colon + 1);
  if (colon > 0 && kind === "id") {
    const id = MessageId.safeParse(value);
    if (id.success) return { id: id.data };
  } else if (colon > 0 && (kind === "pos" || kind === "ts") && SIGNED.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return kind === "pos" ? { position: n } : { ts: n };
  }
  ctx.addIssue({ code: "custom", message: "must be newest, oldest, id:<id>, pos:<n> or ts:<ms>" });
  return z.NEVER;
});

/** Unknown query parameters are ignored (cache busters, tracing). */
export const PageQuery = z.object({
  anchor: AnchorQuery.default("newest"),
  before: queryInt(DIGITS).pipe(z.int().max(MAX_PAGE_SIDE)).default(DEFAULT_PAGE_SIDE),
  after: queryInt(DIGITS).pipe(z.int().max(MAX_PAGE_SIDE)).default(DEFAULT_PAGE_SIDE),
});

export const TimelineQuery = z.object({
  points: queryInt(DIGITS)
    .pipe(z.int().min(MIN_TIMELINE_POINTS).max(MAX_TIMELINE_POINTS))
    .default(DEFAULT_TIMELINE_POINTS),
});

export const SocketQuery = z.object({
  user: UserName.optional(),
  token: z.string().optional(),
});

// ── Simulator ──────────────────────────────────────────────────────────────

/** Simulator settings (PUT merges these into the current ones). */
export const SimulatorSettings = z.strictObject({
  /** Messages per second. */
  rate: z.number().min(0).max(5_000),
  /** Fraction of single messages that arrive late. */
  lateRatio: z.number().min(0).max(1),
  /** Mean seconds between late chunks; 0: none. */
  chunkEvery: z.number().min(0).max(86_400),
  /** Mean messages in a late chunk. */
  chunkSize: z.int().min(1).max(10_000),
  /** PRNG seed: the same seed replays the same arrivals. */
  seed: z
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  /** Milliseconds between alarm ticks. */
  tickMs: z.int().min(100).max(60_000),
});
export type SimulatorSettings = z.infer<typeof SimulatorSettings>;
export const SimulatorUpdate = SimulatorSettings.partial();
export type SimulatorUpdate = z.infer<typeof SimulatorUpdate>;

export const SimulatorState = z.object({
  running: z.boolean(),
  settings: SimulatorSettings,
  counters: z.object({
    ticks: z.number(),
    generated: z.number(),
    inserted: z.number(),
    late: z.number(),
    chunks: z.number(),
    lastTickAt: z.number().nullable(),
  }),
});
export type SimulatorState = z.infer<typeof SimulatorState>;
