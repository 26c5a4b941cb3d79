/**
 * The scripts' HTTP calls: the client library's request (JSON in, JSON out,
 * a ScrollbackError with the protocol's code and the status on failure), by
 * path, so that scripts and tests may call any route, bench-only ones too.
 */
import { ScrollbackError } from "../../src/client/errors.ts";
import { type HttpOptions, requestJson } from "../../src/client/http.ts";

export type ApiOptions = Pick<HttpOptions, "url" | "token">;
/** What a failed call rejects with (`code`, `status`). */
export { ScrollbackError as ApiError };

/** Calls the API; resolves to the JSON body, rejects with an ApiError on an error status. */
export function api<T>(
  options: ApiOptions,
  path: string,
  init: { method?: "GET" | "POST" | "PUT" | "DELETE"; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  // Seeding a million messages takes longer than a socket reply: no default timeout here.
  const call = () => requestJson<T>({ ...options, timeoutMs: 10 * 60_000 }, path, init);
  // A kept-alive connection the server closed while this client was busy (the
  // bench generating 10M messages' ids before seeding) fails the next request.
  // A GET is safe to send again, on a new connection.
  if ((init.method ?? "GET") !== "GET") return call();
  return call().catch((err: unknown) => {
    if (err instanceof ScrollbackError && err.code === "disconnected") return call();
    throw err;
  });
}

/** True when the script file is the one node was asked to run. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && new URL(metaUrl).pathname === new URL(`file://${entry}`).pathname;
}
