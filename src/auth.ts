/**
 * Access control at the edge (docs/protocol.md, "Access"): HS256 JWTs verified by
 * hono/jwt. No token or a bad one is 401; a good token for another channel or
 * a smaller scope is 403. The token comes in the Authorization header, a
 * `bearer.<jwt>` subprotocol (browser sockets) or `?token=`.
 */
import { verify } from "hono/jwt";
import { allows, Claims, type Scope } from "./protocol/access.ts";
import { ProtocolError } from "./protocol/errors.ts";
import { subprotocolTokens } from "./protocol/subprotocol.ts";

/** Who is asking, and for what. `user` is unknown on an open worker. */
export interface Principal {
  readonly user: string | undefined;
  readonly channel: string;
  readonly scope: Scope;
  /** The token's expiry, seconds since the epoch: a socket's frames are refused after it. */
  readonly exp?: number;
}

/** An open worker (no AUTH_SECRET) lets everyone do everything. */
export const OPEN: Principal = { user: undefined, channel: "*", scope: "admin" };

/** Where a request may carry its token. */
export interface TokenPlaces {
  /** The Authorization header (`Bearer <jwt>`; another scheme carries none). */
  readonly authorization: string | undefined;
  /** The offered WebSocket subprotocols: a `bearer.<jwt>` entry carries one. */
  readonly subprotocols: readonly string[];
  /** `?token=`, for servers' clients that predate the subprotocol. */
  readonly query: string | undefined;
}

/**
 * The bearer token of a request, wherever it is (an empty one is none). No
 * place wins over another: when several carry a token they must carry the
 * same one, else `unauthorized`, since which was meant cannot be told and a
 * guess could act as the wrong user. The message never repeats a token.
 */
export function tokenOf(places: TokenPlaces): string | undefined {
  const header = places.authorization?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
  const found = [header, ...subprotocolTokens(places.subprotocols), places.query].filter(
    (token): token is string => token !== undefined && token !== "",
  );
  if (new Set(found).size > 1) {
    throw new ProtocolError(
      "unauthorized",
      "the request carries different tokens (Authorization, a bearer. subprotocol, ?token=): send one",
    );
  }
  return found[0];
}

/** Verifies a token, or throws `unauthorized`. */
export async function authenticate(secret: string, token: string | undefined): Promise<Principal> {
  if (!token) throw new ProtocolError("unauthorized", "a bearer token is required");
  let payload: unknown;
  try {
    payload = await verify(token, secret, "HS256");
  } catch {
    throw new ProtocolError("unauthorized", "the token is invalid or expired");
  }
  const claims = Claims.safeParse(payload);
  if (!claims.success) {
    throw new ProtocolError("unauthorized", "the token lacks valid sub, ch and scope claims");
  }
  const { sub, ch, scope, exp } = claims.data;
  return { user: sub, channel: ch, scope, ...(exp === undefined ? {} : { exp }) };
}

/** Throws `forbidden` unless the principal may act on `channel` with `needed`. */
export function authorize(principal: Principal, channel: string, needed: Scope): void {
  if (principal.channel !== "*" && principal.channel !== channel) {
    throw new ProtocolError("forbidden", `this token is for channel ${principal.channel}`);
  }
  if (!allows(principal.scope, needed)) {
    throw new ProtocolError(
      "forbidden",
      `this needs the ${needed} scope; the token has ${principal.scope}`,
    );
  }
}
