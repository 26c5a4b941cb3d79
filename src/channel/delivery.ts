/**
 * Delivering stored groups to the object's own sockets (docs/protocol.md,
 * "Server → client pushes", and 1.2's changes): at most one `insert`,
 * `remove`, `update` and `status` each, in that order. The frames are
 * planned in core/push-frames.ts; this gives it the store's positions and
 * reactions, records what each user has now seen, and sends. One socket's
 * failure (a seen mark that cannot be stored, a socket that is closing)
 * stays that socket's.
 */
import { type PushLookup, pushFrames, type Segment, type SocketPush } from "../core/push-frames.ts";
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

/** A net effect (one group's, or several's merged) and the sockets it is owed to. */
export interface Delivery {
  readonly effect: NetEffect;
  readonly peers: readonly Peer[];
}

/**
 * Pushes each delivery's effect to its sockets: first every socket's
 * `insert`/`remove`/`update` (and what they make seen), then every `status`,
 * so a user's counts include what all of the user's sockets were just pushed.
 */
export function deliver(
  deliveries: readonly Delivery[],
  sockets: Sockets,
  store: ChannelStore,
  log: (what: string, err: unknown) => void,
): void {
  const lookup: PushLookup = {
    positions: (keys) => store.positionsOf(keys),
    mine: (user, ids) => store.mine(user, ids),
  };
  const each = (
    pass: (peer: Peer, push: SocketPush, plan: Planned) => void,
    planned: Planned[],
  ) => {
    for (const plan of planned) {
      plan.peers.forEach((peer, k) => {
        const push = plan.pushes[k];
        if (!push) return;
        try {
          pass(peer, push, plan);
        } catch (err) {
          log(`push to a socket of ${peer.session.user} failed`, err);
        }
      });
    }
  };
  const planned = deliveries.flatMap(({ effect, peers }): Planned[] => {
    const moved = effect.inserted.length + effect.removed.length > 0;
    if (!moved && effect.updated.length + effect.badges.size === 0) return [];
    if (peers.length === 0) return [];
    const segment = segmentOf(effect, store);
    const targets = peers.map((p) => ({ view: p.session.view, user: p.session.user }));
    const pushes = pushFrames(segment, targets, lookup);
    // Each user's reaction count before: the writes' own, or before a push made some seen.
    const before = new Map(effect.badges);
    return [{ effect, peers, segment, moved, pushes, before }];
  });
  each(({ ws, session }, push, { before }) => {
    const { user } = session;
    for (const frame of push.frames) sendRaw(ws, frame);
    store.late.markSeen(user, push.seenLate);
    if (push.shownOwn.length > 0) {
      if (!before.has(user)) before.set(user, store.readers.badges.unread(user));
      store.readers.seeReactions(user, push.shownOwn);
    }
    if (push.next !== session.view) sockets.setView(ws, session, push.next);
  }, planned);
  // Second pass: a group that inserted or deleted moves every socket's total; one that
  // only edited or reacted tells only the users whose reaction count it changed (by its
  // writes, or by what it showed them: an update of a message whose older reactions they
  // had not seen).
  for (const plan of planned) {
    const { before, moved, segment } = plan;
    const told = (user: string) => {
      const was = before.get(user);
      return was !== undefined && was !== store.readers.badges.unread(user);
    };
    each(
      ({ ws, session }, push) => {
        if (!(moved || told(session.user))) return;
        const { latest } = push;
        send(ws, {
          type: "status",
          total: segment.total,
          ...store.readers.counts(session.user),
          shifted: push.shifted,
          ...(latest.length > 0 ? { latest } : {}),
          seq: segment.seq,
        });
      },
      [plan],
    );
  }
}

interface Planned extends Delivery {
  readonly segment: Segment<Message>;
  readonly moved: boolean;
  readonly pushes: SocketPush[];
  /** Users whose reaction count the writes or the pushes changed, with their count before. */
  readonly before: Map<string, number>;
}
