/**
 * The frames a stored group (or several merged: see push-queue.ts) sends to
 * each socket (docs/protocol.md, "Server → client pushes", and 1.2's `remove` and
 * `update`): the `insert`, `remove` and `update` frames, serialized, plus
 * what the caller needs for the socket's `status` (its net `shifted`, its
 * `latest`) and what the push made seen (late ordinals; the user's own
 * messages shown with their reactions). Routing is core/fanout.ts's; this
 * looks up positions once for the union of what is sent and serializes each
 * distinct frame once (an `update`, or an `insert` carrying reactions, once
 * per user: `mine` is theirs). Pure: the caller says how to find positions
 * and each user's reactions, and sends.
 */
import { planPushes } from "./fanout.ts";
import { compareKeys, type Key } from "./key.ts";
import type { View } from "./view.ts";

/** A message as the wire carries it, before `position` and `mine` are added. */
export interface WireMessage {
  readonly id: string;
  readonly ts: number;
  readonly seq: number;
  readonly reactions?: readonly { readonly emoji: string; readonly count: number }[] | undefined;
}

/** A stored message of a segment. */
export interface SegmentMessage<M extends WireMessage = WireMessage> {
  readonly author: string;
  /** Its late ordinal, or null when it arrived on time. */
  readonly lateNo: number | null;
  readonly message: M;
}

/** What a segment deleted: messages stored before it. */
export interface SegmentRemoval {
  readonly id: string;
  readonly ts: number;
}

/** One group's net effect, or several groups' merged: see group-effect.ts. */
export interface Segment<M extends WireMessage = WireMessage> {
  /** The channel's seq and total after the segment. */
  readonly seq: number;
  readonly total: number;
  /** Stored by the segment and still there, in arrival order, final state. */
  readonly inserted: readonly SegmentMessage<M>[];
  /** Stored before, deleted by the segment. */
  readonly removed: readonly SegmentRemoval[];
  /** Stored before, still there, text or reactions changed: final state. */
  readonly updated: readonly SegmentMessage<M>[];
}

/** What the frames need besides the segment. */
export interface PushLookup {
  /** Positions after the segment of stored keys, given ascending. */
  positions(sortedKeys: readonly Key[]): readonly number[];
  /** The emojis `user` has on, for those of `ids` with reactions. */
  mine(user: string, ids: readonly string[]): ReadonlyMap<string, ReadonlySet<string>>;
}

/** A socket as pushes see it. */
export interface PushTarget {
  readonly view: View;
  readonly user: string;
}

export interface LatestItem {
  readonly id: string;
  readonly ts: number;
  readonly position: number;
}

/** What one socket is sent. */
export interface SocketPush {
  /** The serialized `insert`, `remove`, `update` frames, in that order (each only when due). */
  readonly frames: string[];
  /** The view after the segment (an empty live view takes bounds). */
  readonly next: View;
  /** Net messages inserted minus deleted before the view's first key. */
  readonly shifted: number;
  /** Up to 3 late messages of the segment outside the pushed run, newest arrival first. */
  readonly latest: LatestItem[];
  /** Late ordinals pushed: seen by the user. */
  readonly seenLate: number[];
  /** Ids of the user's own messages pushed with reactions: their reactions are seen. */
  readonly shownOwn: string[];
}

const keyOf = (m: { ts: number; id: string }): Key => ({ ts: m.ts, id: m.id });

