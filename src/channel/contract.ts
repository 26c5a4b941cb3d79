/**
 * The worker ↔ object contract: how the worker hands a validated WebSocket
 * upgrade to the object, and what every RPC returns.
 */
import { Scope } from "../protocol/access.ts";
import type { ErrorInfo } from "../protocol/errors.ts";

/** Headers the worker sets on a WebSocket upgrade it has validated. */
export const USER_HEADER = "x-scrollback-user";
export const SCOPE_HEADER = "x-scrollback-scope";
export const EXP_HEADER = "x-scrollback-exp";

/** Whom an upgrade the worker validated is for, as its headers say (the channel's or a relay's). */
export interface Placed {
  readonly user: string;
  readonly scope: Scope;
  /** The token's expiry (seconds since the epoch); absent on an open worker. */
  readonly exp?: number;
}

/** Reads the worker's headers back; undefined for a request that is not such an upgrade. */
export function placedUpgrade(request: Request): Placed | undefined {
  const user = request.headers.get(USER_HEADER);
  if (!user || request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return undefined;
  const scope = Scope.catch("read").parse(request.headers.get(SCOPE_HEADER));
  const exp = Number(request.headers.get(EXP_HEADER) ?? Number.NaN);
  return { user, scope, ...(Number.isFinite(exp) ? { exp } : {}) };
}

/** The answer to anything else reaching an object's fetch. */
export const NOT_PLACED: ErrorInfo = {
  code: "bad_request",
  message: "expected a WebSocket upgrade from the worker",
};

/**
 * What an RPC call returns: never a thrown error across the RPC boundary,
 * and the SQLite rows the call read (for Server-Timing and the tests).
 */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly rowsRead: number }
  | { readonly ok: false; readonly error: ErrorInfo; readonly rowsRead: number };
