/**
 * Delivering a stored batch to every socket (PROTOCOL.md, "Server → client
 * pushes"): at most one `insert` and one `status` each. The routing is
 * planned in core/fanout.ts; this looks up positions once for the union of
 * what is sent, serializes each distinct insert frame once, records what
 * each user has now seen, and sends. One socket's failure (a seen mark that
 * cannot be stored, a socket that is closing) stays that socket's.
 */
import { planPushes } from "../core/fanout.ts";
import type { Message, ServerFrame } from "../protocol/schemas.ts";
import { type Peer, type Sockets, send, sendRaw } from "./sockets.ts";
import { type ChannelStore, keyOf, type StoredMessage, toWire } from "./store.ts";

/** Pushes `inserted` (a stored batch, in arrival order) to every socket. */
export function deliver(
  inserted: readonly StoredMessage[],
  sockets: Sockets,
  store: ChannelStore,
  log: (what: string, err: unknown) => void,
): void {
  if (inserted.length === 0) return;
  const peers = sockets.peers();
  if (peers.length === 0) return;
  const plan = planPushes(
    peers.map((p) => p.session.view),
    inserted.map((m) => ({ key: keyOf(m), lateNo: m.lateNo })),
  );
  const sorted = plan.order.map((i) => inserted[i] as StoredMessage);
  const positions = new Array<number>(sorted.length);
  store.positionsOf(plan.needed.map((i) => keyOf(sorted[i] as StoredMessage))).forEach((p, j) => {
    positions[plan.needed[j] as number] = p;
  });
  const { total, seq } = store;
  const insertFrames = new Map<string, string>();
  const insertFrame = (from: number, to: number): string => {
    const run = `${from}:${to}`;
    let frame = insertFrames.get(run);
    if (frame === undefined) {
      const messages: Message[] = [];
      for (let i = from; i < to; i++) {
        messages.push({ ...toWire(sorted[i] as StoredMessage), position: positions[i] as number });
      }
      frame = JSON.stringify({ type: "insert", messages, total, seq } satisfies ServerFrame);
      insertFrames.set(run, frame);
    }
    return frame;
  };

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
    if (push.to > push.from) {
      sendRaw(ws, insertFrame(push.from, push.to));
      store.late.markSeen(session.user, push.seen);
    }
    if (push.next !== session.view) sockets.setView(ws, session, push.next);
  });
  // Second pass: unread counts include what the user's other sockets were just pushed.
  each(({ ws, session }, k) => {
    const push = plan.pushes[k];
    if (!push) return;
    const latest = push.latest.map((i) => {
      const m = sorted[i] as StoredMessage;
      return { id: m.id, ts: m.ts, position: positions[i] as number };
    });
    send(ws, {
      type: "status",
      total,
      lateUnread: store.late.unread(session.user),
      shifted: push.shifted,
      ...(latest.length > 0 ? { latest } : {}),
      seq,
    });
  });
}
