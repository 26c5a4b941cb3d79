/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the protocol's zod
 * schemas: bodies, answers and query parameters cannot drift from what the
 * worker parses and sends. Only the routes themselves are listed here (the
 * worker test checks this list against the worker's own routes).
 */
import { z } from "zod";
import type { Scope } from "../protocol/access.ts";
import { ERROR_STATUS, type ErrorCode } from "../protocol/errors.ts";
import {
  ChangesBody,
  ChangesReply,
  ChannelName,
  ErrorBody,
  InsertBody,
  InsertReply,
  MAX_CHANGES,
  MAX_EMOJI,
  MAX_TEXT,
  Message,
  NewMessage,
  PageBody,
  PageQuery,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  SimulatorState,
  SimulatorUpdate,
  SocketQuery,
  Stats,
  Timeline,
  TimelineQuery,
} from "../protocol/schemas.ts";
import { components, type JsonSchema, jsonSchema } from "./json-schema.ts";
import { queryParameter } from "./query-parameters.ts";
import { SECURITY_SCHEMES, securityOf, UPGRADE_ANSWER } from "./security.ts";

const REF = "#/components/schemas/";
/** What the server answers, as named components. */
const ANSWERS = {
  Stats,
  Message,
  PageBody,
  InsertReply,
  ChangesReply,
  Timeline,
  SimulatorState,
  ErrorBody,
};
/** What a client sends. */
const BODIES = { InsertBody, NewMessage, ChangesBody, SimulatorUpdate };

/** A limit as the protocol writes it: 4,000. */
const n = (value: number) => value.toLocaleString("en-US");

type Answer = keyof typeof ANSWERS;
type Body = keyof typeof BODIES;

interface Route {
  readonly method: "get" | "post" | "put" | "delete";
  /** After /v1/channels/{ch}. */
  readonly path: string;
  readonly id: string;
  readonly summary: string;
  readonly scope: Scope;
  /** What the summary leaves out: the rules a client must know to call it. */
  readonly details?: string;
  readonly query?: z.ZodObject;
  readonly body?: Body;
  /** The 200 answer, or a WebSocket upgrade (101). */
  readonly ok: Answer | "upgrade";
  /** Error codes beyond those of every route (bad_request, unauthorized, forbidden, internal). */
  readonly errors?: readonly ErrorCode[];
}

/** Every route of the worker (README, HTTP); the bench-only naive page is not part of the API. */
export const ROUTES: readonly Route[] = [
  { method: "get", path: "", id: "getStats", summary: "Channel stats", scope: "read", ok: "Stats" },
  {
    method: "get",
    path: "/messages",
    id: "getPage",
    summary: "A page of messages around an anchor",
    scope: "read",
    query: PageQuery,
    ok: "PageBody",
    errors: ["not_found"],
  },
  {
    method: "post",
    path: "/messages",
    id: "insertMessages",
    summary: "Store a batch of messages (all or nothing; ids already stored are duplicates)",
    scope: "write",
    body: "InsertBody",
    ok: "InsertReply",
    errors: ["too_large"],
  },
  {
    method: "post",
    path: "/changes",
    id: "changeMessages",
    summary: "Edit, delete and react to messages (protocol 1.2; all or nothing)",
    // The length limits are zod refinements, which JSON Schema cannot carry: said here.
    details:
      `Body \`{ user?, changes }\`, 1–${n(MAX_CHANGES)} changes: ` +
      `\`{ kind: "edit", id, text, ts }\` (text 1–${n(MAX_TEXT)} UTF-16 code units), ` +
      `\`{ kind: "delete", id }\`, \`{ kind: "react", id, emoji, on, ts }\` ` +
      `(emoji 1–${n(MAX_EMOJI)} code units). The user is the token's \`sub\` (the body's ` +
      "`user` is then ignored); on an open worker `user` is required. Only a message's " +
      "author edits or deletes it; the `moderate` scope also deletes anyone's message; " +
      "anyone with `write` reacts: otherwise 403 and nothing is applied. Each result's " +
      "`outcome` is `applied`, `pending` (the message is not stored yet: the change is " +
      "held), `stale` (it loses, or repeats) or `deleted`; `seq` is given for applied " +
      "and pending changes.",
    scope: "write",
    body: "ChangesBody",
    ok: "ChangesReply",
    errors: ["too_large"],
  },
  {
    method: "get",
    path: "/timeline",
    id: "getTimeline",
    summary: "Evenly spaced (position, ts) points, for a scrollbar's date labels",
    details:
      "Exact by default: the message at round(i·(total−1)/(N−1)) for i = 0…N−1. With " +
      "`exact=false` (an extension): the start of the position index's bucket nearest each of " +
      "those positions, or the newest message, ascending without repeats (fewer than N points " +
      "when the channel has fewer buckets), each a real message with its exact position and ts.",
    scope: "read",
    query: TimelineQuery,
    ok: "Timeline",
  },
  {
    method: "get",
    path: "/simulator",
    id: "getSimulator",
    summary: "The simulator's settings and counters",
    scope: "admin",
    ok: "SimulatorState",
  },
  {
    method: "put",
    path: "/simulator",
    id: "startSimulator",
    summary: "Start the simulator, or change it (unset fields keep their values)",
    scope: "admin",
    body: "SimulatorUpdate",
    ok: "SimulatorState",
    errors: ["too_large"],
  },
  {
    method: "delete",
    path: "/simulator",
    id: "stopSimulator",
    summary: "Stop the simulator",
    scope: "admin",
    ok: "SimulatorState",
  },
  {
    method: "get",
    path: "/ws",
    id: "openSocket",
    summary: "WebSocket upgrade: the frames are in /v1/asyncapi.json",
    scope: "read",
    query: SocketQuery,
    ok: "upgrade",
  },
];

const ERRORS_OF_EVERY_ROUTE: readonly ErrorCode[] = [
  "bad_request",
  "unauthorized",
  "forbidden",
  "internal",
];

/** The error body of one code, its `code` pinned, so a client can tell statuses apart by schema. */
function errorResponse(code: ErrorCode): JsonSchema {
  const body = ErrorBody.extend({ error: ErrorBody.shape.error.extend({ code: z.literal(code) }) });
  return {
    description: `\`${code}\``,
    content: { "application/json": { schema: jsonSchema(body, "output") } },
  };
}

const SERVER_TIMING = {
  description:
    "object;dur=<ms> (the round trip to the channel's object), rows;dur=<n> (SQLite rows read)",
  schema: { type: "string" },
};

function operation(route: Route): JsonSchema {
  const codes = [...ERRORS_OF_EVERY_ROUTE, ...(route.errors ?? [])];
  const errors = Object.fromEntries(
    codes
      .sort((a, b) => ERROR_STATUS[a] - ERROR_STATUS[b])
      .map((code) => [String(ERROR_STATUS[code]), errorResponse(code)]),
  );
  const success =
    route.ok === "upgrade"
      ? UPGRADE_ANSWER
      : {
          "200": {
            description: route.ok,
            headers: { "Server-Timing": SERVER_TIMING },
            content: { "application/json": { schema: { $ref: `${REF}${route.ok}` } } },
          },
        };
  return {
    operationId: route.id,
    summary: route.summary,
    description: [
      `Needs the \`${route.scope}\` scope when the worker has AUTH_SECRET.`,
      ...(route.details ? [route.details] : []),
    ].join(" "),
    tags: [route.path.split("/")[1] ?? "channel"],
    security: securityOf(route.ok === "upgrade"),
    parameters: Object.entries(route.query?.shape ?? {})
      // `token` is the queryToken security scheme, not a parameter.
      .filter(([name]) => name !== "token")
      .map(([name, schema]) => queryParameter(name, schema)),
    ...(route.body
      ? {
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: `${REF}${route.body}` } } },
          },
        }
      : {}),
    responses: { ...success, ...errors },
  };
}

/** The whole document (a plain JSON value). */
export function openApiDocument(): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const path = `/v1/channels/{ch}${route.path}`;
    paths[path] ??= {
      parameters: [
        {
          name: "ch",
          in: "path",
          required: true,
          description: "the channel",
          schema: jsonSchema(ChannelName, "input"),
        },
      ],
    };
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Scrollback",
      version: `${PROTOCOL_VERSION}.${PROTOCOL_MINOR}`,
      description:
        "Chat history with exact positions over millions of messages. Errors are " +
        "`{ error: { code, message } }` with the status of their code. " +
        "The WebSocket protocol is described by /v1/asyncapi.json; a reference page is at /docs.",
    },
    servers: [{ url: "/" }],
    paths,
    components: {
      schemas: { ...components(ANSWERS, "output", REF), ...components(BODIES, "input", REF) },
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
