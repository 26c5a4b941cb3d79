/** Parsing client input: never throws anything but a ProtocolError. */
import type { z } from "zod";
import { describeIssues, ProtocolError } from "./errors.ts";
import { CLIENT_FRAME_TYPES, ClientFrame } from "./schemas.ts";

/** Parses `value` with `schema`, or throws `bad_request` naming the first bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ProtocolError("bad_request", describeIssues(result.error));
  return result.data;
}

/** Parses a decoded WebSocket frame; an unknown `type` is named as such. */
export function parseClientFrame(json: unknown): ClientFrame {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new ProtocolError("bad_request", "a frame must be a JSON object");
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== "string" || !(CLIENT_FRAME_TYPES as readonly string[]).includes(type)) {
    throw new ProtocolError(
      "bad_request",
      `unknown frame type ${JSON.stringify(type ?? null)}; expected one of ${CLIENT_FRAME_TYPES.join(", ")}`,
    );
  }
  return parseOrThrow(ClientFrame, json);
}
