/**
 * The AsyncAPI 3 document of the WebSocket protocol, generated from the
 * protocol's frame unions: every member of ClientFrame and ServerFrame is a
 * message whose payload is its zod schema, so a new frame type appears here
 * by being added to its union.
 */
import type { z } from "zod";
import {
  ChannelName,
  ClientFrame,
  PROTOCOL_MINOR,
  PROTOCOL_VERSION,
  ServerFrame,
  SocketQuery,
} from "../protocol/schemas.ts";
import { BEARER_PREFIX, SUBPROTOCOL, SUBPROTOCOL_HEADER } from "../protocol/subprotocol.ts";
import { FRAME_NOTES } from "./frame-notes.ts";
import { type Io, type JsonSchema, jsonSchema } from "./json-schema.ts";

/** The draft AsyncAPI's default schema format (its Schema Object) is built on. */
const TARGET = "draft-7";

type Side = "client" | "server";

/** `client.page`, `server.late.list`: one message per frame type and direction. */
export function messageId(side: Side, type: string): string {
  return `${side}.${type}`;
}

function messagesOf(
  side: Side,
  union: { options: readonly z.ZodObject[] },
  io: Io,
): Record<string, JsonSchema> {
  return Object.fromEntries(
    union.options.map((frame) => {
      const type = (frame.shape.type as z.ZodLiteral<string>).value;
      const id = messageId(side, type);
      return [
        id,
        {
          name: id,
          title: `${type} (${side === "client" ? "client → server" : "server → client"})`,
          description: FRAME_NOTES[id as keyof typeof FRAME_NOTES],
          contentType: "application/json",
          payload: jsonSchema(frame, io, TARGET),
        },
      ];
    }),
  );
}

/** The upgrade's headers: a browser's way to send the token (docs/protocol.md, "A token without the URL"). */
const HANDSHAKE = {
  type: "object",
  properties: {
    [SUBPROTOCOL_HEADER]: {
      type: "string",
      description:
        `\`${SUBPROTOCOL}, ${BEARER_PREFIX}<jwt>\` on a worker with AUTH_SECRET ` +
        `(\`new WebSocket(url, ["${SUBPROTOCOL}", "${BEARER_PREFIX}" + jwt])\`); the 101 ` +
        `answers \`${SUBPROTOCOL}\` whenever it is offered. \`Authorization: Bearer <jwt>\` ` +
        "and `?token=` work too; where several carry a token it must be the same one.",
    },
  },
};

/** The whole document (a plain JSON value). */
export function asyncApiDocument(): JsonSchema {
  // What a client writes may leave defaults out; what the server sends is complete.
  const client = messagesOf("client", ClientFrame, "input");
  const server = messagesOf("server", ServerFrame, "output");
  const refs = (ids: string[]) => ids.map((id) => ({ $ref: `#/channels/socket/messages/${id}` }));
  const query = jsonSchema(SocketQuery, "input", TARGET);
  return {
    asyncapi: "3.0.0",
    info: {
      title: "Scrollback WebSocket protocol",
      version: `${PROTOCOL_VERSION}.${PROTOCOL_MINOR}`,
      description:
        "One socket per channel and user. Every frame is one JSON object with a `type`; " +
        "a client frame may carry `rid` (≤ 64 chars), echoed in its reply. Invalid frames " +
        "get an `error` frame and the socket stays open. After each stored group of writes " +
        "a socket gets at most one `insert`, `remove`, `update` and `status`, in that order " +
        "(`remove` and `update`: protocol 1.2). Clients must ignore frame types they do not know.",
    },
    defaultContentType: "application/json",
    channels: {
      socket: {
        address: "/v1/channels/{ch}/ws",
        title: "A channel's socket",
        parameters: {
          ch: { description: `the channel: ${String(jsonSchema(ChannelName, "input").pattern)}` },
        },
        messages: Object.fromEntries(
          Object.keys({ ...client, ...server }).map((id) => [
            id,
            { $ref: `#/components/messages/${id}` },
          ]),
        ),
        bindings: { ws: { method: "GET", query, headers: HANDSHAKE, bindingVersion: "0.1.0" } },
      },
    },
    operations: {
      receiveClientFrames: {
        action: "receive",
        title: "Frames a client sends",
        channel: { $ref: "#/channels/socket" },
        messages: refs(Object.keys(client)),
      },
      sendServerFrames: {
        action: "send",
        title: "Frames the server sends: replies (with the request's rid) and pushes",
        channel: { $ref: "#/channels/socket" },
        messages: refs(Object.keys(server)),
      },
    },
    components: { messages: { ...client, ...server } },
  };
}
