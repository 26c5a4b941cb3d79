/**
 * What a socket carries across hibernation, in its attachment (kept well
 * under the 2 KB limit: two keys of at most 64-character ids and a user).
 */
import type { View } from "../core/view.ts";
import type { Scope } from "../protocol/access.ts";

export interface Session {
  readonly user: string;
  readonly scope: Scope;
  readonly view: View;
  /** When the socket's token expires (seconds since the epoch); absent on an open worker. */
  readonly exp?: number;
}

/** Reads a socket's session; undefined for a socket this object did not set up. */
export function sessionOf(ws: { deserializeAttachment(): unknown }): Session | undefined {
  const value = ws.deserializeAttachment() as Session | null;
  return value && typeof value.user === "string" ? value : undefined;
}
