/**
 * The model's replay of a `resume` (protocol 1.1, with 1.2's changes),
 * written from docs/protocol.md: what a client that applied everything up to
 * `since` missed that concerns the view it declares now.
 */
import { compareKeys } from "./keys.ts";
import type { ChannelModel, Declared, Stored } from "./model.ts";
import { countBefore, grow, holds, route, type SocketModel } from "./views.ts";
import { type Change, MAX_RESUME, type ResumedFrame } from "./wire.ts";

/**
 * `resume` from `since` with a declared view: the socket's view becomes it
 * (grown by the replay when live), its messages and the replayed ones are
 * seen (late ones, and protocol 1.2's reactions, those of `updated` too),
 * and the reply replays the missed arrivals that concern the
 * view — messages stored since and still present, the view's messages
 * stored by `since` and deleted since (`removed`) or changed since
 * (`updated`), the net `shifted` — or says `complete: false` beyond
 * MAX_RESUME arrivals of every kind or for a `since` from the future.
 */
export function replay(
  model: ChannelModel,
  socket: SocketModel,
  since: number,
  declared: Declared,
): ResumedFrame {
  const { user } = socket;
  const { total, seq } = model;
  socket.view = { ...declared };
  model.seeRange(user, declared.first, declared.last);
  const missed = since <= seq ? model.arrivals.slice(since) : undefined;
  if (missed === undefined || missed.length > MAX_RESUME) {
    return {
      type: "resumed",
      complete: false,
      seq,
      total,
      ...model.counts(user),
      shifted: 0,
      messages: [],
      removed: [],
      updated: [],
    };
  }
  const arrived = missed.flatMap((a) =>
    a.message && model.byId.has(a.message.id) ? [a.message] : [],
  );
  const changed = (kind: (k: Change["kind"]) => boolean) =>
    new Set(missed.flatMap((a) => (a.change && kind(a.change.kind) ? [a.change.id] : [])));
  // Only what the client may hold: messages stored at or before `since`.
  const deleted = [...changed((k) => k === "delete")]
    .flatMap((id) => {
      const t = model.tombstones.get(id);
      return t && t.seq <= since ? [t] : [];
    })
    .sort(compareKeys);
  const removed = deleted.filter((t) => holds(declared, t));
  const updated = [...changed((k) => k !== "delete")]
    .flatMap((id) => {
      const m = model.byId.get(id);
      return m && m.seq <= since ? [m] : [];
    })
    .sort(compareKeys)
    .filter((m) => holds(declared, m));
  const { pushed, shifted } = route(socket.view, [...arrived].sort(compareKeys));
  socket.view = grow(socket.view, pushed);
  model.see(user, pushed);
  model.places.seeReactions(user, updated);
  const positioned = (list: readonly Stored[]) =>
    list.map((m) => model.wire(m, { position: model.position(m.id) }, user));
  return {
    type: "resumed",
    complete: true,
    seq,
    total,
    ...model.counts(user),
    shifted: shifted - countBefore(declared, deleted),
    messages: positioned(pushed),
    removed: removed.map((t) => t.id),
    updated: positioned(updated),
  };
}
