/**
 * Views as docs/protocol.md defines them (the range a socket holds and wants kept
 * current) and how new messages fall against one: pushed (inside, or after
 * the last key of a live view), or before it (`shifted`). The fan-out of a
 * batch and the replay of a `resume` both route through here.
 */
import { compareKeys, keyOf } from "./keys.ts";
import type { Key } from "./wire.ts";

/** What a socket holds: docs/protocol.md's view, plus the empty start on an empty channel. */
export interface View {
  first: Key | null;
  last: Key | null;
  live: boolean;
  /** Connected to an empty channel: every message is after the view. */
  empty?: boolean;
}

/** A socket as the model sees it: its user and its view. */
export interface SocketModel {
  readonly user: string;
  view: View;
}

/** The view a socket starts with: live, holding just the newest message. */
export function initialView(newest: Key | null): View {
  return newest
    ? { first: newest, last: newest, live: true }
    : { first: null, last: null, live: true, empty: true };
}

/** Inside [first, last] (null = open at that end). */
export function inside(view: View, key: Key): boolean {
  if (view.empty) return false;
  if (view.first && compareKeys(key, view.first) < 0) return false;
  if (view.last && compareKeys(key, view.last) > 0) return false;
  return true;
}

/**
 * Whether the view holds a key of a message stored before now (1.2's
 * `remove` and `update`, and resume's `removed` and `updated`): inside
 * [first, last], or at or after `first` for a live view. A view that holds
 * nothing yet holds none.
 */
export function holds(view: View, key: Key): boolean {
  if (view.empty) return false;
  if (view.first && compareKeys(key, view.first) < 0) return false;
  return view.live || !view.last || compareKeys(key, view.last) <= 0;
}

/** How many of `keys` lie before the view's first key (none for an open top or an empty view). */
export function countBefore(view: View, keys: readonly Key[]): number {
  const first = view.first;
  if (view.empty || !first) return 0;
  return keys.filter((k) => compareKeys(k, first) < 0).length;
}

/**
 * Where new messages (ascending by key) fall against a view: those it is
 * told of (`pushed`), and how many land before its first key (`shifted`).
 */
export function route<M extends Key>(
  view: View,
  sortedNew: readonly M[],
): { pushed: M[]; shifted: number } {
  const pushed = sortedNew.filter((m) =>
    view.empty
      ? view.live
      : inside(view, m) || (view.live && view.last !== null && compareKeys(m, view.last) > 0),
  );
  return { pushed, shifted: countBefore(view, sortedNew) };
}

/** A live view grows to include what it was told of (docs/protocol.md: "a live view grows"). */
export function grow(view: View, pushed: readonly Key[]): View {
  const top = pushed.at(-1);
  if (!view.live || !top) return view;
  if (view.empty) return { first: keyOf(pushed[0] as Key), last: keyOf(top), live: true };
  return {
    ...view,
    last: view.last && compareKeys(top, view.last) > 0 ? keyOf(top) : view.last,
  };
}
