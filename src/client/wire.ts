/**
 * The client's pure wire helpers: where the socket connects, the reconnect delay,
 * reading a server frame, and a reply without its envelope.
 */
import { ServerFrame } from "../protocol/schemas.ts";
import { subprotocolsWith } from "../protocol/subprotocol.ts";
import { ScrollbackError } from "./errors.ts";
import type { ClientOptions } from "./types.ts";

/**
 * Where the socket connects: the channel's URL (ws:, or wss: for https:)
 * with `user`, and the subprotocols it offers. A token goes in the
 * subprotocols (`scrollback`, `bearer.<jwt>`), or in the URL with
 * `tokenIn: "query"`; without one nothing is offered.
 */
export function socketTarget(options: ClientOptions): { url: string; protocols: string[] } {
  const url = new URL(`/v1/channels/${encodeURIComponent(options.channel)}/ws`, options.url);
  url.protocol = url.protocol === "https:" || url.protocol === "wss:" ? "wss:" : "ws:";
  if (options.user) url.searchParams.set("user", options.user);
  const { token } = options;
  if (token && options.tokenIn === "query") url.searchParams.set("token", token);
  const protocols = token && options.tokenIn !== "query" ? subprotocolsWith(token) : [];
  return { url: url.toString(), protocols };
}

/**
 * Exponential backoff with jitter (it spreads a crowd of clients reconnecting
 * after an outage): the `attempt`-th delay, in ms.
 */
export function reconnectDelay(backoff: ClientOptions["backoff"], attempt: number): number {
  const { initialMs, maxMs } = backoff ?? { initialMs: 250, maxMs: 10_000 };
  return Math.min(maxMs, initialMs * 2 ** attempt) * (0.5 + Math.random() / 2);
}

/** A frame from the server, checked with the protocol's schemas; binary data is not one. */
export function readServerFrame(
  data: unknown,
): { frame: ServerFrame } | { error: ScrollbackError } | undefined {
  if (typeof data !== "string") return undefined;
  try {
    const result = ServerFrame.safeParse(JSON.parse(data));
    if (result.success) return { frame: result.data };
    const message = `unexpected frame from server: ${data.slice(0, 200)}`;
    return { error: new ScrollbackError("bad_request", message) };
  } catch {
    return { error: new ScrollbackError("bad_request", "server sent invalid JSON") };
  }
}

/** A reply without its envelope (`type`, `rid`): what the caller asked for. */
export function body<F extends { type: string; rid?: string | undefined }>(
  frame: F,
): Omit<F, "type" | "rid"> {
  const { type: _type, rid: _rid, ...rest } = frame;
  return rest;
}

export function closedError(): ScrollbackError {
  return new ScrollbackError("disconnected", "client closed");
}

export function toError(err: unknown): ScrollbackError {
  if (err instanceof ScrollbackError) return err;
  return new ScrollbackError("internal", err instanceof Error ? err.message : String(err));
}
