/**
 * A relay object (issue 18): it holds some of a hot channel's sockets, their
 * views and frame budgets, so that pushing a group to them is not the
 * channel object's work. Everything else is the channel's: a relay forwards
 * each frame to it and pushes what it is sent (channel/relay-contract.ts).
 * Its sockets hibernate like the channel's own; its memory (the counts it
 * keeps, where it has pushed up to) is rebuilt from the channel after a wake.
 */
import { DurableObject } from "cloudflare:workers";
import type { Channel } from "../channel/channel.ts";
import { NOT_PLACED, placedUpgrade } from "../channel/contract.ts";
import type { RelayAnswer, RelayRequest, SeenReport } from "../channel/relay-contract.ts";
import { relayOf } from "../channel/relay-contract.ts";
import type { Session } from "../channel/session.ts";
import { type Peer, Sockets, send, sendRaw } from "../channel/sockets.ts";
import { initialView } from "../core/view.ts";
import { budgetOf, type Env } from "../env.ts";
import { errorFrame, errorResponse, toErrorInfo } from "../protocol/errors.ts";
import { readFrame } from "../protocol/frame-reader.ts";
import { acceptedSubprotocol, SUBPROTOCOL_HEADER } from "../protocol/subprotocol.ts";
import { AppliedSeq } from "./applied.ts";
import { deliverSegment, placeOf } from "./deliver.ts";
import { ChannelLink } from "./link.ts";
import { Places } from "./places.ts";

const PING = '{"type":"ping"}';
const PONG = '{"type":"pong"}';

interface Open {
  readonly channel: DurableObjectStub<Channel>;
  readonly relay: number;
  readonly sockets: Sockets;
  readonly link: ChannelLink;
  readonly places: Places;
}

