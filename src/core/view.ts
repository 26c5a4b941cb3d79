/**
 * A socket's view: the range of messages its client holds and wants kept
 * current (docs/protocol.md, `view`). Pure rules for routing a stored batch.
 */
import { compareKeys, type Key, lowerBound, upperBound } from "./key.ts";

export interface View {
  /** First key held, inclusive; null: open at the top. */
  readonly first: Key | null;
  /** Last key held, inclusive; null: open at the bottom. */
  readonly last: Key | null;
  /** At the bottom, following new arrivals. */
  readonly live: boolean;
  /** Holds nothing yet (connected to an empty channel): every message is after it. */
  readonly empty?: true;
}

/** The view a socket starts with: live, holding just the newest message. */
export function initialView(newest: Key | null): View {
  return newest
    ? { first: newest, last: newest, live: true }
    : { first: null, last: null, live: true, empty: true };
}

/** True when the view holds `key`: a live view holds everything from its first key down. */
export function inView(view: View, key: Key): boolean {
  if (view.empty) return false;
  if (view.first && compareKeys(key, view.first) < 0) return false;
  if (!view.live && view.last && compareKeys(key, view.last) > 0) return false;
  return true;
}

export interface Routing {
  /** Indices into the batch of the messages to push: one ascending run. */
  readonly from: number;
  readonly to: number;
  /** How many of the batch landed before the view's first key. */
  readonly shifted: number;
  /** The view after the batch: an empty live view takes the bounds of what it was pushed. */
  readonly next: View;
}

const self = (key: Key) => key;

/**
 * Routes a stored batch, given ascending by key, to one view in O(log batch):
 * the messages inside it, or after its last key when it is live, are pushed
 * (always one contiguous run of the sorted batch); those before its first key
 * shift it.
 *
 * A live view grows to hold what it is pushed, so while it stays live it holds
 * everything from its first key down: its `last` no longer matters and is not
 * rewritten batch after batch. Only an empty view takes bounds, from the
 * first batch it is pushed.
 */
export function route(view: View, sortedBatch: readonly Key[]): Routing {
  const n = sortedBatch.length;
  if (view.empty) {
    if (!view.live || n === 0) return { from: 0, to: 0, shifted: 0, next: view };
    const first = sortedBatch[0] as Key;
    const last = sortedBatch[n - 1] as Key;
    return { from: 0, to: n, shifted: 0, next: { first, last, live: true } };
  }
  const from = view.first ? lowerBound(sortedBatch, view.first, self) : 0;
  const to = view.live || !view.last ? n : upperBound(sortedBatch, view.last, self);
  return { from, to: Math.max(from, to), shifted: from, next: view };
}

/** A run [from, to) of a sorted array. */
export interface Run {
  readonly from: number;
  readonly to: number;
}

/**
 * The run of `sorted` (keys of messages stored before now, deleted or
 * changed since) that the view holds, and how many lie before its first
 * key. A view that holds nothing yet holds none of them.
 */
export function heldRun(view: View, sorted: readonly Key[]): Run & { before: number } {
  if (view.empty || sorted.length === 0) return { from: 0, to: 0, before: 0 };
  const { from, to, shifted } = route(view, sorted);
  return { from, to, before: shifted };
}
