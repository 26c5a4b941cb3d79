/**
 * The HTTP half of the client library: every channel route of docs/protocol.md as
 * a typed call. Answers are validated with the server's zod schemas; errors
 * are the socket half's ScrollbackError, with the protocol's code and the
 * HTTP status. Each call takes an AbortSignal and a timeout.
 *
 *   const http = new ScrollbackHttp({ url: "http://127.0.0.1:8787", channel: "demo" });
 *   const { points } = await http.timeline(100, { signal });
 */
import type { z } from "zod";
import { ERROR_STATUS, type ErrorCode } from "../protocol/errors.ts";
import {
  type Anchor,
  type Change,
  ChangesReply,
  InsertReply,
  type NewMessage,
  PageBody,
  SimulatorState,
  type SimulatorUpdate,
  Stats,
  Timeline,
} from "../protocol/schemas.ts";
import { ScrollbackError } from "./errors.ts";

/** Default per-call timeout, as the socket half's. */
const DEFAULT_TIMEOUT_MS = 15_000;

export interface HttpOptions {
  /** The worker's base URL, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly channel: string;
  /** A JWT, sent as `Authorization: Bearer`, for a worker with AUTH_SECRET. */
  readonly token?: string | undefined;
  /**
   * The user on an open worker (with a token, the server takes the token's
   * subject): who makes changes, whose read marker `first_unread` means.
   */
  readonly user?: string | undefined;
  /** How long a call may take, in ms (default 15,000); a call may override it. */
  readonly timeoutMs?: number;
  /** A fetch implementation (tests, or runtimes without a global one). */
  readonly fetch?: typeof fetch;
}

/** Per call: cancel it, or give it its own timeout. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** One request to the API: JSON in, the answer parsed with `schema` (or as is), errors thrown. */
export interface JsonRequest<T> extends CallOptions {
  readonly method?: "GET" | "POST" | "PUT" | "DELETE";
  readonly body?: unknown;
  readonly schema?: z.ZodType<T>;
}

/**
 * Calls `path` on the worker. Rejects with a ScrollbackError: the error
 * body's code and status, `timeout`, or `disconnected` when the network
 * failed; a caller's abort rejects with the signal's reason, as fetch does.
 */
export async function requestJson<T>(
  base: Pick<HttpOptions, "url" | "token" | "timeoutMs" | "fetch">,
  path: string,
  request: JsonRequest<T> = {},
): Promise<T> {
  const timeoutMs = request.timeoutMs ?? base.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  const headers: Record<string, string> = {};
  if (base.token) headers.Authorization = `Bearer ${base.token}`;
  if (request.body !== undefined) headers["Content-Type"] = "application/json";
  const doFetch = base.fetch ?? ((input, init) => fetch(input, init));
  let res: Response;
  let text: string;
  try {
    res = await doFetch(new URL(path, base.url), {
      method: request.method ?? "GET",
      headers,
      signal,
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    });
    text = await res.text();
  } catch (err) {
    if (request.signal?.aborted) throw request.signal.reason;
    if (timeout.aborted) {
      throw new ScrollbackError("timeout", `no answer to ${path} within ${timeoutMs} ms`);
    }
    throw new ScrollbackError(
      "disconnected",
      `${path}: ${err instanceof Error ? err.message : err}`,
    );
  }
  const json = parseJson(text);
  if (!res.ok) throw errorOf(res.status, json, text);
  if (!request.schema) return json as T;
  const parsed = request.schema.safeParse(json);
  if (!parsed.success) {
    throw new ScrollbackError("internal", `unexpected answer to ${path}: ${text.slice(0, 200)}`);
  }
  return parsed.data;
}

function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/** The protocol's `{ error: { code, message } }`, or a code from the status when a proxy answered. */
function errorOf(status: number, json: unknown, text: string): ScrollbackError {
  const error = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = error?.code;
  if (typeof code === "string" && code in ERROR_STATUS) {
    return new ScrollbackError(code as ErrorCode, String(error?.message ?? ""), status);
  }
  const byStatus = Object.entries(ERROR_STATUS).find(([, s]) => s === status)?.[0];
  const fallback =
    (byStatus as ErrorCode | undefined) ?? (status < 500 ? "bad_request" : "internal");
  return new ScrollbackError(fallback, `HTTP ${status}: ${text.slice(0, 200)}`, status);
}

/** A socket-style anchor as the HTTP query writes it: `id:<id>`, `pos:<n>`, `ts:<ms>`. */
export function anchorQuery(anchor: Anchor): string {
  if (typeof anchor === "string") return anchor;
  if ("id" in anchor) return `id:${anchor.id}`;
  if ("position" in anchor) return `pos:${anchor.position}`;
  return `ts:${anchor.ts}`;
}