/** The frames each target gets for `segment` (one entry per target, in order). */
export function pushFrames<M extends WireMessage>(
  segment: Segment<M>,
  targets: readonly PushTarget[],
  lookup: PushLookup,
): SocketPush[] {
  const { inserted, seq, total } = segment;
  const removed = [...segment.removed].sort(compareKeys);
  const updated = [...segment.updated].sort((a, b) => compareKeys(a.message, b.message));
  const plan = planPushes(
    targets.map((t) => t.view),
    inserted.map((m) => ({ key: keyOf(m.message), lateNo: m.lateNo })),
    { removed: removed.map(keyOf), updated: updated.map((m) => keyOf(m.message)) },
  );
  const sorted = plan.order.map((i) => inserted[i] as SegmentMessage<M>);
  const positions = positioned(lookup, sorted, plan.needed);
  const updatedPositions = positioned(lookup, updated, plan.updatedNeeded);
  // Prefix counts of new messages with reactions: is a run's frame the same for every user?
  const reacted = [0];
  for (const m of sorted) reacted.push((reacted.at(-1) ?? 0) + (hasReactions(m) ? 1 : 0));
  const frames = new Map<string, string>();
  const once = (name: string, make: () => object): string => {
    let frame = frames.get(name);
    if (frame === undefined) {
      frame = JSON.stringify(make());
      frames.set(name, frame);
    }
    return frame;
  };
  const wire = (
    list: readonly SegmentMessage<M>[],
    at: readonly number[],
    from: number,
    to: number,
    user?: string,
  ) => {
    const run = list.slice(from, to);
    const withReactions = run.filter(hasReactions).map((m) => m.message.id);
    const mine =
      user !== undefined && withReactions.length > 0 ? lookup.mine(user, withReactions) : undefined;
    return run.map((m, i) =>
      withMine({ ...m.message, position: at[from + i] as number }, mine?.get(m.message.id)),
    );
  };

  return targets.map(({ user }, k): SocketPush => {
    const push = plan.pushes[k];
    if (!push) throw new Error("no push planned for a target");
    const out: string[] = [];
    const shownOwn: string[] = [];
    const own = (list: readonly SegmentMessage<M>[]) => {
      for (const m of list) if (m.author === user && hasReactions(m)) shownOwn.push(m.message.id);
    };
    if (push.to > push.from) {
      const { from, to } = push;
      // `mine` makes a frame the user's own, but new messages rarely have reactions yet.
      const personal = (reacted[to] ?? 0) > (reacted[from] ?? 0);
      out.push(
        once(`i${from}:${to}:${personal ? user : ""}`, () => ({
          type: "insert",
          messages: wire(sorted, positions, from, to, personal ? user : undefined),
          total,
          seq,
        })),
      );
      own(sorted.slice(from, to));
    }
    const gone = push.removed;
    if (gone.to > gone.from) {
      out.push(
        once(`r${gone.from}:${gone.to}`, () => ({
          type: "remove",
          ids: removed.slice(gone.from, gone.to).map((t) => t.id),
          total,
          seq,
        })),
      );
    }
    const changed = push.updated;
    if (changed.to > changed.from) {
      out.push(
        once(`u${changed.from}:${changed.to}:${user}`, () => ({
          type: "update",
          messages: wire(updated, updatedPositions, changed.from, changed.to, user),
          seq,
        })),
      );
      own(updated.slice(changed.from, changed.to));
    }
    const latest = push.latest.map((i) => {
      const m = (sorted[i] as SegmentMessage<M>).message;
      return { id: m.id, ts: m.ts, position: positions[i] as number };
    });
    return {
      frames: out,
      next: push.next,
      shifted: push.shifted,
      latest,
      seenLate: push.seen,
      shownOwn,
    };
  });
}

/** Positions of the messages at `needed` (ascending indices of a sorted list); the rest stay unset. */
function positioned<M extends WireMessage>(
  lookup: PushLookup,
  sorted: readonly SegmentMessage<M>[],
  needed: readonly number[],
): number[] {
  const out = new Array<number>(sorted.length);
  const found = lookup.positions(
    needed.map((i) => keyOf((sorted[i] as SegmentMessage<M>).message)),
  );
  found.forEach((p, j) => {
    out[needed[j] as number] = p;
  });
  return out;
}

function hasReactions(m: SegmentMessage): boolean {
  return (m.message.reactions?.length ?? 0) > 0;
}

/** The message with `mine: true` on the emojis the user has on. */
function withMine<T extends WireMessage>(m: T, mine: ReadonlySet<string> | undefined): T {
  if (!mine || !m.reactions) return m;
  return {
    ...m,
    reactions: m.reactions.map((r) => (mine.has(r.emoji) ? { ...r, mine: true as const } : r)),
  };
}

/**
 * What a segment's pushes show `user`'s sockets with these views: the late
 * ordinals they make seen, and the user's own messages shown with their
 * reactions. (The frames themselves are {@link pushFrames}'.)
 */
export function shownTo<M extends WireMessage>(
  segment: Segment<M>,
  views: readonly View[],
  user: string,
): { late: number[]; reactions: string[] } {
  const updated = [...segment.updated].sort((a, b) => compareKeys(a.message, b.message));
  const plan = planPushes(
    views,
    segment.inserted.map((m) => ({ key: keyOf(m.message), lateNo: m.lateNo })),
    {
      removed: [...segment.removed].sort(compareKeys).map(keyOf),
      updated: updated.map((m) => keyOf(m.message)),
    },
  );
  const sorted = plan.order.map((i) => segment.inserted[i] as SegmentMessage<M>);
  const late = new Set<number>();
  const reactions = new Set<string>();
  const own = (list: readonly SegmentMessage<M>[]) => {
    for (const m of list) if (m.author === user && hasReactions(m)) reactions.add(m.message.id);
  };
  for (const push of plan.pushes) {
    for (const o of push.seen) late.add(o);
    own(sorted.slice(push.from, push.to));
    own(updated.slice(push.updated.from, push.updated.to));
  }
  return { late: [...late], reactions: [...reactions] };
}
