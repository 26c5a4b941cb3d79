/**
 * A relay pushing a segment the channel sent it to its own sockets: the same
 * frames the channel object would send (core/push-frames.ts), with positions
 * and each user's reactions from the segment, and each `status` with the
 * counts the relay keeps for its users (core/count-mirror.ts) or the
 * channel's snapshot of them. Answers what its sockets were shown (the late
 * messages and own reactions that become seen), for the relay's next report.
 */

import type { RelaySegment, SeenReport, Snapshot } from "../channel/relay-contract.ts";
import { type Peer, type Sockets, send, sendRaw } from "../channel/sockets.ts";
import { afterShown, afterWrites, countsOf, type MirroredPlace } from "../core/count-mirror.ts";
import { compareKeys, type Key } from "../core/key.ts";
import { type PushLookup, pushFrames } from "../core/push-frames.ts";
import type { Places } from "./places.ts";

/** A snapshot as the mirror keeps it. */
export function placeOf(s: Snapshot): MirroredPlace {
  return { ...s.counts, marker: s.marker, readCount: s.readCount };
}

/**
 * Pushes `segment` to `peers`, moves every place (`snapshots` replace the
 * places of their users), sends each socket its `status` when due, and
 * answers what each user was shown.
 */
export function deliverSegment(
  segment: RelaySegment,
  snapshots: Readonly<Record<string, Snapshot>>,
  peers: readonly Peer[],
  places: Places,
  sockets: Sockets,
  log: (what: string, err: unknown) => void,
): SeenReport[] {
  const lookup: PushLookup = {
    positions: (keys) => keys.map((k) => segment.positions[k.id] as number),
    mine: (user, ids) => {
      const found = new Map<string, Set<string>>();
      for (const id of ids) {
        const on = Object.entries(segment.reactors[id] ?? {}).flatMap(([emoji, users]) =>
          users.includes(user) ? [emoji] : [],
        );
        if (on.length > 0) found.set(id, new Set(on));
      }
      return found;
    },
  };
  const pushes = pushFrames(
    segment,
    peers.map((p) => ({ view: p.session.view, user: p.session.user })),
    lookup,
  );
  const shown = new Map<string, { late: Set<number>; reactions: Set<string> }>();
  peers.forEach(({ ws, session }, k) => {
    const push = pushes[k];
    if (!push) return;
    try {
      for (const frame of push.frames) sendRaw(ws, frame);
      if (push.next !== session.view) sockets.setView(ws, session, push.next);
    } catch (err) {
      log(`push to a socket of ${session.user} failed`, err);
    }
    const seen = shown.get(session.user) ?? {
      late: new Set<number>(),
      reactions: new Set<string>(),
    };
    for (const o of push.seenLate) seen.late.add(o);
    for (const id of push.shownOwn) seen.reactions.add(id);
    shown.set(session.user, seen);
  });

  // Every user's place after the segment: a snapshot's, or the mirror moved by the writes.
  const writes = {
    lateInserted: segment.inserted.filter((m) => m.lateNo !== null).length,
    inserted: segment.inserted.map((m) => keyOf(m.message)).sort(compareKeys),
    removed: segment.removed.map(keyOf).sort(compareKeys),
  };
  const unreadFor = new Set(segment.unreadFor);
  const before = new Map<string, number>();
  for (const user of new Set(peers.map((p) => p.session.user))) {
    const snapshot = snapshots[user];
    const mirrored = places.get(user);
    // What the user was told before: the mirror's, or (after a wake) as the relay kept it.
    const told = places.told(user);
    if (told !== undefined) before.set(user, told);
    const place = snapshot
      ? placeOf(snapshot)
      : mirrored
        ? afterWrites(mirrored, writes)
        : undefined;
    if (!place) continue;
    const seen = shown.get(user);
    // What the user was shown counts only where it was still unread.
    const stillLate = snapshot ? new Set(snapshot.stillUnread.late) : undefined;
    const stillReacted = snapshot ? new Set(snapshot.stillUnread.reactions) : unreadFor;
    const late = [...(seen?.late ?? [])].filter((o) => !stillLate || stillLate.has(o)).length;
    const reacted = [...(seen?.reactions ?? [])].filter((id) => stillReacted.has(id)).length;
    places.set(user, afterShown(place, late, reacted));
  }

  const moved = segment.inserted.length + segment.removed.length > 0;
  peers.forEach(({ ws, session }, k) => {
    const push = pushes[k];
    const place = places.get(session.user);
    if (!push || !place) return;
    const told = before.get(session.user) !== place.reactionsUnread;
    if (!moved && !told) return;
    send(ws, {
      type: "status",
      total: segment.total,
      ...countsOf(place, segment.total),
      shifted: push.shifted,
      ...(push.latest.length > 0 ? { latest: push.latest } : {}),
      seq: segment.seq,
    });
  });
  // Only users shown something to mark: the report grows with what was seen, not with the sockets.
  return [...shown].flatMap(([user, seen]) =>
    seen.late.size + seen.reactions.size === 0
      ? []
      : [{ user, late: [...seen.late], reactions: [...seen.reactions] }],
  );
}

const keyOf = (m: { ts: number; id: string }): Key => ({ ts: m.ts, id: m.id });
