/** The closed set of error codes (docs/protocol.md) and their HTTP statuses. */
import type { z } from "zod";

export const ERROR_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** What every error body and error frame carries. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
}

/** An error meant for the client: its code and message are safe to show. */
export class ProtocolError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** The `{ error: { code, message } }` body of a failed HTTP request. */
export function errorBody(error: ErrorInfo): { error: ErrorInfo } {
  return { error: { code: error.code, message: error.message } };
}

/** A failed HTTP answer: the error body with its code's status. The one place HTTP errors are shaped. */
export function errorResponse(error: ErrorInfo): Response {
  return Response.json(errorBody(error), { status: ERROR_STATUS[error.code] });
}

/** A WebSocket `error` frame, echoing the frame's rid when it had one. The one place error frames are shaped. */
export function errorFrame(
  error: ErrorInfo,
  rid?: string,
): { type: "error"; rid?: string; code: ErrorCode; message: string } {
  return {
    type: "error",
    ...(rid === undefined ? {} : { rid }),
    code: error.code,
    message: error.message,
  };
}

/**
 * Turns any thrown value into what a client may see: a ProtocolError as is,
 * anything else as `internal` with no details (they go to the log instead).
 */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof ProtocolError) return { code: err.code, message: err.message };
  return { code: "internal", message: "internal error" };
}

/** One line naming the first failing field: `messages[3].text: too long`. */
export function describeIssues(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const path = issue.path
    .map((part, i) =>
      typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`,
    )
    .join("");
  return path ? `${path}: ${issue.message}` : issue.message;
}
