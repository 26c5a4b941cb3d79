/**
 * The channel object's side of its relays' operations (relay-contract.ts):
 * take a relay's report (what its sockets were shown becomes seen, its
 * sockets are counted), then build the segment its sockets are owed since
 * its cursor, run its request (a frame, a greeting), and give the counts of
 * the users whose counts the relay cannot work out itself. The channel's
 * work per operation grows with what changed since the relay's cursor, not
 * with the relay's sockets.
 */
import { shownTo } from "../core/push-frames.ts";
import { initialView, type View } from "../core/view.ts";
import { errorFrame, ProtocolError, toErrorInfo } from "../protocol/errors.ts";
import type { ClientFrame, ServerFrame } from "../protocol/schemas.ts";
import { dispatch, type Origin, type Room } from "./dispatch.ts";
import { missedSince } from "./missed.ts";
import type {
  RelayAnswer,
  RelayReport,
  RelayRequest,
  RelaySegment,
  Snapshot,
} from "./relay-contract.ts";
import type { Relays } from "./relays.ts";
import type { Session } from "./session.ts";
import { type ChannelStore, keyOf, type StoredMessage, toWire } from "./store.ts";
import { helloFrame } from "./upgrade.ts";

/**
 * Most arrivals a relay is caught up on in one answer: two full groups
 * (writer.ts: up to 10,000 messages and changes each). A relay further
 * behind (it could not be reached for long) closes its sockets, which
 * resume exactly.
 */
export const MAX_CATCH_UP = 20_000;

/** What a relay operation acts on. */
export interface RelayRoom extends Room {
  readonly relays: Relays;
  /** The channel's name (its hello says it). */
  readonly channel: string;
}

/** One operation of relay `relay`: its report first, then its request. */
export async function serveRelay(
  room: RelayRoom,
  relay: number,
  report: RelayReport,
  request: RelayRequest,
): Promise<RelayAnswer> {
  const { store, relays } = room;
  const reported = relays.report(relay, report);
  // A relay with no sockets is owed nothing: a socket it greets now is owed what follows its hello.
  const cursor = report.sockets === 0 ? store.seq : reported;
  applySeen(store, report);
  const missed = missedSince(store, cursor, { limit: MAX_CATCH_UP, shownOnly: true });
  const seq = store.seq;
  relays.answered(relay, seq);
  const segment = missed && seq > cursor ? segmentOf(store, cursor, missed) : undefined;
  // Users whose counts the relay cannot work out from the segment alone.
  const users = new Set(request.snapshots);
  if (request.kind !== "pull") users.add(request.user);
  const touched = store.readers.badges.touchedSince(cursor);
  const lateGone = missed?.removed.some((t) => t.lateNo !== null) ?? false;
  // Only when every count may have moved are all of the relay's users read (rows in proportion).
  const moved =
    touched === undefined || lateGone ? relays.usersOf(relay) : relays.on(relay, touched);
  for (const user of moved) users.add(user);
  // What the segment will show the request's user: seen before the request is answered.
  if (segment && request.kind !== "pull") {
    const shown = shownTo(segment, request.views, request.user);
    applySeen(store, { applied: seq, seen: [{ user: request.user, ...shown }] });
  }
  // Every place as of the segment, which the relay pushes before the request's answers.
  const snapshots: Record<string, Snapshot> = {};
  for (const user of users) snapshots[user] = snapshot(store, user, segment);
  const answer: Mutable<RelayAnswer> = {
    seq,
    snapshots,
    ...(segment ? { segment } : {}),
    ...(missed ? {} : { reset: true as const }),
  };
  if (request.kind === "pull") return answer;
  if (request.kind === "greet") {
    answer.hello = helloFrame(store, room.channel, request.user);
  } else {
    Object.assign(answer, await run(room, request.user, request.scope, request.frame));
  }
  const after = snapshot(store, request.user, segment);
  if (!samePlace(after, snapshots[request.user])) answer.after = after;
  return answer;
}

