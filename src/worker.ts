/**
 * The edge: a Hono app that validates every path, query and body with zod,
 * checks access, and forwards to the channel's Durable Object. Nothing
 * unvalidated reaches the object.
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { authenticate, authorize, OPEN, type Principal, tokenOf } from "./auth.ts";
import type { Channel } from "./channel/channel.ts";
import { EXP_HEADER, type Outcome, SCOPE_HEADER, USER_HEADER } from "./channel/contract.ts";
import { relayName } from "./channel/relay-contract.ts";
import { docs } from "./docs/routes.ts";
import type { Env } from "./env.ts";
import { allows, type Scope } from "./protocol/access.ts";
import { errorResponse, ProtocolError, toErrorInfo } from "./protocol/errors.ts";
import { parseOrThrow } from "./protocol/parse.ts";
import {
  ChangesBody,
  ChannelName,
  InsertBody,
  MAX_BODY_BYTES,
  PageQuery,
  SimulatorUpdate,
  SocketQuery,
  TimelineQuery,
} from "./protocol/schemas.ts";
import { offeredSubprotocols, SUBPROTOCOL, SUBPROTOCOL_HEADER } from "./protocol/subprotocol.ts";

export { Channel } from "./channel/channel.ts";
export { Relay } from "./relay/relay.ts";

type App = { Bindings: Env; Variables: { channel: string; principal: Principal } };
type Ctx = Context<App>;

const app = new Hono<App>();
let warnedOpen = false;

app.onError((err, c) => {
  if (!(err instanceof ProtocolError)) console.error(`[worker] ${c.req.method} ${c.req.path}`, err);
  return errorResponse(toErrorInfo(err));
});

/**
 * Under /v1/ an unknown path or method is a bad request (docs/protocol.md: 400 for
 * "any invalid path"); anything else that is not a demo asset is not found.
 */
app.notFound((c) => {
  const api = c.req.path === "/v1" || c.req.path.startsWith("/v1/");
  const message = `no route for ${c.req.method} ${c.req.path}`;
  return errorResponse({ code: api ? "bad_request" : "not_found", message });
});

/** The channel named in the path, validated. */
function channelOf(c: Ctx): string {
  return parseOrThrow(ChannelName.describe("channel"), c.req.param("ch"));
}

/** Authenticates (when the worker has a secret) and checks the scope for this channel. */
async function access(c: Ctx, channel: string, needed: Scope): Promise<Principal> {
  const secret = c.env.AUTH_SECRET;
  if (!secret) {
    if (!warnedOpen) {
      warnedOpen = true;
      console.warn(
        "[worker] AUTH_SECRET is not set: the API is open to anyone (local development only)",
      );
    }
    return OPEN;
  }
  const token = tokenOf({
    authorization: c.req.header("Authorization"),
    subprotocols: offeredSubprotocols(c.req.header(SUBPROTOCOL_HEADER)),
    query: c.req.query("token"),
  });
  const principal = await authenticate(secret, token);
  authorize(principal, channel, needed);
  return principal;
}

function stub(c: Ctx, channel: string): DurableObjectStub<Channel> {
  return c.env.CHANNEL.get(c.env.CHANNEL.idFromName(channel));
}

/** Answers an object's outcome, with its rows read and round trip in Server-Timing. */
async function reply<T>(call: Promise<Outcome<T>>): Promise<Response> {
  const started = performance.now();
  const outcome = await call;
  const ms = performance.now() - started;
  const res = outcome.ok ? Response.json(outcome.value) : errorResponse(outcome.error);
  res.headers.set(
    "Server-Timing",
    `object;dur=${ms.toFixed(2)};desc="Durable Object round trip", rows;dur=${outcome.rowsRead};desc="SQLite rows read (a count, not ms)"`,
  );
  return res;
}

function query(c: Ctx): Record<string, string> {
  const { token: _token, ...rest } = c.req.query();
  return rest;
}

/**
 * Every channel route starts here: the channel named in the path, then the
 * token (401 / 403) before anything else of the request is looked at.
 */
const guard = (needed: Scope): MiddlewareHandler<App> =>
  async function guard(c, next) {
    const channel = channelOf(c);
    c.set("channel", channel);
    c.set("principal", await access(c, channel, needed));
    await next();
  };

/** A body size limit answering the protocol's 413. */
const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () =>
      errorResponse({ code: "too_large", message: `bodies are limited to ${maxSize} bytes` }),
  });

app.route("/", docs);

app.get("/v1/channels/:ch", guard("read"), (c) => {
  const { channel } = c.var;
  return reply(stub(c, channel).stats());
});

app.get("/v1/channels/:ch/messages", guard("read"), (c) => {
  const { channel, principal } = c.var;
  const { user, ...request } = parseOrThrow(PageQuery, query(c));
  // Whose read marker `first_unread` means: the token's subject, or ?user= on an open worker.
  return reply(stub(c, channel).page(request, principal.user ?? user));
});

