/**
 * Delivering stored groups to the object's own sockets (PROTOCOL.md,
 * "Server → client pushes", and 1.2's changes): at most one `insert`,
 * `remove`, `update` and `status` each, in that order. The frames are
 * planned in core/push-frames.ts; this gives it the store's positions and
 * reactions, records what each user has now seen, and sends. One socket's
 * failure (a seen mark that cannot be stored, a socket that is closing)
 * stays that socket's.
 */
import { type PushLookup, pushFrames, type Segment } from "../core/push-frames.ts";
import type { Message } from "../protocol/schemas.ts";
import type { NetEffect } from "./group-effect.ts";
import { type Peer, type Sockets, send, sendRaw } from "./sockets.ts";
import { type ChannelStore, type StoredMessage, toWire } from "./store.ts";

/** A net effect as core/push-frames.ts reads it. */
export function segmentOf(effect: NetEffect, store: ChannelStore): Segment<Message> {
  const item = (m: StoredMessage) => ({ author: m.author, lateNo: m.lateNo, message: toWire(m) });
  return {
    seq: store.seq,
    total: store.total,
    inserted: effect.inserted.map(item),
    removed: effect.removed.map((t) => ({ id: t.id, ts: t.ts })),
    updated: effect.updated.map(item),
  };
}

/** Pushes a net effect (one group's, or several's merged) to `peers`. */
export function deliver(
  effect: NetEffect,
  peers: readonly Peer[],
  sockets: Sockets,
  store: ChannelStore,
  log: (what: string, err: unknown) => void,
): void {
  const moved = effect.inserted.length + effect.removed.length > 0;
  if (!moved && effect.updated.length + effect.badges.size === 0) return;
  if (peers.length === 0) return;
  const lookup: PushLookup = {
    positions: (keys) => store.positionsOf(keys),
    mine: (user, ids) => store.mine(user, ids),
  };
  const segment = segmentOf(effect, store);
  const pushes = pushFrames(
    segment,
    peers.map((p) => ({ view: p.session.view, user: p.session.user })),
    lookup,
  );
  const each = (pass: (peer: Peer, k: number) => void) =>
    peers.forEach((peer, k) => {
      try {
        pass(peer, k);
      } catch (err) {
        log(`push to a socket of ${peer.session.user} failed`, err);
      }
    });
  // Each user's reaction count before the group: the writes' own, or before a push made some seen.
  const before = new Map(effect.badges);
  each(({ ws, session }, k) => {
    const push = pushes[k];
    if (!push) return;
    const { user } = session;
    for (const frame of push.frames) sendRaw(ws, frame);
    store.late.markSeen(user, push.seenLate);
    if (push.shownOwn.length > 0) {
      if (!before.has(user)) before.set(user, store.readers.badges.unread(user));
      store.readers.seeReactions(user, push.shownOwn);
    }
    if (push.next !== session.view) sockets.setView(ws, session, push.next);
  });
  // Second pass: counts include what the user's other sockets were just pushed. A group
  // that inserted or deleted moves every socket's total; one that only edited or reacted
  // tells only the users whose reaction count it changed (by its writes, or by what it
  // showed them: an update of a message whose older reactions they had not seen).
  const told = (user: string) => {
    const was = before.get(user);
    return was !== undefined && was !== store.readers.badges.unread(user);
  };
  const { total, seq } = segment;
  each(({ ws, session }, k) => {
    const push = pushes[k];
    if (!push || !(moved || told(session.user))) return;
    const { latest } = push;
    send(ws, {
      type: "status",
      total,
      ...store.readers.counts(session.user),
      shifted: push.shifted,
      ...(latest.length > 0 ? { latest } : {}),
      seq,
    });
  });
}
