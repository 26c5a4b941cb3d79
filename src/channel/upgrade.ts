/**
 * A WebSocket upgrade the worker has validated: the socket is accepted
 * (hibernatable) with its session, and greeted with `hello`; the answer
 * names the subprotocol `scrollback` when the client offered it.
 */
import { initialView } from "../core/view.ts";
import { errorResponse } from "../protocol/errors.ts";
import { type HelloFrame, PROTOCOL_MINOR, PROTOCOL_VERSION } from "../protocol/schemas.ts";
import { acceptedSubprotocol, SUBPROTOCOL_HEADER } from "../protocol/subprotocol.ts";
import { NOT_PLACED, placedUpgrade } from "./contract.ts";
import type { Room } from "./dispatch.ts";
import type { Session } from "./session.ts";
import { send } from "./sockets.ts";
import type { ChannelStore } from "./store.ts";

export function upgrade(room: Room, channel: string, request: Request): Response {
  const placed = placedUpgrade(request);
  if (!placed) return errorResponse(NOT_PLACED);
  const { store, sockets } = room;
  const { user } = placed;
  const session: Session = { ...placed, view: initialView(store.newest) };
  const pair = new WebSocketPair();
  const [client, server] = [pair[0], pair[1]];
  sockets.accept(server, session);
  room.pushes.greeted(server);
  send(server, helloFrame(store, channel, user));
  const headers = acceptedSubprotocol(request.headers.get(SUBPROTOCOL_HEADER));
  return new Response(null, { status: 101, webSocket: client, headers });
}

/** The `hello` of a new socket of `user`: a user's first connection starts their counts. */
export function helloFrame(store: ChannelStore, channel: string, user: string): HelloFrame {
  return {
    type: "hello",
    protocol: PROTOCOL_VERSION,
    minor: PROTOCOL_MINOR,
    channel,
    user,
    total: store.total,
    ...store.readers.greet(user),
    newest: store.newest,
    seq: store.seq,
  };
}
