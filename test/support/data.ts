/** Messages and changes the tests write, with every field chosen: series, single keys. */
import type { Change, Draft, Key, WireMessage } from "./wire.ts";

/** `n` on-time messages m00000… at ts = start + i·step. */
export function series(n: number, start = 1_000_000, step = 1_000, prefix = "m"): Draft[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${String(i).padStart(5, "0")}`,
    ts: start + i * step,
    author: "seed",
    text: `message ${i}`,
  }));
}

/** The key of message i of `series(n)` with its default start, step and prefix. */
export const seriesKey = (i: number): Key => ({
  ts: 1_000_000 + i * 1_000,
  id: `m${String(i).padStart(5, "0")}`,
});

/** A message with a given key. */
export function msg(id: string, ts: number, author = "tester"): Draft {
  return { id, ts, author, text: `text of ${id}` };
}

/** A message as the server sends it (author "a", text its id), with its position when pushed. */
export function wireMsg(id: string, ts: number, position?: number): WireMessage {
  return {
    id,
    ts,
    author: "a",
    text: id,
    seq: 1,
    late: false,
    ...(position === undefined ? {} : { position }),
  };
}

/** The same messages written by `authors` in turn (protocol 1.2: only its author edits a message). */
export function authoredBy(drafts: readonly Draft[], authors: readonly string[]): Draft[] {
  return drafts.map((d, i) => ({ ...d, author: authors[i % authors.length] as string }));
}

/** A message named by its id, or by its index in `series` with the defaults. */
export type Ref = number | string;
const idOf = (m: Ref): string => (typeof m === "number" ? seriesKey(m).id : m);

/** Protocol 1.2: a delete of a message. */
export const del = (m: Ref): Change => ({ kind: "delete", id: idOf(m) });
/** Protocol 1.2: an edit of a message. */
export const edit = (m: Ref, text: string, ts: number): Change => ({
  kind: "edit",
  id: idOf(m),
  text,
  ts,
});
/** Protocol 1.2: a reaction set (`on`) or cleared. */
export const react = (m: Ref, emoji: string, on: boolean, ts: number): Change => ({
  kind: "react",
  id: idOf(m),
  emoji,
  on,
  ts,
});
