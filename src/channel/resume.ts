/**
 * `resume` (protocol 1.1, with 1.2's changes): a client back from a dropped
 * connection names the last `seq` it applied and its view; the reply replays
 * the missed arrivals that concern the view: messages stored since (with
 * their current positions), messages it may hold that were deleted
 * (`removed`) or changed (`updated`, final state), and the net `shifted`
 * that keeps the reader's place. It reads only the missed arrivals (by the
 * seq primary keys of messages and the change log, at most MAX_RESUME each)
 * and the rows of what they touched: never a cost that grows with the channel.
 */
import { heldRun, route, type View } from "../core/view.ts";
import type { ResumedFrame } from "../protocol/schemas.ts";
import { missedSince } from "./missed.ts";
import { type ChannelStore, keyOf, type StoredMessage } from "./store.ts";

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
  const { seq } = store;
  store.readers.seeRange(user, view.first, view.last);
  const missed = missedSince(store, since);
  if (!missed) {
    return {
      type: "resumed",
      complete: false,
      seq,
      total: store.total,
      ...store.readers.counts(user),
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    };
  }
  const { inserted, removed, updated: changed } = missed;
  const routed = route(view, inserted.map(keyOf));
  const gone = heldRun(view, removed.map(keyOf));
  const touched = heldRun(view, changed.map(keyOf));
  const replayed = inserted.slice(routed.from, routed.to);
  const updated = changed.slice(touched.from, touched.to);
  // Replayed as a push would be: late messages seen, and the user's own messages' reactions.
  store.late.markSeen(
    user,
    replayed.flatMap((m) => (m.lateNo === null ? [] : [m.lateNo])),
  );
  const reacted = [...replayed, ...updated].filter(
    (m) => m.author === user && m.reactions.length > 0,
  );
  if (reacted.length > 0)
    store.readers.seeReactions(
      user,
      reacted.map((m) => m.id),
    );
  return {
    type: "resumed",
    complete: true,
    seq,
    total: store.total,
    ...store.readers.counts(user),
    shifted: routed.shifted - gone.before,
    messages: positioned(store, replayed, user),
    removed: removed.slice(gone.from, gone.to).map((t) => t.id),
    updated: positioned(store, updated, user),
  };
}

function positioned(store: ChannelStore, sorted: readonly StoredMessage[], user: string) {
  const positions = store.positionsOf(sorted.map(keyOf));
  return store.wire(sorted, user).map((m, i) => ({ ...m, position: positions[i] as number }));
}
