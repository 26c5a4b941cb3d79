/** A small HTTP client for the scripts: JSON in, JSON out, errors with their code. */

export interface ApiOptions {
  /** Base URL of the worker, e.g. http://127.0.0.1:8787 */
  readonly url: string;
  /** A bearer token, when the worker has AUTH_SECRET. */
  readonly token?: string | undefined;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(`${status} ${code}: ${message}`);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; resolves to the JSON body, rejects with an ApiError on an error status. */
export async function api<T>(
  options: ApiOptions,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const method = init.method ?? "GET";
  const request = () =>
    fetch(new URL(path, options.url), {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  // A kept-alive connection the server closed while this client was busy (the
  // bench generating 10M messages' ids before seeding) fails the next request
  // with "other side closed". A GET is safe to send again, on a new connection.
  const res = await request().catch((err: unknown) => {
    if (method !== "GET" || !isClosedSocket(err)) throw err;
    return request();
  });
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new ApiError(res.status, error?.code ?? "unknown", error?.message ?? text);
  }
  return json as T;
}

function isClosedSocket(err: unknown): boolean {
  const cause =
    err instanceof TypeError ? (err.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === "UND_ERR_SOCKET";
}

/** True when the script file is the one node was asked to run. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && new URL(metaUrl).pathname === new URL(`file://${entry}`).pathname;
}
