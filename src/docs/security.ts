/**
 * How the OpenAPI document says a request carries its token (docs/protocol.md,
 * "Access" and "A token without the URL"): the bearer header everywhere; on
 * the socket also a subprotocol (what browsers use) or `?token=`, and the
 * upgrade answers the subprotocol `scrollback`.
 */
import { SCOPES } from "../protocol/access.ts";
import { BEARER_PREFIX, SUBPROTOCOL, SUBPROTOCOL_HEADER } from "../protocol/subprotocol.ts";
import type { JsonSchema } from "./json-schema.ts";

export const SECURITY_SCHEMES: JsonSchema = {
  bearer: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: `HS256 JWT with sub, ch, scope (${SCOPES.join(" < ")}) and exp`,
  },
  subprotocolToken: {
    type: "apiKey",
    in: "header",
    name: SUBPROTOCOL_HEADER,
    description:
      `the same JWT as a WebSocket subprotocol, offered with \`${SUBPROTOCOL}\`: ` +
      `\`new WebSocket(url, ["${SUBPROTOCOL}", "${BEARER_PREFIX}" + jwt])\`. ` +
      "Where several places carry a token it must be the same one (else 401).",
  },
  queryToken: {
    type: "apiKey",
    in: "query",
    name: "token",
    description: "the same JWT (a URL ends up in logs: prefer the subprotocol)",
  },
};

/** A route's ways to send the token: a browser cannot set headers on a WebSocket. */
export function securityOf(upgrade: boolean): JsonSchema[] {
  return [{ bearer: [] }, ...(upgrade ? [{ subprotocolToken: [] }, { queryToken: [] }] : [])];
}

/** The upgrade's 101, with its answer to the subprotocols offered. */
export const UPGRADE_ANSWER: JsonSchema = {
  "101": {
    description: "Switching Protocols: the socket speaks /v1/asyncapi.json",
    headers: {
      [SUBPROTOCOL_HEADER]: {
        description: `\`${SUBPROTOCOL}\` when the client offered it (never the token)`,
        schema: { type: "string", const: SUBPROTOCOL },
      },
    },
  },
};
