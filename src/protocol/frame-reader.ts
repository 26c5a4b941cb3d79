/**
 * Reading one WebSocket frame (docs/protocol.md, "WebSocket"), pure: binary or
 * text, the budget's verdict, size, JSON, the token's expiry, then the frame's
 * schema. Every refusal is a result, never a throw, and carries the frame's
 * `rid` whenever one can be read, so the client's request settles.
 */
import { type ErrorInfo, toErrorInfo } from "./errors.ts";
import { parseClientFrame } from "./parse.ts";
import { type ClientFrame, MAX_FRAME_BYTES, MAX_RID } from "./schemas.ts";

/** What the socket knows when a frame arrives. */
export interface FrameContext {
  /** The socket's budget let this frame through (taken before reading, bad frames too). */
  readonly admitted: boolean;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** When the socket's token expires, in seconds since the epoch. */
  readonly exp?: number | undefined;
}

export type FrameReading =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: ErrorInfo; readonly rid?: string };

/** Longest frame decoded just to echo its rid on a refusal (a too_large frame up to twice the limit). */
export const RID_PARSE_LIMIT = 2 * MAX_FRAME_BYTES;

/**
 * Reads a frame. A frame over budget is refused before it is validated or
 * executed; its JSON is decoded only to echo the rid.
 */
export function readFrame(raw: string | ArrayBuffer, context: FrameContext): FrameReading {
  if (typeof raw !== "string") return refuse("bad_request", "frames must be JSON text, not binary");
  const json = raw.length <= RID_PARSE_LIMIT ? decode(raw) : undefined;
  const rid = json?.ok ? ridOf(json.value) : undefined;
  if (!context.admitted) return refuse("rate_limited", OVER_BUDGET, rid);
  if (utf8Length(raw) > MAX_FRAME_BYTES) {
    return refuse("too_large", `frames are limited to ${MAX_FRAME_BYTES} bytes`, rid);
  }
  if (!json?.ok) return refuse("bad_request", "invalid JSON", rid);
  // A token is checked at the upgrade; its expiry still holds for every frame after.
  if (context.exp !== undefined && context.now / 1000 >= context.exp) {
    return refuse("unauthorized", "the token has expired; reconnect with a fresh one", rid);
  }
  try {
    return { ok: true, frame: parseClientFrame(json.value) };
  } catch (err) {
    const { code, message } = toErrorInfo(err);
    return refuse(code, message, rid);
  }
}

const OVER_BUDGET = "over this socket's frame budget; slow down";

function refuse(code: ErrorInfo["code"], message: string, rid?: string): FrameReading {
  return { ok: false, error: { code, message }, ...(rid === undefined ? {} : { rid }) };
}

/** UTF-8 bytes of a frame, measured only when the code-unit count says it may matter. */
function utf8Length(text: string): number {
  return text.length * 3 <= MAX_FRAME_BYTES ? text.length : new TextEncoder().encode(text).length;
}

function decode(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The frame's `rid` when it has a usable one. */
function ridOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || !("rid" in json)) return undefined;
  const rid = json.rid;
  return typeof rid === "string" && rid.length <= MAX_RID ? rid : undefined;
}