export class Relay extends DurableObject<Env> {
  #open: Open | undefined;
  #places: Places | undefined;
  /** The seq each socket's write replies told of (so far as this relay's memory goes). */
  readonly #told = new WeakMap<WebSocket, number>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    // What the users were told before a wake, read before any event is let in.
    void ctx.blockConcurrencyWhile(async () => {
      this.#places = await Places.load(ctx.storage);
    });
  }

  get #room(): Open {
    if (this.#open) return this.#open;
    const where = relayOf(this.ctx.id.name ?? "");
    if (!where) throw new Error(`a relay named ${this.ctx.id.name} has no channel`);
    const channel = this.env.CHANNEL.get(this.env.CHANNEL.idFromName(where.channel));
    const sockets = new Sockets(this.ctx, budgetOf(this.env));
    const places = this.#places;
    if (!places) throw new Error("a relay's places are read as it wakes");
    const relay = where.relay;
    const kept = new AppliedSeq(this.ctx.storage.sql);
    const link = new ChannelLink(
      { op: (report, request) => channel.relayOp(relay, report, request) },
      {
        sockets: () => this.ctx.getWebSockets().length,
        unknownUsers: () =>
          [...new Set(sockets.peers().map((p) => p.session.user))].filter((u) => !places.has(u)),
        apply: (answer, request) => this.#apply(answer, request),
        applied: (seq) => kept.set(seq),
        log: this.#log,
      },
      kept.get(),
    );
    this.#open = { channel, relay, sockets, link, places };
    return this.#open;
  }

  readonly #log = (what: string, err: unknown): void => {
    console.error(`[relay ${this.ctx.id.name}] ${what}`, err);
  };

  /** The channel has stored groups this relay's sockets are owed. */
  async poke(): Promise<void> {
    await this.#room.link.pull();
  }

  /** A WebSocket upgrade the worker placed here (user, scope, expiry in headers). */
  override async fetch(request: Request): Promise<Response> {
    const placed = placedUpgrade(request);
    if (!placed) return errorResponse(NOT_PLACED);
    const { user } = placed;
    const room = this.#room;
    let answer: RelayAnswer;
    try {
      answer = await room.link.run(() => ({
        kind: "greet",
        user,
        views: this.#viewsOf(user),
        snapshots: [],
      }));
    } catch (err) {
      this.#log("greeting failed", err);
      return errorResponse(toErrorInfo(err));
    }
    const hello = answer.hello;
    if (!hello) return errorResponse({ code: "internal", message: "the channel did not greet" });
    const session: Session = { ...placed, view: initialView(hello.newest) };
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    room.sockets.accept(server, session);
    const snapshot = answer.after ?? answer.snapshots[user];
    if (snapshot) room.places.set(user, placeOf(snapshot));
    room.link.sockets(user, this.#socketsOf(user));
    send(server, hello);
    // The channel counts the new socket (and its user's home) with the next operation: now.
    void room.link.pull();
    const headers = acceptedSubprotocol(request.headers.get(SUBPROTOCOL_HEADER));
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  override async webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const room = this.#room;
    const session = room.sockets.session(ws);
    if (!session) return;
    const now = Date.now();
    const reading = readFrame(raw, {
      admitted: room.sockets.admit(ws, now),
      now,
      exp: session.exp,
    });
    const rid = reading.ok ? reading.frame.rid : reading.rid;
    await room.sockets.inOrder(
      ws,
      async () => {
        if (!reading.ok) {
          // As on the channel's own sockets: a refusal waits for the pushes owed before it. But
          // one over the socket's budget asks the channel nothing (refusals must cost it nothing):
          // it waits for what is under way only.
          if (reading.error.code === "rate_limited") await room.link.settled();
          else await room.link.pull();
          send(ws, errorFrame(reading.error, reading.rid));
          return;
        }
        const { frame } = reading;
        const current = room.sockets.session(ws) ?? session;
        if (frame.type === "send" || frame.type === "change") {
          // No reply may overtake a push: the groups this socket's earlier replies told of go first.
          await room.link.caughtUp(this.#told.get(ws) ?? 0);
          const replies = await room.link.write(() =>
            room.channel.relayWrite(room.relay, current.user, current.scope, frame),
          );
          for (const reply of replies) {
            if ("seq" in reply) this.#told.set(ws, Math.max(this.#told.get(ws) ?? 0, reply.seq));
            send(ws, reply);
          }
          return;
        }
        const answer = await room.link.run(() => ({
          kind: "frame",
          user: current.user,
          views: this.#viewsOf(current.user),
          scope: current.scope,
          frame,
          snapshots: [],
        }));
        this.#answered(ws, answer);
      },
      (err) => {
        this.#log("a socket's frame failed", err);
        send(ws, errorFrame(toErrorInfo(err), rid));
      },
    );
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    } finally {
      this.#gone(ws);
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.#gone(ws);
  }

  #gone(ws: WebSocket): void {
    const room = this.#room;
    const user = room.sockets.session(ws)?.user;
    room.sockets.forget(ws);
    if (user === undefined) return;
    // getWebSockets() may still list a closing socket: count the others.
    const left = this.#socketsOf(user, ws);
    room.link.sockets(user, left);
    if (left === 0) room.places.delete(user);
    void room.link.pull();
  }

  /** The views of a user's sockets here, as they are when an operation is asked. */
  #viewsOf(user: string) {
    return this.#room.sockets
      .peers()
      .filter((p) => p.session.user === user)
      .map((p) => p.session.view);
  }

  #socketsOf(user: string, except?: WebSocket): number {
    return this.#room.sockets.peers().filter((p) => p.session.user === user && p.ws !== except)
      .length;
  }

  /** An answer: its segment pushed to every socket first (a greeting's new socket is not in yet). */
  #apply(answer: RelayAnswer, request: RelayRequest): SeenReport[] {
    const room = this.#room;
    if (answer.reset) {
      // Too far behind to be caught up: its sockets reconnect and resume, exactly.
      for (const { ws } of room.sockets.peers()) ws.close(1012, "relay restarting");
      room.places.clear();
      return [];
    }
    const peers = room.sockets.peers();
    let seen: SeenReport[] = [];
    if (answer.segment) {
      seen = deliverSegment(
        answer.segment,
        answer.snapshots,
        peers,
        room.places,
        room.sockets,
        this.#log,
      );
    }
    // Snapshots of users the segment did not reach (or with no segment): their places as they are.
    for (const [user, snapshot] of Object.entries(answer.snapshots)) {
      if (!answer.segment || !peers.some((p) => p.session.user === user)) {
        room.places.set(user, placeOf(snapshot));
      }
    }
    // The request's user after it (the segment's statuses counted from before).
    if (answer.after && request.kind !== "pull") {
      room.places.set(request.user, placeOf(answer.after));
    }
    return seen;
  }

  /** A frame's answers: to the socket, the view it declared, a status for the user's other sockets. */
  #answered(ws: WebSocket, answer: RelayAnswer): void {
    const room = this.#room;
    const session = room.sockets.session(ws);
    if (!session) return;
    if (answer.view) room.sockets.setView(ws, session, answer.view);
    for (const reply of answer.replies ?? []) send(ws, reply);
    if (!answer.others) return;
    const text = JSON.stringify(answer.others);
    for (const peer of room.sockets.peers() as Peer[]) {
      if (peer.ws !== ws && peer.session.user === session.user) sendRaw(peer.ws, text);
    }
  }
}
