/**
 * Delivering a stored group to every socket (PROTOCOL.md, "Server → client
 * pushes", and 1.2's changes): at most one `insert`, `remove`, `update` and
 * `status` each, in that order. The routing is planned in core/fanout.ts;
 * this looks up positions once for the union of what is sent, serializes
 * each distinct frame once (an `update` once per user: `mine` is theirs),
 * records what each user has now seen, and sends. One socket's failure (a
 * seen mark that cannot be stored, a socket that is closing) stays that
 * socket's.
 */
import { planPushes } from "../core/fanout.ts";
import { compareKeys } from "../core/key.ts";
import type { Message, ServerFrame } from "../protocol/schemas.ts";
import type { NetEffect } from "./group-effect.ts";
import { type Peer, type Sockets, send, sendRaw } from "./sockets.ts";
import { type ChannelStore, keyOf, type StoredMessage } from "./store.ts";

/** Pushes a group's net effect to every socket. */
export function deliver(
  effect: NetEffect,
  sockets: Sockets,
  store: ChannelStore,
  log: (what: string, err: unknown) => void,
): void {
  const { inserted } = effect;
  const moved = inserted.length + effect.removed.length > 0;
  if (!moved && effect.updated.length + effect.badges.size === 0) return;
  const peers = sockets.peers();
  if (peers.length === 0) return;
  const removed = [...effect.removed].sort(compareKeys);
  const updated = [...effect.updated].sort(compareKeys);
  const plan = planPushes(
    peers.map((p) => p.session.view),
    inserted.map((m) => ({ key: keyOf(m), lateNo: m.lateNo })),
    { removed: removed.map(keyOf), updated: updated.map(keyOf) },
  );
  const sorted = plan.order.map((i) => inserted[i] as StoredMessage);
  const positions = new Array<number>(sorted.length);
  store.positionsOf(plan.needed.map((i) => keyOf(sorted[i] as StoredMessage))).forEach((p, j) => {
    positions[plan.needed[j] as number] = p;
  });
  const updatedPositions = new Array<number>(updated.length);
  store
    .positionsOf(plan.updatedNeeded.map((i) => keyOf(updated[i] as StoredMessage)))
    .forEach((p, j) => {
      updatedPositions[plan.updatedNeeded[j] as number] = p;
    });
  // Prefix counts of new messages with reactions: is a run's frame the same for every user?
  const reacted = [0];
  for (const m of sorted) reacted.push((reacted.at(-1) ?? 0) + (m.reactions.length > 0 ? 1 : 0));
  const { total, seq } = store;
  // A run's frame is the same for every socket given it, once a user for `update`.
  const frames = new Map<string, string>();
  const once = (name: string, make: () => ServerFrame): string => {
    let frame = frames.get(name);
    if (frame === undefined) {
      frame = JSON.stringify(make());
      frames.set(name, frame);
    }
    return frame;
  };
  const positioned = (
    list: readonly StoredMessage[],
    at: readonly number[],
    from: number,
    to: number,
    user?: string,
  ): Message[] =>
    store
      .wire(list.slice(from, to), user)
      .map((m, i) => ({ ...m, position: at[from + i] as number }));

  const each = (pass: (peer: Peer, k: number) => void) =>
    peers.forEach((peer, k) => {
      try {
        pass(peer, k);
      } catch (err) {
        log(`push to a socket of ${peer.session.user} failed`, err);
      }
    });
  each(({ ws, session }, k) => {
    const push = plan.pushes[k];
    if (!push) return;
    const { user } = session;
    // The user's own messages shown with their reactions: those reactions are seen.
    const reacted: string[] = [];
    const shown = (list: readonly StoredMessage[]) => {
      for (const m of list) if (m.author === user && m.reactions.length > 0) reacted.push(m.id);
    };
    if (push.to > push.from) {
      const { from, to } = push;
      // `mine` makes a frame the user's own, but new messages rarely have reactions yet.
      const personal = (reacted[to] ?? 0) > (reacted[from] ?? 0);
      const frame = once(`i${from}:${to}:${personal ? user : ""}`, () => ({
        type: "insert",
        messages: positioned(sorted, positions, from, to, user),
        total,
        seq,
      }));
      sendRaw(ws, frame);
      store.late.markSeen(user, push.seen);
      shown(sorted.slice(from, to));
    }
    const gone = push.removed;
    if (gone.to > gone.from) {
      const frame = once(`r${gone.from}:${gone.to}`, () => ({
        type: "remove",
        ids: removed.slice(gone.from, gone.to).map((t) => t.id),
        total,
        seq,
      }));
      sendRaw(ws, frame);
    }
    const changed = push.updated;
    if (changed.to > changed.from) {
      const frame = once(`u${changed.from}:${changed.to}:${user}`, () => ({
        type: "update",
        messages: positioned(updated, updatedPositions, changed.from, changed.to, user),
        seq,
      }));
      sendRaw(ws, frame);
      shown(updated.slice(changed.from, changed.to));
    }
    if (reacted.length > 0) store.readers.seeReactions(user, reacted);
    if (push.next !== session.view) sockets.setView(ws, session, push.next);
  });
  // Second pass: counts include what the user's other sockets were just pushed. A group
  // that inserted or deleted moves every socket's total; one that only edited or reacted
  // tells only the users whose reaction count it changed.
  const told = (user: string) => {
    const before = effect.badges.get(user);
    return before !== undefined && before !== store.readers.badges.unread(user);
  };
  each(({ ws, session }, k) => {
    const push = plan.pushes[k];
    if (!push || !(moved || told(session.user))) return;
    const latest = push.latest.map((i) => {
      const m = sorted[i] as StoredMessage;
      return { id: m.id, ts: m.ts, position: positions[i] as number };
    });
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
