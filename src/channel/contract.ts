/**
 * The worker ↔ object contract: how the worker hands a validated WebSocket
 * upgrade to the object, and what every RPC returns.
 */
import type { ErrorInfo } from "../protocol/errors.ts";

/** Headers the worker sets on a WebSocket upgrade it has validated. */
export const USER_HEADER = "x-scrollback-user";
export const SCOPE_HEADER = "x-scrollback-scope";
export const EXP_HEADER = "x-scrollback-exp";

/**
 * What an RPC call returns: never a thrown error across the RPC boundary,
 * and the SQLite rows the call read (for Server-Timing and the tests).
 */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T; readonly rowsRead: number }
  | { readonly ok: false; readonly error: ErrorInfo; readonly rowsRead: number };
