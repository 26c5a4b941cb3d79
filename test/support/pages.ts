/**
 * Pages and timelines as PROTOCOL.md computes them from a list in key order,
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
 * The page PROTOCOL.md prescribes, or "not_found" for an unknown id; a
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
  const out = [];
  for (let i = 0; i < points; i++) {
    const position = Math.round((i * (total - 1)) / (points - 1));
    out.push({ position, ts: list.tsAt(position) });
  }
  return { total, points: out };
}