/** What `timeline` asks for. */
export interface TimelineRequest {
  /** 2–1,000; the server's default (100) when omitted. */
  readonly points?: number;
  /**
   * `false` (an extension of the contract): each point is the start of the
   * server's position-index bucket nearest its even position (within 256
   * messages) or the newest message, read from memory: a real message with
   * its exact position and ts, ascending, fewer than `points` on a small
   * channel. Meant for scrollbar labels. Default true: the contract's exact
   * positions round(i·(total−1)/(N−1)).
   */
  readonly exact?: boolean;
}

/** A query string, or nothing when the query is empty. */
const searchOf = (query: URLSearchParams): string => (query.size > 0 ? `?${query}` : "");

/** One channel over HTTP: stats, pages, inserts, changes, the timeline and the simulator. */
export class ScrollbackHttp {
  readonly #options: HttpOptions;
  readonly #base: string;

  constructor(options: HttpOptions) {
    this.#options = options;
    this.#base = `/v1/channels/${encodeURIComponent(options.channel)}`;
  }

  #call<T>(path: string, request: JsonRequest<T>): Promise<T> {
    return requestJson(this.#options, `${this.#base}${path}`, request);
  }

  /** `{ channel, total, lateTotal, oldest, newest }`. */
  stats(call: CallOptions = {}): Promise<Stats> {
    return this.#call("", { ...call, schema: Stats });
  }

  /**
   * A page around an anchor (default: the newest message, 25 each side).
   * `first_unread` (protocol 1.2) is the user's: the token's subject, or the
   * options' `user` on an open worker (sent as `?user=`); its page carries
   * `firstUnread`, absent when nothing is unread.
   */
  page(
    request: { anchor?: Anchor; before?: number; after?: number } = {},
    call: CallOptions = {},
  ): Promise<PageBody> {
    const query = new URLSearchParams();
    const { anchor } = request;
    if (anchor !== undefined) query.set("anchor", anchorQuery(anchor));
    if (request.before !== undefined) query.set("before", String(request.before));
    if (request.after !== undefined) query.set("after", String(request.after));
    const { user } = this.#options;
    if (anchor === "first_unread" && user !== undefined) query.set("user", user);
    return this.#call(`/messages${searchOf(query)}`, { ...call, schema: PageBody });
  }

  /** Stores a batch (1–10,000), all or nothing; resolves with the counts. */
  insert(messages: readonly NewMessage[], call: CallOptions = {}): Promise<InsertReply> {
    return this.#call("/messages", {
      ...call,
      method: "POST",
      body: { messages },
      schema: InsertReply,
    });
  }

  /**
   * Edits, deletes and reactions (protocol 1.2; 1–1,000), all or nothing, as
   * the options' `user` on an open worker; resolves with `{ results, total, seq }`.
   */
  change(changes: readonly Change[], call: CallOptions = {}): Promise<ChangesReply> {
    const { user } = this.#options;
    return this.#call("/changes", {
      ...call,
      method: "POST",
      body: { ...(user === undefined ? {} : { user }), changes },
      schema: ChangesReply,
    });
  }

  /**
   * Evenly spaced `{ position, ts }` points: a count (2–1,000; the server's
   * default when omitted), or `{ points, exact: false }` for the cheap
   * points at bucket starts near them (see {@link TimelineRequest}).
   */
  timeline(request: number | TimelineRequest = {}, call: CallOptions = {}): Promise<Timeline> {
    const { points, exact } = typeof request === "number" ? { points: request } : request;
    const query = new URLSearchParams();
    if (points !== undefined) query.set("points", String(points));
    if (exact !== undefined) query.set("exact", String(exact));
    return this.#call(`/timeline${searchOf(query)}`, { ...call, schema: Timeline });
  }

  /** The simulator's state (needs the admin scope). */
  simulator(call: CallOptions = {}): Promise<SimulatorState> {
    return this.#call("/simulator", { ...call, schema: SimulatorState });
  }

  /** Starts the simulator or changes it (unset fields keep their values). */
  startSimulator(update: SimulatorUpdate = {}, call: CallOptions = {}): Promise<SimulatorState> {
    return this.#call("/simulator", {
      ...call,
      method: "PUT",
      body: update,
      schema: SimulatorState,
    });
  }

  /** Stops the simulator. */
  stopSimulator(call: CallOptions = {}): Promise<SimulatorState> {
    return this.#call("/simulator", { ...call, method: "DELETE", schema: SimulatorState });
  }
}