app.post("/v1/channels/:ch/messages", guard("write"), limit(MAX_BODY_BYTES), async (c) => {
  const { channel, principal } = c.var;
  const body = parseOrThrow(InsertBody, await jsonBody(c));
  const author = principal.user;
  const missing = body.messages.findIndex((m) => m.author === undefined);
  if (author === undefined && missing >= 0) {
    throw new ProtocolError(
      "bad_request",
      `messages[${missing}].author: required (no signed-in user to default to)`,
    );
  }
  return reply(stub(c, channel).insert(body.messages, author ?? ""));
});

// Protocol 1.2: edits, deletes and reactions. The user is the token's subject, or the body's on an open worker.
app.post("/v1/channels/:ch/changes", guard("write"), limit(MAX_BODY_BYTES), async (c) => {
  const { channel, principal } = c.var;
  const body = parseOrThrow(ChangesBody, await jsonBody(c));
  const user = principal.user ?? body.user;
  if (user === undefined) {
    throw new ProtocolError(
      "bad_request",
      "user: required (no signed-in user to make the changes)",
    );
  }
  // An open worker has no tokens, so nobody holds `moderate` there: only authors delete.
  const moderator = principal.user !== undefined && allows(principal.scope, "moderate");
  return reply(stub(c, channel).change(user, moderator, body.changes));
});

app.get("/v1/channels/:ch/timeline", guard("read"), (c) => {
  const { channel } = c.var;
  const { points, exact } = parseOrThrow(TimelineQuery, query(c));
  return reply(stub(c, channel).timeline(points, exact));
});

/** A bench-only route: not found unless the bench set its variable to "1". */
const benchOnly = (variable: "BENCH_NAIVE" | "BENCH_STATS"): MiddlewareHandler<App> =>
  async function benchOnly(c, next) {
    if (c.env[variable] !== "1") return c.notFound();
    return next();
  };

// The naive baseline (count(*) and OFFSET), only where the bench turned it on.
app.get("/v1/channels/:ch/naive", benchOnly("BENCH_NAIVE"), guard("read"), (c) => {
  const { channel } = c.var;
  const request = parseOrThrow(PageQuery, query(c));
  const position =
    typeof request.anchor === "object" && "position" in request.anchor
      ? request.anchor.position
      : 0;
  return reply(stub(c, channel).naivePage(position, request.before, request.after));
});

// The channel object's own push work (counted sends, timed turns), only where the bench turned it on.
app.get("/v1/channels/:ch/bench-stats", benchOnly("BENCH_STATS"), guard("read"), (c) => {
  const { channel } = c.var;
  return reply(stub(c, channel).benchStats());
});

// docs/protocol.md, Access: "admin: also the simulator" (reading its state included).
app.get("/v1/channels/:ch/simulator", guard("admin"), (c) => {
  const { channel } = c.var;
  return reply(stub(c, channel).simulator());
});

app.put("/v1/channels/:ch/simulator", guard("admin"), limit(64 * 1024), async (c) => {
  const { channel } = c.var;
  const update = parseOrThrow(SimulatorUpdate, await jsonBody(c));
  return reply(stub(c, channel).startSimulator(update));
});

app.delete("/v1/channels/:ch/simulator", guard("admin"), (c) => {
  const { channel } = c.var;
  return reply(stub(c, channel).stopSimulator());
});

app.get("/v1/channels/:ch/ws", guard("read"), async (c) => {
  const { channel, principal } = c.var;
  if (c.req.header("Upgrade")?.toLowerCase() !== "websocket") {
    throw new ProtocolError("bad_request", "expected a WebSocket upgrade (Upgrade: websocket)");
  }
  // With a token the user is its subject; an open worker takes ?user=.
  const user = principal.user ?? parseOrThrow(SocketQuery, c.req.query()).user ?? missingUser();
  const headers = new Headers(c.req.raw.headers);
  headers.set(USER_HEADER, user);
  // An open worker's sockets may do what any token's may but moderate (no socket frame needs admin).
  headers.set(SCOPE_HEADER, principal.user === undefined ? "write" : principal.scope);
  if (principal.exp !== undefined) headers.set(EXP_HEADER, String(principal.exp));
  // The token stays at the edge: the object learns only whether `scrollback`
  // was offered, and answers it (an open worker too: a browser fails a
  // socket whose offered subprotocols get no answer).
  headers.delete("Authorization");
  headers.delete(SUBPROTOCOL_HEADER);
  if (offeredSubprotocols(c.req.header(SUBPROTOCOL_HEADER)).includes(SUBPROTOCOL)) {
    headers.set(SUBPROTOCOL_HEADER, SUBPROTOCOL);
  }
  const url = new URL(c.req.raw.url);
  url.searchParams.delete("token");
  const upgrade = new Request(url, { headers });
  // A hot channel's object serves so many sockets; past that, its relays do (issue 18).
  const placed = await stub(c, channel).place(user);
  if (!placed.ok) return errorResponse(placed.error);
  if (placed.value.relay === null) return stub(c, channel).fetch(upgrade);
  const name = relayName(channel, placed.value.relay);
  return c.env.RELAY.get(c.env.RELAY.idFromName(name)).fetch(upgrade);
});

function missingUser(): never {
  throw new ProtocolError("bad_request", "user: required (?user=)");
}

async function jsonBody(c: Ctx): Promise<unknown> {
  try {
    return await c.req.json();
  } catch {
    throw new ProtocolError("bad_request", "the body must be valid JSON");
  }
}

export default app;
