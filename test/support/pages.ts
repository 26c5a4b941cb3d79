/**
 * Pages and timelines as docs/protocol.md computes them from a list in key order,
 * whatever holds the list: the channel model's sorted array or the history
 * model's typed arrays at a million messages. One place for anchors.
 */
import { partition } from "./keys.ts";
import type { Anchor, PageBody, Timeline, WireMessage } from "./wire.ts";

/** A list in key order, as a page needs to read it. */
export interface OrderedList {
  readonly total: number;
  /** The channel's seq watermark. */
  readonly seq: number;
  tsAt(position: number): number;
  /** The position of a stored id, or undefined. */
  positionOf(id: string): number | undefined;
  /** The wire message at a position, as this page shows it. */
  messageAt(position: number): WireMessage;
}

/** The first position whose ts ≥ `ts` (total when none). */
export function firstAtOrAfter(list: OrderedList, ts: number): number {
  return partition(list.total, (p) => list.tsAt(p) >= ts);
}

/**
 * The position an anchor resolves to in a non-empty list, or "not_found".
 * `first_unread` (protocol 1.2) needs `readThrough`, how many messages are
 * at or before the reader's marker: the first after it, or the newest when
 * nothing is unread.
 */
export function resolveAnchor(
  list: OrderedList,
  anchor: Anchor,
  readThrough?: number,
): number | "not_found" {
  const last = list.total - 1;
  if (anchor === "newest") return last;
  if (anchor === "oldest") return 0;
  if (anchor === "first_unread") {
    if (readThrough === undefined) throw new Error("first_unread: whose read marker?");
    return Math.min(readThrough, last);
  }
  if ("position" in anchor) return Math.min(Math.max(anchor.position, 0), last);
  if ("id" in anchor) return list.positionOf(anchor.id) ?? "not_found";
  return Math.min(firstAtOrAfter(list, anchor.ts), last);
}

/**
 * The page docs/protocol.md prescribes, or "not_found" for an unknown id; a
 * `first_unread` page carries `firstUnread` while something is unread.
 */
export function pageOf(
  list: OrderedList,
  anchor: Anchor,
  before = 25,
  after = 25,
  readThrough?: number,
): PageBody | "not_found" {
  const { total, seq } = list;
  if (total === 0) {
    if (typeof anchor === "object" && "id" in anchor) return "not_found";
    return { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq };
  }
  const p = resolveAnchor(list, anchor, readThrough);
  if (p === "not_found") return p;
  const start = Math.max(0, p - before);
  const end = Math.min(total, p + after + 1);
  const messages: WireMessage[] = [];
  for (let q = start; q < end; q++) messages.push(list.messageAt(q));
  const unread = anchor === "first_unread" && (readThrough ?? total) < total;
  return {
    messages,
    start,
    total,
    anchorIndex: p - start,
    hasOlder: start > 0,
    hasNewer: end < total,
    seq,
    ...(unread ? { firstUnread: p } : {}),
  };
}

/** `timeline`: positions round(i·(total−1)/(N−1)) and their ts. */
export function timelineOf(list: OrderedList, points: number): Timeline {
  const { total } = list;
  if (total === 0) return { total, points: [] };
  return {
    total,
    points: evenPositions(total, points).map((position) => ({ position, ts: list.tsAt(position) })),
  };
}

/** The contract's timeline positions: round(i·(total−1)/(N−1)) for i = 0…N−1. */
export function evenPositions(total: number, points: number): number[] {
  return Array.from({ length: points }, (_, i) => Math.round((i * (total - 1)) / (points - 1)));
}

/**
 * What is wrong with a timeline asked with `exact=false` (the extension):
 * each point a real message (its ts the list's at its position), positions
 * strictly increasing from 0 to total − 1, at most N of them, every even
 * position within `reach` of a point and every point within `reach` of an
 * even position. Empty when it is right.
 */
export function spacedTimelineProblems(
  list: OrderedList,
  points: number,
  answer: Timeline,
  reach: number,
): string[] {
  const problems: string[] = [];
  const { total } = list;
  if (answer.total !== total) problems.push(`total ${answer.total}, not ${total}`);
  if (total === 0) return answer.points.length === 0 ? problems : [...problems, "points"];
  const at = answer.points.map((p) => p.position);
  if (at.length > points) problems.push(`${at.length} points, asked ${points}`);
  if (at[0] !== 0 || at.at(-1) !== total - 1) problems.push(`ends ${at[0]}…${at.at(-1)}`);
  answer.points.forEach(({ position, ts }, k) => {
    if (!Number.isInteger(position) || position < 0 || position >= total) {
      problems.push(`point ${k} at ${position}`);
    } else if (ts !== list.tsAt(position)) problems.push(`point ${k}: ts ${ts}, not the message's`);
    if (k > 0 && position <= (at[k - 1] as number)) problems.push(`point ${k} not after ${k - 1}`);
  });
  const targets = evenPositions(total, points);
  const near = (p: number, among: readonly number[]) => among.some((q) => Math.abs(p - q) <= reach);
  for (const t of targets) if (!near(t, at)) problems.push(`no point within ${reach} of ${t}`);
  for (const p of at) if (!near(p, targets)) problems.push(`point ${p} far from every target`);
  return problems;
}
