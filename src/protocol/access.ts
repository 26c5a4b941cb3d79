/** Access claims (docs/protocol.md, "Access"): who a token is for and what it may do. */
import { z } from "zod";
import { ChannelName, UserName } from "./schemas.ts";

/**
 * Access levels, each including the ones before it. `moderate` (protocol
 * 1.2): also deleting anyone's message.
 */
export const SCOPES = ["read", "write", "moderate", "admin"] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

/** The claims Scrollback reads from a verified HS256 JWT. */
export const Claims = z.object({
  sub: UserName,
  ch: z.union([ChannelName, z.literal("*")]),
  scope: Scope,
  exp: z.number().optional(),
});
export type Claims = z.infer<typeof Claims>;

/** True when `granted` includes `needed`. */
export function allows(granted: Scope, needed: Scope): boolean {
  return SCOPES.indexOf(granted) >= SCOPES.indexOf(needed);
}
