/**
 * What each client frame does (docs/protocol.md, "Client → server"): one case a
 * frame type, each a few calls into the store, the writer and the sockets.
 * Errors are thrown as ProtocolErrors and answered by the caller.
 */
import { compareKeys, type Key } from "../core/key.ts";
import type { View } from "../core/view.ts";
import { allows } from "../protocol/access.ts";
import { errorFrame, ProtocolError, toErrorInfo } from "../protocol/errors.ts";
import { readFrame } from "../protocol/frame-reader.ts";
import type { ClientFrame, NewMessage, ServerFrame, StatusFrame } from "../protocol/schemas.ts";
import type { PushQueue } from "./push-queue.ts";
import { resume } from "./resume.ts";
import type { Session } from "./session.ts";
import { type Sockets, send, sendRaw } from "./sockets.ts";
import type { ChannelStore, Draft, InsertResult } from "./store.ts";
import { changing, inserting, type Stored, type Write } from "./writer.ts";

/** What the frames act on. */
export interface Room {
  readonly store: ChannelStore;
  readonly sockets: Sockets;
  /** Stored groups not yet pushed to every socket (push-queue.ts). */
  readonly pushes: PushQueue;
  /** Stores a write (with every other write pending now) and delivers the group; see writer.ts. */
  write<R extends Stored>(write: Write<R>): Promise<R>;
}

/**
 * A frame from a socket: read (budget first, so refused frames cost nothing
 * more), run, and answer any refusal or failure with an `error` frame. The
 * socket stays open whatever happens.
 */
export async function receive(
  room: Room,
  ws: WebSocket,
  raw: string | ArrayBuffer,
  log: (what: string, err: unknown) => void,
): Promise<void> {
  const session = room.sockets.session(ws);
  if (!session) return;
  const now = Date.now();
  const reading = readFrame(raw, { admitted: room.sockets.admit(ws, now), now, exp: session.exp });
  const rid = reading.ok ? reading.frame.rid : reading.rid;
  // A socket's frames are answered in order, refusals too, even while one waits for its group.
  await room.sockets.inOrder(
    ws,
    async () => {
      // No reply, a refusal's included, may overtake a push: the groups waiting for this socket go first.
      room.pushes.catchUp(ws);
      if (!reading.ok) {
        send(ws, errorFrame(reading.error, reading.rid));
        return;
      }
      const { frame } = reading;
      try {
        await dispatch(
          room,
          socketOrigin(room.sockets, ws, room.sockets.session(ws) ?? session),
          frame,
        );
      } catch (err) {
        if (!(err instanceof ProtocolError)) log(`frame ${frame.type} failed`, err);
        send(ws, errorFrame(toErrorInfo(err), frame.rid));
      }
    },
    // Only a fault outside the frame's own handling lands here; the socket's later frames still run.
    (err) => {
      log("a socket's frame task failed", err);
      send(ws, errorFrame(toErrorInfo(err), rid));
    },
  );
}

/** Where a frame came from and where its answers go: a socket of this object, or a relay's. */
export interface Origin {
  readonly session: Session;
  send(frame: ServerFrame): void;
  /** Declares the socket's view (`view`, `resume`). */
  setView(view: View): void;
  /** A `status` for each of the user's other sockets (one badge across tabs). */
  tellOthers(frame: ServerFrame): void;
}

/** A socket of this object as an origin. */
export function socketOrigin(sockets: Sockets, ws: WebSocket, session: Session): Origin {
  return {
    session,
    send: (frame) => send(ws, frame),
    setView: (view) => sockets.setView(ws, session, view),
    tellOthers: (frame) => {
      const text = JSON.stringify(frame);
      for (const peer of sockets.peers()) {
        if (peer.ws !== ws && peer.session.user === session.user) sendRaw(peer.ws, text);
      }
    },
  };
}

