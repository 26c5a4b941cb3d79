/** Messages the tests write, with every field chosen: series, single keys. */
import type { Draft, Key } from "./wire.ts";

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
