/**
 * Push coalescing (docs/protocol.md, "Groups of writes"): when groups are
 * stored faster than they are pushed, the groups waiting for a socket go out
 * as one set of frames, as if they had been one group. A user's sockets are
 * always pushed together, so each user's pushes split the stored groups into
 * runs, each ending at the `seq` its frames carry. Tests replay those runs
 * as groups in the model to know what each socket must have been sent.
 */
import type { ChannelModel } from "./model.ts";
import type { SocketModel } from "./views.ts";
import type { Draft, Frame } from "./wire.ts";

const PUSHES = new Set(["insert", "remove", "update", "status"]);

/** The seqs a user's sockets were pushed at, ascending: each ends a run of merged groups. */
export function pushBounds(framesOfUser: readonly (readonly Frame[])[]): number[] {
  const seqs = new Set<number>();
  for (const frames of framesOfUser) {
    for (const f of frames) if (PUSHES.has(f.type) && "seq" in f) seqs.add(f.seq);
  }
  return [...seqs].sort((a, b) => a - b);
}

/** A stored group: what it holds, and the channel's seq after it. */
export interface StoredGroup<T> {
  readonly end: number;
  readonly items: readonly T[];
}

/**
 * Joins consecutive groups (ascending by end) into runs ending at `bounds`;
 * groups after the last bound form one last run (pushed to nobody here).
 */
export function mergeRuns<T>(
  groups: readonly StoredGroup<T>[],
  bounds: readonly number[],
): StoredGroup<T>[] {
  const runs: StoredGroup<T>[] = [];
  let items: T[] = [];
  let b = 0;
  for (const group of groups) {
    items.push(...group.items);
    while (b < bounds.length && (bounds[b] as number) < group.end) b++;
    if (bounds[b] === group.end) {
      runs.push({ end: group.end, items });
      items = [];
    }
  }
  const last = groups.at(-1);
  if (items.length > 0 && last) runs.push({ end: last.end, items });
  return runs;
}

/**
 * What each socket must have been pushed for `groups` stored in turn, under
 * push coalescing: for each user, a fresh replay (`start`: the model and its
 * sockets before the groups) stores the runs that user's pushes show as one
 * group each. Returns the frames per socket, in the order of `received`.
 */
export function coalescedPushes(
  start: () => { model: ChannelModel; sockets: SocketModel[] },
  groups: readonly StoredGroup<Draft>[],
  received: readonly (readonly Frame[])[],
): Frame[][] {
  const expected: Frame[][] = received.map(() => []);
  const { sockets } = start();
  for (const user of new Set(sockets.map((s) => s.user))) {
    const mine = sockets.flatMap((s, n) => (s.user === user ? [n] : []));
    const runs = mergeRuns(groups, pushBounds(mine.map((n) => received[n] ?? [])));
    const replay = start();
    for (const run of runs) {
      const { pushes } = replay.model.batch(run.items, replay.sockets);
      for (const n of mine)
        expected[n]?.push(...(pushes.get(replay.sockets[n] as SocketModel) ?? []));
    }
  }
  return expected;
}
