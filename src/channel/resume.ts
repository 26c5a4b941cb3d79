/**
 * `resume` (protocol 1.1): a client back from a dropped connection names the
 * last `seq` it applied and its view; the reply replays the missed arrivals
 * that concern the view, with their current positions and the `shifted` that
 * keeps the reader's place. It reads only the missed arrivals (at most
 * MAX_RESUME + 1 rows, by the seq primary key) and the positions of those it
 * replays: never a cost that grows with the channel.
 */
import { compareKeys } from "../core/key.ts";
import { route, type View } from "../core/view.ts";
import { MAX_RESUME, type ResumedFrame } from "../protocol/schemas.ts";
import { type ChannelStore, keyOf, toWire } from "./store.ts";

/**
 * The `resumed` reply for `user` declaring `view` after `since`. Marks seen
 * the late messages inside the view and those replayed, as a `view` and an
 * `insert` would; the caller keeps the view with the socket.
 */
export function resume(
  store: ChannelStore,
  user: string,
  since: number,
  view: View,
): Omit<ResumedFrame, "rid"> {
  const seq = store.seq;
  // A `since` from the future is a client that holds another channel's history.
  const missed = since <= seq ? store.arrivalsSince(since, MAX_RESUME + 1) : undefined;
  store.late.markSeenInRange(user, view.first, view.last);
  if (missed === undefined || missed.length > MAX_RESUME) {
    return {
      type: "resumed",
      complete: false,
      seq,
      total: store.total,
      lateUnread: store.late.unread(user),
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    };
  }
  const sorted = [...missed].sort(compareKeys);
  const { from, to, shifted } = route(view, sorted.map(keyOf));
  const replayed = sorted.slice(from, to);
  const positions = store.positionsOf(replayed.map(keyOf));
  store.late.markSeen(
    user,
    replayed.flatMap((m) => (m.lateNo === null ? [] : [m.lateNo])),
  );
  return {
    type: "resumed",
    complete: true,
    seq,
    total: store.total,
    lateUnread: store.late.unread(user),
    shifted,
    messages: replayed.map((m, i) => ({ ...toWire(m), position: positions[i] as number })),
    removed: [],
    updated: [],
  };
}