export async function dispatch(room: Room, origin: Origin, frame: ClientFrame): Promise<void> {
  const { store } = room;
  const { session } = origin;
  const { user } = session;
  const send = (f: ServerFrame) => origin.send(f);
  const rid = frame.rid === undefined ? {} : { rid: frame.rid };
  switch (frame.type) {
    case "page":
      send({
        type: "page",
        ...rid,
        ...store.page(frame.anchor, frame.before, frame.after, { user, socket: true }),
      });
      return;
    case "view": {
      const view = checkView(frame);
      countsFollow(room, origin, () => {
        origin.setView(view);
        store.readers.seeRange(user, view.first, view.last);
        send(viewReply(store, user, rid));
      });
      return;
    }
    case "resume": {
      const view = checkView(frame);
      countsFollow(room, origin, () => {
        origin.setView(view);
        send({ ...resume(store, user, frame.since, view), ...rid });
      });
      return;
    }
    case "send": {
      if (!allows(session.scope, "write")) {
        throw new ProtocolError("forbidden", "sending needs the write scope");
      }
      const now = Date.now();
      await room.write(
        inserting(
          frame.messages.map((m) => draftOf(m, user, now)),
          // Sent before the group's pushes; the output gate holds it until the group is durable.
          { stored: (result) => send({ type: "sent", ...rid, ...sentOf(result, store.seq) }) },
        ),
      );
      return;
    }
    case "change": {
      if (!allows(session.scope, "write")) {
        throw new ProtocolError("forbidden", "changes need the write scope");
      }
      const actor = { user, moderator: allows(session.scope, "moderate") };
      await room.write(
        changing(actor, frame.changes, ({ results, total }) =>
          send({ type: "changed", ...rid, results, total, seq: store.seq }),
        ),
      );
      return;
    }
    case "late.next": {
      const next = store.late.next(user)?.id;
      if (next === undefined) throw new ProtocolError("not_found", "no unread late messages");
      const page = store.page({ id: next }, frame.before, frame.after, { user, socket: true });
      send({ type: "page", ...rid, ...page });
      return;
    }
    case "late.list":
      send({ type: "late.list", ...rid, ...store.lateList(user, frame.limit) });
      return;
    case "late.ack":
      countsFollow(room, origin, () => {
        store.late.ack(user);
        send(viewReply(store, user, rid));
      });
      return;
    case "reactions.next": {
      const next = store.readers.badges.next(user);
      if (next === undefined) throw new ProtocolError("not_found", "no unread reactions");
      const page = store.page({ id: next }, frame.before, frame.after, { user, socket: true });
      send({ type: "page", ...rid, ...page });
      return;
    }
    case "reactions.list":
      send({ type: "reactions.list", ...rid, ...store.reactionsList(user, frame.limit) });
      return;
    case "reactions.ack":
      countsFollow(room, origin, () => {
        store.readers.ackReactions(user);
        send(viewReply(store, user, rid));
      });
      return;
    case "read": {
      const { read, unread, moved } = store.read(user, frame.id);
      send({ type: "read", ...rid, read, unread, seq: store.seq });
      if (moved) tellOthers(room, origin, { read });
      return;
    }
    case "ping":
      send({ type: "pong", ...rid });
      return;
    default: {
      const unreachable: never = frame;
      throw new Error(`unhandled frame ${JSON.stringify(unreachable)}`);
    }
  }
}

function sentOf(result: InsertResult, seq: number) {
  return { results: result.results, total: result.total, seq };
}

/** A client message with its defaults applied (docs/protocol.md, `send`). */
export function draftOf(m: NewMessage, author: string, now: number): Draft {
  return { id: m.id, ts: m.ts ?? now, author: m.author ?? author, text: m.text };
}

/** The view a `view` or `resume` frame declares; its bounds must be in order. */
function checkView({ first, last, live }: { first: Key | null; last: Key | null; live: boolean }) {
  if (first && last && compareKeys(first, last) > 0) {
    throw new ProtocolError("bad_request", "first: must not be after last");
  }
  return { first, last, live };
}

/** The reply to `view`, `late.ack` and `reactions.ack`: the user's counts. */
function viewReply(store: ChannelStore, user: string, rid: { rid?: string }): ServerFrame {
  return { type: "view", ...rid, ...store.readers.counts(user), seq: store.seq };
}

/**
 * Protocol 1.1 and 1.2: runs a frame that may change its user's
 * `lateUnread` or `reactionsUnread`; when either changed, each of that
 * user's other sockets hears the new counts at once (one badge across tabs).
 */
function countsFollow(room: Room, origin: Origin, run: () => void): void {
  const { readers } = room.store;
  const { user } = origin.session;
  const before = readers.counts(user);
  run();
  const after = readers.counts(user);
  if (after.lateUnread === before.lateUnread && after.reactionsUnread === before.reactionsUnread) {
    return;
  }
  tellOthers(room, origin);
}

/** Each of the user's sockets but the origin gets a `status` with the user's counts (and marker). */
function tellOthers(room: Room, origin: Origin, extra: Pick<StatusFrame, "read"> = {}): void {
  const { store } = room;
  origin.tellOthers({
    type: "status",
    total: store.total,
    ...store.readers.counts(origin.session.user),
    ...extra,
    shifted: 0,
    seq: store.seq,
  });
}
