/**
 * The socket's subprotocols (docs/protocol.md, "A token without the URL"): a
 * browser cannot set headers on a WebSocket, and a `?token=` ends up in
 * proxies' and servers' logs, so a client offers `scrollback` and
 * `bearer.<jwt>`. The server answers `scrollback`, never the token.
 */

/** The subprotocol the server answers: what the socket speaks. */
export const SUBPROTOCOL = "scrollback";
/** An offered subprotocol starting with this carries the token. */
export const BEARER_PREFIX = "bearer.";
export const SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol";

/** What a client offers to send `token` (the second argument of `new WebSocket`). */
export function subprotocolsWith(token: string): string[] {
  return [SUBPROTOCOL, `${BEARER_PREFIX}${token}`];
}

/** The offered subprotocols of a `Sec-WebSocket-Protocol` header (repeated headers arrive joined by commas). */
export function offeredSubprotocols(header: string | null | undefined): string[] {
  return (header ?? "")
    .split(",")
    .map((protocol) => protocol.trim())
    .filter((protocol) => protocol !== "");
}

/** The tokens among offered subprotocols (`bearer.<jwt>` entries). */
export function subprotocolTokens(offered: readonly string[]): string[] {
  return offered
    .filter((protocol) => protocol.startsWith(BEARER_PREFIX))
    .map((protocol) => protocol.slice(BEARER_PREFIX.length));
}

/**
 * The headers of a 101 that answers an upgrade offering `header`: Workers
 * send a 101's headers as they are, so the chosen subprotocol is ours to name.
 */
export function acceptedSubprotocol(header: string | null): Record<string, string> {
  return offeredSubprotocols(header).includes(SUBPROTOCOL)
    ? { [SUBPROTOCOL_HEADER]: SUBPROTOCOL }
    : {};
}
