/**
 * Planning the pushes of one stored group (docs/protocol.md, "Server → client
 * pushes", and 1.2's `remove` and `update`): for each socket's view, the run
 * of the group's new messages it gets in `insert`, the run of its deleted
 * ones in `remove`, of its changed ones in `update`, its net `shifted`, its
 * `latest`, and the late ordinals the push makes seen; and which messages
 * need a position at all. Pure, and O(views · log group + group) apart from
 * `latest` and the seen ordinals (each bounded by what the socket is sent).
 */
import { compareKeys, type Key, partitionPoint } from "./key.ts";
import { heldRun, type Run, route, type View } from "./view.ts";

/** Most late messages a `status` lists. */
export const MAX_LATEST = 3;

/** A stored message of the batch, as routing sees it. */
export interface BatchItem {
  readonly key: Key;
  /** Its late ordinal, or null when it arrived on time. */
  readonly lateNo: number | null;
}

/** What one socket is sent after a batch. Indices are into the batch sorted by key. */
export interface Push {
  /** The run [from, to) pushed in `insert` (empty: no insert). */
  readonly from: number;
  readonly to: number;
  /** Inserted before the view's first key minus removed before it. */
  readonly shifted: number;
  /** The run of the removed keys (sorted) inside the view, sent in `remove`. */
  readonly removed: Run;
  /** The run of the updated keys (sorted) inside the view, sent in `update`. */
  readonly updated: Run;
  /** The view after the batch. */
  readonly next: View;
  /** Up to MAX_LATEST late messages outside the run, newest arrival first. */
  readonly latest: number[];
  /** Late ordinals inside the run: pushed, so seen by the socket's user. */
  readonly seen: number[];
}

/** Keys of stored messages that a group deleted or changed, each ascending. */
export interface Changed {
  readonly removed: readonly Key[];
  readonly updated: readonly Key[];
}

export interface PushPlan {
  /** The batch in key order, as indices into the batch given (arrival order). */
  readonly order: number[];
  /** One per view, in order. */
  readonly pushes: Push[];
  /** Sorted indices, ascending, of every message some frame carries with its position. */
  readonly needed: number[];
  /** Indices, ascending, of the updated keys some `update` carries. */
  readonly updatedNeeded: number[];
}

const NO_CHANGES: Changed = { removed: [], updated: [] };

/**
 * @param batch the group's new messages in arrival order
 * @param changed the keys it deleted and changed, each ascending
 */
export function planPushes(
  views: readonly View[],
  batch: readonly BatchItem[],
  changed: Changed = NO_CHANGES,
): PushPlan {
  const order = batch
    .map((_, i) => i)
    .sort((a, b) => compareKeys(keyAt(batch, a), keyAt(batch, b)));
  const sortedKeys = order.map((i) => keyAt(batch, i));
  const rankOf = new Int32Array(batch.length);
  order.forEach((arrival, sorted) => {
    rankOf[arrival] = sorted;
  });
  const lateNewestFirst: number[] = [];
  for (let i = batch.length - 1; i >= 0; i--) {
    if (batch[i]?.lateNo !== null) lateNewestFirst.push(rankOf[i] as number);
  }
  // Sorted indices of the late messages, ascending: a run's are found by binary search.
  const lateSorted = [...lateNewestFirst].sort((a, b) => a - b);
  const lateIn = (from: number, to: number): number[] =>
    lateSorted
      .slice(lowerIndex(lateSorted, from), lowerIndex(lateSorted, to))
      .map((i) => batch[order[i] as number]?.lateNo as number);

  // A difference array marks the runs: O(1) a view, one prefix sum for all.
  const marks = new Int32Array(sortedKeys.length + 1);
  const updatedMarks = new Int32Array(changed.updated.length + 1);
  const pushes = views.map((view): Push => {
    const { from, to, shifted, next } = route(view, sortedKeys);
    marks[from] = (marks[from] ?? 0) + 1;
    marks[to] = (marks[to] ?? 0) - 1;
    const removed = heldRun(view, changed.removed);
    const updated = heldRun(view, changed.updated);
    updatedMarks[updated.from] = (updatedMarks[updated.from] ?? 0) + 1;
    updatedMarks[updated.to] = (updatedMarks[updated.to] ?? 0) - 1;
    const latest: number[] = [];
    for (const i of lateNewestFirst) {
      if (latest.length === MAX_LATEST) break;
      if (i < from || i >= to) latest.push(i);
    }
    return {
      from,
      to,
      shifted: shifted - removed.before,
      removed,
      updated,
      next,
      latest,
      seen: lateIn(from, to),
    };
  });
  const latestNeeded = new Uint8Array(sortedKeys.length);
  for (const push of pushes) for (const i of push.latest) latestNeeded[i] = 1;
  const needed: number[] = [];
  let covered = 0;
  for (let i = 0; i < sortedKeys.length; i++) {
    covered += marks[i] ?? 0;
    if (covered > 0 || latestNeeded[i] === 1) needed.push(i);
  }
  const updatedNeeded: number[] = [];
  covered = 0;
  for (let i = 0; i < changed.updated.length; i++) {
    covered += updatedMarks[i] ?? 0;
    if (covered > 0) updatedNeeded.push(i);
  }
  return { order, pushes, needed, updatedNeeded };
}

const keyAt = (batch: readonly BatchItem[], i: number): Key => (batch[i] as BatchItem).key;

/** Index of the first element of ascending `sorted` that is ≥ `value`. */
function lowerIndex(sorted: readonly number[], value: number): number {
  return partitionPoint(sorted.length, (i) => (sorted[i] as number) < value);
}