/** Whether two snapshots put a user in the same place (counts and marker). */
function samePlace(a: Snapshot, b: Snapshot | undefined): boolean {
  return (
    b !== undefined &&
    a.readCount === b.readCount &&
    a.counts.lateUnread === b.counts.lateUnread &&
    a.counts.reactionsUnread === b.counts.reactionsUnread &&
    a.marker?.ts === b.marker?.ts &&
    a.marker?.id === b.marker?.id
  );
}

/** A frame of a relay's socket, run as if it were this object's (its answers collected). */
export async function run(
  room: Room,
  user: string,
  scope: Session["scope"],
  frame: ClientFrame,
): Promise<{ replies: ServerFrame[]; view?: View; others?: ServerFrame }> {
  const replies: ServerFrame[] = [];
  let view: View | undefined;
  let others: ServerFrame | undefined;
  const origin: Origin = {
    // The view does not matter here: the relay keeps it, and frames declare it whole.
    session: { user, scope, view: initialView(null) },
    send: (f) => replies.push(f),
    setView: (v) => {
      view = v;
    },
    tellOthers: (f) => {
      others = f;
    },
  };
  try {
    await dispatch(room, origin, frame);
  } catch (err) {
    if (!(err instanceof ProtocolError)) console.error(`[relay frame ${frame.type}]`, err);
    replies.push(errorFrame(toErrorInfo(err), frame.rid));
  }
  return { replies, ...(view ? { view } : {}), ...(others ? { others } : {}) };
}

/**
 * What the relay's sockets were shown becomes seen, as it was when they were
 * shown. A user's seen mark that cannot be stored is logged and stays that
 * user's (as on the channel's own sockets): the operation goes on.
 */
function applySeen(store: ChannelStore, report: Pick<RelayReport, "seen" | "applied">): void {
  for (const { user, late, reactions } of report.seen) {
    try {
      // A late message deleted since it was shown is nobody's to see any more.
      const gone = store.deletedLate(late);
      store.late.markSeen(
        user,
        late.filter((o) => !gone.has(o)),
      );
      if (reactions.length > 0) {
        store.readers.seeReactions(user, reactions, report.applied ?? store.seq);
      }
    } catch (err) {
      console.error(`[relay report] what ${user} was shown could not be marked seen`, err);
    }
  }
}

/** The segment since `from`: what was missed, in arrival order, with positions and reactors. */
function segmentOf(
  store: ChannelStore,
  from: number,
  missed: NonNullable<ReturnType<typeof missedSince>>,
): RelaySegment {
  const { inserted, removed, updated } = missed;
  const positions: Record<string, number> = {};
  for (const list of [inserted, updated]) {
    const at = store.positionsOf(list.map(keyOf));
    list.forEach((m, i) => {
      positions[m.id] = at[i] as number;
    });
  }
  const reacted = [...inserted, ...updated].filter((m) => m.reactions.length > 0);
  const reactors: Record<string, Record<string, string[]>> = {};
  for (const [id, byEmoji] of store.reactors(reacted.map((m) => m.id))) {
    reactors[id] = Object.fromEntries(byEmoji);
  }
  const item = (m: StoredMessage) => ({ author: m.author, lateNo: m.lateNo, message: toWire(m) });
  return {
    from,
    seq: store.seq,
    total: store.total,
    inserted: [...inserted].sort((a, b) => a.seq - b.seq).map(item),
    removed: removed.map((t) => ({ id: t.id, ts: t.ts })),
    updated: updated.map(item),
    positions,
    reactors,
    unreadFor: reacted.filter((m) => store.readers.badges.has(m.author, m.id)).map((m) => m.id),
  };
}

/** A user's place now, and which of the segment's news is still unread for them. */
function snapshot(store: ChannelStore, user: string, segment: RelaySegment | undefined): Snapshot {
  const marker = store.readers.markers.get(user);
  const unread = store.late.unreadTest(user);
  const late = (segment?.inserted ?? []).flatMap((m) =>
    m.lateNo !== null && unread(m.lateNo) ? [m.lateNo] : [],
  );
  const reactions = (segment?.unreadFor ?? []).filter((id) => store.readers.badges.has(user, id));
  return {
    counts: store.readers.counts(user),
    marker: marker.key,
    readCount: marker.readCount,
    stillUnread: { late, reactions },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
