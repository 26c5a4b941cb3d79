/**
 * Planning the pushes of one stored batch (PROTOCOL.md, "Server → client
 * pushes"): for each socket's view, the run of the batch it gets in `insert`,
 * its `shifted`, and its `latest`; and which messages need a position at all.
 * Pure, and O(views · log batch + batch) apart from `latest`.
 */
import type { Key } from "./key.ts";
import { route, type View } from "./view.ts";

/** Most late messages a `status` lists. */
export const MAX_LATEST = 3;

/** What one socket is sent after a batch. */
export interface Push {
  /** The run [from, to) of the sorted batch pushed in `insert` (empty: no insert). */
  readonly from: number;
  readonly to: number;
  readonly shifted: number;
  /** The view after the batch. */
  readonly next: View;
  /** Sorted-batch indices of up to MAX_LATEST late messages outside the run, newest arrival first. */
  readonly latest: number[];
}

export interface PushPlan {
  /** One per view, in order. */
  readonly pushes: Push[];
  /** Sorted-batch indices, ascending, of every message some frame carries with its position. */
  readonly needed: number[];
}

/**
 * @param sortedKeys the batch's keys, ascending
 * @param lateNewestFirst sorted-batch indices of its late messages, newest arrival first
 */
export function planPushes(
  views: readonly View[],
  sortedKeys: readonly Key[],
  lateNewestFirst: readonly number[],
): PushPlan {
  // A difference array marks the runs: O(1) a view, one prefix sum for all.
  const marks = new Int32Array(sortedKeys.length + 1);
  const pushes = views.map((view): Push => {
    const { from, to, shifted, next } = route(view, sortedKeys);
    marks[from] = (marks[from] ?? 0) + 1;
    marks[to] = (marks[to] ?? 0) - 1;
    const latest: number[] = [];
    for (const i of lateNewestFirst) {
      if (latest.length === MAX_LATEST) break;
      if (i < from || i >= to) latest.push(i);
    }
    return { from, to, shifted, next, latest };
  });
  const latestNeeded = new Uint8Array(sortedKeys.length);
  for (const push of pushes) for (const i of push.latest) latestNeeded[i] = 1;
  const needed: number[] = [];
  let covered = 0;
  for (let i = 0; i < sortedKeys.length; i++) {
    covered += marks[i] ?? 0;
    if (covered > 0 || latestNeeded[i] === 1) needed.push(i);
  }
  return { pushes, needed };
}
