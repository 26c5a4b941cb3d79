/** The HTTP API's bodies, answers and queries as zod schemas. */
import { z } from "zod";
import { ErrorFrame } from "./frames.ts";
import {
  type Anchor,
  ChangeResult,
  Changes,
  DEFAULT_PAGE_SIDE,
  DEFAULT_TIMELINE_POINTS,
  KeyOut,
  MAX_PAGE_SIDE,
  MAX_SEND_HTTP,
  MAX_TIMELINE_POINTS,
  MessageId,
  MIN_TIMELINE_POINTS,
  NewMessage,
  UserName,
} from "./model.ts";

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

/**
 * Protocol 1.2: `POST /v1/channels/{ch}/changes`. `user` makes the changes
 * on an open worker (required there); with a token, its `sub` does.
 */
export const ChangesBody = z.object({
  user: UserName.optional(),
  changes: Changes,
});
export type ChangesBody = z.infer<typeof ChangesBody>;

export const ChangesReply = z.object({
  results: z.array(ChangeResult),
  total: z.number(),
  seq: z.number(),
});
export type ChangesReply = z.infer<typeof ChangesReply>;

export const Stats = z.object({
  channel: z.string(),
  total: z.number(),
  lateTotal: z.number(),
  oldest: KeyOut.nullable(),
  newest: KeyOut.nullable(),
  seq: z.number(),
  /** Issue 18: live sockets on the channel (its object's and its relays'), and relays holding any. */
  sockets: z.number(),
  relays: z.number(),
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

/** `anchor=newest|oldest|first_unread|id:<id>|pos:<n>|ts:<ms>` of the HTTP page query. */
export const AnchorQuery = z.string().transform((raw, ctx): Anchor | typeof z.NEVER => {
  if (raw === "newest" || raw === "oldest" || raw === "first_unread") return raw;
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
  ctx.addIssue({
    code: "custom",
    message: "must be newest, oldest, first_unread, id:<id>, pos:<n> or ts:<ms>",
  });
  return z.NEVER;
});

/** Unknown query parameters are ignored (cache busters, tracing). */
export const PageQuery = z.object({
  anchor: AnchorQuery.default("newest"),
  /** Protocol 1.2: whose read marker `first_unread` means, on an open worker (with a token: its `sub`). */
  user: UserName.optional(),
  before: queryInt(DIGITS).pipe(z.int().max(MAX_PAGE_SIDE)).default(DEFAULT_PAGE_SIDE),
  after: queryInt(DIGITS).pipe(z.int().max(MAX_PAGE_SIDE)).default(DEFAULT_PAGE_SIDE),
});

/** `true` or `false`, nothing else, as a boolean. */
const queryBool = z
  .enum(["true", "false"], "must be true or false")
  .transform((raw) => raw === "true")
  .pipe(z.boolean());

export const TimelineQuery = z.object({
  points: queryInt(DIGITS)
    .pipe(z.int().min(MIN_TIMELINE_POINTS).max(MAX_TIMELINE_POINTS))
    .default(DEFAULT_TIMELINE_POINTS),
  /**
   * An extension of the contract: `false` answers, instead of the exact
   * positions, the position index's bucket starts nearest them (and the
   * newest message), read from memory: see docs/protocol.md, "Timeline".
   */
  exact: queryBool.default(true),
});

export const SocketQuery = z.object({
  user: UserName.optional(),
  token: z.string().optional(),
});
