/** The one error type of the client library, socket and HTTP halves alike. */
import type { ErrorCode } from "../protocol/errors.ts";

/**
 * A failed request: the protocol's error `code` (from an `error` frame or an
 * HTTP error body), or `timeout`, or `disconnected` (no connection, or it was
 * lost). `status` is the HTTP status, when the answer came over HTTP.
 */
export class ScrollbackError extends Error {
  readonly code: ErrorCode | "timeout" | "disconnected";
  readonly status: number | undefined;
  constructor(code: ScrollbackError["code"], message: string, status?: number) {
    super(message);
    this.name = "ScrollbackError";
    this.code = code;
    this.status = status;
  }
}
